package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"healthsync/crm"
	"healthsync/emulator/gen"
	"healthsync/mapping"
)

func main() {
	if raw := os.Getenv(childEnv); raw != "" {
		if err := runChild(raw); err != nil {
			fmt.Fprintln(os.Stderr, "hsbench child:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "hsbench:", err)
		os.Exit(1)
	}
}

// options are the command-line flags.
type options struct {
	crms     []crm.System
	sizes    []int
	runs     int
	bigRuns  int
	postgres string
	jsonOut  bool
	jsonFile string
	seed     int64
	peer     bool // run the jsforce peer (Salesforce)
	history  bool // generate the org with field history
	fullOnly bool // measure the full sync alone (profiling)
	// bulkThreshold overrides the Salesforce connector's Bulk threshold
	// (tests; 0 keeps the default).
	bulkThreshold int
	// prepared is the peer as preparePeer left it (once per hsbench run).
	prepared *peer
}

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("hsbench", flag.ContinueOnError)
	crms := fs.String("crm", "salesforce,hubspot", "comma-separated `CRMs` to emulate: salesforce, hubspot")
	sizes := fs.String("sizes", "2000,10000", "comma-separated `account counts` of the generated orgs (~20 activities each), e.g. 10000,100000")
	runs := fs.Int("runs", 3, "runs of each timed scenario; the table shows medians")
	bigRuns := fs.Int("big-runs", 1, "runs of each timed scenario for orgs of 50,000 accounts or more (a single long run is steady)")
	pg := fs.String("postgres", os.Getenv("HEALTHSYNC_TEST_DATABASE_URL"), "Postgres `URL` to measure too (a schema is created and dropped per run); default $HEALTHSYNC_TEST_DATABASE_URL")
	js := fs.Bool("json", false, "print JSON instead of the table")
	jsonFile := fs.String("json-file", "", "also write the JSON to this `file` (for comparing commits)")
	seed := fs.Int64("seed", 7, "generator seed")
	peerOn := fs.Bool("peer", true, "run the jsforce peer (bench/jsforce-pull.mjs, installed with npm ci) on Salesforce orgs; skipped with a reason when node or npm is missing")
	history := fs.Bool("history", false, "generate the org with field history (AccountHistory, OpportunityFieldHistory, HubSpot property history), so the first sync's backfill reads real rows; off keeps the figures comparable with earlier tables")
	fullOnly := fs.Bool("full-only", false, "measure the full sync alone, for profiling (with "+profileEnv+"=dir) or a quick comparison; the other tables print nothing for it")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	o := options{runs: *runs, bigRuns: *bigRuns, postgres: *pg, jsonOut: *js, jsonFile: *jsonFile, seed: *seed, peer: *peerOn, history: *history, fullOnly: *fullOnly}
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 10 {
			return o, fmt.Errorf("-sizes %q: want account counts of at least 10, e.g. 2000,10000", *sizes)
		}
		o.sizes = append(o.sizes, n)
	}
	for _, s := range strings.Split(*crms, ",") {
		switch sys := crm.System(strings.TrimSpace(s)); sys {
		case crm.Salesforce, crm.HubSpot:
			o.crms = append(o.crms, sys)
		default:
			return o, fmt.Errorf("-crm %q: want salesforce, hubspot or both, comma-separated", *crms)
		}
	}
	if o.runs < 1 || o.bigRuns < 1 {
		return o, fmt.Errorf("-runs %d -big-runs %d: want at least 1 of each", o.runs, o.bigRuns)
	}
	return o, nil
}

func run(args []string) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	backends := []string{"sqlite"}
	if o.postgres != "" {
		backends = append(backends, "postgres")
	}
	res := results{Cores: runtime.NumCPU(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, Runs: o.runs, BigRuns: o.bigRuns,
		Command: "go run ./cmd/hsbench " + strings.Join(args, " "), At: time.Now().UTC().Format(time.RFC3339), History: o.history}
	if slices.Contains(o.crms, crm.Salesforce) {
		p := preparePeer(context.Background(), o.peer)
		o.prepared = &p
		if p.skipped != "" {
			fmt.Fprintf(os.Stderr, "hsbench: peer: skipped (%s)\n", p.skipped)
		}
	}
	for _, sys := range o.crms {
		for _, n := range o.sizes {
			for _, be := range backends {
				fmt.Fprintf(os.Stderr, "hsbench: %s, %d accounts on %s...\n", sys, n, be)
				r, err := benchOne(o, sys, n, be)
				if err != nil {
					return fmt.Errorf("%s, %d accounts on %s: %w", sys, n, be, err)
				}
				res.Rows = append(res.Rows, r)
			}
		}
	}
	js, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if o.jsonFile != "" {
		if err := os.WriteFile(o.jsonFile, append(js, '\n'), 0o644); err != nil {
			return fmt.Errorf("write -json-file: %w", err)
		}
	}
	if o.jsonOut {
		_, err := fmt.Printf("%s\n", js)
		return err
	}
	printTable(os.Stdout, res)
	return nil
}

// bench is one org, its emulator and the stores made for it.
type bench struct {
	o       options
	backend string
	dir     string
	clk     *offsetClock // the emulator's clock; children run on its offset
	org     emulated
	rec     *recorder
	base    string
	keyFile string
	encKey  string
	cleanup []func()
}

func benchOne(o options, system crm.System, accounts int, backend string) (row, error) {
	r := row{CRM: string(system), Accounts: accounts, Backend: backend, Runs: o.runs}
	if accounts >= 50_000 {
		o.runs, r.Runs = o.bigRuns, o.bigRuns
	}
	dir, err := os.MkdirTemp("", "hsbench-")
	if err != nil {
		return r, err
	}
	b := &bench{o: o, backend: backend, dir: dir, keyFile: filepath.Join(dir, "jwt.key"), clk: &offsetClock{}}
	defer func() {
		for _, f := range slices.Backward(b.cleanup) {
			f()
		}
		os.RemoveAll(dir)
	}()
	// No field history unless -history: the figures stay comparable with
	// the earlier tables, and the history rows raise the emulated
	// Salesforce org's memory by a third. The backfill still runs (every
	// history object is described and read, HubSpot's batch reads of 50
	// are made), on no rows.
	org, err := gen.Generate(gen.Options{Seed: o.seed, Accounts: accounts, Now: time.Now(), NoHistory: !o.history})
	if err != nil {
		return r, err
	}
	if b.org, err = newEmulated(system, org, b.keyFile, b.clk, o.bulkThreshold); err != nil {
		return r, err
	}
	org = nil
	var k [32]byte
	rand.Read(k[:])
	b.encKey = base64.StdEncoding.EncodeToString(k[:])
	b.rec = &recorder{org: b.org, trace: os.Getenv("HSBENCH_TRACE") == "1"}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return r, err
	}
	srv := &http.Server{Handler: b.rec}
	go srv.Serve(ln)
	b.cleanup = append(b.cleanup, func() { srv.Close() })
	b.base = "http://" + ln.Addr().String()

	m, err := mapping.New(system, nil)
	if err != nil {
		return r, err
	}
	objects := m.Objects()
	live, rows := map[string]int{}, map[string]int{}
	for _, obj := range objects {
		live[obj], rows[obj] = b.org.live(obj), b.org.rows(obj)
	}
	if r.BackfillMin, err = b.org.backfillMinimum(m); err != nil {
		return r, fmt.Errorf("backfill minimum: %w", err)
	}

	// 1. Full sync on fresh stores, then the ceiling on the same queries.
	var full []childResult
	var db string
	for i := range o.runs {
		if db, err = b.freshStore(); err != nil {
			return r, err
		}
		b.rec.capturing.Store(i == 0)
		c, err := b.child(&r, "full sync", childSpec{Scenario: "sync", DatabaseURL: db})
		if err != nil {
			return r, err
		}
		full = append(full, c)
	}
	queries := b.rec.take()
	r.Records, r.FullPerObject, r.Live, r.Rows = full[0].Records, full[0].PerObject, live, rows
	r.FullSeconds, r.FullSpread = spread(full, func(c childResult) float64 { return c.Seconds })
	r.FullCPUSeconds, _ = spread(full, func(c childResult) float64 { return c.CPUSeconds })
	r.FullCalls, r.FullDataCalls = full[0].serverCalls, full[0].serverData
	r.BackfillCalls, r.HistoryChanges = full[0].BackfillCalls, full[0].HistoryChanges
	r.FullMin, r.FullPath = b.org.fullMinimum(objects, live)
	r.FullMin += r.BackfillMin
	if system == crm.HubSpot {
		r.LimitFloorSeconds = limitFloor(full[0].serverCalls, full[0].serverSearch)
	}
	r.FullRate = float64(r.Records) / r.FullSeconds
	if o.fullOnly {
		return r, nil
	}

	var ceil []childResult
	for range o.runs {
		c, err := b.child(&r, "ceiling", childSpec{Scenario: "ceiling", Queries: queries})
		if err != nil {
			return r, err
		}
		ceil = append(ceil, c)
	}
	r.CeilingRecords, r.CeilingHistoryRows, r.CeilingCalls, r.CeilingPerObject = ceil[0].Records, ceil[0].HistoryRows, ceil[0].serverCalls, ceil[0].PerObject
	r.CeilingSeconds, r.CeilingSpread = spread(ceil, func(c childResult) float64 { return c.Seconds })
	r.CeilingRate = float64(r.CeilingRecords) / r.CeilingSeconds
	// The same pages in both: the ratio is of times (the sync counts the
	// records it stored, the ceiling every row, deleted ones included).
	r.Ratio = r.CeilingSeconds / r.FullSeconds

	// The jsforce peer on the same org (Salesforce only).
	if system == crm.Salesforce {
		b.peer(&r)
	}

	// 2. Nothing changed.
	c, err := b.child(&r, "unchanged sync", childSpec{Scenario: "sync", DatabaseURL: db})
	if err != nil {
		return r, err
	}
	// The minimum of an unchanged sync is an incremental one with nothing
	// changed: a read per object, and every page of what has no
	// incremental read (HubSpot's owners, read whole every run).
	r.NoopCalls, r.NoopMin = c.serverCalls, b.org.incrMinimum(map[string]int{}, objects)
	r.NoopRecords = c.Records

	// 3. 1% of every object's records changed: a different 1% each run,
	// each run's last change stamped past the look-back (see mutate), so
	// each sync reads its own round's changes only.
	var incr []childResult
	for i := range o.runs {
		changed, err := b.org.mutate(objects, i, b.clk)
		if err != nil {
			return r, err
		}
		c, err := b.child(&r, "1% changed sync", childSpec{Scenario: "sync", DatabaseURL: db})
		if err != nil {
			return r, err
		}
		incr = append(incr, c)
		n := 0
		for _, k := range changed {
			n += k
		}
		r.IncrRuns = append(r.IncrRuns, incrRun{Changed: n, Synced: c.Records, Calls: c.serverCalls, Seconds: c.Seconds})
		r.Changed = n
		r.IncrMin = b.org.incrMinimum(changed, objects)
	}
	// Per-run medians, each figure its own (with an odd -runs they are
	// the same run's when time, records and calls rank alike).
	var rec, calls float64
	rec, r.IncrRecordsSpread = spread(incr, func(c childResult) float64 { return float64(c.Records) })
	calls, _ = spread(incr, func(c childResult) float64 { return float64(c.serverCalls) })
	r.IncrRecords, r.IncrCalls = int(rec), int64(calls)
	r.IncrSeconds, r.IncrSpread = spread(incr, func(c childResult) float64 { return c.Seconds })
	r.IncrTimeShare = r.IncrSeconds / r.FullSeconds
	r.IncrCallShare = float64(r.IncrCalls) / float64(r.FullCalls)

	// 4. Scoring.
	var sc []childResult
	for range o.runs {
		c, err := b.child(&r, "score", childSpec{Scenario: "score", DatabaseURL: db})
		if err != nil {
			return r, err
		}
		sc = append(sc, c)
	}
	r.ScoreSeconds, r.ScoreSpread = spread(sc, func(c childResult) float64 { return c.Seconds })
	r.ScoreRate = float64(sc[0].Accounts) / r.ScoreSeconds

	// 5. Apply (writes every account's outputs and the flag tasks).
	c, err = b.child(&r, "apply", childSpec{Scenario: "apply", DatabaseURL: db})
	if err != nil {
		return r, err
	}
	if c.Failures > 0 {
		return r, fmt.Errorf("apply: %d records failed", c.Failures)
	}
	r.Updated, r.TasksCreated, r.TasksClosed, r.ApplyWrites = c.Updated, c.TasksCreated, c.TasksClosed, c.WriteCalls
	r.ApplySeconds = c.Seconds
	r.ApplyMin, r.ApplyPath = b.org.applyMinimum(c)
	return r, nil
}

// freshStore returns a new, empty database: a SQLite file, or a Postgres
// schema dropped when the bench ends.
func (b *bench) freshStore() (string, error) {
	if b.backend == "sqlite" {
		d, err := os.MkdirTemp(b.dir, "store-")
		if err != nil {
			return "", err
		}
		return filepath.Join(d, "hs.db"), nil
	}
	admin, err := sql.Open("pgx", b.o.postgres)
	if err != nil {
		return "", fmt.Errorf("postgres: %w", err)
	}
	var s [6]byte
	rand.Read(s[:])
	schema := "hsbench_" + hex.EncodeToString(s[:])
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		admin.Close()
		return "", fmt.Errorf("create schema: %w", err)
	}
	b.cleanup = append(b.cleanup, func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	u, err := url.Parse(b.o.postgres)
	if err != nil {
		return "", fmt.Errorf("postgres URL: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// child runs one scenario in a child process and records its peak RSS
// and the API calls the emulator saw.
func (b *bench) child(r *row, name string, spec childSpec) (childResult, error) {
	spec.CRM, spec.BaseURL, spec.LoginURL, spec.EncKey = string(b.org.system()), b.base, b.base, b.encKey
	spec.ClockOffsetMs, spec.BulkThreshold = b.clk.offset().Milliseconds(), b.o.bulkThreshold
	b.org.credentials(&spec)
	raw, err := json.Marshal(spec)
	if err != nil {
		return childResult{}, err
	}
	self, err := os.Executable()
	if err != nil {
		return childResult{}, err
	}
	// The spec travels in a file: the captured HubSpot requests are far
	// larger than an environment variable may be.
	specFile, err := os.CreateTemp(b.dir, "spec-*.json")
	if err != nil {
		return childResult{}, err
	}
	defer os.Remove(specFile.Name())
	if _, err := specFile.Write(raw); err != nil {
		specFile.Close()
		return childResult{}, err
	}
	if err := specFile.Close(); err != nil {
		return childResult{}, err
	}
	cmd := exec.CommandContext(context.Background(), self)
	cmd.Env = append(os.Environ(), childEnv+"="+specFile.Name())
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	calls, data, search := b.rec.total.Load(), b.rec.data.Load(), b.rec.search.Load()
	if err := cmd.Run(); err != nil {
		return childResult{}, fmt.Errorf("%s: %v\n%s", name, err, errOut.String())
	}
	var c childResult
	if err := json.Unmarshal(out.Bytes(), &c); err != nil {
		return c, fmt.Errorf("%s: read result: %w (%q)", name, err, out.String())
	}
	c.serverCalls, c.serverData, c.serverSearch = b.rec.total.Load()-calls, b.rec.data.Load()-data, b.rec.search.Load()-search
	rss := c.PeakRSSKiB / 1024
	if rss == 0 { // no procfs: rusage, which may include the parent's peak
		rss = cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss / 1024
	}
	if r.RSSMiB == nil {
		r.RSSMiB = map[string]int64{}
	}
	r.RSSMiB[name] = max(r.RSSMiB[name], rss)
	return c, nil
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// spread is the median of f over the runs and its range (min, max).
func spread[T any](cs []T, f func(T) float64) (float64, [2]float64) {
	v := make([]float64, len(cs))
	for i, c := range cs {
		v[i] = f(c)
	}
	return medianOf(v), [2]float64{slices.Min(v), slices.Max(v)}
}

func medianOf(v []float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// peer runs the jsforce peer -runs times, or notes in r why it does not
// run or failed: the peer failing is not the bench failing.
func (b *bench) peer(r *row) {
	p := peer{skipped: "not prepared"}
	if b.o.prepared != nil {
		p = *b.o.prepared
	}
	if p.skipped != "" {
		r.PeerSkipped = p.skipped
		return
	}
	var runs []peerResult
	for range b.o.runs {
		res, err := b.runPeer(context.Background(), p)
		if err != nil {
			r.PeerSkipped = "failed: " + err.Error()
			fmt.Fprintf(os.Stderr, "hsbench: peer: %s\n", r.PeerSkipped)
			return
		}
		runs = append(runs, res)
		if r.RSSMiB == nil {
			r.RSSMiB = map[string]int64{}
		}
		r.RSSMiB["peer"] = max(r.RSSMiB["peer"], res.PeakRSSKiB/1024)
	}
	r.PeerRecords, r.PeerCalls, r.PeerJSforce, r.PeerPerObject = runs[0].Records, runs[0].calls, runs[0].JSforce, runs[0].PerObject
	r.PeerSeconds, r.PeerSpread = spread(runs, func(p peerResult) float64 { return p.Seconds })
	r.PeerCPUSeconds, _ = spread(runs, func(p peerResult) float64 { return p.CPUSeconds })
	r.PeerRate = float64(r.PeerRecords) / r.PeerSeconds
	r.PeerRatio = r.FullRate / r.PeerRate
}
