package hubspot_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestObjectLifecycle(t *testing.T) {
	t.Parallel()
	b := setup(t, noLimits())
	created := b.call("POST", "/crm/v3/objects/companies", map[string]any{
		"properties": map[string]any{"name": "Acme", "domain": "acme.test", "numberofemployees": 250, "annualrevenue": "1e6"},
	}).must(t, 201)
	id := created.str("id")
	p := props(created.body)
	if p["name"] != "Acme" || p["numberofemployees"] != "250" || p["hs_object_id"] != id {
		t.Fatalf("create answer properties = %v", p)
	}
	if p["hs_lastmodifieddate"] != "2026-01-15T12:00:00.000Z" || created.str("createdAt") != "2026-01-15T12:00:00.000Z" {
		t.Fatalf("timestamps = %v / %s", p["hs_lastmodifieddate"], created.str("createdAt"))
	}

	got := b.call("GET", "/crm/v3/objects/companies/"+id+"?properties=name,industry,unknown_prop", nil).must(t, 200)
	gp := props(got.body)
	if gp["name"] != "Acme" || gp["industry"] != nil {
		t.Fatalf("get properties = %v", gp)
	}
	if _, listed := gp["industry"]; !listed {
		t.Fatalf("a requested property without a value must come back as null: %v", gp)
	}
	if _, listed := gp["unknown_prop"]; listed {
		t.Fatalf("unknown requested properties are left out: %v", gp)
	}
	if _, listed := gp["domain"]; listed {
		t.Fatalf("only requested properties come back: %v", gp)
	}

	b.clock.Add(time.Minute)
	upd := b.call("PATCH", "/crm/v3/objects/companies/"+id, map[string]any{"properties": map[string]any{"industry": "Software"}}).must(t, 200)
	if props(upd.body)["hs_lastmodifieddate"] != "2026-01-15T12:01:00.000Z" || upd.str("updatedAt") != "2026-01-15T12:01:00.000Z" {
		t.Fatalf("update did not move the modified date: %s", upd.raw)
	}
	// A write that changes nothing leaves the modified date alone.
	b.clock.Add(time.Minute)
	same := b.call("PATCH", "/crm/v3/objects/companies/"+id, map[string]any{"properties": map[string]any{"industry": "Software"}}).must(t, 200)
	if same.str("updatedAt") != "2026-01-15T12:01:00.000Z" {
		t.Fatalf("no-op update moved the modified date: %s", same.raw)
	}

	b.call("DELETE", "/crm/v3/objects/companies/"+id, nil).must(t, 204)
	b.call("GET", "/crm/v3/objects/companies/"+id, nil).expectError(t, 404, "OBJECT_NOT_FOUND")
	arch := b.call("GET", "/crm/v3/objects/companies/"+id+"?archived=true", nil).must(t, 200)
	if arch.body["archived"] != true || arch.str("archivedAt") == "" {
		t.Fatalf("archived record = %s", arch.raw)
	}
	list := b.call("GET", "/crm/v3/objects/companies?archived=true", nil).must(t, 200)
	if len(list.results()) != 1 {
		t.Fatalf("archived list = %s", list.raw)
	}
	b.call("PATCH", "/crm/v3/objects/companies/"+id, map[string]any{"properties": map[string]any{"name": "x"}}).expectError(t, 404, "OBJECT_NOT_FOUND")
}

func TestListPaging(t *testing.T) {
	t.Parallel()
	b := setup(t, noLimits())
	var ids []string
	for i := 0; i < 25; i++ {
		ids = append(ids, b.create("contacts", map[string]string{"email": fmt.Sprintf("p%d@x.test", i), "jobtitle": "CTO"}))
	}
	var seen []string
	after := ""
	for pages := 0; ; pages++ {
		path := "/crm/v3/objects/contacts?limit=10&properties=jobtitle"
		if after != "" {
			path += "&after=" + after
		}
		r := b.call("GET", path, nil).must(t, 200)
		for _, rec := range r.results() {
			seen = append(seen, rec["id"].(string))
			if props(rec)["jobtitle"] != "CTO" {
				t.Fatalf("record %v lacks the requested property", rec)
			}
		}
		after = r.nextAfter()
		if after == "" {
			if pages != 2 {
				t.Fatalf("pages = %d, want 3", pages+1)
			}
			break
		}
		link := r.body["paging"].(map[string]any)["next"].(map[string]any)["link"].(string)
		if !strings.Contains(link, "after="+after) {
			t.Fatalf("paging link %q lacks after", link)
		}
	}
	if strings.Join(seen, ",") != strings.Join(ids, ",") {
		t.Fatalf("listed %v, want %v", seen, ids)
	}
	b.call("GET", "/crm/v3/objects/contacts?limit=1000", nil).must(t, 200) // capped at 100, not an error
	b.call("GET", "/crm/v3/objects/contacts?limit=abc", nil).expectError(t, 400, "VALIDATION_ERROR")
}

func TestPropertyValidation(t *testing.T) {
	t.Parallel()
	b := setup(t, noLimits())
	id := b.create("companies", map[string]string{"name": "Acme"})
	cases := []struct {
		name  string
		props map[string]any
		code  string
	}{
		{"unknown property", map[string]any{"health_score": "10"}, "PROPERTY_DOESNT_EXIST"},
		{"text into number", map[string]any{"numberofemployees": "many"}, "INVALID_DECIMAL"},
		{"bad option", map[string]any{"lifecyclestage": "vip"}, "INVALID_OPTION"},
		{"bad datetime", map[string]any{"notes_last_contacted": "yesterday"}, "INVALID_DATETIME"},
		{"read only", map[string]any{"hs_lastmodifieddate": "1700000000000"}, "READ_ONLY_VALUE"},
		{"unknown owner", map[string]any{"hubspot_owner_id": "999999"}, "INVALID_OPTION"},
	}
	for _, tc := range cases {
		r := b.call("PATCH", "/crm/v3/objects/companies/"+id, map[string]any{"properties": tc.props})
		r.expectError(t, 400, "VALIDATION_ERROR")
		if !strings.Contains(r.str("message"), tc.code) {
			t.Errorf("%s: message %q lacks %s", tc.name, r.str("message"), tc.code)
		}
	}
	for name, body := range map[string]string{
		"malformed JSON": `{"properties": {"name": "x"`,
		"empty body":     ``,
		"wrong shape":    `{"properties": ["name"]}`,
		"nested value":   `{"properties": {"name": {"a": 1}}}`,
	} {
		r := b.call("PATCH", "/crm/v3/objects/companies/"+id, body)
		if r.status != 400 || r.str("category") != "VALIDATION_ERROR" {
			t.Errorf("%s: %d %s", name, r.status, r.raw)
		}
	}
	b.call("GET", "/crm/v3/objects/widgets", nil).expectError(t, 400, "OBJECT_NOT_FOUND")
	b.call("GET", "/crm/v3/objects/companies/notanumber", nil).expectError(t, 404, "OBJECT_NOT_FOUND")
	b.call("GET", "/crm/v9/nothing", nil).expectError(t, 404, "OBJECT_NOT_FOUND")
	// The record is untouched by all of the above.
	rec, err := b.srv.Record("companies", id)
	if err != nil || rec.Properties["name"] != "Acme" || rec.Properties["numberofemployees"] != "" {
		t.Fatalf("record after rejected writes = %+v, %v", rec, err)
	}
}

func TestEngagementsAndDeals(t *testing.T) {
	t.Parallel()
	b := setup(t, noLimits())
	company := b.create("companies", map[string]string{"name": "Acme"})
	// hs_timestamp is required for activities.
	b.call("POST", "/crm/v3/objects/tasks", map[string]any{"properties": map[string]string{"hs_task_subject": "x"}}).
		expectError(t, 400, "VALIDATION_ERROR")
	task := b.call("POST", "/crm/v3/objects/tasks", map[string]any{
		"properties": map[string]string{"hs_timestamp": "2026-02-01T00:00:00Z", "hs_task_subject": "Call the champion",
			"hs_task_status": "NOT_STARTED", "hs_task_priority": "HIGH"},
		"associations": []map[string]any{{"to": map[string]string{"id": company},
			"types": []map[string]any{{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 192}}}},
	}).must(t, 201)
	if props(task.body)["hs_timestamp"] != "2026-02-01T00:00:00.000Z" || props(task.body)["hs_createdate"] == nil {
		t.Fatalf("task = %s", task.raw)
	}
	tasks := b.srv.CreatedTasks()
	if len(tasks) != 1 || tasks[0].Properties["hs_task_subject"] != "Call the champion" {
		t.Fatalf("CreatedTasks = %+v", tasks)
	}
	as, err := b.srv.Associations("tasks", task.str("id"), "companies")
	if err != nil || len(as) != 1 || as[0].ToID != company || as[0].TypeIDs[0] != 192 {
		t.Fatalf("task associations = %+v, %v", as, err)
	}
	b.call("POST", "/crm/v3/objects/tasks", map[string]any{
		"properties":   map[string]string{"hs_timestamp": "1760000000000"},
		"associations": []map[string]any{{"to": map[string]string{"id": company}, "types": []map[string]any{{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 999}}}},
	}).expectError(t, 400, "VALIDATION_ERROR")

	deal := b.call("POST", "/crm/v3/objects/deals", map[string]any{"properties": map[string]string{
		"dealname": "Renewal 2026", "dealstage": "closedwon", "pipeline": "default", "dealtype": "existingbusiness", "amount": "12000"}}).must(t, 201)
	rec, _ := b.srv.Record("deals", deal.str("id"))
	if rec.Properties["hs_is_closed"] != "true" || rec.Properties["hs_is_closed_won"] != "true" {
		t.Fatalf("closed-won deal flags = %v", rec.Properties)
	}
	b.call("POST", "/crm/v3/objects/deals", map[string]any{"properties": map[string]string{"dealstage": "nowhere"}}).
		expectError(t, 400, "VALIDATION_ERROR")

	b.create("contacts", map[string]string{"email": "a@b.test"})
	b.call("POST", "/crm/v3/objects/contacts", map[string]any{"properties": map[string]string{"email": "A@b.test"}}).
		expectError(t, 409, "CONFLICT")
}

func TestOwnersAndPipelines(t *testing.T) {
	t.Parallel()
	b := setup(t, noLimits())
	id := b.srv.AddOwner("csm@vendor.test", "Casey", "Smith")
	r := b.call("GET", "/crm/v3/owners?limit=1", nil).must(t, 200)
	if len(r.results()) != 1 || r.nextAfter() == "" {
		t.Fatalf("owners page = %s", r.raw)
	}
	r = b.call("GET", "/crm/v3/owners?email=csm@vendor.test", nil).must(t, 200)
	if res := r.results(); len(res) != 1 || res[0]["id"] != id || res[0]["firstName"] != "Casey" {
		t.Fatalf("owners by email = %s", r.raw)
	}
	b.call("GET", "/crm/v3/owners/"+id, nil).must(t, 200)
	b.call("GET", "/crm/v3/owners/424242", nil).expectError(t, 404, "OBJECT_NOT_FOUND")
	// Owner ids are valid values of hubspot_owner_id.
	b.create("companies", map[string]string{"name": "x", "hubspot_owner_id": id})

	p := b.call("GET", "/crm/v3/pipelines/deals", nil).must(t, 200)
	res := p.results()
	if len(res) != 1 || res[0]["id"] != "default" {
		t.Fatalf("pipelines = %s", p.raw)
	}
	stages := res[0]["stages"].([]any)
	won := stages[5].(map[string]any)
	if won["id"] != "closedwon" || won["metadata"].(map[string]any)["isClosed"] != "true" {
		t.Fatalf("closedwon stage = %v", won)
	}
	b.call("GET", "/crm/v3/pipelines/deals/default", nil).must(t, 200)
	b.call("GET", "/crm/v3/pipelines/deals/default/stages", nil).must(t, 200)
	b.call("GET", "/crm/v3/pipelines/deals/nope", nil).expectError(t, 404, "OBJECT_NOT_FOUND")
}
