package hubspot_test

import (
	"errors"
	"testing"
	"time"

	"healthsync/crm"
	"healthsync/emulator/hubspot"
)

func TestIDPropertyGroupPatchAndLabelArchive(t *testing.T) {
	t.Parallel()
	b := setup(t, noLimits())
	id := b.create("contacts", map[string]string{"email": "ann@acme.test", "firstname": "Ann"})
	r := b.call("GET", "/crm/v3/objects/contacts/ann@acme.test?idProperty=email&properties=firstname", nil).must(t, 200)
	if r.str("id") != id || props(r.body)["firstname"] != "Ann" {
		t.Fatalf("get by email = %s", r.raw)
	}
	b.call("PATCH", "/crm/v3/objects/contacts/ann@acme.test?idProperty=email", map[string]any{"properties": map[string]string{"jobtitle": "CFO"}}).must(t, 200)
	if rec, _ := b.srv.Record("contacts", id); rec.Properties["jobtitle"] != "CFO" {
		t.Fatalf("update by email did not write: %v", rec.Properties)
	}
	br := b.call("POST", "/crm/v3/objects/contacts/batch/read", map[string]any{"idProperty": "email", "inputs": []map[string]string{{"id": "ann@acme.test"}}}).must(t, 200)
	if len(br.results()) != 1 {
		t.Fatalf("batch read by email = %s", br.raw)
	}

	b.call("POST", "/crm/v3/properties/contacts/groups", map[string]any{"name": "hs_extra", "label": "Extra"}).must(t, 201)
	g := b.call("PATCH", "/crm/v3/properties/contacts/groups/hs_extra", map[string]any{"label": "Renamed", "displayOrder": 3}).must(t, 200)
	if g.str("label") != "Renamed" || g.body["displayOrder"] != float64(3) {
		t.Fatalf("group patch = %s", g.raw)
	}
	b.call("DELETE", "/crm/v3/properties/contacts/groups/contactinformation", nil).expectError(t, 400, "VALIDATION_ERROR")

	company := b.create("companies", map[string]string{"name": "Acme"})
	b.call("PUT", "/crm/v4/objects/contacts/"+id+"/associations/default/companies/"+company, nil).must(t, 200)
	// Remove only the Primary label: the unlabelled association stays.
	b.call("POST", "/crm/v4/associations/contacts/companies/batch/labels/archive", map[string]any{"inputs": []map[string]any{
		{"from": map[string]string{"id": id}, "to": map[string]string{"id": company},
			"types": []map[string]any{{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}}},
	}}).must(t, 204)
	got, _ := b.srv.Associations("contacts", id, "companies")
	if len(got) != 1 || len(got[0].TypeIDs) != 1 || got[0].TypeIDs[0] != 279 {
		t.Fatalf("after removing the Primary label: %+v", got)
	}
	inverse, _ := b.srv.Associations("companies", company, "contacts")
	if len(inverse) != 1 || len(inverse[0].TypeIDs) != 1 || inverse[0].TypeIDs[0] != 280 {
		t.Fatalf("inverse after removing the Primary label: %+v", inverse)
	}
}

func TestInProcessEdits(t *testing.T) {
	t.Parallel()
	b := setup(t, noLimits())
	company, _ := b.srv.Create("companies", map[string]string{"name": "Acme"})
	other, _ := b.srv.Create("companies", map[string]string{"name": "Beta"})
	note, _ := b.srv.Create("notes", map[string]string{"hs_timestamp": "2026-01-01T00:00:00Z", "hs_note_body": "kickoff"})
	if err := b.srv.Associate("notes", note, "companies", company); err != nil {
		t.Fatal(err)
	}
	before, _ := b.srv.Record("notes", note)
	b.clock.Add(time.Hour)
	if err := b.srv.Unassociate("notes", note, "companies", company); err != nil {
		t.Fatal(err)
	}
	if err := b.srv.Associate("notes", note, "companies", other); err != nil {
		t.Fatal(err)
	}
	after, _ := b.srv.Record("notes", note)
	if !after.UpdatedAt.Equal(before.UpdatedAt) {
		t.Fatal("re-associating a note moved its modified date")
	}
	if err := b.srv.Update("companies", company, map[string]string{"industry": "Retail"}); err != nil {
		t.Fatal(err)
	}
	rec, _ := b.srv.Record("companies", company)
	if !rec.UpdatedAt.Equal(b.clock.Now()) || rec.Properties["industry"] != "Retail" {
		t.Fatalf("after Update: %+v", rec)
	}
	if err := b.srv.Update("companies", company, map[string]string{"nope": "x"}); err == nil {
		t.Fatal("Update accepted an unknown property")
	}
	if err := b.srv.Archive("companies", company); err != nil {
		t.Fatal(err)
	}
	if err := b.srv.Archive("companies", company); !errors.Is(err, hubspot.ErrNotFound) {
		t.Fatalf("second archive: %v", err)
	}
	if _, err := b.srv.Records("widgets"); !errors.Is(err, hubspot.ErrUnknownObjectType) {
		t.Fatalf("Records(widgets): %v", err)
	}
	r := b.call("POST", "/crm/v3/objects/companies/search", searchBody([][]filter{{{"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": crm.FormatMillis(b.clock.Now())}}}, nil)).must(t, 200)
	if r.body["total"] != float64(0) {
		t.Fatalf("archived company still searchable: %s", r.raw)
	}
}
