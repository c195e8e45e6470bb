package hubspot_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"healthsync/emulator/hubspot"
)

// ClientLines give another client what it needs to call the CRM API at
// once, labelled as not for healthsync: the base URL and a token.
func TestClientLines(t *testing.T) {
	t.Parallel()
	srv := hubspot.New(hubspot.Options{RateLimits: hubspot.RateLimits{Disabled: true}})
	if _, err := srv.Create("companies", map[string]string{"name": "Acme"}); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	lines := srv.ClientLines(ts.URL + "/")
	if !strings.HasPrefix(lines[0], "# For other clients") {
		t.Errorf("the client lines are not labelled for other clients: %q", lines[0])
	}
	env := map[string]string{}
	for _, l := range lines {
		if k, v, ok := strings.Cut(l, "="); ok && !strings.HasPrefix(l, "#") {
			if strings.HasPrefix(k, "HEALTHSYNC_") {
				t.Errorf("client line %s would configure healthsync", k)
			}
			env[k] = v
		}
	}
	req, err := http.NewRequest("GET", env["EMULATOR_HUBSPOT_BASE_URL"]+"/crm/v3/objects/companies?limit=10&properties=name", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+env["EMULATOR_HUBSPOT_ACCESS_TOKEN"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct {
		Results []struct {
			Properties map[string]string `json:"properties"`
		} `json:"results"`
	}
	if resp.StatusCode != 200 {
		t.Fatalf("list companies with the client lines: HTTP %d", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		t.Fatal(err)
	}
	if len(page.Results) != 1 || page.Results[0].Properties["name"] != "Acme" {
		t.Errorf("companies = %+v, want Acme", page.Results)
	}
}
