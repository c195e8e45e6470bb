package salesforce

import (
	"encoding/json"
	"net/url"
	"os"
	"sort"
	"testing"
	"time"

	"healthsync/crm"
)

func TestSObjectCRUDAndDerivedFields(t *testing.T) {
	t.Parallel()
	b := setup(t, 5, Options{})
	accID := b.s.GenID("Account", 0)
	// An opportunity: probability and closed flags come from the stage.
	r := b.do("POST", "sobjects/Opportunity", map[string]any{"Name": "Big deal", "StageName": "Negotiation/Review", "CloseDate": "2026-03-01", "AccountId": accID, "Type": "Renewal", "Amount": 1200.5})
	if r.status != 201 {
		t.Fatalf("create opportunity: %d %s", r.status, r.body)
	}
	var created saveResult
	r.json(t, &created)
	opp, _ := b.s.Record("Opportunity", created.ID)
	if opp["Probability"] != 90.0 || opp["IsClosed"] != false || opp["OwnerId"] != b.s.UserID() || len(created.ID) != 18 || created.ID[:3] != "006" {
		t.Fatalf("opportunity %v", opp)
	}
	if r := b.do("PATCH", "sobjects/Opportunity/"+created.ID, map[string]any{"StageName": "Closed Won"}); r.status != 204 {
		t.Fatalf("patch: %d %s", r.status, r.body)
	}
	opp, _ = b.s.Record("Opportunity", created.ID)
	if opp["IsClosed"] != true || opp["IsWon"] != true || opp["Probability"] != 100.0 {
		t.Fatalf("closed won: %v", opp)
	}

	// A task on the opportunity gets the opportunity's account; a closed
	// status closes it.
	contact := b.s.GenID("Contact", 0)
	before := testNow
	b.clock.Add(time.Second)
	r = b.do("POST", "sobjects/Task", map[string]any{"Subject": "Follow up", "WhatId": created.ID, "WhoId": contact, "Status": "Completed", "ActivityDate": "2026-01-20"})
	if r.status != 201 {
		t.Fatalf("create task: %d %s", r.status, r.body)
	}
	var task saveResult
	r.json(t, &task)
	tr, _ := b.s.Record("Task", task.ID)
	if tr["AccountId"] != accID || tr["IsClosed"] != true || tr["TaskSubtype"] != "Task" || tr["Priority"] != "Normal" || tr["CompletedDateTime"] == nil {
		t.Fatalf("task %v", tr)
	}
	if !tr["SystemModstamp"].(time.Time).After(before) {
		t.Errorf("SystemModstamp %v not after %v", tr["SystemModstamp"], before)
	}
	// Only the contact: AccountId follows the contact.
	r = b.do("POST", "sobjects/Task", map[string]any{"Subject": "Call", "WhoId": contact})
	r.json(t, &task)
	tr, _ = b.s.Record("Task", task.ID)
	cr, _ := b.s.Record("Contact", contact)
	if tr["AccountId"] != cr["AccountId"] || tr["IsClosed"] != false || tr["Status"] != "Not Started" {
		t.Fatalf("task on contact: %v", tr)
	}
	stamp := tr["SystemModstamp"].(time.Time)
	b.clock.Add(1500 * time.Millisecond)
	b.do("PATCH", "sobjects/Task/"+task.ID, map[string]any{"Description": "left a voicemail"})
	tr, _ = b.s.Record("Task", task.ID)
	if !tr["SystemModstamp"].(time.Time).Equal(stamp.Add(1500 * time.Millisecond)) {
		t.Errorf("SystemModstamp not bumped: %v", tr["SystemModstamp"])
	}

	// GET with fields, then the errors a client must handle.
	r = b.do("GET", "sobjects/Task/"+task.ID+"?fields=Subject,AccountId", nil)
	var got map[string]any
	r.json(t, &got)
	if got["Subject"] != "Call" || len(got) != 3 {
		t.Errorf("GET fields: %v", got)
	}
	errs := []struct {
		method, path string
		body         any
		status       int
		code         string
	}{
		{"PATCH", "sobjects/Task/" + task.ID, map[string]any{"Bogus__c": 1}, 400, "INVALID_FIELD"},
		{"PATCH", "sobjects/Task/" + task.ID, map[string]any{"IsClosed": true}, 400, "INVALID_FIELD_FOR_INSERT_UPDATE"},
		{"PATCH", "sobjects/Task/" + task.ID, map[string]any{"Subject": string(make([]byte, 300))}, 400, "STRING_TOO_LONG"},
		{"PATCH", "sobjects/Task/" + task.ID, `{"Subject":`, 400, "JSON_PARSER_ERROR"},
		{"PATCH", "sobjects/Account/" + task.ID, map[string]any{"Name": "x"}, 400, "MALFORMED_ID"},
		{"POST", "sobjects/Account", map[string]any{"Industry": "Retail"}, 400, "REQUIRED_FIELD_MISSING"},
		{"POST", "sobjects/Task", map[string]any{"WhatId": "001000000000000AAA"}, 400, "INVALID_CROSS_REFERENCE_KEY"},
		{"POST", "sobjects/Task", map[string]any{"WhatId": contact}, 400, "FIELD_INTEGRITY_EXCEPTION"},
		{"GET", "sobjects/Widget__c/describe", nil, 404, "NOT_FOUND"},
		{"GET", "sobjects/Account/0015g0000000000AAA", nil, 404, "NOT_FOUND"},
	}
	for _, e := range errs {
		r := b.do(e.method, e.path, e.body)
		if code, _ := r.errorCode(t); r.status != e.status || code != e.code {
			t.Errorf("%s %s: %d %s, want %d %s", e.method, e.path, r.status, r.body, e.status, e.code)
		}
	}
	// Delete: gone from GET, ENTITY_IS_DELETED on a second delete.
	if r := b.do("DELETE", "sobjects/Task/"+task.ID, nil); r.status != 204 {
		t.Fatalf("delete: %d", r.status)
	}
	if r := b.do("GET", "sobjects/Task/"+task.ID, nil); r.status != 404 {
		t.Errorf("GET deleted: %d", r.status)
	}
	if r := b.do("DELETE", "sobjects/Task/"+task.ID, nil); r.status != 404 {
		t.Errorf("second delete: %d %s", r.status, r.body)
	} else if code, _ := r.errorCode(t); code != "ENTITY_IS_DELETED" {
		t.Errorf("second delete code %s", code)
	}
	if n := len(b.s.CreatedTasks()); n != 2 {
		t.Errorf("CreatedTasks = %d, want 2", n)
	}
}

func TestUpdatedAndDeletedEndpoints(t *testing.T) {
	t.Parallel()
	b := setup(t, 40, Options{})
	ids := b.s.IDs("Contact", false)
	b.clock.Add(5 * time.Minute)
	if err := b.s.Delete("Contact", ids[1]); err != nil {
		t.Fatal(err)
	}
	if err := b.s.SetField("Contact", ids[2], "Title", "CFO"); err != nil {
		t.Fatal(err)
	}
	b.clock.Add(5 * time.Minute)
	start := url.QueryEscape(testNow.Add(time.Minute).Format(time.RFC3339))
	end := url.QueryEscape(b.clock.Now().Format(time.RFC3339))
	var upd struct {
		IDs               []string `json:"ids"`
		LatestDateCovered string   `json:"latestDateCovered"`
	}
	r := b.do("GET", "sobjects/Contact/updated/?start="+start+"&end="+end, nil)
	r.json(t, &upd)
	if len(upd.IDs) != 1 || upd.IDs[0] != ids[2] || upd.LatestDateCovered != crm.FormatSalesforce(b.clock.Now()) {
		t.Fatalf("updated: %s", r.body)
	}
	var del struct {
		DeletedRecords []struct {
			ID          string `json:"id"`
			DeletedDate string `json:"deletedDate"`
		} `json:"deletedRecords"`
		EarliestDateAvailable string `json:"earliestDateAvailable"`
		LatestDateCovered     string `json:"latestDateCovered"`
	}
	r = b.do("GET", "sobjects/Contact/deleted/?start="+start+"&end="+end, nil)
	r.json(t, &del)
	if len(del.DeletedRecords) != 1 || del.DeletedRecords[0].ID != ids[1] || del.EarliestDateAvailable == "" {
		t.Fatalf("deleted: %s", r.body)
	}
	// Windows: 30 days for updated, 15 for deleted.
	old := url.QueryEscape(testNow.Add(-20 * 24 * time.Hour).Format(time.RFC3339))
	if r := b.do("GET", "sobjects/Contact/updated/?start="+old+"&end="+end, nil); r.status != 200 {
		t.Errorf("updated 20 days back: %d %s", r.status, r.body)
	}
	r = b.do("GET", "sobjects/Contact/deleted/?start="+old+"&end="+end, nil)
	if code, _ := r.errorCode(t); r.status != 400 || code != "INVALID_REPLICATION_DATE" {
		t.Errorf("deleted 20 days back: %d %s", r.status, r.body)
	}
}

// TestDescribeMatchesRealShape compares describe's field keys with a real
// Salesforce describe response.
func TestDescribeMatchesRealShape(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("/work/shared/fixtures/salesforce/sobject_sobject_describe_success_response.json")
	if err != nil {
		t.Skipf("fixture not available: %v", err)
	}
	var fixture struct {
		Fields []map[string]any `json:"fields"`
	}
	if err := json.Unmarshal(raw, &fixture); err != nil {
		t.Fatal(err)
	}
	b := setup(t, 0, Options{})
	r := b.do("GET", "sobjects/Opportunity/describe", nil)
	var d struct {
		Name      string           `json:"name"`
		KeyPrefix string           `json:"keyPrefix"`
		Fields    []map[string]any `json:"fields"`
	}
	r.json(t, &d)
	if d.Name != "Opportunity" || d.KeyPrefix != "006" {
		t.Fatalf("describe: %s", r.body[:200])
	}
	ours := map[string]bool{}
	for k := range d.Fields[0] {
		ours[k] = true
	}
	var missing []string
	for k := range fixture.Fields[0] {
		if !ours[k] {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("describe fields lack keys the real API returns: %v", missing)
	}
	byName := map[string]map[string]any{}
	for _, f := range d.Fields {
		byName[f["name"].(string)] = f
	}
	stage := byName["StageName"]
	if stage["type"] != "picklist" || len(stage["picklistValues"].([]any)) != 10 || stage["updateable"] != true {
		t.Errorf("StageName: %v", stage)
	}
	if f := byName["IsClosed"]; f["updateable"] != false || f["type"] != "boolean" {
		t.Errorf("IsClosed: %v", f)
	}
	if f := byName["AccountId"]; f["referenceTo"].([]any)[0] != "Account" || f["relationshipName"] != "Account" {
		t.Errorf("AccountId: %v", f)
	}
	// describeGlobal lists the objects.
	var g struct {
		Sobjects []struct {
			Name      string `json:"name"`
			KeyPrefix string `json:"keyPrefix"`
		} `json:"sobjects"`
	}
	b.do("GET", "sobjects", nil).json(t, &g)
	prefixes := map[string]string{}
	for _, o := range g.Sobjects {
		prefixes[o.Name] = o.KeyPrefix
	}
	for name, p := range map[string]string{"Account": "001", "Contact": "003", "Opportunity": "006", "Task": "00T", "Event": "00U", "User": "005"} {
		if prefixes[name] != p {
			t.Errorf("describeGlobal %s prefix %q, want %s", name, prefixes[name], p)
		}
	}
}

func TestVersionsAndLimits(t *testing.T) {
	t.Parallel()
	b := setup(t, 0, Options{DailyLimit: 5})
	var versions []versionInfo
	r := b.do("GET", "/services/data/", nil)
	r.json(t, &versions)
	if len(versions) != 17 || versions[0].Version != "50.0" || versions[16].URL != "/services/data/v66.0" {
		t.Fatalf("versions: %s", r.body)
	}
	if r := b.do("GET", "/services/data/v49.0/limits", nil); r.status != 404 {
		t.Errorf("unsupported version: %d", r.status)
	}
	for i := 1; i <= 5; i++ {
		r := b.do("GET", "limits", nil)
		if r.status != 200 || r.header.Get("Sforce-Limit-Info") != "api-usage="+itoa(i)+"/5" {
			t.Fatalf("call %d: %d %q", i, r.status, r.header.Get("Sforce-Limit-Info"))
		}
		if i == 2 {
			var l map[string]limit
			r.json(t, &l)
			if l["DailyApiRequests"].Max != 5 || l["DailyApiRequests"].Remaining != 3 {
				t.Errorf("limits: %v", l["DailyApiRequests"])
			}
		}
	}
	r = b.do("GET", "limits", nil)
	if code, msg := r.errorCode(t); r.status != 403 || code != "REQUEST_LIMIT_EXCEEDED" || msg != "TotalRequests Limit exceeded." || r.header.Get("Sforce-Limit-Info") != "api-usage=5/5" {
		t.Fatalf("over limit: %d %s %v", r.status, r.body, r.header)
	}
	// The window rolls: a day later calls work again.
	b.clock.Add(25 * time.Hour)
	b.token = b.login()
	if r := b.do("GET", "limits", nil); r.status != 200 {
		t.Errorf("next day: %d", r.status)
	}
	if b.s.APICalls() != 6 {
		t.Errorf("APICalls = %d, want 6", b.s.APICalls())
	}
}

func TestServerUnavailableFault(t *testing.T) {
	t.Parallel()
	b := setup(t, 0, Options{Faults: Faults{Unavailable: 0.5, Seed: 3}})
	var unavailable, ok int
	for i := 0; i < 40; i++ {
		r := b.do("GET", "limits", nil)
		switch r.status {
		case 503:
			if code, _ := r.errorCode(t); code != "SERVER_UNAVAILABLE" {
				t.Fatalf("503 body %s", r.body)
			}
			unavailable++
		case 200:
			ok++
		default:
			t.Fatalf("status %d", r.status)
		}
	}
	if unavailable < 8 || ok < 8 {
		t.Errorf("503s %d, OKs %d: want about half each", unavailable, ok)
	}
	// Deterministic: the same seed gives the same sequence.
	seq := func() []bool {
		s := New(Options{Faults: Faults{Unavailable: 0.5, Seed: 3}})
		var out []bool
		for i := 0; i < 20; i++ {
			out = append(out, s.fault(0.5))
		}
		return out
	}
	a, c := seq(), seq()
	for i := range a {
		if a[i] != c[i] {
			t.Fatal("fault sequence differs between runs with the same seed")
		}
	}
}
