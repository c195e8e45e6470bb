package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"healthsync/crm"
	"healthsync/render"
	"healthsync/scoring"
	hsync "healthsync/sync"
)

// backtestCommand is `healthsync backtest`.
func backtestCommand() *command {
	return &command{
		name:    "backtest",
		summary: "how well past scores ranked the accounts that later churned",
		help: `Replays history: scores every customer as of past dates (every --step days over
the last --months months) and compares the score before each outcome with what
happened: churn (the mapped churn field, else a latest renewal that was lost)
or not. Prints ROC AUC (0.5 is chance, 1 perfect), churn rate per grade and the
median days of warning before churn.

Every input of a past score is its value as of that date: account fields
(adoption, sentiment, NPS, ARR, the renewal date) from the stored field
history, backfilled from the CRM's own field history on the first sync where
the CRM tracks it and recorded by every sync since; activities and
opportunities by their own dates. A field the CRM keeps no history of is
known only from the first sync on: before that it is left out of the score
(the output says from which date all inputs are known). Changing today's
values changes no past score (docs/scoring.md, "Backtest").`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			months := fs.Int("months", 12, "how many `months` back to replay")
			step := fs.Int("step", 30, "`days` between replayed scores")
			lead := fs.Int("lead-days", 30, "the predicting score is the newest at least this many `days` before the outcome")
			csvPath := fs.String("csv", "", "also write one row per account to this CSV `file`")
			return func(ctx context.Context, e *env, args []string) error {
				if err := noArgs("backtest", args); err != nil {
					return err
				}
				if *months < 1 || *step < 1 || *lead < 0 {
					return usagef("backtest", "--months and --step must be at least 1 and --lead-days not negative")
				}
				a, err := openApp(ctx, e, true)
				if err != nil {
					return err
				}
				defer a.Close()
				cfg := a.mapping.Config().Scoring
				scorer, err := scoring.NewScorer(cfg)
				if err != nil {
					return err
				}
				now := crm.SystemClock{}.Now()
				accounts, err := hsync.BacktestAccounts(ctx, a.store, a.cfg.Sync.Connection, scorer, hsync.BacktestWindow{
					Start: now.AddDate(0, -*months, 0), Now: now, Step: time.Duration(*step) * 24 * time.Hour})
				if err != nil {
					return err
				}
				exact, err := hsync.HistoryExactFrom(ctx, a.store, a.cfg.Sync.Connection, a.mapping)
				if err != nil {
					return err
				}
				res, err := scoring.Backtest(accounts, scoring.BacktestOptions{LeadDays: *lead, Grades: cfg.Grades})
				if err != nil {
					return err
				}
				if err := render.Backtest(e.stdout, res); err != nil {
					return err
				}
				if !exact.IsZero() && exact.After(now.AddDate(0, -*months, 0)) {
					fmt.Fprintf(e.stdout, "Inputs before %s are unknown (field history starts then: healthsync check says which fields the CRM does not track); scores before it use only what was known.\n", exact.Format("2006-01-02"))
				}
				if *csvPath != "" {
					f, err := os.Create(*csvPath)
					if err != nil {
						return fmt.Errorf("write CSV: %w", err)
					}
					if err := render.BacktestCSV(f, res); err != nil {
						f.Close()
						return err
					}
					if err := f.Close(); err != nil {
						return fmt.Errorf("write CSV: %w", err)
					}
					fmt.Fprintf(e.stdout, "Wrote %s\n", *csvPath)
				}
				return nil
			}
		},
	}
}
