package mapping

import (
	"os"
	"strings"
	"testing"

	"healthsync/connector"
	"healthsync/crm"
)

func sfField(name, typ string, updateable bool) connector.Field {
	return connector.Field{Name: name, Type: typ, Updateable: updateable, Custom: strings.HasSuffix(name, "__c")}
}

// ownField is a custom field healthsync install created: its help text
// names healthsync.
func ownField(name, typ string, updateable bool) connector.Field {
	f := sfField(name, typ, updateable)
	f.Help = "Written by healthsync."
	return f
}

func TestValidateSalesforce(t *testing.T) {
	t.Parallel()
	m := mustParse(t, crm.Salesforce, `
crm: {system: salesforce}
fields:
  account:
    adoption: Adoption__c
    csm_sentiment: CSM_Sentiment__c
    renewal_date: Renewal_Date__c
    owner_id: Owner.Id
outputs:
  metrics:
    last_exec_contact_date: Last_Exec_Contact__c
  counters:
    days_since_exec_contact: Days_Since_Exec_Contact__c
`)
	account := []connector.Field{
		sfField("Id", "id", false), sfField("Name", "string", true), sfField("Type", "picklist", true),
		sfField("NumberOfEmployees", "int", true), sfField("AnnualRevenue", "currency", true),
		sfField("CreatedDate", "datetime", false),
		// Industry is missing; Adoption__c has the wrong type; Renewal_Date__c is missing.
		sfField("Adoption__c", "string", true), sfField("CSM_Sentiment__c", "picklist", true),
		ownField("health_score__c", "double", true), ownField("Health_Grade__c", "string", true),
		ownField("Health_Reasons__c", "textarea", true),
		// Health_Trend__c exists but another app made it (no healthsync help text).
		sfField("Health_Trend__c", "double", true),
		{Name: "Healthsync_Updated__c", Type: "datetime", Updateable: true, Calculated: true, Custom: true, Help: "healthsync"},
		ownField("Last_Exec_Contact__c", "date", true),
		// The counter is a plain field, not a formula.
		ownField("Days_Since_Exec_Contact__c", "double", false),
	}
	problems := m.Validate("Account", account)
	got := Report(problems, 1)
	golden := "testdata/validate_salesforce.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read golden (run with -update): %v", err)
	}
	if got != string(want) {
		t.Errorf("report differs from %s:\n--- got\n%s--- want\n%s", golden, got, want)
	}
	if !HasErrors(problems) {
		t.Error("HasErrors = false")
	}
	for _, p := range problems {
		if p.Field == "Adoption__c" && p.Line != 5 {
			t.Errorf("Adoption__c problem at line %d, want 5 (where the file names it)", p.Line)
		}
		if p.Field == "Industry" && p.Line != 0 {
			t.Errorf("Industry problem at line %d, want 0 (a built-in default)", p.Line)
		}
	}
}

func TestValidateCleanHubSpot(t *testing.T) {
	t.Parallel()
	m := mustParse(t, crm.HubSpot, "crm: {system: hubspot}\ntasks: {snooze: {field: healthsync_snoozed_until}}\n")
	companies := []connector.Field{
		{Name: "name", Type: "string"}, {Name: "industry", Type: "enumeration"}, {Name: "type", Type: "enumeration"},
		{Name: "numberofemployees", Type: "number"}, {Name: "annualrevenue", Type: "number"}, {Name: "hubspot_owner_id", Type: "enumeration"},
		{Name: "lifecyclestage", Type: "enumeration"},
		hsOwn("healthsync_score", "number"), hsOwn("healthsync_grade", "string"),
		hsOwn("healthsync_reasons", "string"), hsOwn("healthsync_trend", "number"),
		hsOwn("healthsync_updated_at", "datetime"), hsOwn("healthsync_flags", "string"),
	}
	if p := m.Validate("companies", companies); len(p) != 0 {
		t.Errorf("Validate(companies) = %v, want no problems", p)
	}
	// A portal without hs_email_status: only a warning, HubSpot ignores it.
	emails := []connector.Field{{Name: "hs_timestamp", Type: "datetime"}, {Name: "hs_email_direction", Type: "enumeration"},
		{Name: "hs_email_subject", Type: "string"}, {Name: "hubspot_owner_id", Type: "enumeration"}}
	p := m.Validate("emails", emails)
	if len(p) != 1 || p[0].Severity != SeverityWarning || p[0].Field != "hs_email_status" || HasErrors(p) {
		t.Errorf("Validate(emails) = %v, want one warning for hs_email_status", p)
	}
	tasks := []connector.Field{{Name: "hs_timestamp", Type: "datetime"}, {Name: "hs_task_subject", Type: "string"},
		{Name: "hs_task_status", Type: "enumeration"}, {Name: "hs_task_type", Type: "enumeration"},
		{Name: "hs_task_completion_date", Type: "datetime"}, {Name: "hubspot_owner_id", Type: "enumeration"}}
	p = m.Validate("tasks", tasks)
	if len(p) != 2 || !HasErrors(p) {
		t.Errorf("Validate(tasks) = %v, want the missing task key (error) and snooze field (warning)", p)
	}
	if r := Report(nil, 9); r != "mapping OK: every field checked on 9 objects\n" {
		t.Errorf("Report(nil) = %q", r)
	}
	if got := strings.Join(m.DescribeObjects(), " "); got != "companies contacts deals calls emails meetings notes tasks owners" {
		t.Errorf("DescribeObjects = %q", got)
	}
}

// hsOwn is a property healthsync install created: custom, in the
// healthsync group.
func hsOwn(name, typ string) connector.Field {
	return connector.Field{Name: name, Type: typ, Updateable: true, Custom: true, Group: "healthsync"}
}

// Every target that is not healthsync's own is refused before anything
// is written: a standard field, another app's field, a field that is
// missing; a field the mapping lists as owned is accepted.
func TestValidateOutputsOwnership(t *testing.T) {
	t.Parallel()
	m := mustParse(t, crm.HubSpot, "crm: {system: hubspot}\noutputs: {owned_fields: [healthsync_trend]}\n")
	companies := []connector.Field{
		hsOwn("healthsync_score", "number"),
		{Name: "healthsync_grade", Type: "string", Updateable: true, Custom: true, Group: "companyinformation", Help: "used by the billing app"},
		{Name: "healthsync_reasons", Type: "string", Updateable: true, Custom: false, Group: "healthsync"},
		{Name: "healthsync_trend", Type: "number", Updateable: true, Custom: true, Group: "mine"},
	}
	problems := m.ValidateOutputs("companies", companies)
	byField := map[string]string{}
	for _, p := range problems {
		byField[p.Field] = p.Message
	}
	for field, want := range map[string]string{
		"healthsync_grade":      "not created by `healthsync install`",
		"healthsync_reasons":    "standard companies field",
		"healthsync_updated_at": "run `healthsync install`",
	} {
		if !strings.Contains(byField[field], want) {
			t.Errorf("%s: %q, want it to say %q", field, byField[field], want)
		}
	}
	for _, ok := range []string{"healthsync_score", "healthsync_trend"} {
		if msg, bad := byField[ok]; bad {
			t.Errorf("%s refused: %s", ok, msg)
		}
	}
}
