package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"healthsync/crm"
	"healthsync/mapping"
	"healthsync/render"
	"healthsync/scoring"
	"healthsync/store"
	hsync "healthsync/sync"
)

// reportCommand is `healthsync report`.
func reportCommand() *command {
	return &command{
		name:    "report",
		summary: "portfolio KPIs and the CSM pipeline",
		help: `Prints renewal rate, logo churn, GRR, NRR, ARPA, expansion revenue, time to
first value and NPS for a period, and the CSM pipeline as of now: accounts per
lifecycle stage and grade, renewals due in 30/60/90 days with their ARR, and
at-risk ARR. Accounts are scored afresh from the store.

The period is --from/--to (YYYY-MM-DD, --to exclusive) or --period: month,
quarter or year, ending today (default quarter).`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			period := fs.String("period", "quarter", "`month`, quarter or year ending today (ignored with --from)")
			from := fs.String("from", "", "period start `YYYY-MM-DD`")
			to := fs.String("to", "", "period end `YYYY-MM-DD` (exclusive; default today)")
			asJSON := fs.Bool("json", false, "print JSON")
			asCSV := fs.Bool("csv", false, "print CSV")
			return func(ctx context.Context, e *env, args []string) error {
				if err := noArgs("report", args); err != nil {
					return err
				}
				if *asJSON && *asCSV {
					return usagef("report", "choose one of --json and --csv")
				}
				now := crm.SystemClock{}.Now()
				p, err := reportPeriod(now, *period, *from, *to)
				if err != nil {
					return usagef("report", "%v", err)
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
				b, err := scoring.NewPortfolioBuilder(cfg, p, now)
				if err != nil {
					return err
				}
				b.Mapped(mappedInputs(a.mapping)...)
				exact, err := hsync.HistoryExactFrom(ctx, a.store, a.cfg.Sync.Connection, a.mapping)
				if err != nil {
					return err
				}
				b.ExactFrom(exact)
				err = a.store.ForEachAccount(ctx, a.cfg.Sync.Connection, func(bd store.Bundle) error {
					d := scoring.AccountData{Account: bd.Account, Contacts: bd.Contacts, Opportunities: bd.Opportunities, Activities: bd.Activities}
					b.AddAsOf(bd.Account, bd.History, bd.Opportunities, scorer.Score(d, now, nil))
					return nil
				})
				if err != nil {
					return err
				}
				k := b.KPIs()
				switch {
				case *asJSON:
					return render.ReportJSON(e.stdout, k)
				case *asCSV:
					return render.ReportCSV(e.stdout, k)
				}
				return render.Report(e.stdout, k)
			}
		},
	}
}

// mappedInputs names the KPI inputs the mapping reads.
func mappedInputs(m *mapping.Mapping) []string {
	f := m.Config().Fields.Account
	var out []string
	for in, field := range map[string]string{scoring.InputARR: f.ARR, scoring.InputNPS: f.NPS, scoring.InputCSAT: f.CSAT} {
		if field != "" {
			out = append(out, in)
		}
	}
	return out
}

// reportPeriod resolves the period flags.
func reportPeriod(now time.Time, period, from, to string) (scoring.Period, error) {
	end := crm.Date(now).AddDate(0, 0, 1)
	if to != "" {
		t, err := time.Parse(time.DateOnly, to)
		if err != nil {
			return scoring.Period{}, fmt.Errorf("--to %q: want YYYY-MM-DD", to)
		}
		end = t
	}
	if from != "" {
		t, err := time.Parse(time.DateOnly, from)
		if err != nil {
			return scoring.Period{}, fmt.Errorf("--from %q: want YYYY-MM-DD", from)
		}
		if !t.Before(end) {
			return scoring.Period{}, fmt.Errorf("--from %s must be before --to %s", from, end.Format(time.DateOnly))
		}
		return scoring.Period{From: t, To: end}, nil
	}
	switch period {
	case "month":
		return scoring.Period{From: end.AddDate(0, -1, 0), To: end}, nil
	case "quarter":
		return scoring.Period{From: end.AddDate(0, -3, 0), To: end}, nil
	case "year":
		return scoring.Period{From: end.AddDate(-1, 0, 0), To: end}, nil
	}
	return scoring.Period{}, fmt.Errorf("--period %q: use month, quarter or year", period)
}
