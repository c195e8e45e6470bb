package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"

	"healthsync/crm"
	"healthsync/scoring"
	hsync "healthsync/sync"
)

// scoreCommand is `healthsync score`.
func scoreCommand() *command {
	return &command{
		name:    "score",
		summary: "compute and store health scores for every account from the store",
		help: `Scores every synced account as of now: metrics, measures, score, grade,
trend against the stored history, reasons and risk flags. Only live customers
are scored and flagged: prospects and former customers (a churn field, the
status field, or a latest renewal lost with no later win) are counted but get
no score (docs/scoring.md, "Who is scored"). Results are kept as score
history (one point per account per day). Nothing is written to the CRM: see
plan and apply.`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			return func(ctx context.Context, e *env, args []string) error {
				if err := noArgs("score", args); err != nil {
					return err
				}
				a, err := openApp(ctx, e, false)
				if err != nil {
					return err
				}
				defer a.Close()
				if err := a.warnMappingChanged(ctx, e.stdout); err != nil {
					return err
				}
				sum, err := hsync.NewScorer(hsync.ScorerOptions{Store: a.store, Connection: a.cfg.Sync.Connection, Mapping: a.mapping}).ScoreAll(ctx)
				if err != nil {
					return err
				}
				printScoreSummary(e.stdout, sum)
				return nil
			}
		},
	}
}

func printScoreSummary(w io.Writer, sum hsync.ScoreSummary) {
	live := sum.Live()
	fmt.Fprintf(w, "Scored %d accounts as of %s: %d live customers (%d with a score; the rest have too little data), %d former customers and %d prospects not scored.\n",
		sum.Accounts, sum.At.Format("2006-01-02 15:04 MST"), live, sum.Scored, sum.Statuses[crm.StatusFormer], sum.Statuses[crm.StatusProspect])
	fmt.Fprintf(w, "Live customers by grade: green %d, yellow %d, red %d, no score %d\n",
		sum.Grades[scoring.GradeGreen], sum.Grades[scoring.GradeYellow], sum.Grades[scoring.GradeRed], live-sum.Scored)
	if len(sum.Flags) > 0 {
		names := make([]string, 0, len(sum.Flags))
		for n := range sum.Flags {
			names = append(names, n)
		}
		slices.Sort(names)
		fmt.Fprint(w, "Flags on live customers:")
		for _, n := range names {
			fmt.Fprintf(w, " %s %d", n, sum.Flags[n])
		}
		fmt.Fprintln(w)
	}
	if sum.DataGaps > 0 {
		fmt.Fprintf(w, "Data gaps (for RevOps): %d live customers have no contacts or no logged activity in the CRM, so their relationships are not measured and raise no flag or task.\n", sum.DataGaps)
	}
}

// warnMappingChanged says, before a command uses stored records, that
// the mapping reads the CRM differently from how they were mapped.
func (a *app) warnMappingChanged(ctx context.Context, w io.Writer) error {
	changed, err := hsync.MappingChanged(ctx, a.store, a.cfg.Sync.Connection, a.mapping)
	if err != nil || !changed {
		return err
	}
	fmt.Fprintln(w, "Note: the mapping changed since the last sync (fields or classification). Scores use the records as the old mapping read them until `healthsync sync` applies the new one (it re-maps stored records without a download).")
	return nil
}
