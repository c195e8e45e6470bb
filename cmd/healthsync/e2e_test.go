package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"healthsync/crm"
	"healthsync/emulator/gen"
	emuhubspot "healthsync/emulator/hubspot"
	emusalesforce "healthsync/emulator/salesforce"
	"healthsync/mapping"
)

// buildBinary compiles the real healthsync binary once per test.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "healthsync")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// runBinary runs the binary with env and returns stdout, failing on a
// non-zero exit.
func runBinary(t *testing.T, bin string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("healthsync %v: %v\nstdout:\n%s\nstderr:\n%s", args, err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

func e2eOrg(t *testing.T) *gen.Org {
	org, err := gen.Generate(gen.Options{Seed: 11, Accounts: 40, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return org
}

// salesforceEnv serves an emulated org with the e2e data and returns it with
// the environment (emulator credentials, a fresh SQLite file, the example
// mapping) that points the binary at it.
func salesforceEnv(t *testing.T) (*emusalesforce.Server, []string, string) {
	t.Helper()
	em := emusalesforce.New(emusalesforce.Options{KeyFile: filepath.Join(t.TempDir(), "jwt.key")})
	if err := em.LoadOrg(e2eOrg(t)); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(em)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	mapFile := filepath.Join(dir, "healthsync.yaml")
	if err := os.WriteFile(mapFile, mapping.Example(crm.Salesforce), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(em.EnvLines(srv.URL), "HEALTHSYNC_DATABASE_URL="+filepath.Join(dir, "hs.db"), "HEALTHSYNC_MAPPING_FILE="+mapFile)
	return em, env, mapFile
}

// TestEndToEndSalesforce runs the binary as an admin would (install,
// sync, score, plan, apply, apply again) against the emulated org and
// checks the org's final state: output fields written on every scored
// account, one task per flag episode, nothing else changed.
func TestEndToEndSalesforce(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	em, env, mapFile := salesforceEnv(t)

	before := map[string]map[string]any{}
	for _, id := range em.IDs("Account", false) {
		rec, _ := em.Record("Account", id)
		before[id] = rec
	}
	runBinary(t, bin, env, "install")
	if out := runBinary(t, bin, env, "install"); !strings.Contains(out, "nothing was changed") {
		t.Fatalf("second install changed something:\n%s", out)
	}
	runBinary(t, bin, env, "check")
	runBinary(t, bin, env, "sync")
	runBinary(t, bin, env, "score")
	// A past day from the backfilled field history: the summary and one
	// line per scored live customer, nothing stored.
	day := time.Now().AddDate(0, -2, 0).Format(time.DateOnly)
	past := runBinary(t, bin, env, "score", "--as-of", day)
	if !strings.Contains(past, "As of the end of "+day+", from the field history (nothing stored)") || !strings.Contains(past, "ACCOUNT") || !strings.Contains(past, "Live customers by grade") {
		t.Fatalf("score --as-of %s:\n%s", day, past)
	}
	lines := strings.Split(strings.TrimSpace(runBinary(t, bin, env, "score", "--as-of", day, "--json")), "\n")
	var first struct {
		AccountID string   `json:"account_id"`
		Grade     string   `json:"grade"`
		Reasons   []string `json:"reasons"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil || first.AccountID == "" || len(lines) != len(before) {
		t.Fatalf("score --as-of --json: %d lines for %d accounts, first %q (%v)", len(lines), len(before), lines[0], err)
	}
	plan := runBinary(t, bin, env, "plan")
	if !strings.Contains(plan, "Plan: update 40 Account records") {
		t.Fatalf("plan:\n%s", plan)
	}
	out := runBinary(t, bin, env, "apply")
	if !strings.Contains(out, "Applied: 40 records updated") {
		t.Fatalf("apply:\n%s", out)
	}
	runBinary(t, bin, env, "sync")
	runBinary(t, bin, env, "score")
	if out := runBinary(t, bin, env, "apply"); !strings.Contains(out, "No changes") {
		t.Fatalf("second apply was not empty:\n%s", out)
	}

	m, err := mapping.Load(mapFile, mapping.Options{})
	if err != nil {
		t.Fatal(err)
	}
	allowed := m.AllowedOutputs("Account")
	// Day counters are formula fields the CRM computes; healthsync never
	// writes them, but their values appear once their date is written.
	computed := map[string]bool{}
	for _, c := range m.Counters() {
		computed[c.Field] = true
	}
	bands := m.Config().Scoring.Grades
	for id, old := range before {
		now, _ := em.Record("Account", id)
		score, _ := now["Health_Score__c"].(float64)
		switch {
		case now["Churned__c"] == true:
			// A former customer: no score, no grade, and a reason saying so.
			if now["Health_Grade__c"] != nil || now["Health_Score__c"] != nil || !strings.Contains(fmt.Sprint(now["Health_Reasons__c"]), "former customer") {
				t.Errorf("former customer %s: score %v grade %v reasons %v", id, now["Health_Score__c"], now["Health_Grade__c"], now["Health_Reasons__c"])
			}
		case now["Health_Grade__c"] == nil || now["Health_Score__c"] == nil:
			t.Errorf("live account %s: no score or grade written: %v %v", id, now["Health_Score__c"], now["Health_Grade__c"])
		case string(bands.Grade(score)) != now["Health_Grade__c"] || score != math.Round(score):
			t.Errorf("account %s: written grade %v disagrees with the written score %v", id, now["Health_Grade__c"], score)
		}
		for k, v := range now {
			if allowed[k] || computed[k] || k == "SystemModstamp" || k == "LastModifiedDate" || k == "LastModifiedById" {
				continue
			}
			if !reflect.DeepEqual(old[k], v) {
				t.Errorf("account %s: field %s changed from %v to %v, and healthsync may not write it", id, k, old[k], v)
			}
		}
	}
	tasks := em.CreatedTasks()
	if len(tasks) == 0 {
		t.Fatal("no tasks created")
	}
	keys := map[any]bool{}
	for _, task := range tasks {
		k := task["Healthsync_Key__c"]
		if k == nil || keys[k] {
			t.Fatalf("task without key or duplicated: %v", task)
		}
		keys[k] = true
		if task["OwnerId"] == nil || task["WhatId"] == nil {
			t.Fatalf("task not assigned to an owner and account: %v", task)
		}
	}
}

// TestEndToEndHubSpot is the same journey against the emulated portal.
func TestEndToEndHubSpot(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	em := emuhubspot.New(emuhubspot.Options{RateLimits: emuhubspot.RateLimits{Disabled: true}})
	if _, err := em.LoadOrg(e2eOrg(t)); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(em)
	defer srv.Close()
	dir := t.TempDir()
	mapFile := filepath.Join(dir, "healthsync.yaml")
	os.WriteFile(mapFile, mapping.Example(crm.HubSpot), 0o600)
	env := append(em.EnvLines(srv.URL), "HEALTHSYNC_DATABASE_URL="+filepath.Join(dir, "hs.db"), "HEALTHSYNC_MAPPING_FILE="+mapFile,
		"HEALTHSYNC_HUBSPOT_SEARCH_RATE=1000")
	companies, _ := em.Records("companies")
	before := map[string]map[string]string{}
	for _, c := range companies {
		before[c.ID] = c.Properties
	}
	runBinary(t, bin, env, "install")
	runBinary(t, bin, env, "check")
	runBinary(t, bin, env, "sync")
	runBinary(t, bin, env, "score")
	if out := runBinary(t, bin, env, "apply"); !strings.Contains(out, "Applied: 40 records updated") {
		t.Fatalf("apply:\n%s", out)
	}
	runBinary(t, bin, env, "sync")
	runBinary(t, bin, env, "score")
	if out := runBinary(t, bin, env, "apply"); !strings.Contains(out, "No changes") {
		t.Fatalf("second apply was not empty:\n%s", out)
	}
	// Deals reach the report through their company (read from the
	// associations: HubSpot's search returns none): the past year's
	// renewals are counted.
	var kpis struct {
		RenewalsDue int `json:"renewals_due"`
		RenewalsWon int `json:"renewals_won"`
	}
	out := runBinary(t, bin, env, "report", "--period", "year", "--json")
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &kpis); err != nil {
		t.Fatalf("report --json: %v\n%s", err, out)
	}
	if kpis.RenewalsDue == 0 || kpis.RenewalsWon == 0 || kpis.RenewalsWon > kpis.RenewalsDue {
		t.Errorf("report over the past year: %d renewals due, %d won; the generated portal renews every year", kpis.RenewalsDue, kpis.RenewalsWon)
	}
	m, err := mapping.Load(mapFile, mapping.Options{})
	if err != nil {
		t.Fatal(err)
	}
	allowed := m.AllowedOutputs("companies")
	after, _ := em.Records("companies")
	for _, c := range after {
		if live := c.Properties["churned"] != "true"; live != (c.Properties["healthsync_grade"] != "") {
			t.Errorf("company %s (churned %s): grade %q written", c.ID, c.Properties["churned"], c.Properties["healthsync_grade"])
		}
		for k, v := range c.Properties {
			if allowed[k] || k == "hs_lastmodifieddate" {
				continue
			}
			if before[c.ID][k] != v {
				t.Errorf("company %s: property %s changed from %q to %q, and healthsync may not write it", c.ID, k, before[c.ID][k], v)
			}
		}
	}
	tasks := em.CreatedTasks()
	keys := map[string]bool{}
	for _, task := range tasks {
		k := task.Properties["healthsync_key"]
		if k == "" || keys[k] {
			t.Fatalf("task without key or duplicated: %v", task.Properties)
		}
		keys[k] = true
	}
	if len(tasks) == 0 {
		t.Fatal("no tasks created")
	}
}

// TestDemo runs `healthsync demo` as `make demo` does and checks that it
// tells the story: writes on the first run, none on the second.
func TestDemo(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	dir := t.TempDir()
	out := runBinary(t, bin, nil, "demo", "--dir", dir, "--accounts", "60")
	for _, want := range []string{"records updated", "most at risk", "Tasks now in the CRM", "No changes.", "0 write calls", "healthsync explain"} {
		if !strings.Contains(out, want) {
			t.Fatalf("demo output lacks %q:\n%s", want, out)
		}
	}
}

// TestRunOnce runs the worker for one cycle against the emulated org:
// sync, score, plan and apply leave nothing to plan.
func TestRunOnce(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	em, env, _ := salesforceEnv(t)
	runBinary(t, bin, env, "install")
	runBinary(t, bin, env, "run", "--once")
	for _, id := range em.IDs("Account", false) {
		if rec, _ := em.Record("Account", id); rec["Churned__c"] != true && rec["Health_Grade__c"] == nil {
			t.Fatalf("live account %s has no grade after `run --once`", id)
		}
	}
	if len(em.CreatedTasks()) == 0 {
		t.Fatal("`run --once` created no task")
	}
	if out := runBinary(t, bin, env, "plan"); !strings.Contains(out, "No changes") {
		t.Fatalf("plan after run --once:\n%s", out)
	}
}
