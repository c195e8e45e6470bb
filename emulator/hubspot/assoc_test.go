package hubspot_test

import (
	"fmt"
	"testing"
	"time"
)

func TestAssociationsV4(t *testing.T) {
	t.Parallel()
	b := setup(t, noLimits())
	acme := b.create("companies", map[string]string{"name": "Acme"})
	beta := b.create("companies", map[string]string{"name": "Beta"})
	contact := b.create("contacts", map[string]string{"email": "c@acme.test"})
	call := b.create("calls", map[string]string{"hs_timestamp": "1760000000000", "hs_call_direction": "INBOUND"})
	task := b.create("tasks", map[string]string{"hs_timestamp": "1760000000000"})
	callBefore, _ := b.srv.Record("calls", call)

	b.clock.Add(time.Hour)
	r := b.call("PUT", "/crm/v4/objects/calls/"+call+"/associations/default/companies/"+acme, nil).must(t, 200)
	if r.str("status") != "COMPLETE" || len(r.results()) != 2 {
		t.Fatalf("default association = %s", r.raw)
	}
	list := b.call("GET", "/crm/v4/objects/calls/"+call+"/associations/companies", nil).must(t, 200)
	res := list.results()
	if len(res) != 1 || res[0]["toObjectId"] != mustFloat(acme) {
		t.Fatalf("call associations = %s", list.raw)
	}
	types := res[0]["associationTypes"].([]any)
	if at := types[0].(map[string]any); at["typeId"] != float64(182) || at["category"] != "HUBSPOT_DEFINED" || at["label"] != nil {
		t.Fatalf("call→company type = %v", at)
	}
	// The inverse exists too.
	inv := b.call("GET", "/crm/v4/objects/companies/"+acme+"/associations/calls", nil).must(t, 200)
	if len(inv.results()) != 1 {
		t.Fatalf("company→call = %s", inv.raw)
	}

	// Re-link the call to another company: its modified date stays put.
	b.clock.Add(time.Hour)
	b.call("DELETE", "/crm/v4/objects/calls/"+call+"/associations/companies/"+acme, nil).must(t, 204)
	b.call("PUT", "/crm/v4/objects/calls/"+call+"/associations/companies/"+beta,
		[]map[string]any{{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 182}}).must(t, 201)
	callAfter, _ := b.srv.Record("calls", call)
	if !callAfter.UpdatedAt.Equal(callBefore.UpdatedAt) || callAfter.Properties["hs_lastmodifieddate"] != callBefore.Properties["hs_lastmodifieddate"] {
		t.Fatalf("re-associating the call changed its modified date: %v → %v", callBefore.UpdatedAt, callAfter.UpdatedAt)
	}
	got, _ := b.srv.Associations("calls", call, "companies")
	if len(got) != 1 || got[0].ToID != beta {
		t.Fatalf("call now associated with %+v, want only %s", got, beta)
	}
	b.call("PUT", "/crm/v4/objects/calls/"+call+"/associations/companies/"+beta,
		[]map[string]any{{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 192}}).expectError(t, 400, "VALIDATION_ERROR")

	// Contact → company by default becomes the primary company.
	b.call("PUT", "/crm/v4/objects/contacts/"+contact+"/associations/default/companies/"+acme, nil).must(t, 200)
	crec, _ := b.srv.Record("contacts", contact)
	if crec.Properties["associatedcompanyid"] != acme {
		t.Fatalf("associatedcompanyid = %q, want %s", crec.Properties["associatedcompanyid"], acme)
	}
	cl := b.call("GET", "/crm/v4/objects/contacts/"+contact+"/associations/companies", nil).must(t, 200)
	if n := len(cl.results()[0]["associationTypes"].([]any)); n != 2 {
		t.Fatalf("contact→company types = %s, want unlabelled and Primary", cl.raw)
	}

	// Labels, with HubSpot's documented type ids.
	for _, tc := range []struct {
		from, to string
		want     float64
	}{{"tasks", "companies", 192}, {"tasks", "contacts", 204}, {"calls", "companies", 182}, {"emails", "companies", 186},
		{"meetings", "companies", 188}, {"notes", "companies", 190}, {"deals", "companies", 341}, {"contacts", "companies", 279},
		{"companies", "contacts", 280}, {"companies", "tasks", 191}} {
		l := b.call("GET", "/crm/v4/associations/"+tc.from+"/"+tc.to+"/labels", nil).must(t, 200)
		if first := l.results()[0]; first["typeId"] != tc.want {
			t.Errorf("%s→%s default type = %v, want %v", tc.from, tc.to, first["typeId"], tc.want)
		}
	}
	b.call("GET", "/crm/v4/associations/calls/emails/labels", nil).expectError(t, 400, "VALIDATION_ERROR")

	// Batch create, read (with a record that has none), archive.
	bc := b.call("POST", "/crm/v4/associations/tasks/companies/batch/create", map[string]any{"inputs": []map[string]any{
		{"from": map[string]string{"id": task}, "to": map[string]string{"id": acme},
			"types": []map[string]any{{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 192}}},
	}}).must(t, 201)
	if len(bc.results()) != 1 {
		t.Fatalf("batch create = %s", bc.raw)
	}
	orphan := b.create("tasks", map[string]string{"hs_timestamp": "1760000000000"})
	br := b.call("POST", "/crm/v4/associations/tasks/companies/batch/read", map[string]any{"inputs": []map[string]string{{"id": task}, {"id": orphan}}}).must(t, 207)
	if len(br.results()) != 1 || br.body["numErrors"] != float64(1) {
		t.Fatalf("batch read = %s", br.raw)
	}
	first := br.results()[0]
	if first["from"].(map[string]any)["id"] != task || first["to"].([]any)[0].(map[string]any)["toObjectId"] != mustFloat(acme) {
		t.Fatalf("batch read result = %v", first)
	}
	b.call("POST", "/crm/v4/associations/tasks/companies/batch/archive", map[string]any{"inputs": []map[string]any{
		{"from": map[string]string{"id": task}, "to": []map[string]string{{"id": acme}}},
	}}).must(t, 204)
	if got, _ := b.srv.Associations("tasks", task, "companies"); len(got) != 0 {
		t.Fatalf("after batch archive: %+v", got)
	}
	b.call("POST", "/crm/v4/associations/tasks/companies/batch/associate/default", map[string]any{"inputs": []map[string]any{
		{"from": map[string]string{"id": task}, "to": map[string]string{"id": beta}},
	}}).must(t, 201)

	// v3 reads show associations on request.
	v3 := b.call("GET", "/crm/v3/objects/tasks/"+task+"?associations=companies", nil).must(t, 200)
	assoc := v3.body["associations"].(map[string]any)["companies"].(map[string]any)["results"].([]any)[0].(map[string]any)
	if assoc["id"] != beta || assoc["type"] != "task_to_company" {
		t.Fatalf("v3 associations = %s", v3.raw)
	}
	b.call("GET", "/crm/v4/objects/tasks/424242/associations/companies", nil).expectError(t, 404, "OBJECT_NOT_FOUND")
	b.call("PUT", "/crm/v4/objects/tasks/"+task+"/associations/default/companies/424242", nil).expectError(t, 404, "OBJECT_NOT_FOUND")
	b.call("PUT", "/crm/v4/objects/tasks/"+task+"/associations/companies/"+acme, `[{"associationTypeId": "x"}]`).expectError(t, 400, "VALIDATION_ERROR")
}

func mustFloat(id string) float64 {
	var f float64
	fmt.Sscan(id, &f)
	return f
}
