package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"

	"healthsync/crm"
	"healthsync/scoring"
)

func init() {
	register(&command{
		name:    "explain",
		args:    "ACCOUNT",
		summary: "show one account's metrics, measures, score, reasons, flags and contacts",
		help: `ACCOUNT is the account's CRM ID or its exact name (case-insensitive). The
account is scored afresh from the store as of now, with the trend taken from
the stored score history; a CSM override in force is shown beside the
computed score. Nothing is stored or written.`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			asJSON := fs.Bool("json", false, "print the full result as JSON")
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
				r, err := scoring.Score(a.mapping.Config().Scoring, d, crm.SystemClock{}.Now(), points)
				if err != nil {
					return err
				}
				if *asJSON {
					enc := json.NewEncoder(e.stdout)
					enc.SetIndent("", "  ")
					return enc.Encode(r)
				}
				if err := scoring.RenderExplain(e.stdout, r); err != nil {
					return err
				}
				ledger, err := a.store.Ledger(ctx, conn, a.mapping.AccountObject(), string(b.Account.ID))
				if err != nil {
					return err
				}
				if len(ledger) > 0 {
					fmt.Fprintf(e.stdout, "\nLast written to the CRM by healthsync:\n")
					for _, o := range a.mapping.Outputs() {
						if l, ok := ledger[o.Field]; ok {
							fmt.Fprintf(e.stdout, "  %-28s %s  (%s)\n", o.Field, l.Value, l.WrittenAt.Format("2006-01-02 15:04"))
						}
					}
				}
				return nil
			}
		},
	})
}
