package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/term"

	"healthsync/crm"
	"healthsync/store"
	hsync "healthsync/sync"
)

// startBudgetRun tells the connector's API budget that a new run starts.
func startBudgetRun(c crmClient) { c.Budget().StartRun() }

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

// worker builds the worker of the connected CRM: a new run of the API
// budget for each piece of work, this process named in the lease. obs
// prints what it does; progress, when not nil, shows each object's pull.
func (a *app) worker(c crmClient, obs hsync.Observer, progress hsync.Progress) *hsync.Worker {
	return hsync.NewWorker(hsync.WorkerOptions{Store: a.store, CRM: c, Mapping: a.mapping, Sync: a.cfg.Sync, Writeback: a.cfg.Writeback,
		Holder: holderID(), StartRun: func() { startBudgetRun(c) }, Observer: obs, Progress: progress, Clock: crm.SystemClock{}, Log: a.log})
}

// cycleObserver prints each stage of a cycle to w as it ends: the sync
// report, the score summary, an empty plan (a plan with writes shows in
// the apply report).
func (a *app) cycleObserver(ctx context.Context, w io.Writer) hsync.Observer {
	return hsync.Observer{
		Synced: func(rep *hsync.Report) { printSyncReport(w, rep) },
		Scored: func(sum hsync.ScoreSummary) { printScoreSummary(w, sum) },
		Planned: func(p *hsync.Plan) {
			if p.Empty() {
				printPlan(w, p, 0, a.ownerNames(ctx))
			}
		},
		Applied: func(rep *hsync.ApplyReport, _ error) { printApplyReport(w, rep) },
	}
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
	if rep.Replanned != "" {
		fmt.Fprintf(w, "Note: %s.\n", rep.Replanned)
	}
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
