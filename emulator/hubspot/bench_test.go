package hubspot_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"healthsync/crm"
	"healthsync/emulator/hubspot"
)

// BenchmarkSearchPage200 serves one 200-record page of an incremental
// search (modified-date window, sorted by it, offset paging) over 20,000
// companies, over real HTTP.
func BenchmarkSearchPage200(b *testing.B) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	filterGroups := []map[string]any{{"filters": []map[string]any{
		{"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": strconv.FormatInt(base.Add(time.Hour).UnixMilli(), 10)},
	}}}
	benchSearch(b, base, filterGroups, "400")
}

// BenchmarkSearchKeysetPage200 serves the keyset page the HubSpot connector
// asks for: (modified = T AND id > L) OR (modified > T), sorted by the
// modified date.
func BenchmarkSearchKeysetPage200(b *testing.B) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	t := strconv.FormatInt(base.Add(time.Hour).UnixMilli(), 10)
	filterGroups := []map[string]any{
		{"filters": []map[string]any{
			{"propertyName": "hs_lastmodifieddate", "operator": "EQ", "value": t},
			{"propertyName": "hs_object_id", "operator": "GT", "value": "1"}}},
		{"filters": []map[string]any{{"propertyName": "hs_lastmodifieddate", "operator": "GT", "value": t}}},
	}
	benchSearch(b, base, filterGroups, "")
}

func benchSearch(b *testing.B, base time.Time, filterGroups []map[string]any, after string) {
	srv := hubspot.New(hubspot.Options{Clock: crm.FixedClock(base), RateLimits: hubspot.RateLimits{Disabled: true}})
	for i := 0; i < 20000; i++ {
		mod := base.Add(time.Duration(i/4) * time.Second) // four records per timestamp
		if _, err := srv.Create("companies", map[string]string{
			"name": fmt.Sprintf("Company %d", i), "domain": fmt.Sprintf("c%d.test", i),
			"createdate": crm.FormatMillis(mod), "hs_lastmodifieddate": crm.FormatMillis(mod),
		}); err != nil {
			b.Fatal(err)
		}
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	body, _ := json.Marshal(map[string]any{
		"filterGroups": filterGroups,
		"sorts":        []map[string]string{{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}},
		"properties":   []string{"name", "domain"},
		"limit":        200,
		"after":        after,
	})
	token := srv.Credentials().PrivateAppToken
	client := ts.Client()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req, _ := http.NewRequest("POST", ts.URL+"/crm/v3/objects/companies/search", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		var out struct {
			Results []json.RawMessage `json:"results"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 || len(out.Results) != 200 {
			b.Fatalf("status %d, %d results, %v", resp.StatusCode, len(out.Results), err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
