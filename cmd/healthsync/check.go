package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"sort"
	"strings"

	"healthsync/connector/hubspot"
	"healthsync/mapping"
)

// checkCommand is `healthsync check`.
func checkCommand() *command {
	return &command{
		name:    "check",
		summary: "validate the configuration and mapping against the live CRM (describe)",
		help: `Checks every field the mapping names against the CRM's describe (Salesforce)
or properties (HubSpot): that it exists, has a fitting type, and is updateable
where healthsync writes to it. For HubSpot it also checks the token's scopes.
Prints a report; exits 1 when there is an error.`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			return func(ctx context.Context, e *env, args []string) error {
				if err := noArgs("check", args); err != nil {
					return err
				}
				a, c, err := openAppCRM(ctx, e, true)
				if err != nil {
					return err
				}
				defer a.Close()
				if hc, ok := c.(*hubspot.Client); ok {
					if err := hc.CheckScopes(ctx, hubspot.RequiredScopes(a.mapping.Objects(), true)); err != nil {
						return err
					}
				}
				var problems []mapping.Problem
				objects := a.mapping.DescribeObjects()
				for _, obj := range objects {
					fields, err := c.Describe(ctx, obj)
					if err != nil {
						return fmt.Errorf("describe %s: %w", obj, err)
					}
					problems = append(problems, a.mapping.Validate(obj, fields)...)
				}
				fmt.Fprint(e.stdout, mapping.Report(problems, len(objects)))
				if err := checkHistory(ctx, e, a.mapping, c); err != nil {
					return err
				}
				if mapping.HasErrors(problems) {
					return errors.New("the mapping does not fit the CRM: fix the errors above (or run `healthsync install` for missing output fields)")
				}
				return nil
			}
		},
	}
}

// historyTracker is a CRM client that says which fields it keeps a
// field history of.
type historyTracker interface {
	HistoryTracked(ctx context.Context, object string, fields []string) ([]string, error)
}

// checkHistory says which mapped fields the CRM keeps no field history
// of, and what that costs: their history starts at the first sync, so
// backtests and past KPIs that read them are exact only from then.
func checkHistory(ctx context.Context, e *env, m *mapping.Mapping, c any) error {
	ht, ok := c.(historyTracker)
	if !ok {
		return nil
	}
	var lines, derivedNotes []string
	dv, _ := c.(historyDeriver)
	for _, obj := range m.Objects() {
		ent, ok := m.HistoryEntity(obj)
		if !ok {
			continue
		}
		tracked, err := ht.HistoryTracked(ctx, obj, m.HistorySources(obj))
		if err != nil {
			return fmt.Errorf("field history of %s: %w", obj, err)
		}
		_, no := m.Backfillable(ent, func(f string) bool {
			return slices.ContainsFunc(tracked, func(t string) bool { return strings.EqualFold(t, f) })
		})
		// Fields the CRM derives from another one (Salesforce's IsClosed
		// and IsWon from StageName) have no tracking of their own: name
		// the field to track instead.
		from := map[string][]string{} // source field -> the derived CRM fields
		for _, f := range no {
			var own, derived []string
			for _, s := range f.Sources {
				if src := derivedSource(dv, obj, s); src != "" {
					derived = append(derived, s)
					if !slices.Contains(from[src], s) {
						from[src] = append(from[src], s)
					}
				} else {
					own = append(own, s)
				}
			}
			line := fmt.Sprintf("  %s %s (%s)", obj, f.Field, strings.Join(own, ", "))
			if len(own) == 0 {
				line = fmt.Sprintf("  %s %s (%s: follows %s)", obj, f.Field, strings.Join(derived, ", "), derivedSource(dv, obj, derived[0]))
			}
			lines = append(lines, line)
		}
		srcs := make([]string, 0, len(from))
		for src := range from {
			srcs = append(srcs, src)
		}
		sort.Strings(srcs)
		for _, src := range srcs {
			if slices.ContainsFunc(tracked, func(t string) bool { return strings.EqualFold(t, src) }) {
				derivedNotes = append(derivedNotes, fmt.Sprintf("%s %s is tracked, but the integration user cannot read the org's stages (OpportunityStage), which say how %s follow it: grant it read access to backfill them too.",
					obj, src, strings.Join(from[src], " and ")))
				continue
			}
			derivedNotes = append(derivedNotes, fmt.Sprintf("%s %s is not tracked, so the history of %s, which the CRM derives from it and cannot track, also starts at the first sync: track %s to backfill them all.",
				obj, src, strings.Join(from[src], " and "), src))
		}
	}
	if len(lines) == 0 {
		fmt.Fprintln(e.stdout, "Field history: the CRM keeps the history of every mapped field scoring and KPIs read; the first sync backfills it.")
		return nil
	}
	fmt.Fprintf(e.stdout, "Field history: the CRM keeps no history of %d mapped fields (field history tracking off for them, or not visible to the integration user):\n%s\n",
		len(lines), strings.Join(lines, "\n"))
	for _, n := range derivedNotes {
		fmt.Fprintln(e.stdout, n)
	}
	fmt.Fprintln(e.stdout, "Their history starts at the first sync: backtests and past KPIs that read them are exact only from then (before it a backtest leaves them out, a report reads their earliest known value). Turn on field history tracking for them (Salesforce Setup → Object Manager → Fields & Relationships → Set History Tracking; for a field that follows another, that one) before the first sync to backfill them.")
	return nil
}

// historyDeriver is a CRM client that knows which fields take their
// history from another field (Salesforce: Opportunity IsClosed and IsWon
// from StageName).
type historyDeriver interface {
	HistoryDerivedFrom(object, field string) string
}

// derivedSource is the field whose history stands for field's, or "".
func derivedSource(dv historyDeriver, object, field string) string {
	if dv == nil {
		return ""
	}
	return dv.HistoryDerivedFrom(object, field)
}
