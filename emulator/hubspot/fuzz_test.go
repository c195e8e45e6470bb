package hubspot_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"healthsync/emulator/hubspot"
)

// FuzzAPI sends arbitrary bodies to every endpoint: the answer is always a
// client error or success in HubSpot's shape, never a panic or a 5xx.
func FuzzAPI(f *testing.F) {
	srv := hubspot.New(hubspot.Options{RateLimits: hubspot.RateLimits{Disabled: true}})
	company, _ := srv.Create("companies", map[string]string{"name": "Acme"})
	task, _ := srv.Create("tasks", map[string]string{"hs_timestamp": "1760000000000"})
	token := srv.Credentials().PrivateAppToken
	routes := []struct{ method, path string }{
		{"POST", "/crm/v3/objects/companies"},
		{"PATCH", "/crm/v3/objects/companies/" + company},
		{"POST", "/crm/v3/objects/companies/search"},
		{"POST", "/crm/v3/objects/tasks/search"},
		{"POST", "/crm/v3/objects/companies/batch/read"},
		{"POST", "/crm/v3/objects/companies/batch/create"},
		{"POST", "/crm/v3/objects/companies/batch/update"},
		{"POST", "/crm/v3/objects/companies/batch/archive"},
		{"POST", "/crm/v4/associations/tasks/companies/batch/read"},
		{"POST", "/crm/v4/associations/tasks/companies/batch/create"},
		{"POST", "/crm/v4/associations/tasks/companies/batch/archive"},
		{"PUT", "/crm/v4/objects/tasks/" + task + "/associations/companies/" + company},
		{"POST", "/crm/v3/properties/companies"},
		{"PATCH", "/crm/v3/properties/companies/name"},
		{"POST", "/crm/v3/properties/companies/groups"},
		{"POST", "/oauth/v1/token"},
	}
	seeds := []string{
		``, `{}`, `[]`, `null`, `{"inputs":null}`, `{"inputs":[{}]}`, `{"inputs":[{"id":null,"properties":null}]}`,
		`{"properties":{"name":1e999}}`, `{"filterGroups":[{"filters":[{"propertyName":"hs_object_id","operator":"BETWEEN","value":"1e308","highValue":"-1e308"}]}]}`,
		`{"filterGroups":[{"filters":[{"propertyName":"createdate","operator":"IN","values":[null,"x",1]}]}],"sorts":[null],"limit":-1,"after":"-5"}`,
		`{"inputs":[{"from":{"id":"1"},"to":[{"id":"x"}],"types":[{"associationTypeId":-1}]}]}`,
		`[{"associationCategory":"USER_DEFINED","associationTypeId":192}]`,
		`{"name":"x","label":"y","type":"enumeration","fieldType":"select","groupName":"companyinformation","options":[{}]}`,
		`{"limit": "9999999999999999999999"}`, `{"after": 1e3}`, "\x00\xff", `{"properties":{"hs_timestamp":"9999999999999999999999"}}`,
	}
	for i, s := range seeds {
		for r := range routes {
			f.Add(uint8((i+r)%len(routes)), s)
		}
	}
	ts := httptest.NewServer(srv)
	f.Cleanup(ts.Close)
	f.Fuzz(func(t *testing.T, route uint8, body string) {
		rt := routes[int(route)%len(routes)]
		req, err := http.NewRequest(rt.method, ts.URL+rt.path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("%s %s with %q: status %d", rt.method, rt.path, body, resp.StatusCode)
		}
	})
}
