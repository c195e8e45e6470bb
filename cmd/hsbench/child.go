package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"healthsync/connector"
	"healthsync/connector/hubspot"
	"healthsync/connector/salesforce"
	"healthsync/crm"
	"healthsync/mapping"
	"healthsync/store"
	hsync "healthsync/sync"
)

// childEnv names the file holding the spec of one measured run, for the
// child process.
const childEnv = "HSBENCH_CHILD"

// childSpec is what a child needs to run one scenario.
type childSpec struct {
	Scenario     string   `json:"scenario"` // sync, score, apply, ceiling
	CRM          string   `json:"crm"`      // salesforce or hubspot
	BaseURL      string   `json:"base_url"` // the emulator (HubSpot API host, Salesforce login URL)
	Token        string   `json:"token"`    // HubSpot private-app token
	LoginURL     string   `json:"login_url"`
	ClientID     string   `json:"client_id"`
	ClientSecret string   `json:"client_secret"`
	Username     string   `json:"username"`
	Password     string   `json:"password"`
	KeyFile      string   `json:"key_file"`
	DatabaseURL  string   `json:"database_url"`
	EncKey       string   `json:"enc_key"`
	Queries      []query  `json:"queries,omitempty"` // ceiling only
	Objects      []string `json:"objects,omitempty"`
	// ClockOffsetMs is how far the bench moved the emulator's clock ahead
	// of the system clock; the connector and engine run on the same.
	ClockOffsetMs int64 `json:"clock_offset_ms,omitempty"`
	// BulkThreshold overrides the Salesforce connector's Bulk threshold
	// (tests use a small one to take the Bulk path on a small org).
	BulkThreshold int `json:"bulk_threshold,omitempty"`
}

// childResult is what a child reports on stdout as one JSON document.
type childResult struct {
	Seconds      float64        `json:"seconds"`
	Records      int            `json:"records"` // records synced or fetched
	PerObject    map[string]int `json:"per_object,omitempty"`
	APICalls     int64          `json:"api_calls"` // as the client counted them
	Accounts     int            `json:"accounts,omitempty"`
	Updated      int            `json:"updated,omitempty"`
	TasksCreated int            `json:"tasks_created,omitempty"`
	TasksClosed  int            `json:"tasks_closed,omitempty"`
	WriteCalls   int            `json:"write_calls,omitempty"`
	Failures     int            `json:"failures,omitempty"`
	PeakRSSKiB   int64          `json:"peak_rss_kib"` // VmHWM of the child's own address space
	// CPUSeconds is the user+system CPU time of the measured part.
	CPUSeconds float64 `json:"cpu_seconds,omitempty"`
	// BackfillCalls are the calls of the field-history backfill, as the
	// sync's report counts them; HistoryChanges the changes it stored.
	BackfillCalls  int64 `json:"backfill_calls,omitempty"`
	HistoryChanges int   `json:"history_changes,omitempty"`
	// HistoryRows (ceiling) are the field-history rows (Salesforce) or
	// records read with their history (HubSpot) among the pages.
	HistoryRows int `json:"history_rows,omitempty"`

	serverCalls, serverData, serverSearch int64 // filled in by the parent from the recorder
}

// runChild runs the scenario named in the environment and prints its
// result; the parent reads the child's peak RSS from its rusage.
func runChild(specFile string) error {
	raw, err := os.ReadFile(specFile)
	if err != nil {
		return fmt.Errorf("child spec: %w", err)
	}
	var spec childSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return fmt.Errorf("child spec: %w", err)
	}
	ctx := context.Background()
	stop, err := startProfile(spec)
	if err != nil {
		return err
	}
	var res childResult
	switch spec.Scenario {
	case "ceiling":
		res, err = runCeiling(ctx, spec)
	case "sync", "score", "apply":
		res, err = runEngine(ctx, spec)
	default:
		err = fmt.Errorf("unknown scenario %q", spec.Scenario)
	}
	if perr := stop(); err == nil {
		err = perr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", spec.Scenario, err)
	}
	res.PeakRSSKiB = peakRSS()
	return json.NewEncoder(os.Stdout).Encode(res)
}

// profileEnv names a directory where each child writes, for its run, a
// CPU profile (<crm>-<store>-<scenario>-<pid>.cpu.pprof), the heap profile
// taken when its Go heap was largest (.peakheap.pprof) and its
// allocations (.allocs.pprof): for finding where the time and memory go.
// The figures of a profiled run are not comparable with others.
const profileEnv = "HSBENCH_PROFILE_DIR"

// startProfile starts the CPU profile when profileEnv is set; the
// function it returns stops it and writes the heap profile.
func startProfile(spec childSpec) (func() error, error) {
	dir := os.Getenv(profileEnv)
	if dir == "" {
		return func() error { return nil }, nil
	}
	base := filepath.Join(dir, fmt.Sprintf("%s-%s-%s-%d", spec.CRM, storeKind(spec.DatabaseURL), spec.Scenario, os.Getpid()))
	cpu, err := os.Create(base + ".cpu.pprof")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", profileEnv, err)
	}
	if err := pprof.StartCPUProfile(cpu); err != nil {
		cpu.Close()
		return nil, fmt.Errorf("%s: %w", profileEnv, err)
	}
	done := make(chan struct{})
	peak := make(chan []byte, 1)
	var memo string
	go watchHeap(done, peak, &memo)
	return func() error {
		pprof.StopCPUProfile()
		close(done)
		if err := cpu.Close(); err != nil {
			return err
		}
		if err := os.WriteFile(base+".peakheap.pprof", <-peak, 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(base+".mem.txt", []byte(memo), 0o644); err != nil {
			return err
		}
		allocs, err := os.Create(base + ".allocs.pprof")
		if err != nil {
			return err
		}
		defer allocs.Close()
		return pprof.Lookup("allocs").WriteTo(allocs, 0)
	}, nil
}

// watchHeap keeps the heap profile taken when the Go heap was largest
// (checked every 200 ms) and sends it when done closes, with a line saying
// the Go heap's and the process's memory at that moment.
func watchHeap(done <-chan struct{}, peak chan<- []byte, memo *string) {
	var best uint64
	var prof bytes.Buffer
	var line string
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			*memo = line
			peak <- prof.Bytes()
			return
		case <-tick.C:
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if ms.HeapInuse > best+best/20 {
			best = ms.HeapInuse
			prof.Reset()
			_ = pprof.Lookup("heap").WriteTo(&prof, 0)
			status, _ := os.ReadFile("/proc/self/status")
			var rss []string
			for _, l := range strings.Split(string(status), "\n") {
				if strings.HasPrefix(l, "Rss") || strings.HasPrefix(l, "VmRSS") || strings.HasPrefix(l, "VmHWM") {
					rss = append(rss, strings.Join(strings.Fields(l), " "))
				}
			}
			line = fmt.Sprintf("at the Go heap's peak: in use %d MiB (of %d MiB from the OS, GC goal %d MiB); %s\n",
				ms.HeapInuse>>20, ms.Sys>>20, ms.NextGC>>20, strings.Join(rss, ", "))
		}
	}
}

// storeKind names the store a database URL opens, for profile names.
func storeKind(url string) string {
	if strings.HasPrefix(url, "postgres") {
		return "postgres"
	}
	return "sqlite"
}

// peakRSS reads the high-water mark of this process's resident set from
// /proc/self/status (0 where there is no procfs). The rusage of a child
// is no use here: Go starts children with a vfork-style clone that shares
// the parent's address space until exec, and Linux folds that space's
// peak (the parent's, emulator included) into the child's ru_maxrss.
func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// cpuTime is this process's user+system CPU time in seconds.
func cpuTime() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// crmClient is what a connector offers the bench: a source, a sink and
// the custom-field installer.
type crmClient interface {
	hsync.Source
	hsync.Sink
	Install(ctx context.Context, fields []connector.FieldSpec) ([]string, error)
}

// openCRM connects the real connector to the emulator. The HubSpot client
// is not paced to HubSpot's search limit (the emulator runs without
// limits): the bench measures healthsync's own cost.
func openCRM(ctx context.Context, system crm.System, spec childSpec, st *store.Store, clk crm.Clock) (crmClient, error) {
	switch system {
	case crm.Salesforce:
		sc := salesforce.DefaultConfig()
		sc.LoginURL, sc.ClientID, sc.Username, sc.JWTKeyFile = spec.LoginURL, spec.ClientID, spec.Username, spec.KeyFile
		if spec.BulkThreshold > 0 {
			sc.BulkThreshold = spec.BulkThreshold
		}
		// Describes kept in the store between runs, as the CLI does.
		return salesforce.Open(ctx, sc, salesforce.Deps{Connection: "default", DescribeCache: st.StateCache("default"), Clock: clk})
	case crm.HubSpot:
		hc := hubspot.DefaultConfig()
		hc.BaseURL, hc.Token, hc.SearchRate = spec.BaseURL, spec.Token, 1000
		return hubspot.Open(ctx, hc, hubspot.Deps{Connection: "default", Clock: clk})
	}
	return nil, fmt.Errorf("unknown CRM %q", system)
}

// runEngine runs a sync, a scoring pass or a plan+apply with the real
// connector, engine and store.
func runEngine(ctx context.Context, spec childSpec) (res childResult, err error) {
	st, err := store.Open(ctx, store.Config{DatabaseURL: spec.DatabaseURL, EncryptionKey: spec.EncKey}, store.Options{})
	if err != nil {
		return res, err
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return res, err
	}
	system := crm.System(spec.CRM)
	m, err := mapping.New(system, nil)
	if err != nil {
		return res, err
	}
	clk := &offsetClock{}
	clk.advance(time.Duration(spec.ClockOffsetMs) * time.Millisecond)
	c, err := openCRM(ctx, system, spec, st, clk)
	if err != nil {
		return res, fmt.Errorf("connect: %w", err)
	}
	start, cpu0 := time.Now(), cpuTime()
	defer func() { res.CPUSeconds = cpuTime() - cpu0 }()
	switch spec.Scenario {
	case "sync":
		rep, err := hsync.NewEngine(hsync.EngineOptions{Store: st, Source: c, Mapping: m, Clock: clk,
			Config: hsync.Config{Connection: "default", ReconcileEvery: time.Hour}}).Sync(ctx, hsync.SyncOptions{})
		if err != nil {
			return res, err
		}
		res.Seconds = time.Since(start).Seconds()
		res.APICalls = rep.APICalls
		res.PerObject = map[string]int{}
		for _, o := range rep.Objects {
			n := o.Counts.New + o.Counts.Changed + o.Counts.Deleted
			res.PerObject[o.Object] = n
			res.Records += n
			if o.History != nil {
				res.BackfillCalls += o.History.APICalls
				res.HistoryChanges += o.History.Changes
			}
		}
	case "score":
		sum, err := hsync.NewScorer(hsync.ScorerOptions{Store: st, Connection: "default", Mapping: m}).ScoreAll(ctx)
		if err != nil {
			return res, err
		}
		res.Seconds = time.Since(start).Seconds()
		res.Accounts = sum.Accounts
	case "apply":
		if _, err := c.Install(ctx, m.FieldSpecs()); err != nil {
			return res, fmt.Errorf("install: %w", err)
		}
		w := hsync.NewWriteback(hsync.WritebackOptions{Store: st, Connection: "default", Mapping: m,
			Config: hsync.WritebackConfig{MaxChangeShare: 1, MaxTasks: 1 << 30}})
		start, cpu0 = time.Now(), cpuTime()
		p, err := w.PlanToApply(ctx, c, hsync.PreviewUpdates)
		if err != nil {
			return res, fmt.Errorf("plan: %w", err)
		}
		rep, err := w.Apply(ctx, c, p, true)
		if err != nil {
			return res, fmt.Errorf("apply: %w", err)
		}
		res.Seconds = time.Since(start).Seconds()
		res.Updated, res.TasksCreated, res.TasksClosed = rep.Records, rep.TasksCreated, rep.TasksClosed
		res.WriteCalls, res.APICalls, res.Failures = rep.WriteCalls, rep.APICalls, len(rep.Failures)
	}
	return res, nil
}
