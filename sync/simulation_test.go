package sync_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"healthsync/crm"
	"healthsync/mapping"
	"healthsync/store"
	hsync "healthsync/sync"
)

// TestThirtyDaysOnAnUnchangedOrg runs the worker's cycle (sync, score,
// plan, apply) once a day for 30 simulated days on an org nobody touches:
// the written values must hold still.
//
//   - Only threshold crossings and real moves are written: on no day after
//     the first does the writeback touch more than 10% of day 1's fields
//     (no nightly mass rewrite), and a value moves one way only: an
//     account's grade changes at most once, its flags are only added, its
//     score is rewritten only when it moved beyond the dead band.
//   - Tasks: no owner ever gets more new tasks in a day than the budget,
//     no flag's task is created twice (no flapping), and every later task
//     was warranted on day 1 (waiting for budget) or on its own day (a
//     threshold crossed since).
//   - The mass-change guard never trips; a mapping that swaps the weights
//     trips it at once.
//
// Silence is news: a month without any contact moves accounts down a
// grade and raises flags, and those crossings are written (the test logs
// how many fields each cause wrote).
func TestThirtyDaysOnAnUnchangedOrg(t *testing.T) {
	t.Parallel()
	eachStore(t, testThirtyDays)
}

func testThirtyDays(t *testing.T, storeAt func(testing.TB) store.Config) {
	ctx := context.Background()
	day := 24 * time.Hour
	// The org's history ends 30 days ago; the simulated days run up to now
	// (the emulator keeps the real clock for its own stamps and sessions).
	t0 := crm.Date(time.Now().Add(-30 * day)).Add(9 * time.Hour)
	r := newWBRigAt(t, 120, "", t0, nil, storeAt)
	engine := hsync.NewEngine(hsync.EngineOptions{Store: r.st, Source: r.c, Mapping: r.m, Config: r.cfg})
	budget := r.m.DailyTaskBudget()
	unlimited := exampleWith(t, "daily_budget_per_owner: 5", "daily_budget_per_owner: 0")

	// warranted plans with no budget: every task the day's flags warrant.
	warranted := func(now time.Time) map[string]bool {
		o := r.wbOptions()
		o.Mapping, o.Clock = unlimited, crm.FixedClock(now)
		wb := hsync.NewWriteback(o)
		p, err := wb.Plan(ctx, r.c)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, c := range p.Creates {
			out[string(c.Task.AccountID)+"|"+c.Flag] = true
		}
		return out
	}

	var firstFields, laterFields, laterTasks int
	byCause := map[string]int{}     // field writes after day 1 by what caused them
	grades := map[string][]string{} // account → written grades over the days
	flagCounts := map[string]int{}  // account → number of flags last written
	var firstWarranted map[string]bool
	created := map[string]int{} // account|flag → episodes created
	for d := 0; d < 30; d++ {
		now := t0.Add(time.Duration(d) * day)
		if _, err := engine.Sync(ctx, hsync.SyncOptions{}); err != nil {
			t.Fatalf("day %d: sync: %v", d+1, err)
		}
		if _, err := r.scorer(now).ScoreAll(ctx); err != nil {
			t.Fatalf("day %d: score: %v", d+1, err)
		}
		today := warranted(now)
		if d == 0 {
			firstWarranted = today
		}
		o := r.wbOptions()
		o.Clock = crm.FixedClock(now)
		wb := hsync.NewWriteback(o)
		p, err := wb.Plan(ctx, r.c)
		if err != nil {
			t.Fatalf("day %d: plan: %v", d+1, err)
		}
		if p.Guard != "" {
			t.Fatalf("day %d: the guard tripped on an unchanged org: %s", d+1, p.Guard)
		}
		if d == 0 && p.WaitingTasks() == 0 {
			t.Error("day 1: the budget held no task back, so the test proves nothing about it")
		}
		perOwner := map[crm.UserID]int{}
		for _, c := range p.Creates {
			key := string(c.Task.AccountID) + "|" + c.Flag
			perOwner[c.Task.OwnerID]++
			created[key]++
			if created[key] > 1 {
				t.Errorf("day %d: a second task for %s: the flag flapped", d+1, key)
			}
			if d > 0 && !firstWarranted[key] && !today[key] {
				t.Errorf("day %d: task %s warranted neither on day 1 nor today", d+1, key)
			}
		}
		for owner, n := range perOwner {
			if n > budget {
				t.Errorf("day %d: %d new tasks for owner %s, budget %d", d+1, n, owner, budget)
			}
		}
		if d > 0 {
			for _, u := range p.Updates {
				cause := "score moved beyond the dead band"
				for _, c := range u.Changes {
					switch c.Output {
					case mapping.OutputGrade:
						cause = "grade crossed"
						grades[u.RecordID] = append(grades[u.RecordID], c.New)
						if len(grades[u.RecordID]) > 1 {
							t.Errorf("day %d: %s changed grade twice in a month of silence: %v", d+1, u.Name, grades[u.RecordID])
						}
					case mapping.OutputFlags:
						if cause != "grade crossed" {
							cause = "flags changed"
						}
						n := len(strings.Split(c.New, "; "))
						if c.New == "" || n < flagCounts[u.RecordID] {
							t.Errorf("day %d: %s lost a flag in a month of silence: %q -> %q", d+1, u.Name, deref(c.Old), c.New)
						}
						flagCounts[u.RecordID] = n
					}
				}
				byCause[cause] += len(u.Changes)
			}
		}
		rep, err := wb.Apply(ctx, r.c, p, false)
		if err != nil {
			t.Fatalf("day %d: apply: %v", d+1, err)
		}
		if d == 0 {
			firstFields = rep.Fields
			for _, u := range p.Updates {
				for _, c := range u.Changes {
					if c.Output == mapping.OutputFlags {
						flagCounts[u.RecordID] = len(strings.Split(c.New, "; "))
					}
				}
			}
		} else {
			laterFields += rep.Fields
			laterTasks += rep.TasksCreated
			if rep.Fields*10 > firstFields {
				t.Errorf("day %d wrote %d fields, more than 10%% of day 1's %d: a mass rewrite with nothing changed in the CRM", d+1, rep.Fields, firstFields)
			}
		}
		if d == 0 || d == 29 || rep.Fields > 0 {
			t.Logf("day %2d: %3d fields on %3d records, %2d tasks created, %2d closed, %d waiting, %d kept by the dead band",
				d+1, rep.Fields, rep.Records, rep.TasksCreated, rep.TasksClosed, p.WaitingTasks(), p.Kept)
		}
	}
	newCrossings := 0
	for key := range created {
		if !firstWarranted[key] {
			newCrossings++
		}
	}
	t.Logf("day 1: %d fields; days 2-30: %d fields (%.1f%%), %d tasks, of which %d for thresholds crossed after day 1 (%d warranted on day 1)",
		firstFields, laterFields, 100*float64(laterFields)/float64(firstFields), laterTasks, newCrossings, len(firstWarranted))
	t.Logf("days 2-30 field writes by cause: %v", byCause)
	if firstFields == 0 || laterFields >= firstFields {
		t.Errorf("days 2-30 wrote %d fields, as many as day 1's %d: values do not hold still", laterFields, firstFields)
	}

	// A mapping that swaps the weights is what a broken mapping does: the
	// guard trips at once.
	r.m = exampleWith(t, "    adoption: 25           # usage matters most for this product\n    relationship_depth: 10",
		"    adoption: 0\n    sentiment: 0\n    renewal_risk: 0\n    engagement_recency: 0\n    relationship_breadth: 40\n    relationship_depth: 40\n    executive_engagement: 20")
	now := t0.Add(30 * day)
	if _, err := r.scorer(now).ScoreAll(ctx); err != nil {
		t.Fatal(err)
	}
	o := r.wbOptions()
	o.Clock = crm.FixedClock(now)
	wb := hsync.NewWriteback(o)
	p, err := wb.Plan(ctx, r.c)
	if err != nil {
		t.Fatal(err)
	}
	if p.Guard == "" {
		t.Fatalf("swapped weights: the guard did not trip (%d of %d written scores jump)", p.Changed, p.Written)
	}
	if _, err := wb.Apply(ctx, r.c, p, false); err == nil || !strings.Contains(err.Error(), "mass-change guard") {
		t.Fatalf("apply with swapped weights: %v, want the guard's refusal", err)
	}
	runs, err := r.st.Runs(ctx, "default", 200)
	if err != nil {
		t.Fatal(err)
	}
	refused := false
	for _, run := range runs {
		refused = refused || (run.Kind == "apply" && run.Status == store.RunFailed && strings.Contains(run.StopReason, "mass-change guard"))
	}
	if !refused {
		t.Fatalf("the refused apply is not recorded as a failed run: %+v", runs)
	}
}

// exampleWith is the Salesforce example mapping with one passage replaced.
func exampleWith(t *testing.T, old, new string) *mapping.Mapping {
	t.Helper()
	return wbMapping(t, exampleText(t, old, new))
}

// deref shows an optional written value.
func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
