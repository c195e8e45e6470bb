package mapping

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"healthsync/crm"
)

var update = flag.Bool("update", false, "rewrite golden files and the shipped JSON Schema")

// TestLoadErrorsGolden loads every testdata/errors/*.yaml and compares the
// error text with its .golden file. Run `go test ./mapping -update` after
// an intended change of wording.
func TestLoadErrorsGolden(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/errors/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var opts Options
			if strings.HasPrefix(name, "system_") {
				opts.System = crm.Salesforce
			}
			_, err = Parse("healthsync.yaml", data, opts)
			if err == nil {
				t.Fatalf("Parse(%s): want errors, got none", path)
			}
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("Parse(%s): error %T is not Errors", path, err)
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(path, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read golden (run with -update to create it): %v", err)
			}
			if got != string(want) {
				t.Errorf("errors for %s differ from %s:\n--- got\n%s--- want\n%s", path, golden, got, want)
			}
		})
	}
}

func TestEmptyFileUsesDefaults(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		sys     crm.System
		data    string
		objects string
		fields  map[string]string
	}{
		{crm.Salesforce, "", "Account Contact Opportunity Task Event User", map[string]string{
			"Account":     "AnnualRevenue CreatedDate Industry Name NumberOfEmployees OwnerId Type",
			"Contact":     "AccountId Department Email FirstName LastName OwnerId Title",
			"Opportunity": "AccountId Amount CloseDate CreatedDate IsClosed IsWon Name OwnerId Probability StageName Type",
			"Task":        "AccountId ActivityDate CallType CompletedDateTime IsClosed OwnerId Status Subject TaskSubtype Type WhatId WhoId",
			"Event":       "AccountId OwnerId StartDateTime Subject Type WhatId WhoId",
			"User":        "Email IsActive Name",
		}},
		{crm.HubSpot, "# only a comment\n", "companies contacts deals calls emails meetings notes tasks owners", map[string]string{
			"companies": "annualrevenue hubspot_owner_id industry lifecyclestage name numberofemployees type",
			"emails":    "hs_email_direction hs_email_status hs_email_subject hs_timestamp hubspot_owner_id",
			"owners":    "",
		}},
		{crm.Salesforce, "crm: {system: salesforce}\n", "Account Contact Opportunity Task Event User", nil},
	} {
		m, err := Parse("healthsync.yaml", []byte(tc.data), Options{System: tc.sys})
		if err != nil {
			t.Fatalf("%s: %v", tc.sys, err)
		}
		if got := strings.Join(m.Objects(), " "); got != tc.objects {
			t.Errorf("%s Objects = %q, want %q", tc.sys, got, tc.objects)
		}
		for obj, want := range tc.fields {
			if got := strings.Join(m.Fields(obj), " "); got != want {
				t.Errorf("%s Fields(%s) = %q, want %q", tc.sys, obj, got, want)
			}
		}
		if m.System() != tc.sys {
			t.Errorf("System = %s, want %s", m.System(), tc.sys)
		}
		// champion_opportunity is a growth idea: a flag, no task by default.
		if got := strings.Join(m.TaskFlags(), " "); got != "adoption_emergency renewal_exec_gap single_threaded" {
			t.Errorf("%s TaskFlags = %v, want the three risk flags", tc.sys, got)
		}
		if len(m.FieldSpecs()) != 7 {
			t.Errorf("%s FieldSpecs = %d specs, want 7 (score, grade, reasons, trend, flags, updated_at, task key)", tc.sys, len(m.FieldSpecs()))
		}
	}
}

func TestMergeOverDefaults(t *testing.T) {
	t.Parallel()
	src := `
crm:
  system: salesforce
  objects: [Account, Opportunity, Task]
fields:
  account:
    adoption: Active_Users_Pct__c
    industry: ""
  activity:
    Task: {subject: Custom_Subject__c}
classify:
  sentiment:
    values: {Amber: 40}
scoring:
  weights:
    adoption: 40
tasks:
  flags:
    single_threaded: {owner: 005000000000001AAA, close_when_cleared: false}
`
	m, err := Parse("healthsync.yaml", []byte(src), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(m.Objects(), " "); got != "Account Opportunity Task" {
		t.Errorf("Objects = %q", got)
	}
	fields := strings.Join(m.Fields("Account"), " ")
	if !strings.Contains(fields, "Active_Users_Pct__c") || strings.Contains(fields, "Industry") || !strings.Contains(fields, "Name") {
		t.Errorf("Fields(Account) = %q: want the adoption field added, Industry removed, Name kept", fields)
	}
	task := strings.Join(m.Fields("Task"), " ")
	if !strings.Contains(task, "Custom_Subject__c") || strings.Contains(task, " Subject ") || !strings.Contains(task, "TaskSubtype") {
		t.Errorf("Fields(Task) = %q: want Subject replaced and the rest kept", task)
	}
	if m.Fields("Contact") != nil {
		t.Errorf("Fields(Contact) of an object not synced = %v, want nil", m.Fields("Contact"))
	}
	cfg := m.Config()
	if cfg.Classify.Sentiment.Values["Amber"] != 40 || cfg.Classify.Sentiment.Values["green"] != 100 {
		t.Errorf("sentiment values = %v: want Amber added and the defaults kept", cfg.Classify.Sentiment.Values)
	}
	if cfg.Scoring.Weights.Adoption != 40 || cfg.Scoring.Weights.Sentiment == 0 {
		t.Errorf("weights = %+v: want adoption 40 and the other defaults kept", cfg.Scoring.Weights)
	}
	spec, ok := m.Task("single_threaded")
	if !ok || spec.Owner != "005000000000001AAA" || spec.CloseWhenCleared || spec.DueInDays != 14 {
		t.Errorf("Task(single_threaded) = %+v, %v", spec, ok)
	}
	if spec, ok := m.Task("renewal_exec_gap"); !ok || spec.Owner != OwnerAccountOwner || !spec.CloseWhenCleared || spec.Priority != crm.PriorityHigh {
		t.Errorf("Task(renewal_exec_gap) = %+v, %v: want the defaults", spec, ok)
	}
}

func TestHashChangesWithMapping(t *testing.T) {
	t.Parallel()
	a, err := New(crm.Salesforce, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Parse("x.yaml", []byte("crm: {system: salesforce}\n# a comment changes nothing\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Hash() != b.Hash() {
		t.Error("equal effective mappings hash differently")
	}
	c, err := Parse("x.yaml", []byte("crm: {system: salesforce}\nclassify: {opportunities: {renewal: {types: [Renewal, Renouvellement]}}}\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Hash() == c.Hash() {
		t.Error("a classification change did not change the hash")
	}
	if a.FieldsHash("Account") != c.FieldsHash("Account") {
		t.Error("a classification change changed the Account field hash")
	}
	// Scoring and outputs are read afresh each run: no re-map for them.
	w, err := Parse("x.yaml", []byte("crm: {system: salesforce}\nscoring: {weights: {adoption: 40}}\noutputs: {trend: \"\"}\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Hash() != w.Hash() {
		t.Error("a scoring or output change changed the hash: it would re-map every stored record")
	}
	d, err := Parse("x.yaml", []byte("crm: {system: salesforce}\nfields: {account: {adoption: Adoption__c}}\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if a.FieldsHash("Account") == d.FieldsHash("Account") || a.FieldsHash("Contact") != d.FieldsHash("Contact") {
		t.Error("FieldsHash must change for Account only")
	}
	if got := d.MissingFields("Account", a.Fields("Account")); strings.Join(got, ",") != "Adoption__c" {
		t.Errorf("MissingFields = %v, want [Adoption__c]", got)
	}
	if got := a.MissingFields("Account", d.Fields("Account")); len(got) != 0 {
		t.Errorf("MissingFields after dropping a field = %v, want none (a re-map is enough)", got)
	}
}

func TestLoadFromDisk(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "healthsync.yaml")
	if err := os.WriteFile(path, []byte("crm:\n  system: hubspot\n  objects: [companies, contact]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path, Options{})
	want := path + `:3:24: crm.objects: unknown hubspot object "contact": want one of companies, contacts, deals, calls, emails, meetings, notes, tasks, owners (did you mean "contacts"?)`
	if err == nil || err.Error() != want {
		t.Errorf("Load error = %v\nwant %s", err, want)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml"), Options{System: crm.HubSpot}); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of a missing file: %v, want a not-exist error", err)
	}
}

func TestDidYouMean(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"wieghts", ` (did you mean "weights"?)`},
		{"adoptoin", ` (did you mean "adoption"?)`},
		{"zzzzzzzz", ""},
		{"weights", ""},
	} {
		if got := didYouMean(tc.in, []string{"weights", "adoption", "grades"}); got != tc.want {
			t.Errorf("didYouMean(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
