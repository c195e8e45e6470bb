package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sethvargo/go-envconfig"

	"healthsync/crm"
	"healthsync/mapping"
	"healthsync/scoring"
	"healthsync/store"
)

// demoCommand is `healthsync demo`.
func demoCommand() *command {
	return &command{
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
	}
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
	em, err := newEmulated(o, filepath.Join(abs, "jwt.key"), e.stderr)
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
	w := a.worker(c, a.cycleObserver(ctx, out), nil)
	if _, err := w.Cycle(ctx); err != nil {
		return err
	}
	if err := printAtRisk(ctx, de, a, em, 5); err != nil {
		return err
	}
	printWrites(ctx, de, a, em)

	fmt.Fprintf(out, "\n== 3. second run, nothing changed in the CRM\n")
	res2, err := w.Cycle(ctx)
	if err != nil {
		return err
	}
	writes := 0
	if res2.Apply != nil {
		writes = res2.Apply.WriteCalls
	}
	fmt.Fprintf(out, "Second run: %d API calls to read, %d write calls.\n", res2.Sync.APICalls, writes)

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

// atRisk is a live customer for the demo's at-risk list.
type atRisk struct {
	id, name, owner string
	score           float64
	grade           scoring.Grade
	renewal         string
	rank            float64
	reasons         []string
	tasks           []string
}

// atRiskAccounts lists the live customers graded red or yellow, most
// urgent first (grade × renewal proximity × ARR, as tasks are ranked),
// with the subjects of the tasks healthsync created for each (open maps
// account IDs to them).
func atRiskAccounts(ctx context.Context, a *app, n int, open map[string][]string) ([]atRisk, error) {
	conn := a.cfg.Sync.Connection
	headers, err := a.store.AccountHeaders(ctx, conn)
	if err != nil {
		return nil, err
	}
	names := a.ownerNames(ctx)
	var all []atRisk
	err = a.store.ForEachLatestScore(ctx, conn, func(sc store.Score) error {
		g := scoring.Grade(sc.Grade)
		if sc.Score == nil || (g != scoring.GradeRed && g != scoring.GradeYellow) {
			return nil // not scored (too little data, or not a live customer), or green
		}
		var values struct {
			DaysToRenewal *int     `json:"days_to_renewal"`
			ARR           *float64 `json:"arr"`
			Renewal       string   `json:"next_renewal_date"`
		}
		json.Unmarshal(sc.Outputs, &values) // stored by score; a broken row just ranks lower
		hdr := headers[crm.AccountID(sc.AccountID)]
		r := atRisk{id: sc.AccountID, name: hdr.Name, owner: ownerName(names, hdr.OwnerID), score: *sc.Score, grade: g,
			renewal: values.Renewal, rank: scoring.RiskRank(g, values.DaysToRenewal, values.ARR), tasks: open[sc.AccountID]}
		json.Unmarshal(sc.Reasons, &r.reasons)
		all = append(all, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(all, func(x, y atRisk) int {
		switch {
		case x.rank != y.rank:
			if x.rank > y.rank {
				return -1
			}
			return 1
		case x.score != y.score:
			if x.score < y.score {
				return -1
			}
			return 1
		}
		return strings.Compare(x.id, y.id)
	})
	return all[:min(n, len(all))], nil
}

func printAtRisk(ctx context.Context, e *env, a *app, em *emulated, n int) error {
	top, err := atRiskAccounts(ctx, a, n, createdTaskSubjects(em, a.mapping))
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "\nThe %d live customers most at risk, most urgent first (grade × renewal proximity × ARR):\n", len(top))
	for _, r := range top {
		renewal := ""
		if r.renewal != "" {
			renewal = ", renews " + r.renewal
		}
		fmt.Fprintf(e.stdout, "  %3.0f %-6s %s (owner %s%s)\n", r.score, r.grade, r.name, r.owner, renewal)
		for _, why := range r.reasons {
			fmt.Fprintf(e.stdout, "             - %s\n", why)
		}
		for _, t := range r.tasks {
			fmt.Fprintf(e.stdout, "             task: %s\n", t)
		}
	}
	return nil
}

// createdTaskSubjects maps account IDs to the subjects of the tasks
// healthsync created in the emulated CRM, read from their task keys.
func createdTaskSubjects(em *emulated, m *mapping.Mapping) map[string][]string {
	out := map[string][]string{}
	add := func(key, subject string) {
		if parts := strings.Split(key, ":"); len(parts) == 4 && parts[0] == "hs" {
			out[parts[1]] = append(out[parts[1]], subject)
		}
	}
	switch {
	case em.sf != nil:
		for _, t := range em.sf.CreatedTasks() {
			add(fmt.Sprint(t[m.TaskKeyField()]), fmt.Sprint(t["Subject"]))
		}
	case em.hs != nil:
		for _, t := range em.hs.CreatedTasks() {
			add(t.Properties[m.TaskKeyField()], t.Properties["hs_task_subject"])
		}
	}
	return out
}

func firstAtRiskName(ctx context.Context, a *app) string {
	top, err := atRiskAccounts(ctx, a, 1, nil)
	if err != nil || len(top) == 0 {
		return "ACCOUNT"
	}
	return top[0].name
}

// printWrites shows what the emulated CRM now holds from healthsync: the
// tasks with their account and owner by name, and the fields written.
func printWrites(ctx context.Context, e *env, a *app, em *emulated) {
	out := e.stdout
	headers, err := a.store.AccountHeaders(ctx, a.cfg.Sync.Connection)
	if err != nil {
		headers = nil // names unknown: IDs are shown
	}
	names := a.ownerNames(ctx)
	account := func(id string) string {
		if h, ok := headers[crm.AccountID(id)]; ok && h.Name != "" {
			return h.Name
		}
		return id
	}
	var lines []string
	perOwner := map[string]int{}
	add := func(key, subject, ownerID string) {
		owner := ownerName(names, crm.UserID(ownerID))
		perOwner[owner]++
		acct := ""
		if parts := strings.Split(key, ":"); len(parts) == 4 {
			acct = account(parts[1]) + ", "
		}
		lines = append(lines, fmt.Sprintf("%s — %sfor %s", subject, acct, owner))
	}
	key := a.mapping.TaskKeyField()
	switch {
	case em.sf != nil:
		for _, t := range em.sf.CreatedTasks() {
			add(fmt.Sprint(t[key]), fmt.Sprint(t["Subject"]), fmt.Sprint(t["OwnerId"]))
		}
	case em.hs != nil:
		for _, t := range em.hs.CreatedTasks() {
			add(t.Properties[key], t.Properties["hs_task_subject"], t.Properties["hubspot_owner_id"])
		}
	}
	fmt.Fprintf(out, "\nTasks now in the CRM (%d", len(lines))
	if len(perOwner) > 0 {
		parts := make([]string, 0, len(perOwner))
		for _, o := range slices.Sorted(maps.Keys(perOwner)) {
			parts = append(parts, fmt.Sprintf("%s %d", o, perOwner[o]))
		}
		fmt.Fprintf(out, ": %s", strings.Join(parts, ", "))
	}
	fmt.Fprintln(out, "), for example:")
	for _, s := range lines[:min(5, len(lines))] {
		fmt.Fprintf(out, "  + %s\n", s)
	}
	var fields []string
	for _, o := range a.mapping.Outputs() {
		if o.Object == a.mapping.AccountObject() {
			fields = append(fields, o.Field)
		}
	}
	fmt.Fprintf(out, "Fields written on every account: %s\n", strings.Join(fields, ", "))
	if c := a.mapping.Counters(); len(c) > 0 {
		counted := make([]string, len(c))
		for i, x := range c {
			counted[i] = fmt.Sprintf("%s (from %s)", x.Field, x.FromField)
		}
		fmt.Fprintf(out, "Counted by the CRM itself, never written: %s\n", strings.Join(counted, ", "))
	}
}
