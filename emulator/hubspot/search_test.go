package hubspot_test

import (
	"fmt"
	"sort"
	"strconv"
	"testing"
	"time"

	"healthsync/emulator/hubspot"
)

type filter = map[string]any

func searchBody(groups [][]filter, extra map[string]any) map[string]any {
	body := map[string]any{}
	var fg []map[string]any
	for _, g := range groups {
		fg = append(fg, map[string]any{"filters": g})
	}
	if fg != nil {
		body["filterGroups"] = fg
	}
	for k, v := range extra {
		body[k] = v
	}
	return body
}

func ids(r response) []string {
	var out []string
	for _, rec := range r.results() {
		out = append(out, rec["id"].(string))
	}
	return out
}

func TestSearchOperators(t *testing.T) {
	t.Parallel()
	b := setup(t, noLimits())
	mk := func(name, employees, industry string) string {
		p := map[string]string{"name": name, "industry": industry}
		if employees != "" {
			p["numberofemployees"] = employees
		}
		return b.create("companies", p)
	}
	acme := mk("Acme Rockets", "50", "Aerospace")
	beta := mk("Beta Labs", "500", "Biotech")
	gamma := mk("Gamma Rockets", "5000", "")
	b.clock.Add(time.Hour)
	delta := mk("Delta", "", "Software")
	cutoff := strconv.FormatInt(b.clock.Now().UnixMilli(), 10)

	cases := []struct {
		name   string
		groups [][]filter
		want   []string
	}{
		{"EQ case-insensitive", [][]filter{{{"propertyName": "industry", "operator": "EQ", "value": "biotech"}}}, []string{beta}},
		{"NEQ includes missing", [][]filter{{{"propertyName": "industry", "operator": "NEQ", "value": "Biotech"}}}, []string{acme, gamma, delta}},
		{"GT numeric", [][]filter{{{"propertyName": "numberofemployees", "operator": "GT", "value": "50"}}}, []string{beta, gamma}},
		{"GTE numeric", [][]filter{{{"propertyName": "numberofemployees", "operator": "GTE", "value": 50}}}, []string{acme, beta, gamma}},
		{"LT", [][]filter{{{"propertyName": "numberofemployees", "operator": "LT", "value": "500"}}}, []string{acme}},
		{"LTE", [][]filter{{{"propertyName": "numberofemployees", "operator": "LTE", "value": "500"}}}, []string{acme, beta}},
		{"BETWEEN", [][]filter{{{"propertyName": "numberofemployees", "operator": "BETWEEN", "value": "100", "highValue": "5000"}}}, []string{beta, gamma}},
		{"IN", [][]filter{{{"propertyName": "industry", "operator": "IN", "values": []string{"aerospace", "software"}}}}, []string{acme, delta}},
		{"NOT_IN", [][]filter{{{"propertyName": "industry", "operator": "NOT_IN", "values": []string{"aerospace"}}}}, []string{beta, gamma, delta}},
		{"HAS_PROPERTY", [][]filter{{{"propertyName": "industry", "operator": "HAS_PROPERTY"}}}, []string{acme, beta, delta}},
		{"NOT_HAS_PROPERTY", [][]filter{{{"propertyName": "numberofemployees", "operator": "NOT_HAS_PROPERTY"}}}, []string{delta}},
		{"CONTAINS_TOKEN", [][]filter{{{"propertyName": "name", "operator": "CONTAINS_TOKEN", "value": "rockets"}}}, []string{acme, gamma}},
		{"CONTAINS_TOKEN wildcard", [][]filter{{{"propertyName": "name", "operator": "CONTAINS_TOKEN", "value": "Roc*"}}}, []string{acme, gamma}},
		{"datetime GTE epoch ms", [][]filter{{{"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": cutoff}}}, []string{delta}},
		{"datetime LT ISO", [][]filter{{{"propertyName": "createdate", "operator": "LT", "value": "2026-01-15T12:30:00Z"}}}, []string{acme, beta, gamma}},
		{"hs_object_id GT", [][]filter{{{"propertyName": "hs_object_id", "operator": "GT", "value": beta}}}, []string{gamma, delta}},
		{"AND within a group", [][]filter{{
			{"propertyName": "name", "operator": "CONTAINS_TOKEN", "value": "rockets"},
			{"propertyName": "numberofemployees", "operator": "GT", "value": "100"}}}, []string{gamma}},
		{"OR across groups", [][]filter{
			{{"propertyName": "industry", "operator": "EQ", "value": "Software"}},
			{{"propertyName": "numberofemployees", "operator": "EQ", "value": "50"}}}, []string{acme, delta}},
	}
	for _, tc := range cases {
		r := b.call("POST", "/crm/v3/objects/companies/search", searchBody(tc.groups, map[string]any{"limit": 100})).must(t, 200)
		got := ids(r)
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
		if int(r.body["total"].(float64)) != len(tc.want) {
			t.Errorf("%s: total %v, want %d", tc.name, r.body["total"], len(tc.want))
		}
	}

	r := b.call("POST", "/crm/v3/objects/companies/search", map[string]any{
		"sorts": []map[string]string{{"propertyName": "numberofemployees", "direction": "DESCENDING"}}, "properties": []string{"name"}}).must(t, 200)
	if got := fmt.Sprint(ids(r)); got != fmt.Sprint([]string{gamma, beta, acme, delta}) {
		t.Errorf("sort by employees descending = %v", got)
	}
	if p := props(r.results()[0]); p["name"] != "Gamma Rockets" || p["hs_object_id"] != gamma || p["domain"] != nil {
		t.Errorf("requested properties = %v", p)
	}
	r = b.call("POST", "/crm/v3/objects/companies/search", map[string]any{"query": "rock"}).must(t, 200)
	if got := fmt.Sprint(ids(r)); got != fmt.Sprint([]string{acme, gamma}) {
		t.Errorf("query = %v", got)
	}
	if _, ok := props(r.results()[0])["hs_lastmodifieddate"]; !ok {
		t.Errorf("default search properties lack hs_lastmodifieddate: %v", r.results()[0])
	}
}

func TestSearchRejectsBadRequests(t *testing.T) {
	t.Parallel()
	b := setup(t, noLimits())
	f := filter{"propertyName": "name", "operator": "EQ", "value": "x"}
	six := []filter{f, f, f, f, f, f}
	cases := map[string]any{
		"too many groups":       searchBody([][]filter{{f}, {f}, {f}, {f}, {f}, {f}}, nil),
		"too many in a group":   searchBody([][]filter{append(six, f)}, nil),
		"too many in total":     searchBody([][]filter{six, six, six, {f}}, nil),
		"unknown property":      searchBody([][]filter{{{"propertyName": "nope", "operator": "EQ", "value": "x"}}}, nil),
		"unknown operator":      searchBody([][]filter{{{"propertyName": "name", "operator": "LIKE", "value": "x"}}}, nil),
		"missing value":         searchBody([][]filter{{{"propertyName": "name", "operator": "EQ"}}}, nil),
		"IN without values":     searchBody([][]filter{{{"propertyName": "name", "operator": "IN"}}}, nil),
		"BETWEEN without high":  searchBody([][]filter{{{"propertyName": "numberofemployees", "operator": "BETWEEN", "value": "1"}}}, nil),
		"text for a number":     searchBody([][]filter{{{"propertyName": "numberofemployees", "operator": "GT", "value": "lots"}}}, nil),
		"empty group":           map[string]any{"filterGroups": []map[string]any{{"filters": []any{}}}},
		"limit above 200":       map[string]any{"limit": 201},
		"two sorts":             map[string]any{"sorts": []string{"name", "domain"}},
		"unknown sort property": map[string]any{"sorts": []string{"nope"}},
		"bad direction":         map[string]any{"sorts": []map[string]string{{"propertyName": "name", "direction": "UP"}}},
		"non-numeric after":     map[string]any{"after": "abc"},
		"malformed JSON":        `{"filterGroups": [`,
		"filters is not a list": `{"filterGroups": [{"filters": {}}]}`,
	}
	for name, body := range cases {
		r := b.call("POST", "/crm/v3/objects/companies/search", body)
		if r.status != 400 || r.str("category") != "VALIDATION_ERROR" || r.str("status") != "error" {
			t.Errorf("%s: %d %s", name, r.status, r.raw)
		}
	}
	// Exactly at the limits is fine.
	b.call("POST", "/crm/v3/objects/companies/search", searchBody([][]filter{six, six, six}, nil)).must(t, 200)
	b.call("POST", "/crm/v3/objects/widgets/search", map[string]any{}).expectError(t, 400, "OBJECT_NOT_FOUND")
}

// TestSearchCapAndTies loads 15,000 companies sharing one modified
// timestamp: paging one query reaches the 10,000-result cap (and paging past
// it is a 400), and a client that sorts by hs_object_id and filters on it
// reads every record.
func TestSearchCapAndTies(t *testing.T) {
	t.Parallel()
	b := setup(t, noLimits())
	const n = 15000
	for i := 0; i < n; i++ {
		if _, err := b.srv.Create("companies", map[string]string{"name": fmt.Sprintf("Co %05d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	stamp := strconv.FormatInt(b.clock.Now().UnixMilli(), 10)
	byMod := func(after string, extra ...filter) map[string]any {
		fs := append([]filter{{"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": stamp}}, extra...)
		return searchBody([][]filter{fs}, map[string]any{
			"limit": 200, "after": after, "properties": []string{"hs_lastmodifieddate"},
			"sorts": []map[string]string{{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}}})
	}
	// One query pages to the cap.
	after, count := "", 0
	var lastMod string
	for {
		r := b.call("POST", "/crm/v3/objects/companies/search", byMod(after)).must(t, 200)
		if r.body["total"].(float64) != n {
			t.Fatalf("total = %v, want %d", r.body["total"], n)
		}
		count += len(r.results())
		after = r.nextAfter()
		if after == "" || count >= 10000 {
			break
		}
	}
	if count != 10000 || after != "10000" {
		t.Fatalf("paged %d results, next after %q; want 10000 and a next page at 10000", count, after)
	}
	r := b.call("POST", "/crm/v3/objects/companies/search", byMod("10000"))
	r.expectError(t, 400, "VALIDATION_ERROR")
	b.call("POST", "/crm/v3/objects/companies/search", byMod("9900")).must(t, 200)

	// Ties broken on hs_object_id: restart the window after the last id seen.
	seen := map[string]bool{}
	var order []int
	lastID := "0"
	for round := 0; round < 10; round++ {
		after := ""
		got := 0
		windowStart := lastID
		for {
			body := searchBody([][]filter{{
				{"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": stamp},
				{"propertyName": "hs_object_id", "operator": "GT", "value": windowStart},
			}}, map[string]any{"limit": 200, "after": after,
				"sorts": []map[string]string{{"propertyName": "hs_object_id", "direction": "ASCENDING"}}})
			r := b.call("POST", "/crm/v3/objects/companies/search", body).must(t, 200)
			for _, id := range ids(r) {
				if seen[id] {
					t.Fatalf("record %s returned twice", id)
				}
				seen[id] = true
				n, _ := strconv.Atoi(id)
				order = append(order, n)
				lastID = id
				got++
			}
			after = r.nextAfter()
			if after == "" || after == "10000" {
				break
			}
		}
		if got == 0 {
			break
		}
	}
	if len(seen) != n {
		t.Fatalf("read %d distinct records, want %d", len(seen), n)
	}
	if !sort.IntsAreSorted(order) {
		t.Fatal("records did not come in hs_object_id order")
	}

	// Keyset paging without offsets: (modified = T AND id > L) OR (modified > T),
	// sorted by the modified date; ties come in id order.
	keyset := map[string]bool{}
	lastMod, lastID = stamp, "0"
	for pages := 0; pages < 100; pages++ {
		body := searchBody([][]filter{
			{{"propertyName": "hs_lastmodifieddate", "operator": "EQ", "value": lastMod},
				{"propertyName": "hs_object_id", "operator": "GT", "value": lastID}},
			{{"propertyName": "hs_lastmodifieddate", "operator": "GT", "value": lastMod}},
		}, map[string]any{"limit": 200, "properties": []string{"hs_lastmodifieddate"},
			"sorts": []map[string]string{{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}}})
		r := b.call("POST", "/crm/v3/objects/companies/search", body).must(t, 200)
		page := r.results()
		if len(page) == 0 {
			break
		}
		for _, rec := range page {
			id := rec["id"].(string)
			if keyset[id] {
				t.Fatalf("keyset paging returned %s twice", id)
			}
			keyset[id] = true
			lastID = id
		}
	}
	if len(keyset) != n {
		t.Fatalf("keyset paging read %d records, want %d", len(keyset), n)
	}
}

func TestSearchRateLimitHasNoHeaders(t *testing.T) {
	t.Parallel()
	b := setup(t, hubspot.Options{})
	for i := 0; i < 5; i++ {
		r := b.call("POST", "/crm/v3/objects/companies/search", map[string]any{}).must(t, 200)
		if r.header.Get("X-HubSpot-RateLimit-Max") != "" {
			t.Fatalf("search answers carry no rate-limit headers, got %v", r.header)
		}
	}
	r := b.call("POST", "/crm/v3/objects/companies/search", map[string]any{}).must(t, 429)
	if r.str("message") != "You have reached your secondly limit." || r.str("policyName") != "SECONDLY" ||
		r.str("errorType") != "RATE_LIMIT" || r.str("status") != "error" || r.str("correlationId") == "" {
		t.Fatalf("search 429 body = %s", r.raw)
	}
	if r.header.Get("X-HubSpot-RateLimit-Remaining") != "" {
		t.Fatalf("search 429 carries rate-limit headers: %v", r.header)
	}
	// Other endpoints are not affected by the search limit.
	b.call("GET", "/crm/v3/objects/companies", nil).must(t, 200)
	b.clock.Add(time.Second)
	b.call("POST", "/crm/v3/objects/companies/search", map[string]any{}).must(t, 200)
}
