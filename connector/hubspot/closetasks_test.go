package hubspot_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"healthsync/connector"
	"healthsync/connector/hubspot"
	"healthsync/crm"
)

// createTasks creates n healthsync tasks on a new company and returns
// their IDs.
func createTasks(t *testing.T, b *bundle, c *hubspot.Client, n int, body func(i int) string) []string {
	t.Helper()
	company, err := b.srv.Create("companies", map[string]string{"name": "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	tasks := make([]crm.Task, n)
	for i := range tasks {
		tasks[i] = crm.Task{Key: fmt.Sprintf("acc:flag:%d", i), AccountID: crm.AccountID(company),
			Subject: fmt.Sprintf("Book an executive meeting %d", i), Description: body(i), Priority: crm.PriorityHigh}
	}
	res, err := c.CreateTasks(context.Background(), tasks)
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
	b := setup(t, noLimits())
	c := b.open(b.config(), hubspot.Deps{})
	installDefaults(t, c, b.clock)
	ids := createTasks(t, b, c, 2, func(i int) string {
		if i == 0 {
			return "Only one contact engaged in 90 days."
		}
		return ""
	})
	day := crm.Date(b.clock.Now()).Format("2006-01-02")
	note := "the account is a former customer (churned 2025-11-02)"
	calls0, served0 := c.APICalls(), b.srv.APICalls()
	res, err := c.CloseTasks(context.Background(), []connector.TaskClose{{ID: ids[0], Note: note}, {ID: ids[1], Note: "the flag cleared"}})
	if err != nil {
		t.Fatal(err)
	}
	// One batch/read, one batch/update.
	if got, served := c.APICalls()-calls0, b.srv.APICalls()-served0; got != 2 || served != 2 {
		t.Errorf("closing 2 tasks took %d calls (%d served), want 2", got, served)
	}
	for i, r := range res {
		if !r.OK() || r.ID != ids[i] {
			t.Fatalf("close %d: %+v", i, r)
		}
	}
	first, _ := b.srv.Record("tasks", ids[0])
	p := first.Properties
	if p["hs_task_subject"] != "Closed by healthsync: Book an executive meeting 0" {
		t.Errorf("subject = %q", p["hs_task_subject"])
	}
	wantBody := "Closed by healthsync on " + day + ", not by a CSM: " + note + ".\n\nOnly one contact engaged in 90 days."
	if p["hs_task_body"] != wantBody {
		t.Errorf("body = %q, want %q", p["hs_task_body"], wantBody)
	}
	if p["hs_task_status"] != "COMPLETED" {
		t.Errorf("status = %q", p["hs_task_status"])
	}
	second, _ := b.srv.Record("tasks", ids[1])
	if want := "Closed by healthsync on " + day + ", not by a CSM: the flag cleared."; second.Properties["hs_task_body"] != want {
		t.Errorf("body of a task without one = %q, want %q", second.Properties["hs_task_body"], want)
	}

	// Closing again writes nothing and stacks nothing.
	calls0 = c.APICalls()
	res, err = c.CloseTasks(context.Background(), []connector.TaskClose{{ID: ids[0], Note: "another reason"}})
	if err != nil || !res[0].OK() {
		t.Fatalf("second close: %v %+v", err, res)
	}
	if got := c.APICalls() - calls0; got != 1 {
		t.Errorf("closing a closed task again took %d calls, want 1 (the read)", got)
	}
	again, _ := b.srv.Record("tasks", ids[0])
	if again.Properties["hs_task_subject"] != p["hs_task_subject"] || again.Properties["hs_task_body"] != p["hs_task_body"] {
		t.Errorf("second close changed the task: %v", again.Properties)
	}

	// A CSM reopened it: it is closed again, the prefix still once.
	if err := b.srv.Update("tasks", ids[0], map[string]string{"hs_task_status": "IN_PROGRESS"}); err != nil {
		t.Fatal(err)
	}
	if res, err = c.CloseTasks(context.Background(), []connector.TaskClose{{ID: ids[0], Note: note}}); err != nil || !res[0].OK() {
		t.Fatalf("close of a reopened task: %v %+v", err, res)
	}
	again, _ = b.srv.Record("tasks", ids[0])
	if again.Properties["hs_task_status"] != "COMPLETED" || strings.Count(again.Properties["hs_task_subject"], "Closed by healthsync") != 1 ||
		strings.Count(again.Properties["hs_task_body"], "Closed by healthsync") != 1 {
		t.Errorf("reclosed task: %v", again.Properties)
	}
}

func TestCloseTasksCallsPerBatchAndDeletedTasks(t *testing.T) {
	t.Parallel()
	b := setup(t, noLimits())
	c := b.open(b.config(), hubspot.Deps{})
	installDefaults(t, c, b.clock)
	ids := createTasks(t, b, c, 250, func(i int) string { return fmt.Sprintf("evidence %d", i) })
	if err := b.srv.Archive("tasks", ids[7]); err != nil {
		t.Fatal(err)
	}
	closes := make([]connector.TaskClose, len(ids))
	for i, id := range ids {
		closes[i] = connector.TaskClose{ID: id, Note: "the account churned"}
	}
	calls0 := c.APICalls()
	res, err := c.CloseTasks(context.Background(), closes)
	if err != nil {
		t.Fatal(err)
	}
	// 3 batch reads and 3 batch updates of at most 100.
	if got := c.APICalls() - calls0; got != 6 {
		t.Errorf("closing 250 tasks took %d calls, want 6", got)
	}
	for i, r := range res {
		if i == 7 {
			if r.OK() || r.Retryable || r.Err.Code != "OBJECT_NOT_FOUND" {
				t.Errorf("close of an archived task: %+v", r)
			}
			continue
		}
		if !r.OK() {
			t.Fatalf("close %d: %+v", i, r.Err)
		}
		rec, _ := b.srv.Record("tasks", ids[i])
		p := rec.Properties
		if p["hs_task_status"] != "COMPLETED" || !strings.HasPrefix(p["hs_task_subject"], connector.ClosedSubjectPrefix) ||
			!strings.HasSuffix(p["hs_task_body"], fmt.Sprintf("not by a CSM: the account churned.\n\nevidence %d", i)) {
			t.Fatalf("task %d after close: %v", i, p)
		}
	}
}

func TestCloseTasksConfiguredStatus(t *testing.T) {
	t.Parallel()
	b := setup(t, noLimits())
	c := b.open(b.config(), hubspot.Deps{ClosedStatus: "WAITING"})
	installDefaults(t, c, b.clock)
	ids := createTasks(t, b, c, 1, func(int) string { return "" })
	if res, err := c.CloseTasks(context.Background(), []connector.TaskClose{{ID: ids[0]}}); err != nil || !res[0].OK() {
		t.Fatalf("close: %v %+v", err, res)
	}
	rec, _ := b.srv.Record("tasks", ids[0])
	if rec.Properties["hs_task_status"] != "WAITING" {
		t.Errorf("status = %q, want the configured WAITING", rec.Properties["hs_task_status"])
	}
	refs, err := c.FindTasks(context.Background(), []string{"acc:flag:0"})
	if err != nil || len(refs) != 1 || refs[0].Open {
		t.Errorf("FindTasks after a close to WAITING: %v %+v", err, refs)
	}
	if _, err := hubspot.Open(context.Background(), b.config(), hubspot.Deps{ClosedStatus: "DEFERRED", Snooze: connector.Snooze{Status: "DEFERRED"}}); err == nil ||
		!strings.Contains(err.Error(), "snooze") {
		t.Errorf("closed status = snooze status: %v", err)
	}
}
