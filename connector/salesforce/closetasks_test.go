package salesforce

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"healthsync/connector"
	"healthsync/crm"
	emu "healthsync/emulator/salesforce"
)

// createTasks creates n healthsync tasks on the org's first account and
// returns their IDs.
func createTasks(t *testing.T, b *bundle, n int, describe func(i int) string) []string {
	t.Helper()
	acc := b.srv.IDs("Account", false)[0]
	tasks := make([]crm.Task, n)
	for i := range tasks {
		tasks[i] = crm.Task{Key: fmt.Sprintf("acc:flag:%d", i), AccountID: crm.AccountID(acc), OwnerID: crm.UserID(b.srv.UserID()),
			Subject: fmt.Sprintf("Book an executive meeting %d", i), Description: describe(i), Priority: crm.PriorityHigh}
	}
	res, err := b.c.CreateTasks(context.Background(), tasks)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, n)
	for i, r := range res {
		if !r.OK() {
			t.Fatalf("create task %d: %+v", i, r)
		}
		ids[i] = r.ID
	}
	return ids
}

func TestCloseTasksMarksThemClosedByHealthsync(t *testing.T) {
	t.Parallel()
	b := setup(t, 1, emu.Options{})
	ctx := context.Background()
	if _, err := b.c.Install(ctx, b.m.FieldSpecs()); err != nil {
		t.Fatal(err)
	}
	ids := createTasks(t, b, 2, func(i int) string {
		if i == 0 {
			return "Only one contact engaged in 90 days."
		}
		return ""
	})
	day := crm.Date(b.clock.Now()).Format("2006-01-02")
	note := "the account is a former customer (churned 2025-11-02)"

	calls0, served0 := b.c.APICalls(), b.srv.APICalls()
	res, err := b.c.CloseTasks(ctx, []connector.TaskClose{{ID: ids[0], Note: note}, {ID: ids[1], Note: "the flag cleared."}})
	if err != nil {
		t.Fatal(err)
	}
	// One SOQL query for the current values, one composite update.
	if got, served := b.c.APICalls()-calls0, b.srv.APICalls()-served0; got != 2 || served != 2 {
		t.Errorf("closing 2 tasks took %d calls (%d served), want 2", got, served)
	}
	for i, r := range res {
		if !r.OK() || r.ID != ids[i] {
			t.Fatalf("close %d: %+v", i, r)
		}
	}
	first, _ := b.srv.Record("Task", ids[0])
	if first["Subject"] != "Closed by healthsync: Book an executive meeting 0" {
		t.Errorf("subject = %q", first["Subject"])
	}
	wantDesc := "Closed by healthsync on " + day + ", not by a CSM: " + note + ".\n\nOnly one contact engaged in 90 days."
	if first["Description"] != wantDesc {
		t.Errorf("description = %q, want %q", first["Description"], wantDesc)
	}
	if first["Status"] != "Completed" || first["IsClosed"] != true {
		t.Errorf("status %v, closed %v", first["Status"], first["IsClosed"])
	}
	second, _ := b.srv.Record("Task", ids[1])
	if want := "Closed by healthsync on " + day + ", not by a CSM: the flag cleared."; second["Description"] != want {
		t.Errorf("description of a task without one = %q, want %q", second["Description"], want)
	}

	// Closing again (a retried apply) marks nothing twice and writes nothing.
	calls0 = b.c.APICalls()
	res, err = b.c.CloseTasks(ctx, []connector.TaskClose{{ID: ids[0], Note: "another reason"}})
	if err != nil || !res[0].OK() {
		t.Fatalf("second close: %v %+v", err, res)
	}
	if got := b.c.APICalls() - calls0; got != 1 {
		t.Errorf("closing a closed task again took %d calls, want 1 (the read)", got)
	}
	again, _ := b.srv.Record("Task", ids[0])
	if again["Subject"] != first["Subject"] || again["Description"] != first["Description"] {
		t.Errorf("second close changed the task: %q / %q", again["Subject"], again["Description"])
	}

	// A CSM reopened it: closing it once more sets the status, still
	// without stacking the prefix.
	if err := b.srv.SetField("Task", ids[0], "Status", "In Progress"); err != nil {
		t.Fatal(err)
	}
	if res, err = b.c.CloseTasks(ctx, []connector.TaskClose{{ID: ids[0], Note: note}}); err != nil || !res[0].OK() {
		t.Fatalf("close of a reopened task: %v %+v", err, res)
	}
	again, _ = b.srv.Record("Task", ids[0])
	if again["Status"] != "Completed" || strings.Count(again["Subject"].(string), "Closed by healthsync") != 1 ||
		strings.Count(again["Description"].(string), "Closed by healthsync") != 1 {
		t.Errorf("reclosed task: %v", again)
	}
}

func TestCloseTasksCallsPerBatchAndDeletedTasks(t *testing.T) {
	t.Parallel()
	b := setup(t, 1, emu.Options{})
	ctx := context.Background()
	if _, err := b.c.Install(ctx, b.m.FieldSpecs()); err != nil {
		t.Fatal(err)
	}
	ids := createTasks(t, b, 450, func(i int) string { return fmt.Sprintf("evidence %d", i) })
	if err := b.srv.Delete("Task", ids[7]); err != nil {
		t.Fatal(err)
	}
	closes := make([]connector.TaskClose, len(ids))
	for i, id := range ids {
		closes[i] = connector.TaskClose{ID: id, Note: "the account churned"}
	}
	closes[3].ID = ids[3][:15] // the 15-character form names the same task
	calls0 := b.c.APICalls()
	res, err := b.c.CloseTasks(ctx, closes)
	if err != nil {
		t.Fatal(err)
	}
	// 3 queries of at most 200 IDs, 3 composite updates of at most 200.
	if got := b.c.APICalls() - calls0; got != 6 {
		t.Errorf("closing 450 tasks took %d calls, want 6", got)
	}
	for i, r := range res {
		if i == 7 {
			if r.OK() || r.Retryable || r.Err.Code != "ENTITY_IS_DELETED" {
				t.Errorf("close of a deleted task: %+v", r)
			}
			continue
		}
		if !r.OK() {
			t.Fatalf("close %d: %+v", i, r.Err)
		}
		rec, _ := b.srv.Record("Task", ids[i])
		if rec["Status"] != "Completed" || !strings.HasPrefix(rec["Subject"].(string), connector.ClosedSubjectPrefix) ||
			!strings.HasSuffix(rec["Description"].(string), fmt.Sprintf("not by a CSM: the account churned.\n\nevidence %d", i)) {
			t.Fatalf("task %d after close: %v", i, rec)
		}
	}
}

func TestCloseTasksConfiguredStatus(t *testing.T) {
	t.Parallel()
	b := setup(t, 1, emu.Options{})
	ctx := context.Background()
	b.deps.ClosedStatus = "Deferred"
	c := b.open(b.cfg)
	if _, err := c.Install(ctx, b.m.FieldSpecs()); err != nil {
		t.Fatal(err)
	}
	b.c = c
	ids := createTasks(t, b, 1, func(int) string { return "" })
	if res, err := c.CloseTasks(ctx, []connector.TaskClose{{ID: ids[0], Note: "the flag cleared"}}); err != nil || !res[0].OK() {
		t.Fatalf("close: %v %+v", err, res)
	}
	rec, _ := b.srv.Record("Task", ids[0])
	if rec["Status"] != "Deferred" {
		t.Errorf("status = %v, want the configured Deferred", rec["Status"])
	}
	// The org does not count Deferred as closed, healthsync does: the task
	// is not open to it.
	refs, err := c.FindTasks(ctx, []string{"acc:flag:0"})
	if err != nil || len(refs) != 1 || refs[0].Open {
		t.Errorf("FindTasks after a close to Deferred: %v %+v", err, refs)
	}

	// The closed status cannot be the snooze status.
	b.deps.Snooze = connector.Snooze{Status: "deferred"}
	if _, err := Open(ctx, b.cfg, b.deps); err == nil || !strings.Contains(err.Error(), "snooze") {
		t.Errorf("closed status = snooze status: %v", err)
	}
}
