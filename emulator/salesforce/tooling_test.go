package salesforce

import (
	"net/url"
	"testing"
)

func TestCustomFieldLifecycle(t *testing.T) {
	t.Parallel()
	b := setup(t, 3, Options{})
	acc := b.s.GenID("Account", 0)
	spec := map[string]any{"FullName": "Account.Health_Score__c", "Metadata": map[string]any{"label": "Health Score", "type": "Number", "precision": 3, "scale": 0, "inlineHelpText": "0-100"}}
	r := b.do("POST", "tooling/sobjects/CustomField", spec)
	if r.status != 201 {
		t.Fatalf("create field: %d %s", r.status, r.body)
	}
	var created saveResult
	r.json(t, &created)
	// It appears in describe, but the API user cannot edit it yet.
	var d struct {
		Fields []map[string]any `json:"fields"`
	}
	b.do("GET", "sobjects/Account/describe", nil).json(t, &d)
	var desc map[string]any
	for _, f := range d.Fields {
		if f["name"] == "Health_Score__c" {
			desc = f
		}
	}
	if desc == nil || desc["type"] != "double" || desc["custom"] != true || desc["updateable"] != false || desc["precision"] != 3.0 {
		t.Fatalf("describe after create: %v", desc)
	}
	r = b.do("PATCH", "sobjects/Account/"+acc, map[string]any{"Health_Score__c": 72})
	if code, msg := r.errorCode(t); r.status != 400 || code != "INVALID_FIELD" || msg != "No such column 'Health_Score__c' on sobject of type Account" {
		t.Fatalf("write before FLS: %d %s", r.status, r.body)
	}
	// Creating it twice is a duplicate.
	if r := b.do("POST", "tooling/sobjects/CustomField", spec); r.status != 400 {
		t.Errorf("duplicate field: %d %s", r.status, r.body)
	}
	// Tooling query finds it.
	var tq queryPage
	r = b.do("GET", "tooling/query?q="+url.QueryEscape("SELECT Id, DeveloperName, TableEnumOrId FROM CustomField WHERE DeveloperName = 'Health_Score' AND TableEnumOrId = 'Account'"), nil)
	r.json(t, &tq)
	if tq.TotalSize != 1 || tq.Records[0]["Id"] != created.ID {
		t.Fatalf("tooling query: %s", r.body)
	}
	// CustomField is not an object of the data API.
	if _, r := b.query("query", "SELECT Id FROM CustomField"); r.status != 400 {
		t.Errorf("CustomField through the data API: %d", r.status)
	}
	// Grant edit on the API user's profile permission set.
	p, _ := b.query("query", "SELECT PermissionSetId FROM PermissionSetAssignment WHERE AssigneeId = '"+b.s.UserID()+"' AND PermissionSet.IsOwnedByProfile = true")
	if len(p.Records) != 1 {
		t.Fatalf("profile permission set: %v", p)
	}
	psID := p.Records[0]["PermissionSetId"].(string)
	bad := b.do("POST", "sobjects/FieldPermissions", map[string]any{"ParentId": psID, "SobjectType": "Account", "Field": "Account.Health_Score__c", "PermissionsEdit": true, "PermissionsRead": false})
	if code, _ := bad.errorCode(t); code != "FIELD_INTEGRITY_EXCEPTION" {
		t.Errorf("edit without read: %s", bad.body)
	}
	r = b.do("POST", "tooling/sobjects/FieldPermissions", map[string]any{"ParentId": psID, "SobjectType": "Account", "Field": "Account.Health_Score__c", "PermissionsEdit": true, "PermissionsRead": true})
	if r.status != 201 {
		t.Fatalf("grant: %d %s", r.status, r.body)
	}
	if r := b.do("PATCH", "sobjects/Account/"+acc, map[string]any{"Health_Score__c": 72}); r.status != 204 {
		t.Fatalf("write after FLS: %d %s", r.status, r.body)
	}
	p, _ = b.query("query", "SELECT Health_Score__c FROM Account WHERE Id = '"+acc+"'")
	if p.Records[0]["Health_Score__c"] != 72.0 {
		t.Errorf("read back: %v", p.Records[0])
	}
	// A grant on a permission set not assigned to the user does not help
	// for other fields.
	b.do("POST", "tooling/sobjects/CustomField", map[string]any{"FullName": "Account.Health_Grade__c", "Metadata": map[string]any{"label": "Health Grade", "type": "Text", "length": 10}})
	r = b.do("POST", "sobjects/PermissionSet", map[string]any{"Name": "HealthSync", "Label": "HealthSync"})
	var ps saveResult
	r.json(t, &ps)
	b.do("POST", "sobjects/FieldPermissions", map[string]any{"ParentId": ps.ID, "SobjectType": "Account", "Field": "Account.Health_Grade__c", "PermissionsEdit": true, "PermissionsRead": true})
	if r := b.do("PATCH", "sobjects/Account/"+acc, map[string]any{"Health_Grade__c": "Green"}); r.status != 400 {
		t.Fatalf("grant on unassigned set: %d", r.status)
	}
	if r := b.do("POST", "sobjects/PermissionSetAssignment", map[string]any{"AssigneeId": b.s.UserID(), "PermissionSetId": ps.ID}); r.status != 201 {
		t.Fatalf("assign: %d %s", r.status, r.body)
	}
	if r := b.do("PATCH", "sobjects/Account/"+acc, map[string]any{"Health_Grade__c": "Green"}); r.status != 204 {
		t.Fatalf("after assignment: %d %s", r.status, r.body)
	}
	// Bad specs.
	for _, bad := range []map[string]any{
		{"FullName": "Account.NoSuffix", "Metadata": map[string]any{"label": "x", "type": "Text", "length": 5}},
		{"FullName": "Nothing.X__c", "Metadata": map[string]any{"label": "x", "type": "Text", "length": 5}},
		{"FullName": "Account.X__c", "Metadata": map[string]any{"label": "x", "type": "Text"}},
		{"FullName": "Account.Y__c", "Metadata": map[string]any{"label": "x", "type": "Hologram"}},
	} {
		if r := b.do("POST", "tooling/sobjects/CustomField", bad); r.status != 400 {
			t.Errorf("%v: %d %s", bad, r.status, r.body)
		}
	}
}

func TestUpsertByExternalID(t *testing.T) {
	t.Parallel()
	b := setup(t, 0, Options{})
	b.do("POST", "tooling/sobjects/CustomField", map[string]any{"FullName": "Task.HealthSync_Key__c", "Metadata": map[string]any{"label": "HealthSync Key", "type": "Text", "length": 80, "externalId": true}})
	p, _ := b.query("query", "SELECT PermissionSetId FROM PermissionSetAssignment WHERE AssigneeId = '"+b.s.UserID()+"'")
	b.do("POST", "sobjects/FieldPermissions", map[string]any{"ParentId": p.Records[0]["PermissionSetId"], "SobjectType": "Task", "Field": "Task.HealthSync_Key__c", "PermissionsEdit": true, "PermissionsRead": true})
	r := b.do("PATCH", "sobjects/Task/HealthSync_Key__c/acct1-flag-1", map[string]any{"Subject": "Reach an executive"})
	var res saveResult
	r.json(t, &res)
	if r.status != 201 || res.Created == nil || !*res.Created {
		t.Fatalf("upsert create: %d %s", r.status, r.body)
	}
	r = b.do("PATCH", "sobjects/Task/HealthSync_Key__c/acct1-flag-1", map[string]any{"Subject": "Reach an executive now"})
	var res2 saveResult
	r.json(t, &res2)
	if r.status != 200 || res2.ID != res.ID || *res2.Created {
		t.Fatalf("upsert update: %d %s", r.status, r.body)
	}
	if r := b.do("PATCH", "sobjects/Task/Subject/x", map[string]any{"Subject": "y"}); r.status != 404 {
		t.Errorf("upsert on a non-external field: %d", r.status)
	}
}
