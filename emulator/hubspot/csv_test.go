package hubspot_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadCSVDir(t *testing.T) {
	t.Parallel()
	b := setup(t, noLimits())
	dir := writeFiles(t, map[string]string{
		"companies.csv": "hs_object_id,name,domain,numberofemployees,createdate,hs_lastmodifieddate\n" +
			"501,Acme,acme.test,120,2025-01-01T00:00:00Z,2025-06-01T00:00:00Z\n" +
			"502,Beta,beta.test,,2025-02-01T00:00:00Z,\n",
		"contacts.csv": "hs_object_id,email,firstname,jobtitle,associations.companies\n" +
			"601,ann@acme.test,Ann,VP Engineering,501\n",
		"calls.csv": "hs_timestamp,hs_call_direction,associations.companies,associations.contacts\n" +
			"2025-05-05T10:00:00Z,INBOUND,501;502,601\n",
	})
	if err := b.srv.LoadCSVDir(dir); err != nil {
		t.Fatal(err)
	}
	acme, err := b.srv.Record("companies", "501")
	if err != nil || acme.Properties["name"] != "Acme" || acme.UpdatedAt.Format("2006-01-02") != "2025-06-01" {
		t.Fatalf("acme = %+v, %v", acme, err)
	}
	ann, _ := b.srv.Record("contacts", "601")
	if ann.Properties["associatedcompanyid"] != "501" {
		t.Fatalf("contact primary company = %q", ann.Properties["associatedcompanyid"])
	}
	calls, _ := b.srv.Records("calls")
	if len(calls) != 1 {
		t.Fatalf("calls = %d", len(calls))
	}
	links, _ := b.srv.Associations("calls", calls[0].ID, "companies")
	if len(links) != 2 {
		t.Fatalf("call associations = %+v", links)
	}
	// Loaded records are served and searchable by their history.
	r := b.call("POST", "/crm/v3/objects/companies/search", searchBody([][]filter{{{"propertyName": "hs_lastmodifieddate", "operator": "LT", "value": "2025-03-01T00:00:00Z"}}}, nil)).must(t, 200)
	if got := ids(r); len(got) != 1 || got[0] != "502" {
		t.Fatalf("search over loaded history = %v", got)
	}
	// New records get ids above the loaded ones.
	if err := b.srv.LoadCSV("companies", strings.NewReader("hs_object_id,name\n5000,Big\n")); err != nil {
		t.Fatal(err)
	}
	if id := b.create("companies", map[string]string{"name": "New"}); id != "5001" {
		t.Fatalf("new id %s, want 5001 (above the loaded ids)", id)
	}
}

func TestLoadCSVErrors(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		files map[string]string
		want  string
	}{
		"not a property name": {map[string]string{"companies.csv": "name,Favourite Colour\nAcme,red\n"}, `column 2 "Favourite Colour"`},
		"bad value":           {map[string]string{"companies.csv": "name,numberofemployees\nAcme,many\n"}, "line 2"},
		"ragged row":          {map[string]string{"companies.csv": "name,domain\nAcme\n"}, "line 2"},
		"bad assoc type":      {map[string]string{"contacts.csv": "email,associations.widgets\na@b.c,1\n"}, "widgets"},
		"missing target":      {map[string]string{"contacts.csv": "email,associations.companies\na@b.c,999\n"}, "line 2"},
		"no files at all":     {map[string]string{"readme.txt": "x"}, "no <object>.csv files"},
		"bad id":              {map[string]string{"companies.csv": "hs_object_id,name\nabc,Acme\n"}, "hs_object_id"},
	}
	for name, tc := range cases {
		b := setup(t, noLimits())
		err := b.srv.LoadCSVDir(writeFiles(t, tc.files))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to mention %q", name, err, tc.want)
		}
	}
	b := setup(t, noLimits())
	if err := b.srv.LoadCSV("companies", strings.NewReader("name\nSolo\n")); err != nil {
		t.Fatal(err)
	}
	if b.srv.Count("companies") != 1 {
		t.Fatal("LoadCSV loaded nothing")
	}
	if err := b.srv.LoadCSV("widgets", strings.NewReader("name\nx\n")); err == nil {
		t.Fatal("LoadCSV accepted an unknown object type")
	}
}

// TestLoadExportColumnsAndHistory loads an export with properties the
// portal lacks (added with inferred types), a property history file and
// files the emulator does not serve, and reads it back over the API.
func TestLoadExportColumnsAndHistory(t *testing.T) {
	t.Parallel()
	b := setup(t, noLimits())
	dir := writeFiles(t, map[string]string{
		"companies.csv": "hs_object_id,name,csat_score,is_strategic,go_live,last_qbr_at,tier,createdate,hs_lastmodifieddate\n" +
			"501,Acme,4.5,true,2024-03-01,2025-05-05T10:00:00Z,gold,2024-01-01T00:00:00Z,2025-06-01T00:00:00Z\n" +
			"502,Beta,3,false,,,silver,2024-02-01T00:00:00Z,2025-06-01T00:00:00Z\n",
		"companies_property_history.csv": "hs_object_id,property,value,timestamp,sourceType,sourceId,updatedByUserId\n" +
			"501,csat_score,3.5,2025-01-10T09:00:00Z,CRM_UI,userId:77,77\n" +
			"501,csat_score,4.5,2025-04-10T09:00:00Z,CRM_UI,userId:77,77\n" +
			"501,tier,silver,2024-01-01T00:00:00Z,IMPORT,,\n" +
			"999,tier,gold,2024-01-01T00:00:00Z,IMPORT,,\n",
		"tickets.csv": "hs_object_id,subject\n1,x\n",
	})
	var out strings.Builder
	if err := b.srv.LoadExport(dir, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"skipped tickets.csv",
		"companies.csv: added 5 custom company properties: csat_score (number), is_strategic (bool), go_live (date), last_qbr_at (datetime), tier (string)",
		"companies_property_history.csv: skipped 1 entries of companies not loaded",
		"loaded 2 companies\nloaded 3 companies property history entries\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	p := b.call("GET", "/crm/v3/properties/companies/csat_score", nil).must(t, 200)
	if p.str("type") != "number" || p.str("fieldType") != "number" {
		t.Errorf("csat_score property %s", p.raw)
	}
	r := b.call("GET", "/crm/v3/objects/companies/501?properties=csat_score,is_strategic,go_live,tier&propertiesWithHistory=csat_score,tier", nil).must(t, 200)
	if pr := props(r.body); pr["csat_score"] != "4.5" || pr["is_strategic"] != "true" || pr["go_live"] != "2024-03-01" {
		t.Errorf("properties %v", pr)
	}
	if got := strings.Join(historyOf(t, r.body, "csat_score"), " "); got != "4.5@2025-04-10T09:00:00.000Z/CRM_UI 3.5@2025-01-10T09:00:00.000Z/CRM_UI" {
		t.Errorf("csat_score history %s", got)
	}
	// The file's newest tier is not the current one: the current value
	// is recorded at the record's modified date.
	if got := strings.Join(historyOf(t, r.body, "tier"), " "); got != "gold@2025-06-01T00:00:00.000Z/IMPORT silver@2024-01-01T00:00:00.000Z/IMPORT" {
		t.Errorf("tier history %s", got)
	}
	// A loaded record without a history file shows its value as loaded.
	r = b.call("GET", "/crm/v3/objects/companies/502?propertiesWithHistory=tier", nil).must(t, 200)
	if got := strings.Join(historyOf(t, r.body, "tier"), " "); got != "silver@2024-02-01T00:00:00.000Z/IMPORT" {
		t.Errorf("502 tier history %s", got)
	}
}
