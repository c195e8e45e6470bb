package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"healthsync/crm"
	"healthsync/mapping"
	"healthsync/render"
	"healthsync/scoring"
	hsync "healthsync/sync"
)

// explainCommand is `healthsync explain`.
func explainCommand() *command {
	return &command{
		name:    "explain",
		args:    "ACCOUNT",
		summary: "show one account's metrics, measures, score, reasons, flags and contacts",
		help: `ACCOUNT is the account's CRM ID or its exact name (case-insensitive). The
account is scored afresh from the store as of now, with the trend taken from
the stored score history; a CSM override in force is shown beside the
computed score. Nothing is stored or written.

With --as-of DATE the account is scored as it was at the end of that day: its
fields as the stored field history says they were then (backfilled from the
CRM's field history, or recorded by every sync), its activities and
opportunities by their own dates, and the trend from the scores stored before
it: "why was this account yellow in March?". A field whose history starts
after DATE is unknown then and left out, and the output says so.`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			asJSON := fs.Bool("json", false, "print the full result as JSON")
			asOf := fs.String("as-of", "", "score the account as it was at the end of this `DATE` (YYYY-MM-DD) from its field history")
			return func(ctx context.Context, e *env, args []string) error {
				if len(args) != 1 {
					return usagef("explain", "give one account ID or name")
				}
				a, err := openApp(ctx, e, true)
				if err != nil {
					return err
				}
				defer a.Close()
				conn := a.cfg.Sync.Connection
				b, err := a.store.LoadBundle(ctx, conn, args[0])
				if err != nil {
					return err
				}
				hist, err := a.store.ScoreHistory(ctx, conn, string(b.Account.ID))
				if err != nil {
					return err
				}
				var points []scoring.ScorePoint
				for _, h := range hist {
					if h.Score != nil {
						points = append(points, scoring.ScorePoint{At: h.ScoredAt, Score: *h.Score})
					}
				}
				users, err := a.store.Users(ctx, conn)
				if err != nil {
					return err
				}
				d := scoring.AccountData{Account: b.Account, Contacts: b.Contacts, Opportunities: b.Opportunities, Activities: b.Activities}
				if u, ok := users[b.Account.OwnerID]; ok {
					d.Owner = &u
				}
				now := crm.SystemClock{}.Now()
				var unknown []string
				if *asOf != "" {
					if now, err = pastDay("explain", *asOf); err != nil {
						return err
					}
					d = scoring.AsOf(d, b.History, now)
					var before []scoring.ScorePoint
					for _, p := range points {
						if !p.At.After(now) {
							before = append(before, p)
						}
					}
					points = before
					unknown = hsync.UnknownAsOf(a.mapping, b.History, now)
				}
				r, err := scoring.Score(a.mapping.Config().Scoring, d, now, points)
				if err != nil {
					return err
				}
				taskSubjects(a.mapping, &r, now)
				if *asJSON {
					return render.ExplainJSON(e.stdout, r)
				}
				if err := render.Explain(e.stdout, r); err != nil {
					return err
				}
				if *asOf != "" {
					fmt.Fprintf(e.stdout, "\nAs of %s, from the field history.", *asOf)
					if len(unknown) > 0 {
						fmt.Fprintf(e.stdout, " Unknown then, so left out: %s.", strings.Join(unknown, ", "))
					}
					fmt.Fprintln(e.stdout)
					return nil
				}
				ledger, err := a.store.Ledger(ctx, conn, a.mapping.AccountObject(), string(b.Account.ID))
				if err != nil {
					return err
				}
				if len(ledger) > 0 {
					fmt.Fprintf(e.stdout, "\nLast written to the CRM by healthsync:\n")
					for _, o := range a.mapping.Outputs() {
						if l, ok := ledger[o.Field]; ok {
							note := ""
							if v, ok := r.Value(o.Name); ok && (o.Name == mapping.OutputScore || o.Name == mapping.OutputTrend) && v.String() != l.Value {
								note = fmt.Sprintf("; now %s, kept while it moves less than %g points and the grade holds", v, a.mapping.ScoreDeadBand())
							}
							fmt.Fprintf(e.stdout, "  %-28s %s  (%s%s)\n", o.Field, l.Value, l.WrittenAt.Format("2006-01-02 15:04"), note)
						}
					}
				}
				return nil
			}
		},
	}
}

// taskSubjects fills each flag's task subject as the CRM task would carry
// it (the mapping's template, filled in), or empty when the mapping
// creates no task for the flag.
func taskSubjects(m *mapping.Mapping, r *scoring.Result, now time.Time) {
	for i := range r.Flags {
		f := &r.Flags[i]
		spec, ok := m.Task(f.Name)
		if !ok {
			f.Task.Subject = ""
			continue
		}
		data := mapping.TaskData{AccountID: r.AccountID, AccountName: r.AccountName, Flag: f.Name, Why: f.Description, Action: f.Action,
			Grade: string(r.Grade), Reasons: r.Reasons, Metrics: map[string]string{}}
		if r.Score != nil {
			data.Score = fmt.Sprint(*r.Score)
		}
		for _, name := range scoring.MetricNames() {
			if v, ok := r.Value(name); ok {
				data.Metrics[name] = v.String()
			}
		}
		if t, err := spec.Build("", data, r.OwnerID, now); err == nil {
			f.Task.Subject = t.Subject
		}
	}
}
