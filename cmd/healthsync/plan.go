package main

import (
	"context"
	"encoding/json"
	"flag"

	hsync "healthsync/sync"
)

// planCommand is `healthsync plan`.
func planCommand() *command {
	return &command{
		name:    "plan",
		summary: "show the writeback a run would do (field-level diff, tasks)",
		help: `Compares the latest stored scores (run healthsync score first) with what
healthsync last wrote and lists, without writing anything, the fields that
would change (record, field, old -> new) and the tasks to create or close.

It first asks the CRM for every field it would write and refuses when one is
missing (run healthsync install), not writable, or not healthsync's own: only
fields install created (or listed under outputs.owned_fields) are ever
written, never a standard field or another app's. A score moving less than
outputs.score_dead_band points (default 5) keeps its written value unless
its grade changes. New tasks are capped per owner per day by
tasks.daily_budget_per_owner (default 5), the most urgent first; the plan
says how many wait. When the mapping names a snooze field or status, the CRM
is asked which open tasks a CSM snoozed.`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			asJSON := fs.Bool("json", false, "print the whole plan as JSON")
			limit := fs.Int("limit", 20, "show at most this many `records` and tasks")
			return func(ctx context.Context, e *env, args []string) error {
				if err := noArgs("plan", args); err != nil {
					return err
				}
				a, c, err := openAppCRM(ctx, e, true)
				if err != nil {
					return err
				}
				defer a.Close()
				if !*asJSON {
					if err := a.warnMappingChanged(ctx, e.stdout); err != nil {
						return err
					}
				}
				wb := hsync.NewWriteback(hsync.WritebackOptions{Store: a.store, Connection: a.cfg.Sync.Connection, Mapping: a.mapping, Config: a.cfg.Writeback})
				p, err := wb.Plan(ctx, c)
				if err != nil {
					return err
				}
				if *asJSON {
					enc := json.NewEncoder(e.stdout)
					enc.SetIndent("", "  ")
					return enc.Encode(p)
				}
				printPlan(e.stdout, p, *limit, a.ownerNames(ctx))
				return nil
			}
		},
	}
}
