package render

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"healthsync/scoring"
)

// Backtest writes the backtest summary and the churn rate per grade.
func Backtest(w io.Writer, r scoring.BacktestResult) error {
	return trimmed(w, func(w io.Writer) error { return backtest(w, r) })
}

func backtest(w io.Writer, r scoring.BacktestResult) error {
	ew := &errWriter{w: w}
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	auc := dash
	if r.AUC != nil {
		auc = fmt.Sprintf("%.3f", *r.AUC)
	}
	fmt.Fprintf(tw, "Accounts\t%d\t%d churned, %d renewed, %d without a score before the outcome\n", r.Accounts, r.Churned, r.Renewed, r.Skipped)
	if r.Churned > 0 {
		var by []string
		for _, k := range []string{scoring.OutcomeChurnField, scoring.OutcomeLostRenewal, scoring.OutcomeStatusField} {
			if n := r.ChurnedBy[k]; n > 0 {
				by = append(by, fmt.Sprintf("%d by the %s", n, k))
			}
		}
		if len(by) > 0 {
			fmt.Fprintf(tw, "Churn decided\t\t%s\n", strings.Join(by, ", "))
		}
	}
	fmt.Fprintf(tw, "ROC AUC\t%s\t0.5 is chance, 1.0 ranks every churner below every renewer\n", auc)
	warn := dash
	if r.MedianWarningDays != nil {
		warn = days(int(*r.MedianWarningDays + 0.5))
	}
	fmt.Fprintf(tw, "Median warning\t%s\t%s warned (red or yellow before leaving), %d green just before leaving\n", warn, plural(r.Warned, "churner", "churners"), r.Unwarned)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(ew, "\nChurn by grade\n")
	var rows [][]string
	for _, g := range r.PerGrade {
		rows = append(rows, []string{string(g.Grade), strconv.Itoa(g.Accounts), strconv.Itoa(g.Churned), pct(g.ChurnRate)})
	}
	writeTable(ew, []string{"GRADE", "ACCOUNTS", "CHURNED", "CHURN RATE"}, rows)
	return ew.err
}

// BacktestCSV writes one row per account: its predicting score and
// outcome.
func BacktestCSV(w io.Writer, r scoring.BacktestResult) error {
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
