package sync_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	stdsync "sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"healthsync/connector"
	emusalesforce "healthsync/emulator/salesforce"
	"healthsync/mapping"
	"healthsync/store"
	"healthsync/store/storetest"
	hsync "healthsync/sync"
)

// workerRig is an emulated Salesforce org with healthsync's fields
// installed and an empty store, for workers built over them. It keeps
// what their observers heard, their log lines and their StartRun calls.
type workerRig struct {
	*wbRig
	log    lockedBuffer
	starts atomic.Int32
	mu     stdsync.Mutex
	heard  []string
}

func newWorkerRig(t *testing.T, storeAt func(testing.TB) store.Config) *workerRig {
	t.Helper()
	return &workerRig{wbRig: newWBRigAt(t, 40, "", time.Now(), nil, storeAt)}
}

// worker builds a worker of the rig's store and org with mapping m
// (nil: the rig's) and obs beside the rig's own observer.
func (r *workerRig) worker(m *mapping.Mapping, obs hsync.Observer) *hsync.Worker {
	if m == nil {
		m = r.m
	}
	hear := func(what string) {
		r.mu.Lock()
		r.heard = append(r.heard, what)
		r.mu.Unlock()
	}
	both := hsync.Observer{
		Synced:  func(rep *hsync.Report) { hear("synced"); call1(obs.Synced, rep) },
		Scored:  func(sum hsync.ScoreSummary) { hear("scored"); call1(obs.Scored, sum) },
		Planned: func(p *hsync.Plan) { hear("planned"); call1(obs.Planned, p) },
		Applied: func(rep *hsync.ApplyReport, err error) {
			hear("applied")
			if obs.Applied != nil {
				obs.Applied(rep, err)
			}
		},
		Cycled: func(res *hsync.CycleResult, err error) {
			hear("cycled")
			if obs.Cycled != nil {
				obs.Cycled(res, err)
			}
		},
	}
	return hsync.NewWorker(hsync.WorkerOptions{Store: r.st, CRM: r.c, Mapping: m, Sync: r.cfg,
		Writeback: hsync.WritebackConfig{MaxChangeShare: 0.3, MaxTasks: 10000}, Holder: "replica-A",
		StartRun: func() { r.starts.Add(1) }, Observer: both,
		Log: hclog.New(&hclog.LoggerOptions{Output: &r.log, Level: hclog.Info, DisableTime: true})})
}

func call1[T any](fn func(T), v T) {
	if fn != nil {
		fn(v)
	}
}

// takeHeard returns what the observers heard since the last call.
func (r *workerRig) takeHeard() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.heard
	r.heard = nil
	return h
}

// logged fails the test unless the worker's log holds every line in want.
func (r *workerRig) logged(t *testing.T, want ...string) {
	t.Helper()
	got := r.log.String()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("the worker's log lacks %q:\n%s", w, got)
		}
	}
}

// runs returns the connection's recorded runs of kind, newest first.
func (r *workerRig) runs(t *testing.T, kind string) []store.Run {
	t.Helper()
	all, err := r.st.Runs(context.Background(), "default", 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.Run
	for _, run := range all {
		if run.Kind == kind {
			out = append(out, run)
		}
	}
	return out
}

// answerQueries makes the org answer every query with status and an
// error body of code and message.
func (r *workerRig) answerQueries(status int, code, message string) {
	f := func(w http.ResponseWriter, req *http.Request) bool {
		if !strings.Contains(req.URL.Path, "/query") {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `[{"message":%q,"errorCode":%q}]`, message, code)
		return true
	}
	r.fault.Store(&f)
}

// lockedBuffer is a log output the test reads while the worker writes.
type lockedBuffer struct {
	mu  stdsync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestWorkerRunOnce: one cycle syncs, scores, plans and applies, holding
// the connection once (one API budget run), tells the observer each
// stage as it ends and logs the outcome; the next cycle over an
// unchanged org plans nothing and records no apply.
func TestWorkerRunOnce(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, storeAt func(testing.TB) store.Config) {
		ctx := context.Background()
		r := newWorkerRig(t, storeAt)
		var res *hsync.CycleResult
		w := r.worker(nil, hsync.Observer{Cycled: func(got *hsync.CycleResult, _ error) { res = got }})
		if err := w.Run(ctx, hsync.RunOptions{Once: true}); err != nil {
			t.Fatalf("run once: %v", err)
		}
		if got, want := r.takeHeard(), []string{"synced", "scored", "planned", "applied", "cycled"}; !slices.Equal(got, want) {
			t.Errorf("the observer heard %v, want %v", got, want)
		}
		if res == nil || res.Sync == nil || res.Score.Accounts == 0 || res.Plan == nil || res.Plan.Empty() || res.Apply == nil || res.Apply.Records == 0 {
			t.Fatalf("the cycle's result = %+v, want every stage's outcome", res)
		}
		if res.Started.IsZero() {
			t.Error("the cycle's result has no start time")
		}
		if n := r.starts.Load(); n != 1 {
			t.Errorf("StartRun called %d times for one cycle, want 1", n)
		}
		r.logged(t, "run done", "grades=\"green ")
		if s, a := r.runs(t, "sync"), r.runs(t, "apply"); len(s) != 1 || s[0].Status != store.RunOK || len(a) != 1 || a[0].Status != store.RunOK {
			t.Fatalf("runs recorded: sync %+v, apply %+v; want one of each, ok", s, a)
		}

		if err := w.Run(ctx, hsync.RunOptions{Once: true}); err != nil {
			t.Fatalf("second run: %v", err)
		}
		if got, want := r.takeHeard(), []string{"synced", "scored", "planned", "cycled"}; !slices.Equal(got, want) {
			t.Errorf("an unchanged org: the observer heard %v, want %v (nothing applied)", got, want)
		}
		if a := r.runs(t, "apply"); len(a) != 1 {
			t.Errorf("an empty plan recorded an apply run: %d apply runs", len(a))
		}
	})
}

// TestWorkerRunsOnAnIntervalUntilStopped: without Once the cycle repeats
// after the interval until the context ends, which ends Run without an
// error.
func TestWorkerRunsOnAnIntervalUntilStopped(t *testing.T) {
	t.Parallel()
	r := newWorkerRig(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cycles := 0
	w := r.worker(nil, hsync.Observer{Cycled: func(_ *hsync.CycleResult, err error) {
		if err != nil {
			t.Errorf("cycle %d: %v", cycles+1, err)
		}
		if cycles++; cycles == 3 {
			cancel()
		}
	}})
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, hsync.RunOptions{Interval: 10 * time.Millisecond}) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run stopped by its context: %v, want nil", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the worker did not stop within a minute of its context ending")
	}
	if cycles != 3 || r.starts.Load() != 3 {
		t.Errorf("%d cycles and %d budget runs, want 3 of each", cycles, r.starts.Load())
	}
	if n := strings.Count(r.log.String(), "run done"); n != 3 {
		t.Errorf("%d \"run done\" lines for 3 cycles:\n%s", n, r.log.String())
	}
}

// TestWorkerStopsOnSignal: a signal during a cycle ends it at once and
// ends Run without an error, saying the work so far is committed, also
// when Run was to do that one cycle and return its error.
func TestWorkerStopsOnSignal(t *testing.T) {
	t.Parallel()
	r := newWorkerRig(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cycles := 0
	w := r.worker(nil, hsync.Observer{
		Synced: func(*hsync.Report) { cancel() }, // the signal, between sync and score
		Cycled: func(_ *hsync.CycleResult, err error) {
			cycles++
			if !errors.Is(err, context.Canceled) {
				t.Errorf("the cycle ended in %v, want the cancellation", err)
			}
		},
	})
	if err := w.Run(ctx, hsync.RunOptions{Once: true}); err != nil {
		t.Fatalf("run stopped by a signal: %v, want nil", err)
	}
	if cycles != 1 {
		t.Errorf("%d cycles, want 1", cycles)
	}
	if got := r.takeHeard(); slices.Contains(got, "scored") {
		t.Errorf("the observer heard %v: scoring ran after the signal", got)
	}
	r.logged(t, "stopped by signal; work so far is committed")
	if s := r.runs(t, "sync"); len(s) != 1 || s[0].Status != store.RunOK {
		t.Errorf("the sync before the signal was recorded %+v, want ok", s)
	}
}

// TestWorkerRefusals: a plan whose fields are not ready, a plan tripping
// the mass-change guard and writes the CRM refuses are logged as what an
// admin must do, recorded as failed apply runs, and returned by a Run of
// one cycle; an apply forced past the guard writes.
func TestWorkerRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("outputs_not_ready", func(t *testing.T) {
		t.Parallel()
		r := newWorkerRig(t, nil)
		uninstalled := wbMapping(t, "crm: {system: salesforce}\noutputs:\n  score: Not_Installed_Score__c\n")
		err := r.worker(uninstalled, hsync.Observer{}).Run(ctx, hsync.RunOptions{Once: true})
		if !errors.Is(err, hsync.ErrOutputs) {
			t.Fatalf("run with an output field not installed: %v, want ErrOutputs", err)
		}
		if got, want := r.takeHeard(), []string{"synced", "scored", "cycled"}; !slices.Equal(got, want) {
			t.Errorf("the observer heard %v, want %v (no plan)", got, want)
		}
		r.logged(t, "writeback refused: the fields healthsync would write are not ready; run `healthsync check`", "Not_Installed_Score__c")
		if a := r.runs(t, "apply"); len(a) != 1 || a[0].Status != store.RunFailed || !strings.Contains(a[0].StopReason, "Not_Installed_Score__c") {
			t.Errorf("apply runs %+v, want one failed naming the missing field", a)
		}
		if n := len(r.em.CreatedTasks()); n != 0 {
			t.Errorf("%d tasks created although the writeback was refused", n)
		}
	})

	t.Run("guard", func(t *testing.T) {
		t.Parallel()
		r := newWorkerRig(t, nil)
		if err := r.worker(nil, hsync.Observer{}).Run(ctx, hsync.RunOptions{Once: true}); err != nil {
			t.Fatal(err)
		}
		// A broken mapping: everything weighs on one measure.
		broken := wbMapping(t, "crm: {system: salesforce}\nscoring:\n  weights: {relationship_breadth: 0, relationship_depth: 0, engagement_recency: 0, executive_engagement: 0, adoption: 0, sentiment: 0, renewal_risk: 1}\n  min_measures: 1\n")
		r.takeHeard()
		var refusal error
		w := r.worker(broken, hsync.Observer{Applied: func(_ *hsync.ApplyReport, err error) { refusal = err }})
		if err := w.Run(ctx, hsync.RunOptions{Once: true}); !errors.Is(err, hsync.ErrGuard) {
			t.Fatalf("run with a broken mapping: %v, want ErrGuard", err)
		}
		if !errors.Is(refusal, hsync.ErrGuard) {
			t.Errorf("the observer heard the apply end in %v, want ErrGuard", refusal)
		}
		r.logged(t, "writeback refused; run `healthsync plan` and `healthsync apply --force` if intended")
		if a := r.runs(t, "apply"); len(a) != 2 || a[0].Status != store.RunFailed || !strings.Contains(a[0].StopReason, "mass-change guard") {
			t.Errorf("apply runs %+v, want the refused one failed, naming the guard", a)
		}
		p, rep, err := w.Apply(ctx, true)
		if err != nil || p == nil || p.Guard == "" || rep == nil || rep.Records == 0 {
			t.Fatalf("apply --force: plan %+v, report %+v, %v; want the guarded plan written", p, rep, err)
		}
	})

	t.Run("writes_refused", func(t *testing.T) {
		t.Parallel()
		r := newWorkerRig(t, nil)
		r.em.SetFaults(emusalesforce.Faults{LockRow: 1})
		err := r.worker(nil, hsync.Observer{}).Run(ctx, hsync.RunOptions{Once: true})
		if !errors.Is(err, hsync.ErrWriteFailed) {
			t.Fatalf("run against an org refusing every write: %v, want ErrWriteFailed", err)
		}
		r.logged(t, "writeback finished, but the CRM refused some records; the next run retries them")
		if a := r.runs(t, "apply"); len(a) != 1 || a[0].Status != store.RunFailed {
			t.Errorf("apply runs %+v, want one failed", a)
		}
	})
}

// TestWorkerStopsAndFailures: a controlled stop (the CRM's daily limit)
// is logged as a stop the next run resumes from, any other error as a
// failure; both leave the loop running, and a Run of one cycle returns
// them.
func TestWorkerStopsAndFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tt := range []struct {
		name          string
		status        int
		code, message string
		is            error
		status0       string
		logged        string
	}{
		{name: "daily_limit", status: http.StatusForbidden, code: "REQUEST_LIMIT_EXCEEDED", message: "TotalRequests Limit exceeded.",
			is: connector.ErrDailyLimit, status0: store.RunStopped, logged: "[WARN]  run stopped early; the next run resumes"},
		{name: "failure", status: http.StatusBadRequest, code: "MALFORMED_QUERY", message: "the org broke",
			status0: store.RunFailed, logged: "[ERROR] run failed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newWorkerRig(t, nil)
			r.answerQueries(tt.status, tt.code, tt.message)
			err := r.worker(nil, hsync.Observer{}).Run(ctx, hsync.RunOptions{Once: true})
			if err == nil || (tt.is != nil && !errors.Is(err, tt.is)) || hsync.ControlledStop(err) != (tt.status0 == store.RunStopped) {
				t.Fatalf("run: %v", err)
			}
			r.logged(t, tt.logged, tt.message)
			if s := r.runs(t, "sync"); len(s) != 1 || s[0].Status != tt.status0 {
				t.Errorf("sync runs %+v, want one %s", s, tt.status0)
			}
			if a := r.runs(t, "apply"); len(a) != 0 {
				t.Errorf("an apply ran after the sync ended in %v", err)
			}
		})
	}
}

// TestWorkerLeaseHeldByAnotherReplica: on Postgres, while another replica
// holds the connection's lease the worker does nothing (no budget run, no
// run recorded) and logs that it waits; it takes over once the lease is
// free.
func TestWorkerLeaseHeldByAnotherReplica(t *testing.T) {
	t.Parallel()
	if os.Getenv(storetest.PostgresURLVar) == "" {
		t.Skip("leases are for Postgres; HEALTHSYNC_TEST_DATABASE_URL not set")
	}
	ctx := context.Background()
	r := newWorkerRig(t, storetest.PostgresConfig)
	if ok, err := r.st.AcquireLease(ctx, "default", "replica-B", time.Minute); err != nil || !ok {
		t.Fatalf("replica B takes the lease: %v %v", ok, err)
	}
	err := r.worker(nil, hsync.Observer{}).Run(ctx, hsync.RunOptions{Once: true})
	var held *hsync.LeaseHeldError
	if !errors.As(err, &held) || held.Holder != "replica-B" {
		t.Fatalf("run beside B's lease: %v, want a LeaseHeldError naming replica-B", err)
	}
	if n := r.starts.Load(); n != 0 {
		t.Errorf("StartRun called %d times without the lease", n)
	}
	if runs, _ := r.st.Runs(ctx, "default", 10); len(runs) != 0 {
		t.Errorf("runs recorded without the lease: %+v", runs)
	}
	r.logged(t, "another replica holds the connection; waiting: holder=replica-B")

	// The loop goes on waiting; once B lets go, A works.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var outcomes []error
	w := r.worker(nil, hsync.Observer{Cycled: func(_ *hsync.CycleResult, err error) {
		outcomes = append(outcomes, err)
		if err != nil {
			if rerr := r.st.ReleaseLease(ctx, "default", "replica-B"); rerr != nil {
				t.Error(rerr)
			}
			return
		}
		cancel()
	}})
	if err := w.Run(ctx, hsync.RunOptions{Interval: 10 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if len(outcomes) != 2 || !errors.As(outcomes[0], &held) || outcomes[1] != nil {
		t.Fatalf("cycles ended in %v, want the lease held, then done", outcomes)
	}
}

// TestWorkerEndsDeadRunsFirst: a run a killed process left running is
// marked interrupted, and logged, before the worker's own work starts
// (on SQLite without a lease, on Postgres once the lease is taken).
func TestWorkerEndsDeadRunsFirst(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, storeAt func(testing.TB) store.Config) {
		ctx := context.Background()
		r := newWorkerRig(t, storeAt)
		dead, err := r.st.StartRun(ctx, "default", "sync", time.Now().Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.worker(nil, hsync.Observer{}).Sync(ctx, hsync.SyncOptions{}); err != nil {
			t.Fatal(err)
		}
		s := r.runs(t, "sync")
		if len(s) != 2 || s[1].ID != dead || s[1].Status != store.RunInterrupted || s[0].Status != store.RunOK {
			t.Fatalf("sync runs %+v, want the dead one interrupted and the new one ok", s)
		}
		r.logged(t, "a run left running by a process that ended without recording its end is marked interrupted")
		if got, want := r.takeHeard(), []string{"synced"}; !slices.Equal(got, want) {
			t.Errorf("a sync: the observer heard %v, want %v", got, want)
		}
	})
}

func TestControlledStop(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("%w: API budget for this run used up: %w", hsync.ErrStopped, connector.ErrBudgetExhausted), true},
		{fmt.Errorf("%w: the CRM's daily API limit is reached: %w", hsync.ErrStopped, connector.ErrDailyLimit), true},
		{fmt.Errorf("%w: interrupted: %w", hsync.ErrStopped, context.Canceled), false}, // a signal
		{connector.ErrBudgetExhausted, false}, // not (yet) classified by a run
		{errors.New("boom"), false},
		{nil, false},
	} {
		if got := hsync.ControlledStop(tt.err); got != tt.want {
			t.Errorf("ControlledStop(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
