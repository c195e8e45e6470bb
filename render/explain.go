package render

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"healthsync/scoring"
)

// Explain writes one account's result as a CSM would read it: score,
// grade and trend, reasons, flags with their evidence and tasks, the
// scorecard, every metric, and the contacts behind the relationship metrics.
func Explain(w io.Writer, r scoring.Result) error {
	return trimmed(w, func(w io.Writer) error { return explain(w, r) })
}

func explain(w io.Writer, r scoring.Result) error {
	ew := &errWriter{w: w}
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	name := r.AccountName
	if name == "" {
		name = "(unnamed)"
	}
	fmt.Fprintf(tw, "Account\t%s (%s)\n", name, r.AccountID)
	owner := r.OwnerName
	if owner == "" {
		owner = string(r.OwnerID)
	}
	if owner != "" {
		fmt.Fprintf(tw, "Owner\t%s\n", owner)
	}
	fmt.Fprintf(tw, "As of\t%s\n", r.At.UTC().Format("2006-01-02 15:04 UTC"))
	if r.Status.Status != "" {
		fmt.Fprintf(tw, "Status\t%s (%s)\n", scoring.StatusWords(r.Status.Status), r.Status.Why)
	}
	if !r.Status.Live() && r.Status.Status != "" {
		fmt.Fprintf(tw, "Score\tnone: only live customers are scored, flagged and given tasks\n")
	} else if r.Score == nil {
		fmt.Fprintf(tw, "Score\tnone: %s\n", r.NoScoreReason)
	} else {
		line := fmt.Sprintf("%s  %s", formatScore(*r.Score), r.Grade)
		if r.Trend != nil {
			line += fmt.Sprintf("  (%s since the score about 30 days ago)", signed(*r.Trend))
		} else {
			line += "  (no score about 30 days ago to compare with)"
		}
		fmt.Fprintf(tw, "Score\t%s\n", line)
		if r.Override != nil && r.ComputedScore != nil {
			fmt.Fprintf(tw, "\tset by the CSM; the model says %s\n", formatScore(*r.ComputedScore))
		}
	}
	for i, reason := range r.Reasons {
		if r.Score == nil && reason == r.NoScoreReason {
			continue // already said on the score line
		}
		label := ""
		if i == 0 {
			label = "Reasons"
		}
		fmt.Fprintf(tw, "%s\t- %s\n", label, reason)
	}
	if len(r.DataGaps) > 0 {
		fmt.Fprintf(tw, "Data gaps\t%s (for RevOps: relationship measures and flags need them)\n", strings.Join(r.DataGaps, "; "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if !r.Status.Live() && r.Status.Status != "" {
		return metricsAndContacts(ew, r)
	}

	fmt.Fprintf(ew, "\nFlags\n")
	if len(r.Flags) == 0 {
		fmt.Fprintf(ew, "  none\n")
	}
	for _, f := range r.Flags {
		fmt.Fprintf(ew, "  %s: %s\n", f.Name, f.Description)
		ev := make([]string, len(f.Evidence))
		for i, e := range f.Evidence {
			ev[i] = e.String()
		}
		fmt.Fprintf(ew, "    evidence: %s\n", strings.Join(ev, "; "))
		subject := f.Task.Subject
		if subject == scoring.ActionSubject {
			subject = f.Action
		}
		fmt.Fprintf(ew, "    task: %q, %s, %s priority\n", subject, dueText(f.Task.DueInDays), f.Task.Priority)
		if f.Task.Subject == "" {
			fmt.Fprintf(ew, "    no task: the mapping creates none for this flag\n")
		}
	}

	fmt.Fprintf(ew, "\nMeasures\n")
	width := len("MEASURE")
	for _, me := range r.Measures {
		width = max(width, len(me.Name))
	}
	fmt.Fprintf(ew, "  %-*s  %5s  %6s  %5s  %6s  %s\n", width, "MEASURE", "VALUE", "WEIGHT", "SHARE", "IMPACT", "WHY")
	for _, me := range r.Measures {
		value, share, impact := dash, dash, dash
		if me.HasData {
			value = fmt.Sprintf("%.0f", me.Value)
			if me.Share > 0 {
				share = fmt.Sprintf("%.0f%%", me.Share*100)
				impact = signed1(me.Impact)
			}
		}
		fmt.Fprintf(ew, "  %-*s  %5s  %6s  %5s  %6s  %s\n", width, me.Name, value, number(me.Weight), share, impact, me.Reason)
	}
	fmt.Fprintf(ew, "  score = sum of share × value over measures with data; impact = share × (value − 50)\n\nHow each measure is computed\n")
	tw = tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	for _, me := range r.Measures {
		fmt.Fprintf(tw, "  %s\t%s\n", me.Name, me.Explanation)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return metricsAndContacts(ew, r)
}

// metricOrder is the display order of the metrics in explain.
var metricOrder = [...]string{
	scoring.MetricCustomerStatus, scoring.MetricSegment, scoring.MetricLifecycleStage, scoring.MetricARR, scoring.MetricEmployees, scoring.MetricDaysAsCustomer,
	scoring.MetricContacts, scoring.MetricExecutives, scoring.MetricUsers,
	scoring.MetricStrongUserRelationships, scoring.MetricUserRelationships,
	scoring.MetricStrongExecRelationships, scoring.MetricExecRelationships, scoring.MetricStrongRelationships,
	scoring.MetricDaysSinceUserContact, scoring.MetricDaysSinceExecContact, scoring.MetricDaysSinceLastContact,
	scoring.MetricLastContactDate, scoring.MetricLastUserContactDate, scoring.MetricLastExecContactDate, scoring.MetricActivities, scoring.MetricActivitiesLast30Days,
	scoring.MetricNextRenewalDate, scoring.MetricDaysToRenewal, scoring.MetricRenewalAmount, scoring.MetricOpenExpansionPipeline,
	scoring.MetricAdoption, scoring.MetricAdoptionPrevious, scoring.MetricAdoptionTrend, scoring.MetricAdoptionChange,
	scoring.MetricCSMSentiment, scoring.MetricNPS, scoring.MetricNPSNormalized, scoring.MetricCSAT,
	scoring.MetricLastEBRDate, scoring.MetricDaysSinceLastEBR,
}

// metricsAndContacts writes every metric and the contacts behind
// the relationship metrics.
func metricsAndContacts(ew *errWriter, r scoring.Result) error {
	fmt.Fprintf(ew, "\nMetrics\n")
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	for _, name := range metricOrder {
		v, ok := r.Metrics.Value(name)
		s := dash
		if ok {
			s = v.String()
		}
		fmt.Fprintf(tw, "  %s\t%s\n", name, s)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintf(ew, "\nContacts\n")
	if len(r.Contacts) == 0 {
		fmt.Fprintf(ew, "  none\n")
		return ew.err
	}
	tw = tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  NAME\tTITLE\tROLE\tLEVEL\tSTRENGTH\tLAST CONTACT\tMEETINGS\tCALLS\tEMAILS IN/OUT\tTASKS\tNOTE\n")
	for _, c := range r.Contacts {
		last := dash
		if c.LastContact != nil {
			last = fmt.Sprintf("%s (%s ago)", c.LastContact.UTC().Format(time.DateOnly), days(*c.DaysSinceContact))
		}
		note := ""
		switch {
		case c.OneWay && c.Strength > 0:
			note = "one-way: no reply or meeting"
		case c.TwoWay:
			note = "two-way"
		}
		title := c.Title
		if title == "" {
			title = dash
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d/%d\t%d\t%s\n",
			c.Name, title, c.Role, strings.ReplaceAll(c.Level.String(), "_", " "), number(c.Strength), last,
			c.Meetings, c.Calls, c.EmailsInbound, c.EmailsOutbound, c.Tasks, note)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return ew.err
}

// ExplainJSON writes the whole result as indented JSON.
func ExplainJSON(w io.Writer, r scoring.Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("encode explain: %w", err)
	}
	return nil
}
