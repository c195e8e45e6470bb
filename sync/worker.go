package sync

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"

	"healthsync/crm"
	"healthsync/mapping"
	"healthsync/scoring"
	"healthsync/store"
)

// CRM is a connected CRM: what the worker pulls from and writes to.
type CRM interface {
	Source
	Sink
}

// Worker does the work of one CRM connection: a sync, an apply, the
// sync → score → plan → apply cycle, or that cycle on an interval. Each
// piece of work holds the connection while it runs: its lease on
// Postgres, where several replicas may share the store; on SQLite the
// store's single-process lock already lets only one healthsync use the
// file (and a lease left by a killed process would only delay the next
// run). Either way, runs a dead process left running are marked
// interrupted first. The worker tells its Observer what each stage did as
// it ends. Build it with NewWorker.
type Worker struct {
	store     *store.Store
	crm       CRM
	mapping   *mapping.Mapping
	sync      Config
	writeback WritebackConfig
	holder    string
	startRun  func()
	observer  Observer
	progress  Progress
	clock     crm.Clock
	log       hclog.Logger
}

// WorkerOptions build a Worker: Store, CRM and Mapping are required.
type WorkerOptions struct {
	Store     *store.Store
	CRM       CRM
	Mapping   *mapping.Mapping
	Sync      Config          // the connection and the reconciliation interval
	Writeback WritebackConfig // the mass-change guard
	// Holder names this replica in the connection's lease (on Postgres),
	// unique per replica, e.g. hostname-pid.
	Holder string
	// StartRun, when set, runs at the start of each piece of work, once
	// the connection is held: the CLI starts a run of the connector's API
	// budget there.
	StartRun func()
	// Observer hears what each stage did; default: nobody.
	Observer Observer
	// Progress hears about each object's pull; default: none.
	Progress Progress
	Clock    crm.Clock // default: the system clock
	// Log gets the worker's own lines (a cycle's outcome, the lease, runs
	// found interrupted); the engine logs under the name "sync". Default:
	// discard.
	Log hclog.Logger
}

// Observer hears what a Worker did, each stage as it ends, so the caller
// can print it and feed metrics while the work goes on. Every field may
// be nil.
type Observer struct {
	// Synced gets the report of a sync that ran, also one that failed.
	Synced func(*Report)
	// Scored gets the summary of a scoring pass that succeeded.
	Scored func(ScoreSummary)
	// Planned gets the plan, before it is applied (an empty one is not).
	Planned func(*Plan)
	// Applied gets the report of an apply that ran, and its error.
	Applied func(*ApplyReport, error)
	// Cycled gets what each cycle of Run did and its error, before the
	// worker logs the outcome.
	Cycled func(*CycleResult, error)
}

// CycleResult is what one sync → score → plan → apply cycle did. A stage
// that did not run is nil (Score: zero).
type CycleResult struct {
	Started time.Time
	Sync    *Report
	Score   ScoreSummary
	Plan    *Plan
	Apply   *ApplyReport
}

// RunOptions choose how Run repeats the cycle.
type RunOptions struct {
	// Interval is the time from the end of one cycle to the start of the
	// next.
	Interval time.Duration
	// Once does one cycle and returns its error.
	Once bool
}

// NewWorker returns the worker of o.Sync.Connection.
func NewWorker(o WorkerOptions) *Worker {
	w := &Worker{store: o.Store, crm: o.CRM, mapping: o.Mapping, sync: o.Sync, writeback: o.Writeback, holder: o.Holder,
		startRun: o.StartRun, observer: o.Observer, progress: o.Progress, clock: o.Clock, log: o.Log}
	if w.startRun == nil {
		w.startRun = func() {}
	}
	if w.clock == nil {
		w.clock = crm.SystemClock{}
	}
	if w.log == nil {
		w.log = hclog.NewNullLogger()
	}
	return w
}

// Sync pulls the connection's changes into the store (Engine.Sync)
// holding the connection.
func (w *Worker) Sync(ctx context.Context, opts SyncOptions) (*Report, error) {
	var rep *Report
	err := w.hold(ctx, func(ctx context.Context) error {
		var err error
		rep, err = w.pull(ctx, opts)
		return err
	})
	return rep, err
}

// Apply plans the writeback from the stored scores and applies it,
// holding the connection. A plan refused because the fields it would write
// are not ready (ErrOutputs) is recorded as a failed apply run, so the
// status page and /readyz show it; an empty plan writes nothing and
// records no run. A plan tripping the mass-change guard is refused
// (ErrGuard) unless force is set.
func (w *Worker) Apply(ctx context.Context, force bool) (*Plan, *ApplyReport, error) {
	var (
		p   *Plan
		rep *ApplyReport
	)
	err := w.hold(ctx, func(ctx context.Context) error {
		var err error
		p, rep, err = w.apply(ctx, force)
		return err
	})
	return p, rep, err
}

// Cycle does one sync → score → plan → apply pass holding the connection.
// A failed stage ends the cycle. A plan tripping the guard is not applied.
func (w *Worker) Cycle(ctx context.Context) (*CycleResult, error) {
	res := &CycleResult{Started: w.clock.Now()}
	err := w.hold(ctx, func(ctx context.Context) error {
		var err error
		if res.Sync, err = w.pull(ctx, SyncOptions{}); err != nil {
			return err
		}
		scorer := NewScorer(ScorerOptions{Store: w.store, Connection: w.sync.Connection, Mapping: w.mapping, Clock: w.clock})
		if res.Score, err = scorer.ScoreAll(ctx); err != nil {
			return err
		}
		if w.observer.Scored != nil {
			w.observer.Scored(res.Score)
		}
		res.Plan, res.Apply, err = w.apply(ctx, false)
		return err
	})
	return res, err
}

// Run does the cycle every o.Interval until ctx is done (a signal), which
// ends the cycle at the next page with its work committed and returns
// nil; with o.Once it does one cycle and returns its error. It logs each
// cycle's outcome: done, another replica holding the connection (wait for
// the next turn), a plan refused by the guard or for its fields (an admin
// acts), writes the CRM refused (the next cycle retries them), a
// controlled stop (the next cycle resumes) or a failure; none of them
// ends the loop.
func (w *Worker) Run(ctx context.Context, o RunOptions) error {
	for {
		res, err := w.Cycle(ctx)
		if w.observer.Cycled != nil {
			w.observer.Cycled(res, err)
		}
		var held *LeaseHeldError
		switch {
		case errors.As(err, &held):
			w.log.Info("another replica holds the connection; waiting", "holder", held.Holder)
		case errors.Is(err, context.Canceled):
			w.log.Info("stopped by signal; work so far is committed")
			return nil
		case errors.Is(err, ErrGuard):
			w.log.Error("writeback refused; run `healthsync plan` and `healthsync apply --force` if intended", "reason", err)
		case errors.Is(err, ErrOutputs):
			w.log.Error("writeback refused: the fields healthsync would write are not ready; run `healthsync check`", "reason", err)
		case errors.Is(err, ErrWriteFailed):
			w.log.Error("writeback finished, but the CRM refused some records; the next run retries them", "reason", err)
		case err != nil && ControlledStop(err):
			w.log.Warn("run stopped early; the next run resumes", "reason", err)
		case err != nil:
			w.log.Error("run failed", "error", err)
		default:
			w.log.Info("run done", "api_calls", res.Sync.APICalls, "grades", gradeCounts(res.Score))
		}
		if o.Once {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(o.Interval):
		}
	}
}

// ControlledStop reports whether err is a controlled stop other than a
// signal (the API budget, the CRM's daily limit): what was done is
// committed, the next run resumes, and a command ends successfully after
// saying so.
func ControlledStop(err error) bool {
	return errors.Is(err, ErrStopped) && !errors.Is(err, context.Canceled)
}

// hold runs fn holding the connection, after StartRun.
func (w *Worker) hold(ctx context.Context, fn func(context.Context) error) error {
	work := func(ctx context.Context) error {
		w.startRun()
		return fn(ctx)
	}
	if w.store.Backend() == store.SQLite {
		if err := endDeadRuns(ctx, w.store, w.sync.Connection, w.clock.Now(), w.log); err != nil {
			return err
		}
		return work(ctx)
	}
	lease := NewLease(LeaseOptions{Store: w.store, Connection: w.sync.Connection, Holder: w.holder, Clock: w.clock, Log: w.log})
	return lease.Do(ctx, work)
}

// pull syncs and tells the observer.
func (w *Worker) pull(ctx context.Context, opts SyncOptions) (*Report, error) {
	engine := NewEngine(EngineOptions{Store: w.store, Source: w.crm, Mapping: w.mapping, Config: w.sync, Clock: w.clock,
		Log: w.log.Named("sync"), Progress: w.progress})
	rep, err := engine.Sync(ctx, opts)
	if rep != nil && w.observer.Synced != nil {
		w.observer.Synced(rep)
	}
	return rep, err
}

// apply plans and applies the writeback and tells the observer.
func (w *Worker) apply(ctx context.Context, force bool) (*Plan, *ApplyReport, error) {
	wb := NewWriteback(WritebackOptions{Store: w.store, Connection: w.sync.Connection, Mapping: w.mapping, Config: w.writeback, Clock: w.clock})
	// The plan holds a preview of its updates; apply derives them again
	// as it writes, so a large org's apply does not hold them all.
	p, err := wb.PlanToApply(ctx, w.crm, PreviewUpdates)
	if err != nil {
		if errors.Is(err, ErrOutputs) {
			if rerr := wb.recordRefused(ctx, err); rerr != nil {
				return nil, nil, errors.Join(err, rerr)
			}
		}
		return nil, nil, err
	}
	if w.observer.Planned != nil {
		w.observer.Planned(p)
	}
	if p.Empty() {
		return p, nil, nil
	}
	rep, err := wb.Apply(ctx, w.crm, p, force)
	if rep != nil && w.observer.Applied != nil {
		w.observer.Applied(rep, err)
	}
	return p, rep, err
}

// gradeCounts is a readable grade distribution of the live customers.
func gradeCounts(sum ScoreSummary) string {
	return fmt.Sprintf("green %d, yellow %d, red %d, no score %d", sum.Grades[scoring.GradeGreen], sum.Grades[scoring.GradeYellow],
		sum.Grades[scoring.GradeRed], sum.Live()-sum.Scored)
}
