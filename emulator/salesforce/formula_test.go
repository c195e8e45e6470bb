package salesforce

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// createField posts a CustomField and fails the test unless it is created.
func (b *bundle) createField(full string, meta map[string]any) {
	b.t.Helper()
	if r := b.do("POST", "tooling/sobjects/CustomField", map[string]any{"FullName": full, "Metadata": meta}); r.status != 201 {
		b.t.Fatalf("create %s: %d %s", full, r.status, r.body)
	}
}

// grant gives the API user's profile permission set read (and edit) on a
// field, returning the answer.
func (b *bundle) grant(full string, edit bool) response {
	b.t.Helper()
	p, _ := b.query("query", "SELECT PermissionSetId FROM PermissionSetAssignment WHERE AssigneeId = '"+b.s.UserID()+"'")
	obj, _, _ := strings.Cut(full, ".")
	return b.do("POST", "sobjects/FieldPermissions", map[string]any{"ParentId": p.Records[0]["PermissionSetId"], "SobjectType": obj,
		"Field": full, "PermissionsRead": true, "PermissionsEdit": edit})
}

func describeOf(t *testing.T, b *bundle, object, field string) map[string]any {
	t.Helper()
	var d struct {
		Fields []map[string]any `json:"fields"`
	}
	b.do("GET", "sobjects/"+object+"/describe", nil).json(t, &d)
	for _, f := range d.Fields {
		if f["name"] == field {
			return f
		}
	}
	t.Fatalf("%s.%s not in the describe", object, field)
	return nil
}

func TestFormulaFieldDayCounters(t *testing.T) {
	t.Parallel()
	b := setup(t, 3, Options{})
	acc := []string{b.s.GenID("Account", 0), b.s.GenID("Account", 1), b.s.GenID("Account", 2)}
	b.createField("Account.Next_Renewal__c", map[string]any{"label": "Next Renewal", "type": "Date"})
	b.createField("Account.Last_Exec__c", map[string]any{"label": "Last Exec Contact", "type": "Date"})
	b.createField("Account.Seats__c", map[string]any{"label": "Seats", "type": "Number", "precision": 18, "scale": 0})
	b.createField("Account.Days_To_Renewal__c", map[string]any{"label": "Days To Renewal", "type": "Number", "precision": 18, "scale": 0,
		"formula": "Next_Renewal__c - TODAY()", "formulaTreatBlanksAs": "BlankAsBlank",
		"inlineHelpText": "Days until the next renewal. Computed by Salesforce from the date healthsync writes.", "description": "Installed by healthsync."})
	b.createField("Account.Days_Since_Exec__c", map[string]any{"label": "Days Since Exec", "type": "Number", "precision": 18, "scale": 0,
		"formula": "today() - Last_Exec__c", "formulaTreatBlanksAs": "BlankAsBlank"})
	b.createField("Account.Weeks_Between__c", map[string]any{"label": "Weeks Between", "type": "Number", "precision": 18, "scale": 2,
		"formula": "(Next_Renewal__c - Last_Exec__c) / 7 * -(-1) + 0", "formulaTreatBlanksAs": "BlankAsBlank"})
	b.createField("Account.Exec_Or_Today__c", map[string]any{"label": "Exec Or Today", "type": "Number", "precision": 18, "scale": 0,
		"formula": "TODAY() - BLANKVALUE(Last_Exec__c, TODAY())", "formulaTreatBlanksAs": "BlankAsBlank"})
	b.createField("Account.Seats_Doubled__c", map[string]any{"label": "Seats Doubled", "type": "Number", "precision": 18, "scale": 0,
		"formula": "Seats__c * 2 + 1"}) // formulaTreatBlanksAs defaults to BlankAsZero
	b.createField("Account.Renewal_Week_Later__c", map[string]any{"label": "Renewal Week Later", "type": "Date", "formula": "Next_Renewal__c + 7"})

	d := describeOf(t, b, "Account", "Days_To_Renewal__c")
	if d["calculated"] != true || d["calculatedFormula"] != "Next_Renewal__c - TODAY()" || d["updateable"] != false || d["createable"] != false ||
		d["type"] != "double" || d["precision"] != 18.0 || d["scale"] != 0.0 || d["custom"] != true || d["formulaTreatNullNumberAsZero"] != false ||
		d["inlineHelpText"] != "Days until the next renewal. Computed by Salesforce from the date healthsync writes." {
		t.Errorf("describe of a formula field: %v", d)
	}
	if d := describeOf(t, b, "Account", "Seats_Doubled__c"); d["formulaTreatNullNumberAsZero"] != true {
		t.Errorf("BlankAsZero formula: %v", d)
	}
	if d := describeOf(t, b, "Account", "Next_Renewal__c"); d["calculated"] != false || d["calculatedFormula"] != nil || d["inlineHelpText"] != nil {
		t.Errorf("describe of a plain field: %v", d)
	}

	// Read is all a permission set may grant on a formula field.
	if code, _ := b.grant("Account.Days_To_Renewal__c", true).errorCode(t); code != "FIELD_INTEGRITY_EXCEPTION" {
		t.Errorf("edit granted on a formula field: %s", code)
	}
	for _, f := range []string{"Next_Renewal__c", "Last_Exec__c", "Seats__c"} {
		if r := b.grant("Account."+f, true); r.status != 201 {
			t.Fatalf("grant %s: %d %s", f, r.status, r.body)
		}
	}
	for _, f := range []string{"Days_To_Renewal__c", "Days_Since_Exec__c"} {
		if r := b.grant("Account."+f, false); r.status != 201 {
			t.Fatalf("grant read on %s: %d %s", f, r.status, r.body)
		}
	}

	// testNow is 2026-01-15.
	for i, vals := range []map[string]any{
		{"Next_Renewal__c": "2026-03-01", "Last_Exec__c": "2025-12-16", "Seats__c": 40},
		{"Next_Renewal__c": "2026-01-10", "Last_Exec__c": nil},
	} {
		if r := b.do("PATCH", "sobjects/Account/"+acc[i], vals); r.status != 204 {
			t.Fatalf("write dates: %d %s", r.status, r.body)
		}
	}
	const q = "SELECT Id, SystemModstamp, Days_To_Renewal__c, Days_Since_Exec__c, Weeks_Between__c, Exec_Or_Today__c, Seats_Doubled__c, Renewal_Week_Later__c FROM Account WHERE Id IN ('%s', '%s', '%s') ORDER BY Days_To_Renewal__c NULLS LAST"
	read := func() []map[string]any {
		t.Helper()
		p, r := b.query("query", strings.ReplaceAll(strings.Replace(strings.Replace(strings.Replace(q, "%s", acc[0], 1), "%s", acc[1], 1), "%s", acc[2], 1), "\n", " "))
		if r.status != 200 || len(p.Records) != 3 {
			t.Fatalf("query: %d %s", r.status, r.body)
		}
		return p.Records
	}
	recs := read()
	// Ordered by the formula: acc[1] (-5), acc[0] (45), acc[2] (blank).
	want := []map[string]any{
		{"Id": acc[1], "Days_To_Renewal__c": -5.0, "Days_Since_Exec__c": nil, "Weeks_Between__c": nil, "Exec_Or_Today__c": 0.0, "Seats_Doubled__c": 1.0, "Renewal_Week_Later__c": "2026-01-17"},
		{"Id": acc[0], "Days_To_Renewal__c": 45.0, "Days_Since_Exec__c": 30.0, "Weeks_Between__c": 10.71, "Exec_Or_Today__c": 30.0, "Seats_Doubled__c": 81.0, "Renewal_Week_Later__c": "2026-03-08"},
		{"Id": acc[2], "Days_To_Renewal__c": nil, "Days_Since_Exec__c": nil, "Weeks_Between__c": nil, "Exec_Or_Today__c": 0.0, "Seats_Doubled__c": 1.0, "Renewal_Week_Later__c": nil},
	}
	for i, w := range want {
		for k, v := range w {
			if recs[i][k] != v {
				t.Errorf("row %d %s = %v, want %v", i, k, recs[i][k], v)
			}
		}
	}
	stamp := recs[1]["SystemModstamp"]

	// A day later the counters moved by themselves; the record did not change.
	b.clock.Add(24 * time.Hour)
	b.token = b.login() // the session idled out meanwhile
	recs = read()
	if recs[1]["Days_To_Renewal__c"] != 44.0 || recs[1]["Days_Since_Exec__c"] != 31.0 || recs[1]["SystemModstamp"] != stamp {
		t.Errorf("a day later: %v (stamp was %v)", recs[1], stamp)
	}
	// Filters see the computed value.
	p, _ := b.query("query", "SELECT Id FROM Account WHERE Days_To_Renewal__c < 0")
	if len(p.Records) != 1 || p.Records[0]["Id"] != acc[1] {
		t.Errorf("WHERE on a formula: %v", p.Records)
	}

	// Salesforce refuses writes to a formula field, alone or in a collection.
	r := b.do("PATCH", "sobjects/Account/"+acc[0], map[string]any{"Days_To_Renewal__c": 3})
	if code, msg := r.errorCode(t); r.status != 400 || code != "INVALID_FIELD_FOR_INSERT_UPDATE" || !strings.Contains(msg, "Days_To_Renewal__c") {
		t.Errorf("PATCH of a formula field: %d %s", r.status, r.body)
	}
	r = b.do("PATCH", "composite/sobjects", map[string]any{"allOrNone": false, "records": []map[string]any{
		{"attributes": map[string]any{"type": "Account"}, "id": acc[0], "Days_To_Renewal__c": 3}}})
	if r.status != 200 || !strings.Contains(string(r.body), `"statusCode":"INVALID_FIELD_FOR_INSERT_UPDATE"`) {
		t.Errorf("composite write of a formula field: %d %s", r.status, r.body)
	}

	// A Bulk API query computes it too.
	var job map[string]any
	b.do("POST", "jobs/query", map[string]any{"operation": "query", "query": "SELECT Id, Days_To_Renewal__c FROM Account WHERE Id = '" + acc[0] + "'"}).json(t, &job)
	id := job["id"].(string)
	for range 5 {
		b.do("GET", "jobs/query/"+id, nil).json(t, &job)
		if job["state"] == "JobComplete" {
			break
		}
	}
	rows := readCSV(t, b.do("GET", "jobs/query/"+id+"/results", nil).body)
	if len(rows) != 2 || rows[1][1] != "44" {
		t.Errorf("bulk query of a formula: %v", rows)
	}
}

func TestFormulaFieldsRefusedLikeSalesforce(t *testing.T) {
	t.Parallel()
	b := setup(t, 0, Options{})
	b.createField("Account.Next_Renewal__c", map[string]any{"label": "Next Renewal", "type": "Date"})
	b.createField("Account.Notes__c", map[string]any{"label": "Notes", "type": "Text", "length": 20})
	for _, tc := range []struct{ typ, formula, msg string }{
		{"Number", "FOO(Next_Renewal__c)", "Error: Unknown function FOO. Check spelling."},
		{"Number", "IF(Next_Renewal__c > TODAY(), 1, 0)", "Error: Function IF is not supported by this emulator"},
		{"Number", "TODAY() - Later__c", "Error: Field Later__c does not exist. Check spelling."},
		{"Number", "Owner.Name", "Error: Field Owner.Name does not exist. Check spelling."},
		{"Number", "TODAY() + 1", "Error: Formula result is data type (Date), incompatible with expected data type (Number)."},
		{"Number", "Next_Renewal__c * 2", "Error: Incorrect parameter type for operator '*'. Expected Number, received Date"},
		{"Number", "Notes__c + 1", "Error: Incorrect parameter type for operator '+'. Expected Number, Date, DateTime, received Text"},
		{"Number", "TODAY() -", "Error: Syntax error."},
		{"Number", "(1 + 2", "Error: Syntax error. Missing ')'"},
		{"Number", "1 & 2", "Error: Syntax error. Found '&'"},
		{"Number", "BLANKVALUE(Next_Renewal__c, 0)", "Error: Incorrect parameter type for function 'BLANKVALUE()'. Expected Date, received Number"},
		{"Text", "'x'", "Formula fields of type \"Text\" are not supported by this emulator"},
	} {
		r := b.do("POST", "tooling/sobjects/CustomField", map[string]any{"FullName": "Account.Bad__c", "Metadata": map[string]any{
			"label": "Bad", "type": tc.typ, "precision": 18, "scale": 0, "formula": tc.formula}})
		if r.status != 400 {
			t.Errorf("%s: %d %s", tc.formula, r.status, r.body)
			continue
		}
		code, msg := r.errorCode(t)
		if code != "FIELD_INTEGRITY_EXCEPTION" || !strings.HasPrefix(msg, tc.msg) {
			t.Errorf("%s: %s %q, want FIELD_INTEGRITY_EXCEPTION %q", tc.formula, code, msg, tc.msg)
		}
	}
	// Nothing was created.
	p, _ := b.query("tooling/query", "SELECT Id FROM CustomField WHERE DeveloperName = 'Bad'")
	if len(p.Records) != 0 {
		t.Errorf("refused formulas created %v", p.Records)
	}
	// The help text and description of a field are kept (Tooling).
	b.createField("Account.Helpful__c", map[string]any{"label": "Helpful", "type": "Number", "precision": 3, "scale": 0,
		"inlineHelpText": "Written by healthsync.", "description": "Installed by healthsync."})
	p, _ = b.query("tooling/query", "SELECT InlineHelpText, Description FROM CustomField WHERE DeveloperName = "+quote("Helpful"))
	if len(p.Records) != 1 || p.Records[0]["InlineHelpText"] != "Written by healthsync." || p.Records[0]["Description"] != "Installed by healthsync." {
		t.Errorf("CustomField record: %v", p.Records)
	}
	if d := describeOf(t, b, "Account", "Helpful__c"); d["inlineHelpText"] != "Written by healthsync." {
		t.Errorf("describe: %v", d)
	}
}

func quote(s string) string { return "'" + url.QueryEscape(s) + "'" }
