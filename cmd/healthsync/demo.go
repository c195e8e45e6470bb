package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sethvargo/go-envconfig"

	"healthsync/crm"
	"healthsync/mapping"
	"healthsync/store"
)

func init() {
	register(&command{
		name:    "demo",
		summary: "the whole path on an emulated CRM and SQLite: sync, score, write back, and show it",
		help: `Starts an emulated Salesforce org (or HubSpot portal with --crm hubspot) with
generated accounts, uses a fresh SQLite database in --dir, installs the custom
fields, syncs, scores, plans and applies the writeback, then runs again to show
that an unchanged org gets zero writes. Needs no CRM account and no network.`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			var o emulatorOptions
			o.register(fs)
			dir := fs.String("dir", ".demo", "`directory` for the demo's database, key and mapping file (its previous demo files are replaced)")
			keep := fs.Bool("keep", false, "keep the emulator running after the demo, until Ctrl-C, to poke at it")
			return func(ctx context.Context, e *env, args []string) error {
				if err := noArgs("demo", args); err != nil {
					return err
				}
				return runDemo(ctx, e, o, *dir, *keep)
			}
		},
	})
}

func runDemo(ctx context.Context, e *env, o emulatorOptions, dir string, keep bool) error {
	// Bad flags must fail before the previous demo's files are removed.
	sys, err := o.validate("demo")
	if err != nil {
		return err
	}
	out := e.stdout
	work := filepath.Join(dir, string(sys))
	abs, err := filepath.Abs(work)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return fmt.Errorf("create demo directory: %w", err)
	}
	dbPath := filepath.Join(abs, "healthsync.db")
	mapPath := filepath.Join(abs, "healthsync.yaml")
	for _, f := range []string{dbPath, dbPath + "-wal", dbPath + "-shm", filepath.Join(abs, "healthsync.key")} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("reset demo database: %w", err)
		}
	}
	em, err := newEmulated(o, filepath.Join(abs, "jwt.key"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(mapPath, mapping.Example(sys), 0o600); err != nil {
		return fmt.Errorf("write demo mapping file: %w", err)
	}
	serveCtx, stopServe := context.WithCancel(context.WithoutCancel(ctx))
	defer stopServe()
	base, done, err := em.serve(serveCtx, "127.0.0.1:0")
	if err != nil {
		return err
	}
	vars := map[string]string{"HEALTHSYNC_DATABASE_URL": dbPath, "HEALTHSYNC_MAPPING_FILE": mapPath}
	for _, l := range em.envLines(base) {
		if k, v, ok := strings.Cut(l, "="); ok {
			vars[k] = v
		}
	}
	de := &env{stdout: out, stderr: e.stderr, lookuper: envconfig.MultiLookuper(envconfig.MapLookuper(vars), e.lookuper)}
	fmt.Fprintf(out, "healthsync demo: an emulated %s at %s with %d generated accounts (seed %d).\n", sys, base, o.accounts, o.seed)
	if o.csvDir != "" {
		fmt.Fprintf(out, "healthsync demo: an emulated %s at %s with the CSV export in %s.\n", sys, base, o.csvDir)
	}
	a, err := openApp(ctx, de, false)
	if err != nil {
		return err
	}
	defer a.Close()
	c, err := a.openCRM(ctx, de)
	if err != nil {
		return err
	}

	fmt.Fprintf(out, "\n== 1. install: the custom fields the mapping writes to\n")
	created, err := c.Install(ctx, a.mapping.FieldSpecs())
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Created %d fields, permissions and groups.\n", len(created))

	fmt.Fprintf(out, "\n== 2. first run: sync, score, plan, apply\n")
	if _, err := a.runCycle(ctx, de, c, false, false, out); err != nil {
		return err
	}
	if err := printAtRisk(ctx, de, a, 5); err != nil {
		return err
	}
	printWrites(de, a, em)

	fmt.Fprintf(out, "\n== 3. second run, nothing changed in the CRM\n")
	res2, err := a.runCycle(ctx, de, c, false, false, out)
	if err != nil {
		return err
	}
	writes := 0
	if res2.apply != nil {
		writes = res2.apply.WriteCalls
	}
	fmt.Fprintf(out, "Second run: %d API calls to read, %d write calls.\n", res2.sync.APICalls, writes)

	name := firstAtRiskName(ctx, a)
	fmt.Fprintf(out, "\n== Next\n")
	fmt.Fprintf(out, "The database is %s (SQLite; the mapping file used is %s).\n", dbPath, mapPath)
	self := selfName()
	fmt.Fprintf(out, "Look at one account:\n  HEALTHSYNC_DATABASE_URL=%s HEALTHSYNC_MAPPING_FILE=%s %s explain %q\n", dbPath, mapPath, self, name)
	fmt.Fprintf(out, "Portfolio KPIs:\n  HEALTHSYNC_DATABASE_URL=%s HEALTHSYNC_MAPPING_FILE=%s %s report\n", dbPath, mapPath, self)
	if !keep {
		fmt.Fprintf(out, "To keep the emulated CRM running and poke at it: %s demo --keep (or %s emulator --env-file FILE).\n", self, self)
		stopServe()
		return <-done
	}
	envPath := filepath.Join(abs, "env")
	lines := em.envLines(base)
	lines = append(lines, "HEALTHSYNC_DATABASE_URL="+dbPath, "HEALTHSYNC_MAPPING_FILE="+mapPath)
	lines = append(lines, em.clientLines(base)...)
	if err := os.WriteFile(envPath, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		return fmt.Errorf("write env file: %w", err)
	}
	a.Close() // release the SQLite lock so other commands can use the store
	fmt.Fprintf(out, "\nThe emulated CRM keeps running at %s until Ctrl-C. In another shell:\n  set -a; . %s; set +a\n  healthsync sync && healthsync score && healthsync plan\n", base, envPath)
	<-ctx.Done()
	stopServe()
	return <-done
}

// selfName is how the user ran this binary, for commands to copy: the
// path when it was run by path (./bin/healthsync under make), else the name.
func selfName() string {
	if p := os.Args[0]; strings.Contains(p, "/") && !strings.Contains(p, "go-build") {
		return p
	}
	return "healthsync"
}

// atRisk is a scored account for the demo's list.
type atRisk struct {
	id, name string
	score    float64
	grade    string
	reasons  []string
}

func lowestScores(ctx context.Context, a *app, n int) ([]atRisk, error) {
	headers, err := a.store.AccountHeaders(ctx, a.cfg.Sync.Connection)
	if err != nil {
		return nil, err
	}
	var all []atRisk
	err = a.store.ForEachLatestScore(ctx, a.cfg.Sync.Connection, func(sc store.Score) error {
		if sc.Score == nil {
			return nil
		}
		r := atRisk{id: sc.AccountID, name: headers[crm.AccountID(sc.AccountID)].Name, score: *sc.Score, grade: sc.Grade}
		json.Unmarshal(sc.Reasons, &r.reasons)
		all = append(all, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(all, func(x, y atRisk) int {
		switch {
		case x.score < y.score:
			return -1
		case x.score > y.score:
			return 1
		}
		return strings.Compare(x.id, y.id)
	})
	return all[:min(n, len(all))], nil
}

func printAtRisk(ctx context.Context, e *env, a *app, n int) error {
	top, err := lowestScores(ctx, a, n)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "\nThe %d accounts most at risk:\n", len(top))
	for _, r := range top {
		fmt.Fprintf(e.stdout, "  %5.1f %-6s %s\n", r.score, r.grade, r.name)
		for _, why := range r.reasons {
			fmt.Fprintf(e.stdout, "               - %s\n", why)
		}
	}
	return nil
}

func firstAtRiskName(ctx context.Context, a *app) string {
	top, err := lowestScores(ctx, a, 1)
	if err != nil || len(top) == 0 {
		return "ACCOUNT"
	}
	return top[0].name
}

// printWrites shows what the emulated CRM now holds from healthsync.
func printWrites(e *env, a *app, em *emulated) {
	out := e.stdout
	var subjects []string
	switch {
	case em.sf != nil:
		for _, t := range em.sf.CreatedTasks() {
			subjects = append(subjects, fmt.Sprintf("%v (what: %v, owner: %v)", t["Subject"], t["WhatId"], t["OwnerId"]))
		}
	case em.hs != nil:
		for _, t := range em.hs.CreatedTasks() {
			subjects = append(subjects, fmt.Sprintf("%s (owner: %s)", t.Properties["hs_task_subject"], t.Properties["hubspot_owner_id"]))
		}
	}
	fmt.Fprintf(out, "\nTasks now in the CRM (%d), for example:\n", len(subjects))
	for _, s := range subjects[:min(5, len(subjects))] {
		fmt.Fprintf(out, "  + %s\n", s)
	}
	var fields []string
	for _, o := range a.mapping.Outputs() {
		if o.Object == a.mapping.AccountObject() {
			fields = append(fields, o.Field)
		}
	}
	fmt.Fprintf(out, "Fields written on every scored %s: %s\n", a.mapping.AccountObject(), strings.Join(fields, ", "))
}
