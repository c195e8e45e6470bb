package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/term"

	"healthsync/connector"
	"healthsync/connector/hubspot"
	"healthsync/scoring"
	"healthsync/store"
	hsync "healthsync/sync"
)

// startBudgetRun tells the connector's API budget that a new run starts.
func startBudgetRun(c crmClient) {
	switch v := c.(type) {
	case interface{ Budget() *connector.Budget }:
		v.Budget().StartRun()
	case *hubspot.Client:
		v.Stack().Budget().StartRun()
	}
}

// holderID names this process for leases.
func holderID() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s-%d", host, os.Getpid())
}

// progressFor picks a progress display: a redrawn line on a terminal,
// periodic log lines otherwise.
func (a *app) progressFor(e *env) hsync.Progress {
	if f, ok := e.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return newTerminalProgress(e.stderr)
	}
	return newLogProgress(a.log, 10*time.Second)
}

// engine builds the sync engine for a connected CRM.
func (a *app) engine(e *env, c crmClient, progress bool) *hsync.Engine {
	opts := hsync.EngineOptions{Store: a.store, Source: c, Mapping: a.mapping, Config: a.cfg.Sync, Log: a.log.Named("sync")}
	if progress {
		opts.Progress = a.progressFor(e)
	}
	return hsync.NewEngine(opts)
}

// writeback builds the planner/applier.
func (a *app) writeback() *hsync.Writeback {
	return hsync.NewWriteback(hsync.WritebackOptions{Store: a.store, Connection: a.cfg.Sync.Connection, Mapping: a.mapping, Config: a.cfg.Writeback})
}

// scorer builds the scoring pass over the store's accounts.
func (a *app) scorer() *hsync.Scorer {
	return hsync.NewScorer(hsync.ScorerOptions{Store: a.store, Connection: a.cfg.Sync.Connection, Mapping: a.mapping})
}

// withLease runs fn holding the connection's lease. SQLite needs none:
// its process lock already lets only one healthsync use the file, and a
// lease left by a killed process would only delay the next run. Either
// way, runs a dead process left running are marked interrupted first.
func (a *app) withLease(ctx context.Context, fn func(context.Context) error) error {
	if a.store.Backend() == store.SQLite {
		if err := hsync.EndDeadRuns(ctx, a.store, a.cfg.Sync.Connection, time.Now(), a.log); err != nil {
			return err
		}
		return fn(ctx)
	}
	return hsync.NewLease(hsync.LeaseOptions{Store: a.store, Connection: a.cfg.Sync.Connection, Holder: holderID(), Log: a.log}).Do(ctx, fn)
}

// printSyncReport summarises a sync run. A run that failed before it
// stored anything prints nothing: a table of zeros would only hide the
// error that follows it.
func printSyncReport(w io.Writer, rep *hsync.Report) {
	if rep.Status == store.RunFailed && !storedAnything(rep) {
		return
	}
	fmt.Fprintf(w, "%-14s %8s %8s %8s %8s %6s\n", "object", "new", "changed", "deleted", "problems", "pages")
	for _, o := range rep.Objects {
		note := ""
		switch {
		case len(o.Repulled) > 0:
			note = fmt.Sprintf("  (pulled again for new fields %v)", o.Repulled)
		case o.Remapped:
			note = "  (re-mapped from stored records)"
		}
		if o.AlreadyDeleted > 0 {
			note += fmt.Sprintf("  (and %d already deleted in the CRM: nothing to store)", o.AlreadyDeleted)
		}
		fmt.Fprintf(w, "%-14s %8d %8d %8d %8d %6d%s\n", o.Object, o.Counts.New, o.Counts.Changed, o.Counts.Deleted, o.Counts.Problems, o.Counts.Pages, note)
	}
	fmt.Fprintf(w, "API calls: %d. Took %s.\n", rep.APICalls, rep.Duration.Round(time.Millisecond))
	if rep.Problem > 0 {
		fmt.Fprintf(w, "%d records had problems (kept where possible; first examples):\n", rep.Problem)
		for _, p := range rep.Problems[:min(5, len(rep.Problems))] {
			if p.ID == "" { // a record without a readable ID: the error says where it was
				fmt.Fprintf(w, "  %s: %s\n", p.Object, p.Error)
				continue
			}
			fmt.Fprintf(w, "  %s %s: %s\n", p.Object, p.ID, p.Error)
		}
	}
	if rep.Status == store.RunStopped {
		fmt.Fprintf(w, "Stopped early: %s. What was synced is committed; the next run resumes.\n", rep.StopReason)
	}
}

// storedAnything reports whether a sync run committed or re-mapped
// anything.
func storedAnything(rep *hsync.Report) bool {
	for _, o := range rep.Objects {
		if o.Counts != (store.ObjectCounts{}) || o.Remapped || len(o.Repulled) > 0 {
			return true
		}
	}
	return rep.Problem > 0
}

// printApplyReport summarises an apply.
func printApplyReport(w io.Writer, rep *hsync.ApplyReport) {
	fmt.Fprintf(w, "Applied: %d records updated (%d fields), %d tasks created, %d tasks closed, in %d write calls (%d API calls in all).\n",
		rep.Records, rep.Fields, rep.TasksCreated, rep.TasksClosed, rep.WriteCalls, rep.APICalls)
	if rep.TasksFound > 0 {
		fmt.Fprintf(w, "%d tasks created by an interrupted earlier apply were found by key and recorded (no duplicates).\n", rep.TasksFound)
	}
	if rep.TasksAdopted > 0 {
		fmt.Fprintf(w, "%d tasks were already in the CRM under healthsync's keys, written by another healthsync store (or an older install) for this org: recorded, not created again.\n", rep.TasksAdopted)
	}
	if n := len(rep.Failures); n > 0 {
		fmt.Fprintf(w, "%d records or tasks were not written (the ledger does not claim them; the next run retries):\n", n)
		for _, f := range rep.Failures[:min(10, n)] {
			fmt.Fprintf(w, "  %s %s: %s\n", f.Object, f.RecordID, f.Error)
		}
	}
}

// cycle is one sync → score → plan → apply pass.
type cycleResult struct {
	sync  *hsync.Report
	score hsync.ScoreSummary
	plan  *hsync.Plan
	apply *hsync.ApplyReport
}

// runCycle does one worker pass while holding the lease. A plan that
// trips the guard is not applied (and said so) unless force is set.
func (a *app) runCycle(ctx context.Context, e *env, c crmClient, force, progress bool, out io.Writer) (*cycleResult, error) {
	res := &cycleResult{}
	err := a.withLease(ctx, func(ctx context.Context) error {
		startBudgetRun(c)
		rep, err := a.engine(e, c, progress).Sync(ctx, hsync.SyncOptions{})
		res.sync = rep
		if rep != nil && out != nil {
			printSyncReport(out, rep)
		}
		if err != nil {
			return err
		}
		if res.score, err = a.scorer().ScoreAll(ctx); err != nil {
			return err
		}
		if out != nil {
			printScoreSummary(out, res.score)
		}
		wb := a.writeback()
		if res.plan, err = wb.Plan(ctx, c); err != nil {
			return refused(ctx, wb, err)
		}
		if res.plan.Empty() {
			if out != nil {
				printPlan(out, res.plan, 0, a.ownerNames(ctx))
			}
			return nil
		}
		res.apply, err = wb.Apply(ctx, c, res.plan, force)
		if res.apply != nil && out != nil {
			printApplyReport(out, res.apply)
		}
		return err
	})
	return res, err
}

// refused records a plan refused for its output fields as a failed apply
// (the status page and /readyz show it) and returns the refusal.
func refused(ctx context.Context, wb *hsync.Writeback, err error) error {
	if errors.Is(err, hsync.ErrOutputs) {
		if rerr := wb.RecordRefused(ctx, err); rerr != nil {
			return errors.Join(err, rerr)
		}
	}
	return err
}

// gradeCounts is a readable grade distribution.
func gradeCounts(sum hsync.ScoreSummary) string {
	return fmt.Sprintf("green %d, yellow %d, red %d, no score %d", sum.Grades[scoring.GradeGreen], sum.Grades[scoring.GradeYellow],
		sum.Grades[scoring.GradeRed], sum.Live()-sum.Scored)
}

// controlledStop reports whether err is a controlled stop (budget, daily
// limit): the command ends successfully after saying so.
func controlledStop(err error) bool {
	return errors.Is(err, hsync.ErrStopped) && !errors.Is(err, context.Canceled)
}
