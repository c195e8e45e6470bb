package render

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"healthsync/crm"
	"healthsync/scoring"
)

// Report writes the portfolio KPIs and the CSM pipeline as aligned
// tables for a terminal.
func Report(w io.Writer, k scoring.KPIs) error {
	return trimmed(w, func(w io.Writer) error { return report(w, k) })
}

func report(w io.Writer, k scoring.KPIs) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "Portfolio %s – %s (pipeline as of %s)\n\n",
		k.Period.From.UTC().Format(time.DateOnly), k.Period.To.UTC().Format(time.DateOnly), k.AsOf.UTC().Format(time.DateOnly))

	if k.ExactFrom != nil {
		fmt.Fprintf(ew, "Exact from %s: the accounts' field history starts then, so before it each field reads as its earliest known value (healthsync check says which fields the CRM keeps no history of).\n\n",
			k.ExactFrom.UTC().Format(time.DateOnly))
	}
	notMapped := func(in string) bool { return slices.Contains(k.NotMapped, in) }
	money := func(v *float64) string {
		if v == nil && notMapped(scoring.InputARR) {
			return "not mapped"
		}
		return moneyPtr(v)
	}
	ratioOf := func(v *float64, in string) string {
		if v == nil && notMapped(in) {
			return "not mapped"
		}
		return pct(v)
	}
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Retention\t\t\n")
	fmt.Fprintf(tw, "  Customers at start\t%d\t\n", k.CustomersAtStart)
	fmt.Fprintf(tw, "  Renewal rate\t%s\t%d of %d renewals due were won\n", pct(k.RenewalRate), k.RenewalsWon, k.RenewalsDue)
	fmt.Fprintf(tw, "  Logo churn rate\t%s\t%d of %d customers left\n", pct(k.LogoChurnRate), k.ChurnedLogos, k.CustomersAtStart)
	fmt.Fprintf(tw, "  Gross revenue retention\t%s\t(start − churn − contraction) / start, ARR as of the start and end\n", ratioOf(k.GRR, scoring.InputARR))
	fmt.Fprintf(tw, "  Net revenue retention\t%s\t(start − churn − contraction + expansion) / start\n", ratioOf(k.NRR, scoring.InputARR))
	fmt.Fprintf(tw, "  Start ARR\t%s\tthe customers at start, as of the start\n", money(k.StartARR))
	fmt.Fprintf(tw, "  Churned ARR\t%s\ttheir start ARR, of those who left\n", money(k.ChurnedARR))
	fmt.Fprintf(tw, "  Contraction ARR\t%s\tthe ARR the others lost by the end\n", money(k.ContractionARR))
	fmt.Fprintf(tw, "  Expansion ARR\t%s\tthe ARR the others gained by the end\n", money(k.ExpansionARR))
	fmt.Fprintf(tw, "Revenue\t\t\n")
	fmt.Fprintf(tw, "  Customers at end\t%d\t\n", k.CustomersAtEnd)
	fmt.Fprintf(tw, "  ARR at end\t%s\tas of the end\n", money(k.EndARR))
	fmt.Fprintf(tw, "  ARPA\t%s\tARR at end / customers at end\n", money(k.ARPA))
	fmt.Fprintf(tw, "  Expansion revenue\t%s\t\n", Money(k.ExpansionRevenue))
	fmt.Fprintf(tw, "Customers\t\t\n")
	ttfv := dash
	if k.TimeToFirstValueDays != nil {
		ttfv = days(int(*k.TimeToFirstValueDays + 0.5))
	}
	fmt.Fprintf(tw, "  Time to first value (median)\t%s\t%d accounts reached first value\n", ttfv, k.TimeToFirstValueCount)
	nps := dash
	if k.NPS != nil {
		nps = signedInt(*k.NPS)
	}
	switch {
	case notMapped(scoring.InputNPS):
		fmt.Fprintf(tw, "  NPS\tnot mapped\t\n")
	case k.NPSScale == "response":
		fmt.Fprintf(tw, "  NPS\t%s\tover %s with an NPS value at the end (one per account): %s, %s, %s\n", nps, plural(k.NPSAccounts, "customer", "customers"),
			plural(k.Promoters, "promoter", "promoters"), plural(k.Passives, "passive", "passives"), plural(k.Detractors, "detractor", "detractors"))
	default:
		fmt.Fprintf(tw, "  NPS\t%s\tmean of the NPS values of %s at the end\n", nps, plural(k.NPSAccounts, "customer", "customers"))
	}
	switch {
	case notMapped(scoring.InputCSAT):
		fmt.Fprintf(tw, "  CSAT\tnot mapped\t\n")
	default:
		csat := dash
		if k.CSAT != nil {
			csat = strconv.FormatFloat(*k.CSAT, 'f', 1, 64)
		}
		fmt.Fprintf(tw, "  CSAT\t%s\tmean CSAT (0–100) of %s with a value at the end\n", csat, plural(k.CSATAccounts, "customer", "customers"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintf(ew, "\nCSM pipeline\n")
	var tot scoring.StageRow
	var rows [][]string
	it := strconv.Itoa
	for _, r := range k.Pipeline {
		rows = append(rows, []string{r.Stage, it(r.Green), it(r.Yellow), it(r.Red), it(r.NoScore), it(r.Total)})
		tot.Green += r.Green
		tot.Yellow += r.Yellow
		tot.Red += r.Red
		tot.NoScore += r.NoScore
		tot.Total += r.Total
	}
	rows = append(rows, []string{"all", it(tot.Green), it(tot.Yellow), it(tot.Red), it(tot.NoScore), it(tot.Total)})
	writeTable(ew, []string{"STAGE", "GREEN", "YELLOW", "RED", "NO SCORE", "TOTAL"}, rows)

	fmt.Fprintf(ew, "\nRenewals due\n")
	rows = rows[:0]
	for _, r := range k.RenewalsDueIn {
		rows = append(rows, []string{"within " + days(r.Days), it(r.Accounts), Money(r.ARR)})
	}
	rows = append(rows, []string{"overdue", it(k.Overdue.Accounts), Money(k.Overdue.ARR)})
	writeTable(ew, []string{"DUE", "ACCOUNTS", "ARR"}, rows)
	fmt.Fprintf(ew, "\nAt-risk ARR  %s (%d live customers graded red; %d without a score)\n", Money(k.AtRiskARR), k.AtRiskAccounts, k.NoScore)
	fmt.Fprintf(ew, "Accounts     %d live customers, %d former customers, %d prospects (only live customers are in the pipeline and at risk)\n",
		k.Statuses[crm.StatusCustomer], k.Statuses[crm.StatusFormer], k.Statuses[crm.StatusProspect])
	if k.DataGaps > 0 {
		fmt.Fprintf(ew, "Data gaps    %d live customers have no contacts or no logged activity in the CRM, so their relationships are not measured (for RevOps), e.g. %s\n",
			k.DataGaps, strings.Join(k.DataGapExamples, "; "))
	}
	return ew.err
}

// ReportJSON writes the KPIs as indented JSON.
func ReportJSON(w io.Writer, k scoring.KPIs) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(k); err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	return nil
}

// ReportCSV writes the KPIs as section,name,value rows: one per figure,
// per pipeline cell and per renewal window. Empty ratios are empty cells;
// ratios are fractions (0.93), not percentages.
func ReportCSV(w io.Writer, k scoring.KPIs) error {
	cw := csv.NewWriter(w)
	row := func(section, name, value string) { _ = cw.Write([]string{section, name, value}) }
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	fm := func(v *float64) string {
		if v == nil {
			return ""
		}
		return f(*v)
	}
	fp := func(v *float64) string {
		if v == nil {
			return ""
		}
		return strconv.FormatFloat(*v, 'f', 6, 64)
	}
	i := strconv.Itoa
	row("section", "name", "value")
	row("period", "from", k.Period.From.UTC().Format(time.DateOnly))
	row("period", "to", k.Period.To.UTC().Format(time.DateOnly))
	row("period", "as_of", k.AsOf.UTC().Format(time.DateOnly))
	row("retention", "customers_at_start", i(k.CustomersAtStart))
	row("retention", "renewals_due", i(k.RenewalsDue))
	row("retention", "renewals_won", i(k.RenewalsWon))
	row("retention", "renewal_rate", fp(k.RenewalRate))
	row("retention", "churned_logos", i(k.ChurnedLogos))
	row("retention", "logo_churn_rate", fp(k.LogoChurnRate))
	row("retention", "grr", fp(k.GRR))
	row("retention", "nrr", fp(k.NRR))
	row("retention", "start_arr", fm(k.StartARR))
	row("retention", "churned_arr", fm(k.ChurnedARR))
	row("retention", "contraction_arr", fm(k.ContractionARR))
	row("retention", "expansion_arr", fm(k.ExpansionARR))
	row("revenue", "customers_at_end", i(k.CustomersAtEnd))
	row("revenue", "end_arr", fm(k.EndARR))
	row("revenue", "arpa", fp(k.ARPA))
	row("revenue", "expansion_revenue", f(k.ExpansionRevenue))
	row("customers", "time_to_first_value_days", fp(k.TimeToFirstValueDays))
	row("customers", "time_to_first_value_count", i(k.TimeToFirstValueCount))
	row("customers", "nps", fp(k.NPS))
	row("customers", "nps_scale", k.NPSScale)
	row("customers", "nps_accounts", i(k.NPSAccounts))
	row("customers", "csat", fp(k.CSAT))
	row("customers", "csat_accounts", i(k.CSATAccounts))
	row("period", "not_mapped", strings.Join(k.NotMapped, " "))
	if k.ExactFrom != nil {
		row("period", "exact_from", k.ExactFrom.UTC().Format(time.DateOnly))
	}
	row("customers", "promoters", i(k.Promoters))
	row("customers", "passives", i(k.Passives))
	row("customers", "detractors", i(k.Detractors))
	for _, r := range k.Pipeline {
		row("pipeline", r.Stage+".green", i(r.Green))
		row("pipeline", r.Stage+".yellow", i(r.Yellow))
		row("pipeline", r.Stage+".red", i(r.Red))
		row("pipeline", r.Stage+".no_score", i(r.NoScore))
		row("pipeline", r.Stage+".total", i(r.Total))
	}
	for _, r := range k.RenewalsDueIn {
		row("renewals", fmt.Sprintf("within_%d_days.accounts", r.Days), i(r.Accounts))
		row("renewals", fmt.Sprintf("within_%d_days.arr", r.Days), f(r.ARR))
	}
	row("renewals", "overdue.accounts", i(k.Overdue.Accounts))
	row("renewals", "overdue.arr", f(k.Overdue.ARR))
	row("risk", "at_risk_arr", f(k.AtRiskARR))
	row("risk", "at_risk_accounts", i(k.AtRiskAccounts))
	row("risk", "no_score", i(k.NoScore))
	row("accounts", "live_customers", i(k.Statuses[crm.StatusCustomer]))
	row("accounts", "former_customers", i(k.Statuses[crm.StatusFormer]))
	row("accounts", "prospects", i(k.Statuses[crm.StatusProspect]))
	row("accounts", "data_gaps", i(k.DataGaps))
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write report csv: %w", err)
	}
	return nil
}
