package mapping

import (
	"strings"
	"testing"
	"time"

	"healthsync/connector"
	"healthsync/crm"
)

func TestTaskBuild(t *testing.T) {
	t.Parallel()
	m := mustParse(t, crm.Salesforce, `
crm: {system: salesforce}
tasks:
  flags:
    single_threaded:
      owner: 005000000000001AAA
      description: "{{.Why}} Reasons:{{range .Reasons}} [{{.}}]{{end}} score {{.Score}} ({{.Grade}}), {{.Metric \"nope\"}}"
scoring:
  flags:
    single_threaded:
      task: {subject: "Second exec at {{.AccountName}}", due_in_days: 10, priority: low}
`)
	now := time.Date(2025, 1, 15, 18, 30, 0, 0, time.UTC)
	spec, ok := m.Task("single_threaded")
	if !ok {
		t.Fatal("no task for single_threaded")
	}
	task, err := spec.Build("001A:single_threaded:1", TaskData{
		AccountID: "001A", AccountName: "Acme", Why: "Only one strong executive.", Score: "48", Grade: "yellow",
		Reasons: []string{"no executive contact for 41 days", "renewal in 28 days"},
	}, "005OWNER", now)
	if err != nil {
		t.Fatal(err)
	}
	want := crm.Task{
		Key: "001A:single_threaded:1", Flag: "single_threaded", AccountID: "001A", OwnerID: "005000000000001AAA",
		Subject:     "Second exec at Acme",
		Description: "Only one strong executive. Reasons: [no executive contact for 41 days] [renewal in 28 days] score 48 (yellow), unknown",
		Priority:    crm.PriorityLow, Due: time.Date(2025, 1, 25, 0, 0, 0, 0, time.UTC),
	}
	if task != want {
		t.Errorf("task =\n%+v\nwant\n%+v", task, want)
	}
	spec, _ = m.Task("adoption_emergency")
	task, err = spec.Build("k", TaskData{AccountName: "Acme", Action: "Emergency outreach", Metrics: map[string]string{"last_user_contact_date": "2024-12-02"}}, "005OWNER", now)
	if err != nil || task.OwnerID != "005OWNER" || task.Priority != crm.PriorityHigh || !task.Due.Equal(crm.Date(now)) ||
		task.Subject != "Emergency outreach" || !strings.Contains(task.Description, "Reach out to the users at Acme today") {
		t.Errorf("adoption_emergency task = %+v, %v", task, err)
	}
}

func TestTaskSwitches(t *testing.T) {
	t.Parallel()
	m := mustParse(t, crm.HubSpot, `
crm: {system: hubspot}
tasks: {flags: {champion_opportunity: {disabled: true}}}
scoring: {flags: {single_threaded: {disabled: true}}}
`)
	if got := strings.Join(m.TaskFlags(), " "); got != "adoption_emergency renewal_exec_gap" {
		t.Errorf("TaskFlags = %q", got)
	}
	m = mustParse(t, crm.HubSpot, "crm: {system: hubspot}\ntasks: {disabled: true}\noutputs: {task_key: \"\"}\n")
	if len(m.TaskFlags()) != 0 {
		t.Errorf("TaskFlags with tasks disabled = %v", m.TaskFlags())
	}
	if _, _, ok := m.OutputField(OutputTaskKey); ok {
		t.Error("a disabled task key is still an output")
	}
}

// TestTemplateGuards: templates come from a file people edit; constructs
// that could hang or flood the worker are refused when the file loads.
func TestTemplateGuards(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ tmpl, want string }{
		{`{{range 1000000000000}}{{end}}`, "range only over a field"},
		{`{{range $i := 99999999999}}x{{end}}`, "range only over a field"},
		{`{{printf "%0999999999d" 1}}`, "widths and precisions are limited"},
		{`{{printf "%*d" 999999999 1}}`, "widths and precisions are limited"},
		{`{{define "a"}}{{template "a"}}{{end}}{{template "a"}}`, "not supported"},
		{`{{.AcountName}}`, "can't evaluate field AcountName"},
		{`{{.Name`, "unclosed action"},
	} {
		src := "crm: {system: salesforce}\ntasks: {flags: {renewal_exec_gap: {description: '" + tc.tmpl + "'}}}\n"
		_, err := Parse("healthsync.yaml", []byte(src), Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "healthsync.yaml:2:") {
			t.Errorf("template %s: error %v, want one at line 2 containing %q", tc.tmpl, err, tc.want)
		}
	}
	if _, err := Parse("h.yaml", []byte(`crm: {system: salesforce}
tasks: {flags: {renewal_exec_gap: {description: '{{range .Reasons}}- {{printf "%-20s" .}}{{end}}{{with .Score}}{{.}}{{end}}'}}}
`), Options{}); err != nil {
		t.Errorf("a reasonable template was refused: %v", err)
	}
}

func TestOutputs(t *testing.T) {
	t.Parallel()
	m := mustParse(t, crm.Salesforce, `
crm: {system: salesforce}
outputs:
  trend: ""
  metrics:
    next_renewal_date: Next_Renewal__c
    lifecycle_stage: Lifecycle_Stage__c
    renewal_amount: Renewal_Amount__c
  counters:
    days_to_renewal: Days_To_Renewal__c
tasks: {snooze: {field: Snoozed_Until__c}}
`)
	got := map[string]connector.FieldSpec{}
	for _, s := range m.FieldSpecs() {
		got[s.Object+"."+s.Name] = s
	}
	for key, want := range map[string]connector.FieldSpec{
		"Account.Health_Score__c":       {Object: "Account", Name: "Health_Score__c", Label: "Health Score", Type: connector.FieldNumber, Precision: 3},
		"Account.Health_Grade__c":       {Object: "Account", Name: "Health_Grade__c", Label: "Health Grade", Type: connector.FieldText, Length: 10},
		"Account.Health_Reasons__c":     {Object: "Account", Name: "Health_Reasons__c", Label: "Health Reasons", Type: connector.FieldLongText, Length: 32768},
		"Account.Healthsync_Updated__c": {Object: "Account", Name: "Healthsync_Updated__c", Label: "Healthsync Updated", Type: connector.FieldDateTime},
		"Account.Days_To_Renewal__c":    {Object: "Account", Name: "Days_To_Renewal__c", Label: "Days To Renewal", Type: connector.FieldNumber, Precision: 18, Formula: "Next_Renewal__c - TODAY()"},
		"Account.Next_Renewal__c":       {Object: "Account", Name: "Next_Renewal__c", Label: "Next Renewal Date", Type: connector.FieldDate},
		"Account.Lifecycle_Stage__c":    {Object: "Account", Name: "Lifecycle_Stage__c", Label: "Lifecycle Stage", Type: connector.FieldText, Length: 255},
		"Account.Renewal_Amount__c":     {Object: "Account", Name: "Renewal_Amount__c", Label: "Renewal Amount", Type: connector.FieldNumber, Precision: 18, Scale: 2},
		"Task.Healthsync_Key__c":        {Object: "Task", Name: "Healthsync_Key__c", Label: "Healthsync Key", Type: connector.FieldText, Length: 120},
		"Task.Snoozed_Until__c":         {Object: "Task", Name: "Snoozed_Until__c", Label: "Snoozed Until", Type: connector.FieldDate},
	} {
		g, ok := got[key]
		g.Help = ""
		if !ok || g != want {
			t.Errorf("FieldSpec %s = %+v, want %+v", key, g, want)
		}
	}
	if len(got) != 11 {
		t.Errorf("FieldSpecs has %d fields, want 11 (trend is off)", len(got))
	}
	if _, _, ok := m.OutputField(OutputTrend); ok {
		t.Error("trend was switched off but is still an output")
	}
	if obj, f, ok := m.OutputField(OutputScore); !ok || obj != "Account" || f != "Health_Score__c" {
		t.Errorf("OutputField(score) = %s %s %v", obj, f, ok)
	}
	allowed := m.AllowedOutputs("Account")
	if len(allowed) != 8 || !allowed["Next_Renewal__c"] || allowed["Health_Trend__c"] || allowed["Name"] || allowed["Days_To_Renewal__c"] {
		t.Errorf("AllowedOutputs(Account) = %v", allowed)
	}
	if task := m.AllowedOutputs("Task"); len(task) != 1 || !task["Healthsync_Key__c"] {
		t.Errorf("AllowedOutputs(Task) = %v (the snooze field is read, never written)", task)
	}
	if !m.IsAllowedOutput("Account", "health_score__c") || m.IsAllowedOutput("Account", "Name") || m.IsAllowedOutput("Contact", "Health_Score__c") {
		t.Error("IsAllowedOutput")
	}
}
