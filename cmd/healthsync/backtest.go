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
	"healthsync/store"
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

Activities and opportunities are replayed as they were on each date; account
fields (adoption, sentiment, NPS, the renewal date) are read as they are now,
which flatters the AUC for accounts whose values already show their churn:
read it as an upper bound (docs/scoring.md, "Backtest").`,
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
				start := now.AddDate(0, -*months, 0)
				var accounts []scoring.BacktestAccount
				err = a.store.ForEachAccount(ctx, a.cfg.Sync.Connection, func(b store.Bundle) error {
					bt := scoring.BacktestAccount{AccountID: b.Account.ID, OutcomeAt: now}
					// The outcome: the churn field, else the lost-renewal rule
					// (the latest closed renewal was lost). A prospect never
					// was a customer and is left out.
					if churned, at, ok := scoring.OutcomeOf(b.Account, b.Opportunities); ok && churned {
						bt.Churned, bt.OutcomeAt = true, at
					} else if b.Account.Churned {
						bt.Churned = true
					} else if scoring.StatusAt(&b.Account, b.Opportunities, now).Status == crm.StatusProspect {
						return nil
					}
					d := scoring.AccountData{Account: b.Account, Contacts: b.Contacts, Opportunities: b.Opportunities, Activities: b.Activities}
					for at := start; at.Before(bt.OutcomeAt); at = at.Add(time.Duration(*step) * 24 * time.Hour) {
						if r := scorer.Score(d, at, nil); r.ComputedScore != nil || r.Score != nil {
							v := r.Score
							if r.ComputedScore != nil {
								v = r.ComputedScore
							}
							bt.Scores = append(bt.Scores, scoring.ScorePoint{At: at, Score: *v})
						}
					}
					accounts = append(accounts, bt)
					return nil
				})
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
