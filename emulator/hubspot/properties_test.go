package hubspot_test

import (
	"testing"
)

func TestPropertiesAndGroups(t *testing.T) {
	t.Parallel()
	b := setup(t, noLimits())
	list := b.call("GET", "/crm/v3/properties/companies", nil).must(t, 200)
	found := false
	for _, p := range list.results() {
		if p["name"] == "hs_lastmodifieddate" && p["type"] == "datetime" {
			found = true
		}
	}
	if !found {
		t.Fatalf("company properties lack hs_lastmodifieddate: %s", list.raw)
	}
	id := b.create("companies", map[string]string{"name": "Acme"})
	// Writing a property before it exists fails.
	b.call("PATCH", "/crm/v3/objects/companies/"+id, map[string]any{"properties": map[string]string{"health_score": "72"}}).
		expectError(t, 400, "VALIDATION_ERROR")

	b.call("POST", "/crm/v3/properties/companies/groups", map[string]any{"name": "healthsync", "label": "Customer health"}).must(t, 201)
	b.call("POST", "/crm/v3/properties/companies/groups", map[string]any{"name": "healthsync", "label": "again"}).expectError(t, 409, "OBJECT_ALREADY_EXISTS")
	b.call("GET", "/crm/v3/properties/companies/groups/healthsync", nil).must(t, 200)
	groups := b.call("GET", "/crm/v3/properties/companies/groups", nil).must(t, 200)
	if len(groups.results()) != 2 {
		t.Fatalf("groups = %s", groups.raw)
	}

	score := map[string]any{"name": "health_score", "label": "Health Score", "type": "number", "fieldType": "number", "groupName": "healthsync"}
	created := b.call("POST", "/crm/v3/properties/companies", score).must(t, 201)
	if created.str("name") != "health_score" || created.str("groupName") != "healthsync" {
		t.Fatalf("created property = %s", created.raw)
	}
	b.call("POST", "/crm/v3/properties/companies", score).expectError(t, 409, "OBJECT_ALREADY_EXISTS")
	grade := map[string]any{"name": "health_grade", "label": "Health Grade", "type": "enumeration", "fieldType": "select", "groupName": "healthsync",
		"options": []map[string]any{{"label": "A", "value": "A"}, {"label": "B", "value": "B"}}}
	b.call("POST", "/crm/v3/properties/companies", grade).must(t, 201)

	// Created properties become writable, with their type enforced.
	b.call("PATCH", "/crm/v3/objects/companies/"+id, map[string]any{"properties": map[string]any{"health_score": 72, "health_grade": "B"}}).must(t, 200)
	b.call("PATCH", "/crm/v3/objects/companies/"+id, map[string]any{"properties": map[string]any{"health_score": "high"}}).expectError(t, 400, "VALIDATION_ERROR")
	b.call("PATCH", "/crm/v3/objects/companies/"+id, map[string]any{"properties": map[string]any{"health_grade": "Z"}}).expectError(t, 400, "VALIDATION_ERROR")
	got := b.call("GET", "/crm/v3/objects/companies/"+id+"?properties=health_score,health_grade", nil).must(t, 200)
	if p := props(got.body); p["health_score"] != "72" || p["health_grade"] != "B" {
		t.Fatalf("written custom properties = %v", p)
	}
	// Search sees them too.
	s := b.call("POST", "/crm/v3/objects/companies/search", searchBody([][]filter{{{"propertyName": "health_score", "operator": "GTE", "value": "70"}}}, nil)).must(t, 200)
	if s.body["total"] != float64(1) {
		t.Fatalf("search on a custom property = %s", s.raw)
	}

	upd := b.call("PATCH", "/crm/v3/properties/companies/health_score", map[string]any{"label": "Health score (0-100)"}).must(t, 200)
	if upd.str("label") != "Health score (0-100)" {
		t.Fatalf("updated property = %s", upd.raw)
	}
	b.call("GET", "/crm/v3/properties/companies/health_score", nil).must(t, 200)
	b.call("DELETE", "/crm/v3/properties/companies/health_score", nil).must(t, 204)
	b.call("GET", "/crm/v3/properties/companies/health_score", nil).expectError(t, 404, "OBJECT_NOT_FOUND")
	b.call("GET", "/crm/v3/properties/companies/health_score?archived=true", nil).must(t, 200)
	b.call("PATCH", "/crm/v3/objects/companies/"+id, map[string]any{"properties": map[string]any{"health_score": 1}}).expectError(t, 400, "VALIDATION_ERROR")
	b.call("DELETE", "/crm/v3/properties/companies/name", nil).expectError(t, 400, "VALIDATION_ERROR")

	bad := []map[string]any{
		{"name": "x", "label": "X", "type": "number", "fieldType": "number"},                                   // no group
		{"name": "Bad Name", "label": "X", "type": "number", "fieldType": "number", "groupName": "healthsync"}, // bad name
		{"name": "x", "label": "X", "type": "money", "fieldType": "number", "groupName": "healthsync"},         // bad type
		{"name": "x", "label": "X", "type": "number", "fieldType": "select", "groupName": "healthsync"},        // bad combo
		{"name": "x", "label": "X", "type": "enumeration", "fieldType": "select", "groupName": "healthsync"},   // no options
		{"name": "x", "label": "X", "type": "number", "fieldType": "number", "groupName": "nogroup"},           // unknown group
	}
	for _, p := range bad {
		b.call("POST", "/crm/v3/properties/companies", p).expectError(t, 400, "VALIDATION_ERROR")
	}
	b.call("POST", "/crm/v3/properties/companies", `{"name":`).expectError(t, 400, "VALIDATION_ERROR")
	b.call("GET", "/crm/v3/properties/widgets", nil).expectError(t, 400, "OBJECT_NOT_FOUND")
	b.call("DELETE", "/crm/v3/properties/companies/groups/healthsync", nil).must(t, 204)
	b.call("GET", "/crm/v3/properties/companies/groups/healthsync", nil).expectError(t, 404, "OBJECT_NOT_FOUND")
	b.call("GET", "/crm/v3/properties/tasks", nil).must(t, 200)
}
