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

func init() {
	register(&command{
		name:    "score",
		summary: "compute and store health scores for every account from the store",
		help: `Scores every synced account as of now: metrics, measures, score, grade,
trend against the stored history, reasons and risk flags. Results are kept as
score history (one point per account per day). Nothing is written to the CRM:
see plan and apply.`,
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
				sum, err := hsync.ScoreAll(ctx, a.store, a.cfg.Sync.Connection, a.mapping, crm.SystemClock{}.Now(), nil)
				if err != nil {
					return err
				}
				printScoreSummary(e.stdout, sum)
				return nil
			}
		},
	})
}

func printScoreSummary(w io.Writer, sum hsync.ScoreSummary) {
	fmt.Fprintf(w, "Scored %d accounts as of %s (%d with a score; the rest have too little data).\n",
		sum.Accounts, sum.At.Format("2006-01-02 15:04 MST"), sum.Scored)
	fmt.Fprintf(w, "Grades: green %d, yellow %d, red %d, no score %d\n",
		sum.Grades[scoring.GradeGreen], sum.Grades[scoring.GradeYellow], sum.Grades[scoring.GradeRed], sum.Accounts-sum.Scored)
	if len(sum.Flags) > 0 {
		names := make([]string, 0, len(sum.Flags))
		for n := range sum.Flags {
			names = append(names, n)
		}
		slices.Sort(names)
		fmt.Fprint(w, "Flags:")
		for _, n := range names {
			fmt.Fprintf(w, " %s %d", n, sum.Flags[n])
		}
		fmt.Fprintln(w)
	}
}
