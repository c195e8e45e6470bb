package hubspot_test

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"reflect"
	"strconv"
	"testing"
	"time"

	"healthsync/connector"
	"healthsync/connector/hubspot"
	"healthsync/crm"
)

var update = flag.Bool("update", false, "rewrite deploy/hubspot/properties.json")

func installDefaults(t *testing.T, c *hubspot.Client, clock crm.Clock) []string {
	t.Helper()
	m := loadDefaults(t)
	created, err := c.Install(context.Background(), m.FieldSpecs())
	if err != nil {
		t.Fatalf("install: %v", err)
	}
	return created
}

func TestUpdateBatchesOf100AndPartialFailures(t *testing.T) {
	t.Parallel()
	b := setup(t, noLimits())
	c := b.open(b.config(), hubspot.Deps{})
	installDefaults(t, c, b.clock)
	var ids []string
	for i := range 250 {
		id, err := b.srv.Create("companies", map[string]string{"name": "Co " + strconv.Itoa(i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	updates := make([]connector.Update, len(ids))
	for i, id := range ids {
		updates[i] = connector.Update{ID: id, Fields: map[string]any{"healthsync_score": float64(i % 100), "healthsync_grade": "green"}}
	}
	calls0 := c.APICalls()
	res, err := c.Update(context.Background(), "companies", updates)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.APICalls() - calls0; got != 3 {
		t.Errorf("250 updates took %d calls, want 3", got)
	}
	for i, r := range res {
		if !r.OK() || r.ID != ids[i] {
			t.Fatalf("result %d: %+v", i, r)
		}
	}
	rec, _ := b.srv.Record("companies", ids[42])
	if rec.Properties["healthsync_score"] != "42" || rec.Properties["healthsync_grade"] != "green" {
		t.Errorf("company %s holds %v", ids[42], rec.Properties)
	}

	// A deleted record (207 OBJECT_NOT_FOUND), an invalid value (HubSpot
	// rejects the whole batch: split until isolated) and an unencodable
	// value (never sent), among valid updates.
	bad := []connector.Update{
		{ID: ids[0], Fields: map[string]any{"healthsync_score": 1}},
		{ID: "99999999", Fields: map[string]any{"healthsync_score": 2}},
		{ID: ids[1], Fields: map[string]any{"healthsync_score": "not a number"}},
		{ID: ids[2], Fields: map[string]any{"healthsync_score": 3}},
		{ID: ids[3], Fields: map[string]any{"healthsync_score": []int{1}}},
		{ID: ids[4], Fields: map[string]any{"healthsync_score": nil}},
	}
	res, err = c.Update(context.Background(), "companies", bad)
	if err != nil {
		t.Fatal(err)
	}
	wantOK := []bool{true, false, false, true, false, true}
	for i, r := range res {
		if r.OK() != wantOK[i] {
			t.Errorf("update %d (%s): ok=%v err=%v", i, bad[i].ID, r.OK(), r.Err)
		}
		if !r.OK() && r.Retryable {
			t.Errorf("update %d: %v marked retryable", i, r.Err)
		}
	}
	if res[1].Err.Code != "OBJECT_NOT_FOUND" || res[2].Err.Code != "VALIDATION_ERROR" || res[4].Err.Code != hubspot.CodeInvalidInput {
		t.Errorf("codes: %v / %v / %v", res[1].Err, res[2].Err, res[4].Err)
	}
	for i, want := range map[int]string{0: "1", 3: "3", 5: ""} {
		rec, _ := b.srv.Record("companies", bad[i].ID)
		if rec.Properties["healthsync_score"] != want {
			t.Errorf("company %s score %q, want %q", bad[i].ID, rec.Properties["healthsync_score"], want)
		}
	}
	rec, _ = b.srv.Record("companies", ids[1])
	if rec.Properties["healthsync_score"] != "1" {
		t.Errorf("rejected update changed company %s: %q", ids[1], rec.Properties["healthsync_score"])
	}
}

func TestTasksCreatedFoundAndClosed(t *testing.T) {
	t.Parallel()
	b := setup(t, noLimits())
	c := b.open(b.config(), hubspot.Deps{Snooze: connector.Snooze{Status: "DEFERRED"}})
	installDefaults(t, c, b.clock)
	company, _ := b.srv.Create("companies", map[string]string{"name": "Acme"})
	contact, _ := b.srv.Create("contacts", map[string]string{"email": "ceo@acme.example"})
	owner := b.srv.Owners()[0].ID
	due := time.Date(2026, 1, 22, 0, 0, 0, 0, time.UTC)
	var tasks []crm.Task
	for i := range 130 {
		tasks = append(tasks, crm.Task{Key: "acme:renewal_exec_gap:" + strconv.Itoa(i), AccountID: crm.AccountID(company),
			ContactID: crm.ContactID(contact), OwnerID: crm.UserID(owner), Subject: "Book an exec meeting",
			Description: "Renewal soon", Priority: crm.PriorityHigh, Due: due})
	}
	tasks = append(tasks, crm.Task{Key: "bad", AccountID: "424242", Subject: "To a company that does not exist", Due: due})
	calls0 := c.APICalls()
	res, err := c.CreateTasks(context.Background(), tasks)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("131 task creations (one invalid) took %d calls", c.APICalls()-calls0)
	for i, r := range res[:130] {
		if !r.OK() || r.ID == "" {
			t.Fatalf("task %d: %+v", i, r)
		}
	}
	if res[130].OK() {
		t.Error("the task associated to a missing company was reported created")
	}
	created := b.srv.CreatedTasks()
	if len(created) != 130 {
		t.Fatalf("portal holds %d created tasks, want 130", len(created))
	}
	first, _ := b.srv.Record("tasks", res[0].ID)
	p := first.Properties
	if p["hs_task_status"] != "NOT_STARTED" || p["hs_task_priority"] != "HIGH" || p["hubspot_owner_id"] != owner ||
		p["healthsync_key"] != tasks[0].Key || p["hs_task_subject"] != "Book an exec meeting" {
		t.Errorf("task properties: %v", p)
	}
	if ts, _ := crm.ParseTime(p["hs_timestamp"]); !ts.Equal(due) {
		t.Errorf("due %s, want %s", p["hs_timestamp"], due)
	}
	for to, want := range map[string]string{"companies": company, "contacts": contact} {
		as, _ := b.srv.Associations("tasks", res[0].ID, to)
		if len(as) != 1 || as[0].ToID != want {
			t.Errorf("task associations to %s: %+v", to, as)
		}
	}

	keys := []string{tasks[0].Key, tasks[129].Key, "no-such-key"}
	refs, err := c.FindTasks(context.Background(), keys)
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 2 || !refs[0].Open || refs[0].SnoozedUntil != nil {
		t.Fatalf("found %+v", refs)
	}
	byKey := map[string]string{}
	for _, r := range refs {
		byKey[r.Key] = r.ID
	}
	if byKey[tasks[0].Key] != res[0].ID || byKey[tasks[129].Key] != res[129].ID {
		t.Errorf("found %v, created %s and %s", byKey, res[0].ID, res[129].ID)
	}

	closed, err := c.CloseTasks(context.Background(), []connector.TaskClose{{ID: res[0].ID}})
	if err != nil || !closed[0].OK() {
		t.Fatalf("close: %v %+v", err, closed)
	}
	if _, err := c.Update(context.Background(), "tasks", []connector.Update{{ID: res[129].ID, Fields: map[string]any{"hs_task_status": "DEFERRED"}}}); err != nil {
		t.Fatal(err)
	}
	refs, _ = c.FindTasks(context.Background(), keys)
	for _, r := range refs {
		switch r.ID {
		case res[0].ID:
			if r.Open || r.Status != "COMPLETED" {
				t.Errorf("closed task: %+v", r)
			}
		case res[129].ID:
			if r.SnoozedUntil == nil {
				t.Errorf("deferred task not seen as snoozed: %+v", r)
			}
		}
	}
}

func TestInstallIsIdempotentAndMatchesDeploy(t *testing.T) {
	t.Parallel()
	b := setup(t, noLimits())
	c := b.open(b.config(), hubspot.Deps{})
	m := loadDefaults(t)
	first := installDefaults(t, c, b.clock)
	if len(first) != len(m.FieldSpecs())+2 {
		t.Errorf("first install created %v, want %d properties and 2 groups", first, len(m.FieldSpecs()))
	}
	if second := installDefaults(t, c, b.clock); len(second) != 0 {
		t.Errorf("second install created %v", second)
	}
	fields, err := c.Describe(context.Background(), "companies")
	if err != nil {
		t.Fatal(err)
	}
	var score *connector.Field
	for i := range fields {
		if fields[i].Name == "healthsync_score" {
			score = &fields[i]
		}
	}
	if score == nil || score.Type != "number" || !score.Custom || !score.Updateable {
		t.Errorf("described healthsync_score: %+v", score)
	}

	defs, err := hubspot.DefinitionsFor(m.FieldSpecs())
	if err != nil {
		t.Fatal(err)
	}
	path := "../../deploy/hubspot/properties.json"
	if *update {
		data, _ := json.MarshalIndent(defs, "", "  ")
		if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s (run go test -run TestInstall -update): %v", path, err)
	}
	var onDisk hubspot.Definitions
	if err := json.Unmarshal(data, &onDisk); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(onDisk, defs) {
		t.Errorf("%s differs from what Install creates from the mapping defaults; run go test ./connector/hubspot -run TestInstall -update", path)
	}
}
