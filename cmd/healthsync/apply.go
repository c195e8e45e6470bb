package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	hsync "healthsync/sync"
)

// applyCommand is `healthsync apply`.
func applyCommand() *command {
	return &command{
		name:    "apply",
		summary: "execute the plan: write changed fields and create/close tasks",
		help: `Computes the plan (as healthsync plan shows it) and writes it in the fewest
calls the CRM allows. Only fields healthsync owns (created by install, or
listed under outputs.owned_fields) are written, and only when they changed
(beyond the score dead band); a re-run right after an apply writes nothing.

Apply refuses, writing nothing, when an output field is missing or not
healthsync's own, and when the plan trips the mass-change guard: the written
score of more than HEALTHSYNC_MAX_CHANGE_SHARE of the accounts would jump (a
grade or customer-status change, or a move of 15 points or more: what a
broken mapping does, not days passing) or it would create more than
HEALTHSYNC_MAX_TASKS_PER_RUN tasks; --force applies it anyway. It exits 1
when the guard refused or when the CRM refused any record or task (those are
retried by the next run).`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			force := fs.Bool("force", false, "apply even if the mass-change guard trips")
			return func(ctx context.Context, e *env, args []string) error {
				if err := noArgs("apply", args); err != nil {
					return err
				}
				a, c, err := openAppCRM(ctx, e, false)
				if err != nil {
					return err
				}
				defer a.Close()
				if err := a.warnMappingChanged(ctx, e.stdout); err != nil {
					return err
				}
				names := a.ownerNames(ctx)
				show := hsync.Observer{
					Planned: func(p *hsync.Plan) {
						if p.Empty() {
							printPlan(e.stdout, p, 0, names)
							return
						}
						printPlan(e.stdout, p, 5, names)
						fmt.Fprintln(e.stdout)
					},
					Applied: func(rep *hsync.ApplyReport, err error) {
						if rep.RunID != 0 && !errors.Is(err, hsync.ErrGuard) {
							printApplyReport(e.stdout, rep)
						}
					},
				}
				_, _, err = a.worker(c, show, nil).Apply(ctx, *force)
				if hsync.ControlledStop(err) {
					return nil
				}
				return err
			}
		},
	}
}
