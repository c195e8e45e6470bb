package scoring

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"
)

// RenderReport writes the portfolio KPIs and the CSM pipeline as aligned
// tables for a terminal.
func RenderReport(w io.Writer, k KPIs) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "Portfolio %s – %s (pipeline as of %s)\n\n",
		k.Period.From.UTC().Format(time.DateOnly), k.Period.To.UTC().Format(time.DateOnly), k.AsOf.UTC().Format(time.DateOnly))

	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Retention\t\t\n")
	fmt.Fprintf(tw, "  Customers at start\t%d\t\n", k.CustomersAtStart)
	fmt.Fprintf(tw, "  Renewal rate\t%s\t%d of %d renewals due were won\n", pct(k.RenewalRate), k.RenewalsWon, k.RenewalsDue)
	fmt.Fprintf(tw, "  Logo churn rate\t%s\t%d of %d customers left\n", pct(k.LogoChurnRate), k.ChurnedLogos, k.CustomersAtStart)
	fmt.Fprintf(tw, "  Gross revenue retention\t%s\t(start − churn − contraction) / start\n", pct(k.GRR))
	fmt.Fprintf(tw, "  Net revenue retention\t%s\t(start − churn − contraction + expansion) / start\n", pct(k.NRR))
	fmt.Fprintf(tw, "  Start ARR\t%s\t\n", money(k.StartARR))
	fmt.Fprintf(tw, "  Churned ARR\t%s\t\n", money(k.ChurnedARR))
	fmt.Fprintf(tw, "  Contraction ARR\t%s\t\n", money(k.ContractionARR))
	fmt.Fprintf(tw, "  Expansion ARR\t%s\t\n", money(k.ExpansionARR))
	fmt.Fprintf(tw, "Revenue\t\t\n")
	fmt.Fprintf(tw, "  Customers at end\t%d\t\n", k.CustomersAtEnd)
	fmt.Fprintf(tw, "  ARR at end\t%s\t\n", money(k.EndARR))
	fmt.Fprintf(tw, "  ARPA\t%s\t\n", moneyPtr(k.ARPA))
	fmt.Fprintf(tw, "  Expansion revenue\t%s\t\n", money(k.ExpansionRevenue))
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
	if k.NPSScale == "response" {
		fmt.Fprintf(tw, "  NPS\t%s\t%d responses: %d promoters, %d passives, %d detractors\n", nps, k.NPSResponses, k.Promoters, k.Passives, k.Detractors)
	} else {
		fmt.Fprintf(tw, "  NPS\t%s\tmean of %d account NPS values\n", nps, k.NPSResponses)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintf(ew, "\nCSM pipeline\n")
	tw = tabwriter.NewWriter(ew, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "  STAGE\tGREEN\tYELLOW\tRED\tNO SCORE\tTOTAL\t\n")
	var tot StageRow
	for _, r := range k.Pipeline {
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%d\t%d\t\n", r.Stage, r.Green, r.Yellow, r.Red, r.NoScore, r.Total)
		tot.Green += r.Green
		tot.Yellow += r.Yellow
		tot.Red += r.Red
		tot.NoScore += r.NoScore
		tot.Total += r.Total
	}
	fmt.Fprintf(tw, "  all\t%d\t%d\t%d\t%d\t%d\t\n", tot.Green, tot.Yellow, tot.Red, tot.NoScore, tot.Total)
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintf(ew, "\nRenewals due\n")
	tw = tabwriter.NewWriter(ew, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "  WITHIN\tACCOUNTS\tARR\t\n")
	for _, r := range k.RenewalsDueIn {
		fmt.Fprintf(tw, "  %s\t%d\t%s\t\n", days(r.Days), r.Accounts, money(r.ARR))
	}
	fmt.Fprintf(tw, "  overdue\t%d\t%s\t\n", k.Overdue.Accounts, money(k.Overdue.ARR))
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(ew, "\nAt-risk ARR  %s (%d accounts graded red; %d without a score)\n", money(k.AtRiskARR), k.AtRiskAccounts, k.NoScore)
	return ew.err
}

// RenderReportJSON writes the KPIs as indented JSON.
func RenderReportJSON(w io.Writer, k KPIs) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(k); err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	return nil
}

// RenderReportCSV writes the KPIs as section,name,value rows: one per
// figure, per pipeline cell and per renewal window. Empty ratios are empty
// cells; ratios are fractions (0.93), not percentages.
func RenderReportCSV(w io.Writer, k KPIs) error {
	cw := csv.NewWriter(w)
	row := func(section, name, value string) { _ = cw.Write([]string{section, name, value}) }
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
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
	row("retention", "start_arr", f(k.StartARR))
	row("retention", "churned_arr", f(k.ChurnedARR))
	row("retention", "contraction_arr", f(k.ContractionARR))
	row("retention", "expansion_arr", f(k.ExpansionARR))
	row("revenue", "customers_at_end", i(k.CustomersAtEnd))
	row("revenue", "end_arr", f(k.EndARR))
	row("revenue", "arpa", fp(k.ARPA))
	row("revenue", "expansion_revenue", f(k.ExpansionRevenue))
	row("customers", "time_to_first_value_days", fp(k.TimeToFirstValueDays))
	row("customers", "time_to_first_value_count", i(k.TimeToFirstValueCount))
	row("customers", "nps", fp(k.NPS))
	row("customers", "nps_scale", k.NPSScale)
	row("customers", "nps_responses", i(k.NPSResponses))
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
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write report csv: %w", err)
	}
	return nil
}

// RenderBacktest writes the backtest summary and the churn rate per grade.
func RenderBacktest(w io.Writer, r BacktestResult) error {
	ew := &errWriter{w: w}
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	auc := dash
	if r.AUC != nil {
		auc = fmt.Sprintf("%.3f", *r.AUC)
	}
	fmt.Fprintf(tw, "Accounts\t%d\t%d churned, %d renewed, %d without a score before the outcome\n", r.Accounts, r.Churned, r.Renewed, r.Skipped)
	fmt.Fprintf(tw, "ROC AUC\t%s\t0.5 is chance, 1.0 ranks every churner below every renewer\n", auc)
	warn := dash
	if r.MedianWarningDays != nil {
		warn = days(int(*r.MedianWarningDays + 0.5))
	}
	fmt.Fprintf(tw, "Median warning\t%s\t%d churners warned (red or yellow before leaving), %d were green\n", warn, r.Warned, r.Unwarned)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(ew, "\nChurn by grade\n")
	tw = tabwriter.NewWriter(ew, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "  GRADE\tACCOUNTS\tCHURNED\tCHURN RATE\t\n")
	for _, g := range r.PerGrade {
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%s\t\n", g.Grade, g.Accounts, g.Churned, pct(g.ChurnRate))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return ew.err
}

// RenderBacktestCSV writes one row per account: its predicting score and outcome.
func RenderBacktestCSV(w io.Writer, r BacktestResult) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"account_id", "scored_at", "score", "grade", "churned", "outcome_at", "warning_days"})
	for _, row := range r.Rows {
		warn := ""
		if row.WarningDays != nil {
			warn = strconv.Itoa(*row.WarningDays)
		}
		_ = cw.Write([]string{
			string(row.AccountID), row.ScoredAt.UTC().Format(time.RFC3339),
			strconv.FormatFloat(row.Score, 'f', 1, 64), string(row.Grade),
			strconv.FormatBool(row.Churned), row.OutcomeAt.UTC().Format(time.RFC3339), warn,
		})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write backtest csv: %w", err)
	}
	return nil
}

func pct(v *float64) string {
	if v == nil {
		return dash
	}
	return fmt.Sprintf("%.1f%%", *v*100)
}

func moneyPtr(v *float64) string {
	if v == nil {
		return dash
	}
	return money(*v)
}

func signedInt(v float64) string {
	if v > 0 {
		return fmt.Sprintf("+%.0f", v)
	}
	return fmt.Sprintf("%.0f", v)
}
