package salesforce

import (
	"context"
	"strings"
	"testing"
	"time"

	"healthsync/connector"
	"healthsync/crm"
	emu "healthsync/emulator/salesforce"
)

func TestInstallFromAFreshOrgIsIdempotent(t *testing.T) {
	t.Parallel()
	b := setup(t, 2, emu.Options{})
	ctx := context.Background()
	specs := b.m.FieldSpecs()
	created, err := b.c.Install(ctx, specs)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first install:\n%s", strings.Join(created, "\n"))
	// every field, the permission set, a permission per field, the assignment
	if want := 2*len(specs) + 2; len(created) != want {
		t.Errorf("first install did %d things, want %d", len(created), want)
	}
	again, err := b.c.Install(ctx, specs)
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 0 {
		t.Errorf("second install changed %v, want nothing", again)
	}
	// The integration user can now write the fields.
	acc := b.srv.IDs("Account", false)[0]
	res, err := b.c.Update(ctx, "Account", []connector.Update{{ID: acc, Fields: map[string]any{"Health_Score__c": 72, "Health_Grade__c": "green"}}})
	if err != nil || !res[0].OK() {
		t.Fatalf("write installed fields: %v %+v", err, res)
	}
	rec, _ := b.srv.Record("Account", acc)
	if rec["Health_Score__c"] != float64(72) || rec["Health_Grade__c"] != "green" {
		t.Errorf("account = %v", rec)
	}
	// A describe after install names the new fields.
	fields, err := b.c.Describe(ctx, "Task")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range fields {
		if f.Name == "Healthsync_Key__c" && f.Custom && f.Updateable {
			found = true
		}
	}
	if !found {
		t.Error("Task.Healthsync_Key__c not updateable in the describe after install")
	}
}

func TestTasksCreateFindClose(t *testing.T) {
	t.Parallel()
	b := setup(t, 3, emu.Options{})
	ctx := context.Background()
	if _, err := b.c.Install(ctx, b.m.FieldSpecs()); err != nil {
		t.Fatal(err)
	}
	accs := b.srv.IDs("Account", false)
	owner := b.srv.UserID()
	due := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	tasks := []crm.Task{
		{Key: "acc1:single_threaded:1", AccountID: crm.AccountID(accs[0]), OwnerID: crm.UserID(owner), Subject: "Multi-thread it", Description: "Only one contact", Priority: crm.PriorityHigh, Due: due},
		{Key: "acc2:renewal_exec_gap:1", AccountID: crm.AccountID(accs[1]), OwnerID: crm.UserID(owner), Subject: "Exec sponsor", Priority: crm.PriorityLow, Due: due},
	}
	res, err := b.c.CreateTasks(ctx, tasks)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if !r.OK() || r.ID == "" {
			t.Fatalf("task %d: %+v", i, r)
		}
	}
	created := b.srv.CreatedTasks()
	if len(created) != 2 || created[0]["Priority"] != "High" || created[0]["Status"] != "Not Started" || created[0]["WhatId"] != accs[0] || created[0]["Healthsync_Key__c"] != tasks[0].Key {
		t.Fatalf("created tasks = %v", created)
	}
	refs, err := b.c.FindTasks(ctx, []string{tasks[0].Key, tasks[1].Key, "no-such-key", "it's quoted"})
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 2 || !refs[0].Open {
		t.Fatalf("FindTasks = %+v", refs)
	}
	if _, err := b.c.CloseTasks(ctx, []connector.TaskClose{{ID: res[0].ID}}); err != nil {
		t.Fatal(err)
	}
	refs, err = b.c.FindTasks(ctx, []string{tasks[0].Key})
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 1 || refs[0].Open || refs[0].Status != "Completed" {
		t.Fatalf("after close: %+v", refs)
	}
}
