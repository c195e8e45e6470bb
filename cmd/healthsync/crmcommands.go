package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"healthsync/connector/hubspot"
	"healthsync/connector/oauth"
	"healthsync/connector/salesforce"
	"healthsync/crm"
	"healthsync/mapping"
	"healthsync/status"
	"healthsync/store"
	hsync "healthsync/sync"
)

func init() {
	register(&command{
		name:    "auth",
		args:    "salesforce|hubspot",
		summary: "log in to the CRM in the browser (OAuth) and store the tokens, encrypted",
		help: `Runs the OAuth authorization-code flow (with PKCE and state for Salesforce) with
a callback on 127.0.0.1: it opens your browser (or prints the URL to open),
waits for the login, and stores the tokens encrypted in the store under
HEALTHSYNC_CONNECTION. Unattended Salesforce workers can use the JWT bearer
flow instead (HEALTHSYNC_SALESFORCE_USERNAME + HEALTHSYNC_SALESFORCE_JWT_KEY_FILE)
and need no auth; HubSpot private apps use HEALTHSYNC_HUBSPOT_TOKEN.`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			timeout := fs.Duration("timeout", 5*time.Minute, "how long to wait for the browser `login`")
			return func(ctx context.Context, e *env, args []string) error {
				if len(args) != 1 {
					return usagef("auth", "name the CRM: healthsync auth salesforce or healthsync auth hubspot")
				}
				sys, err := crm.ParseSystem(args[0])
				if err != nil {
					return usagef("auth", "%v", err)
				}
				cfg, err := loadConfig(ctx, e)
				if err != nil {
					return err
				}
				log := newLogger(cfg.Log, e)
				st, err := openStore(ctx, cfg, log, store.Options{})
				if err != nil {
					return err
				}
				defer st.Close()
				conn := cfg.Sync.Connection
				switch sys {
				case crm.Salesforce:
					sc, err := salesforceConfig(ctx, e)
					if err != nil {
						return err
					}
					tok, err := salesforce.Login(ctx, sc, st, conn, salesforce.LoginOptions{Out: e.stderr, Timeout: *timeout})
					if err != nil {
						return err
					}
					fmt.Fprintf(e.stdout, "Logged in to Salesforce (%s); tokens stored encrypted for connection %q.\n", tok.InstanceURL, conn)
				case crm.HubSpot:
					hc, err := hubspotConfig(ctx, e)
					if err != nil {
						return err
					}
					if err := hubspot.Login(ctx, hc, st, conn, oauth.LoginOptions{Out: e.stderr, Timeout: *timeout}, nil); err != nil {
						return err
					}
					fmt.Fprintf(e.stdout, "Logged in to HubSpot; tokens stored encrypted for connection %q.\n", conn)
				}
				return nil
			}
		},
	})

	register(&command{
		name:    "sync",
		summary: "one incremental pull from the CRM into the store",
		help: `Pulls every object's changes since its cursor, page by page; each page and
its cursor commit together, so an interrupted sync resumes without loss or
duplicates. A changed mapping is re-applied to stored records without a
download; objects whose stored records lack a newly needed field are pulled
again. Hard deletes are found by comparing ID sets every
HEALTHSYNC_RECONCILE_INTERVAL (or now with --reconcile).

A stop by the API budget or the CRM's daily limit commits what was done and
exits 0; the next run resumes.`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			remap := fs.Bool("remap", false, "map every stored raw record again")
			reconcile := fs.Bool("reconcile", false, "compare ID sets with the CRM now to find hard deletes")
			full := fs.String("full", "", "forget the cursor of these comma-separated `objects` and pull them from the start")
			objects := fs.String("objects", "", "sync only these comma-separated `objects` (default: all the mapping names)")
			return func(ctx context.Context, e *env, args []string) error {
				if err := noArgs("sync", args); err != nil {
					return err
				}
				a, c, err := openAppCRM(ctx, e, false)
				if err != nil {
					return err
				}
				defer a.Close()
				opts := hsync.SyncOptions{Remap: *remap, Reconcile: *reconcile, Objects: splitList(*objects)}
				for _, obj := range splitList(*full) {
					if _, ok := a.mapping.Entity(obj); !ok {
						return usagef("sync", "--full %s: not an object the mapping syncs (%s)", obj, strings.Join(a.mapping.Objects(), ", "))
					}
					if err := a.store.InTx(ctx, func(tx *store.Tx) error { return tx.ResetCursor(ctx, a.cfg.Sync.Connection, obj) }); err != nil {
						return err
					}
				}
				show := hsync.Observer{Synced: func(rep *hsync.Report) { printSyncReport(e.stdout, rep) }}
				_, err = a.worker(c, show, a.progressFor(e)).Sync(ctx, opts)
				if hsync.ControlledStop(err) {
					return nil
				}
				return err
			}
		},
	})

	register(&command{
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
				if mapping.HasErrors(problems) {
					return errors.New("the mapping does not fit the CRM: fix the errors above (or run `healthsync install` for missing output fields)")
				}
				return nil
			}
		},
	})

	register(&command{
		name:    "install",
		summary: "create the custom fields/properties the mapping writes to (idempotent)",
		help: `Creates every output field of the mapping in the CRM: Salesforce custom fields
through the Tooling API plus a "Healthsync" permission set granting them to the
integration user; HubSpot properties in a "healthsync" group. Fields that
exist are left alone, so running it again changes nothing. Admins who deploy
metadata their own way use deploy/salesforce or deploy/hubspot instead.`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			return func(ctx context.Context, e *env, args []string) error {
				if err := noArgs("install", args); err != nil {
					return err
				}
				a, c, err := openAppCRM(ctx, e, false)
				if err != nil {
					return err
				}
				defer a.Close()
				created, err := c.Install(ctx, a.mapping.FieldSpecs())
				if err != nil {
					return err
				}
				if len(created) == 0 {
					fmt.Fprintln(e.stdout, "Everything is installed already; nothing was changed.")
					return nil
				}
				fmt.Fprintf(e.stdout, "Created %d items:\n", len(created))
				for _, c := range created {
					fmt.Fprintf(e.stdout, "  + %s\n", c)
				}
				return nil
			}
		},
	})

	register(&command{
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
	})

	register(&command{
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
	})

	register(&command{
		name:    "run",
		summary: "the worker: sync, score, plan and apply on an interval",
		help: `Runs sync -> score -> plan -> apply every --interval until SIGINT or SIGTERM,
which finish the current page, commit and exit. Several replicas may run
against one Postgres: a lease per connection lets one of them work at a time
and another take over when it dies. A plan tripping the mass-change guard is
not applied; the worker logs why and waits for an admin.`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			interval := fs.Duration("interval", 15*time.Minute, "time between runs")
			once := fs.Bool("once", false, "do one run and exit")
			listen := fs.String("listen", "", "serve /metrics, /healthz, /readyz and the status page on this `address` (e.g. 127.0.0.1:8080; off when empty)")
			return func(ctx context.Context, e *env, args []string) error {
				if err := noArgs("run", args); err != nil {
					return err
				}
				if *interval < time.Second {
					return usagef("run", "--interval %s is too short: give at least 1s (the default is 15m)", *interval)
				}
				a, c, err := openAppCRM(ctx, e, false)
				if err != nil {
					return err
				}
				defer a.Close()
				metrics := status.NewMetrics()
				if *listen != "" {
					stop, err := a.serveStatus(ctx, *listen, metrics)
					if err != nil {
						return err
					}
					defer stop()
				}
				feed := hsync.Observer{Cycled: func(res *hsync.CycleResult, err error) { a.observe(metrics, c, res, err) }}
				return a.worker(c, feed, nil).Run(ctx, hsync.RunOptions{Interval: *interval, Once: *once})
			}
		},
	})
}

// openAppCRM opens the app and connects to its CRM.
func openAppCRM(ctx context.Context, e *env, shared bool) (*app, crmClient, error) {
	a, err := openApp(ctx, e, shared)
	if err != nil {
		return nil, nil, err
	}
	c, err := a.openCRM(ctx, e)
	if err != nil {
		a.Close()
		return nil, nil, err
	}
	return a, c, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
