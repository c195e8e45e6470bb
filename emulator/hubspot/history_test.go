package hubspot_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"healthsync/crm"
	"healthsync/emulator/gen"
	"healthsync/emulator/hubspot"
)

// historyOf returns propertiesWithHistory[name] of a record as
// "value@timestamp/sourceType" strings, newest first.
func historyOf(t *testing.T, rec map[string]any, name string) []string {
	t.Helper()
	pwh, ok := rec["propertiesWithHistory"].(map[string]any)
	if !ok {
		t.Fatalf("no propertiesWithHistory in %v", rec)
	}
	list, ok := pwh[name].([]any)
	if !ok {
		return nil
	}
	var out []string
	for _, e := range list {
		m := e.(map[string]any)
		out = append(out, fmt.Sprintf("%v@%v/%v", m["value"], m["timestamp"], m["sourceType"]))
	}
	return out
}

// TestPropertiesWithHistory checks that every write records history and
// that single, list and batch reads return it newest first, while search
// does not.
func TestPropertiesWithHistory(t *testing.T) {
	t.Parallel()
	b := setup(t, noLimits())
	b.call("POST", "/crm/v3/properties/companies", map[string]any{"name": "arr", "label": "ARR", "type": "number", "fieldType": "number", "groupName": "companyinformation"}).must(t, 201)
	id := b.create("companies", map[string]string{"name": "Acme", "arr": "1000"}) // 12:00
	b.clock.Add(time.Hour)
	b.call("PATCH", "/crm/v3/objects/companies/"+id, map[string]any{"properties": map[string]string{"arr": "1500", "domain": "acme.example"}}).must(t, 200)
	b.clock.Add(time.Hour)
	b.call("POST", "/crm/v3/objects/companies/batch/update", map[string]any{"inputs": []any{map[string]any{"id": id, "properties": map[string]string{"arr": "1800"}}}}).must(t, 200)
	b.clock.Add(time.Hour)
	b.call("PATCH", "/crm/v3/objects/companies/"+id, map[string]any{"properties": map[string]string{"arr": "1800"}}).must(t, 200) // no change
	if err := b.srv.Update("companies", id, map[string]string{"domain": ""}); err != nil {                                        // a user clears it
		t.Fatal(err)
	}
	wantARR := "1800@2026-01-15T14:00:00.000Z/INTEGRATION 1500@2026-01-15T13:00:00.000Z/INTEGRATION 1000@2026-01-15T12:00:00.000Z/INTEGRATION"
	wantDomain := "@2026-01-15T15:00:00.000Z/CRM_UI acme.example@2026-01-15T13:00:00.000Z/INTEGRATION"
	wantName := "Acme@2026-01-15T12:00:00.000Z/INTEGRATION"

	one := b.call("GET", "/crm/v3/objects/companies/"+id+"?propertiesWithHistory=arr,domain,name,nosuchprop&properties=arr", nil).must(t, 200)
	batch := b.call("POST", "/crm/v3/objects/companies/batch/read", map[string]any{"inputs": []any{map[string]any{"id": id}}, "propertiesWithHistory": []string{"arr", "domain", "name"}}).must(t, 200)
	list := b.call("GET", "/crm/v3/objects/companies?limit=50&propertiesWithHistory=arr&propertiesWithHistory=domain,name", nil).must(t, 200)
	for what, rec := range map[string]map[string]any{"get": one.body, "batch read": batch.results()[0], "list": list.results()[0]} {
		for prop, want := range map[string]string{"arr": wantARR, "domain": wantDomain, "name": wantName} {
			if got := strings.Join(historyOf(t, rec, prop), " "); got != want {
				t.Errorf("%s: %s history\n %s\nwant\n %s", what, prop, got, want)
			}
		}
	}
	if _, ok := one.body["propertiesWithHistory"].(map[string]any)["nosuchprop"]; ok {
		t.Error("an unknown property came back with history")
	}
	// An API change names the app; a user's names the user.
	entries := one.body["propertiesWithHistory"].(map[string]any)["domain"].([]any)
	if ui := entries[0].(map[string]any); ui["sourceId"] != "userId:9000101" || ui["updatedByUserId"] != 9000101.0 {
		t.Errorf("UI change %v", ui)
	}
	if api := entries[1].(map[string]any); api["sourceId"] == nil || api["updatedByUserId"] != nil {
		t.Errorf("API change %v", api)
	}
	// Without the parameter, no history.
	if plain := b.call("GET", "/crm/v3/objects/companies/"+id, nil).must(t, 200); plain.body["propertiesWithHistory"] != nil {
		t.Error("history without propertiesWithHistory")
	}
	// Search ignores propertiesWithHistory.
	found := b.call("POST", "/crm/v3/objects/companies/search", map[string]any{"propertiesWithHistory": []string{"arr"}, "properties": []string{"arr"}}).must(t, 200)
	if r := found.results(); len(r) != 1 || r[0]["propertiesWithHistory"] != nil {
		t.Errorf("search: %s", found.raw)
	}
}

// TestPropertiesWithHistoryLimits: reads with history are capped at 50
// records, as HubSpot caps them.
func TestPropertiesWithHistoryLimits(t *testing.T) {
	t.Parallel()
	b := setup(t, noLimits())
	var inputs []any
	for i := 0; i < 51; i++ {
		inputs = append(inputs, map[string]any{"id": b.create("contacts", map[string]string{"email": fmt.Sprintf("p%d@example.com", i)})})
	}
	cases := []struct {
		name   string
		method string
		path   string
		body   any
		status int
	}{
		{"list of 51 with history", "GET", "/crm/v3/objects/contacts?limit=51&propertiesWithHistory=email", nil, 400},
		{"list of 50 with history", "GET", "/crm/v3/objects/contacts?limit=50&propertiesWithHistory=email", nil, 200},
		{"list of 100 without", "GET", "/crm/v3/objects/contacts?limit=100", nil, 200},
		{"batch of 51 with history", "POST", "/crm/v3/objects/contacts/batch/read", map[string]any{"inputs": inputs, "propertiesWithHistory": []string{"email"}}, 400},
		{"batch of 50 with history", "POST", "/crm/v3/objects/contacts/batch/read", map[string]any{"inputs": inputs[:50], "propertiesWithHistory": []string{"email"}}, 200},
		{"batch of 51 without", "POST", "/crm/v3/objects/contacts/batch/read", map[string]any{"inputs": inputs, "properties": []string{"email"}}, 200},
	}
	for _, tc := range cases {
		r := b.call(tc.method, tc.path, tc.body)
		if tc.status == 400 {
			r.expectError(t, 400, "VALIDATION_ERROR")
			if strings.Contains(tc.path, "batch") && !strings.Contains(r.str("message"), "The maximum number of inputs supported in a batch request for property histories is 50") {
				t.Errorf("%s: %s", tc.name, r.raw)
			}
			continue
		}
		if r.status != tc.status {
			t.Errorf("%s: %d %s", tc.name, r.status, r.raw)
		}
	}
}

// TestGeneratedPortalHistory: a generated portal's companies and deals
// carry the generator's history, ending at today's values, and the
// modified date is not older than the newest change.
func TestGeneratedPortalHistory(t *testing.T) {
	t.Parallel()
	org, err := gen.Generate(gen.Options{Seed: 4, Accounts: 30})
	if err != nil {
		t.Fatal(err)
	}
	b := setup(t, hubspot.Options{Clock: crm.FixedClock(org.Now), RateLimits: hubspot.RateLimits{Disabled: true}})
	ids, err := b.srv.LoadOrg(org)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"arr", "adoption_rate", "adoption_rate_previous", "csm_sentiment", "nps_score", "renewal_date", "churned", "lifecyclestage"}
	var inputs []any
	for i, a := range org.Accounts {
		if !a.Deleted {
			inputs = append(inputs, map[string]any{"id": strconv.FormatInt(ids.Companies[i], 10)})
		}
	}
	r := b.call("POST", "/crm/v3/objects/companies/batch/read", map[string]any{"inputs": inputs, "properties": names, "propertiesWithHistory": names}).must(t, 200)
	changed := 0
	for _, rec := range r.results() {
		cur := rec["properties"].(map[string]any)
		for _, p := range names {
			h := rec["propertiesWithHistory"].(map[string]any)[p].([]any)
			if cur[p] == nil {
				continue
			}
			if len(h) == 0 || h[0].(map[string]any)["value"] != cur[p] {
				t.Errorf("company %v: %s is %v, newest history %v", rec["id"], p, cur[p], h)
			}
			if len(h) > 1 {
				changed++
			}
			if at := h[0].(map[string]any)["timestamp"].(string); at > rec["updatedAt"].(string) {
				t.Errorf("company %v: updatedAt %v before its newest change %s", rec["id"], rec["updatedAt"], at)
			}
		}
	}
	if changed < 30 {
		t.Errorf("only %d properties with more than one value in 30 companies", changed)
	}
	deal := b.call("GET", "/crm/v3/objects/deals/"+strconv.FormatInt(ids.Deals[0], 10)+"?propertiesWithHistory=dealstage,amount,closedate&properties=dealstage", nil).must(t, 200)
	stages := historyOf(t, deal.body, "dealstage")
	if len(stages) < 2 || !strings.HasPrefix(stages[0], props(deal.body)["dealstage"].(string)+"@") {
		t.Errorf("deal stages %v, current %v", stages, props(deal.body)["dealstage"])
	}
}
