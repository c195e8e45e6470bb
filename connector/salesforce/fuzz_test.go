package salesforce

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"healthsync/connector"
	"healthsync/connector/oauth"
	"healthsync/crm"
	"healthsync/internal/testkit"
)

// The fuzz targets of this file hand the client's real methods (query
// paging, Describe, Update and CreateTasks, the Bulk API 2.0 query and
// ingest paths, Pull's deleted/ step, the JWT bearer token) answers whose
// body is the fuzzed input, through an in-memory transport under the real
// HTTP stack, and check what they make of it: records that round-trip
// their Id and JSON, nextRecordsUrl and Sforce-Locator followed verbatim,
// per-record results in order with their Id and never an unexplained
// success, a page count that matches Sforce-NumberOfRecords, and for a
// broken answer a typed MALFORMED_RESPONSE error naming the request,
// never a panic and never an empty success. Seeds (here and in
// testdata/fuzz) are the emulator's answers and bodies shaped like the
// restforce project's fixtures (MIT). Run one longer with
//
//	go test -run '^$' -fuzz '^FuzzQueryPage$' -fuzztime 60s ./connector/salesforce

// fuzzNow is the clock of every fuzz target.
var fuzzNow = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)

const fuzzInstance = "https://fuzz.my.salesforce.test"

// reply is one canned answer.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func jsonReply(status int, body string) reply { return reply{status: status, body: []byte(body)} }

// replier answers requests in memory, under the client's HTTP stack.
type replier func(r *http.Request, body []byte) reply

func (f replier) RoundTrip(r *http.Request) (*http.Response, error) {
	var in []byte
	if r.Body != nil {
		in, _ = io.ReadAll(r.Body)
		r.Body.Close()
	}
	a := f(r, in)
	h := http.Header{"Content-Type": {"application/json;charset=UTF-8"}}
	for k, v := range a.header {
		h[k] = v
	}
	return &http.Response{StatusCode: a.status, Header: h, Body: io.NopCloser(bytes.NewReader(a.body)),
		ContentLength: int64(len(a.body)), Request: r}, nil
}

// fuzzClient is a client of an org at fuzzInstance answering through f,
// with a token that needs no refresh.
func fuzzClient(t *testing.T, f replier) *Client {
	t.Helper()
	tok := &oauth.Token{AccessToken: "00Dfuzz!access", TokenType: "Bearer", InstanceURL: fuzzInstance,
		ID: "https://login.salesforce.test/id/00Dfuzz000000001AAA/005fuzz000000001AAA"}
	blob, err := tok.MarshalBlob()
	if err != nil {
		t.Fatal(err)
	}
	src := oauth.NewSource(tokensHolding("salesforce", blob), "salesforce", nil, oauth.SourceOptions{Now: crm.FixedClock(fuzzNow).Now})
	h := connector.DefaultHTTPConfig()
	h.MaxRetries, h.RetryWaitMin, h.RetryWaitMax = 1, time.Microsecond, time.Microsecond
	c, err := newClient(DefaultConfig(), src, Deps{HTTP: h, Clock: crm.FixedClock(fuzzNow), Transport: f,
		WriteRetryWait: time.Microsecond, BulkPollInterval: time.Microsecond, BulkResultPage: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// mustBeMalformed fails unless err is a typed MALFORMED_RESPONSE error
// whose text names what was called.
func mustBeMalformed(t *testing.T, err error, names string, body []byte) {
	t.Helper()
	var apiErr *connector.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != connector.CodeMalformedResponse {
		t.Fatalf("answer %q: error %v, want a %s *APIError", body, err, connector.CodeMalformedResponse)
	}
	if !strings.Contains(err.Error(), names) {
		t.Fatalf("answer %q: error %q does not name %q", body, err, names)
	}
}

// locatorPath is the documented shape of a nextRecordsUrl.
var locatorPath = regexp.MustCompile(`^/services/data/v[0-9]+\.[0-9]+/(?:tooling/)?(?:query|queryAll)/[A-Za-z0-9_.-]+$`)

const lastPage = `{"totalSize":0,"done":true,"records":[]}`

// FuzzQueryPage: a REST query answer becomes pages whose records are the
// answer's records (same members and values, nested relationship records
// such as Owner included, raw JSON that decodes back to them) unless it
// holds more records than its totalSize; an
// unfinished page's nextRecordsUrl is requested verbatim; an answer that
// is not a page (not JSON, no done or records, a record that is not an
// object, done false without a usable nextRecordsUrl) is a typed error
// naming the query, with no page handed on.
func FuzzQueryPage(f *testing.F) {
	for _, s := range []string{
		`{"totalSize":2,"done":true,"records":[{"attributes":{"type":"Account","url":"/services/data/v62.0/sobjects/Account/001000000000001AAA"},"Id":"001000000000001AAA","Name":"Acme","AnnualRevenue":1.5E7,"NumberOfEmployees":120,"IsDeleted":false,"SystemModstamp":"2025-12-01T09:30:00.000+0000","Owner":{"attributes":{"type":"User","url":"/services/data/v62.0/sobjects/User/005000000000001AAA"},"Email":"ana@example.com"}},{"attributes":{"type":"Account","url":"/services/data/v62.0/sobjects/Account/001000000000002AAA"},"Id":"001000000000002AAA","Name":null,"Owner":null}]}`,
		`{"totalSize":4001,"done":false,"nextRecordsUrl":"/services/data/v62.0/query/01gD0000002HU6KIAW-2000","records":[{"attributes":{"type":"Account"},"Id":"001000000000003AAA"}]}`,
		`{"totalSize":1,"done":true,"records":[{"attributes":{"type":"Whizbang","url":"/services/data/v20.0/sobjects/Whizbang/foo"},"Checkbox_Label":false,"Text_Label":"Hi there!","Date_Label":"2010-01-01","DateTime_Label":"2011-07-07T00:37:00.000+0000","Picklist_Multiselect_Label":"four;six","ParentWhizbang__r":{"Name":"Parent Whizbang","attributes":{"type":"Whizbang","url":"/services/data/v20.0/sobjects/Whizbang/bar"}},"Whizbangs__r":{"totalSize":1,"done":true,"records":[{"attributes":{"type":"Whizbang__c"},"Id":"a00E0000002sQiNIAU"}]}}]}`,
		`{"totalSize":3,"done":true,"records":[{"attributes":{"type":"AggregateResult"},"CampaignId":"701E0000000JuFHIA0","expr0":300.0},{"attributes":{"type":"AggregateResult"},"CampaignId":null,"expr0":400}]}`,
		`{"totalSize":0,"done":true,"records":[]}`,
		`{"totalSize":12,"done":true,"records":[]}`,
		`{"totalSize":1,"done":true,"records":[null]}`,
		`{"totalSize":1,"done":true,"records":[7]}`,
		`{"totalSize":2,"done":false,"records":[{"Id":"001000000000003AAA"}]}`,
		`{"totalSize":2,"done":false,"nextRecordsUrl":"SELECT Id FROM User","records":[]}`,
		`{"totalSize":2,"done":false,"nextRecordsUrl":"https://evil.example/services/data/v62.0/query/01g","records":[]}`,
		`{"totalSize":5}`,
		`{"totalSize":1,"done":true,"records":[{"attributes":{"type":"Account"},"Id":"001000000000001AAA","Name":"Ac`,
		`[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`,
		`{}`,
		`null`,
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var mu stdsync.Mutex
		var asked []string
		c := fuzzClient(t, func(r *http.Request, _ []byte) reply {
			mu.Lock()
			defer mu.Unlock()
			if !strings.Contains(r.URL.Path, "/query") {
				t.Errorf("unexpected request %s %s", r.Method, r.URL)
				return jsonReply(404, `[{"errorCode":"NOT_FOUND","message":"no route"}]`)
			}
			asked = append(asked, r.URL.RequestURI())
			if len(asked) == 1 {
				return reply{status: 200, body: body}
			}
			return jsonReply(200, lastPage)
		})
		var pages [][]rawRecord
		err := c.queryPages(context.Background(), "query", "SELECT Id, Name, Owner.Email FROM Account", func(recs []rawRecord, _ int) error {
			pages = append(pages, recs)
			return nil
		})

		var page struct {
			TotalSize      *int              `json:"totalSize"`
			Done           *bool             `json:"done"`
			NextRecordsURL *string           `json:"nextRecordsUrl"`
			Records        *[]map[string]any `json:"records"`
		}
		ok := json.Unmarshal(body, &page) == nil && page.Done != nil && page.Records != nil
		next := ""
		if ok && !*page.Done {
			if page.NextRecordsURL != nil {
				next = *page.NextRecordsURL
			}
			ok = locatorPath.MatchString(next)
		}
		if ok {
			for _, r := range *page.Records {
				if r == nil {
					ok = false
				}
			}
			// A page holding more records than its totalSize (0 when it
			// names none) says its pages repeat.
			total := 0
			if page.TotalSize != nil {
				total = *page.TotalSize
			}
			if total >= 0 && len(*page.Records) > total {
				ok = false
			}
		}
		if !ok {
			if len(pages) > 0 {
				t.Fatalf("answer %q: %d pages handed on from a broken answer", body, len(pages))
			}
			mustBeMalformed(t, err, "/query", body)
			return
		}
		if err != nil {
			t.Fatalf("answer %q: %v", body, err)
		}
		if len(pages) == 0 || len(pages[0]) != len(*page.Records) {
			t.Fatalf("answer %q: pages %v, want %d records first", body, pages, len(*page.Records))
		}
		for i, got := range pages[0] {
			want := (*page.Records)[i]
			delete(want, "__client__") // simpleforce's own member, never a field
			if !reflect.DeepEqual(map[string]any(got), want) {
				t.Fatalf("record %d: %v, the answer had %v", i, got, want)
			}
			if id, _ := want["Id"].(string); got.str("Id") != id {
				t.Fatalf("record %d: Id %q, want %q", i, got.str("Id"), id)
			}
			raw, err := got.marshal()
			if err != nil {
				t.Fatalf("record %d does not encode: %v", i, err)
			}
			var back map[string]any
			if err := json.Unmarshal(raw, &back); err != nil || !reflect.DeepEqual(back, want) {
				t.Fatalf("record %d: raw %s does not decode back to %v (%v)", i, raw, want, err)
			}
		}
		if *page.Done {
			if len(asked) != 1 {
				t.Fatalf("a last page, yet %d requests: %q", len(asked), asked)
			}
			return
		}
		want, _ := url.Parse(fuzzInstance + next)
		if len(asked) != 2 || asked[1] != want.RequestURI() {
			t.Fatalf("nextRecordsUrl %q: requests %q", next, asked)
		}
	})
}

// FuzzDescribe: an sObject describe answer gives exactly its fields (name,
// label, type, flags, in order); one that is not a describe (not JSON, no
// fields, a field without a name) is a typed error naming the object.
func FuzzDescribe(f *testing.F) {
	for _, s := range []string{
		`{"name":"Account","label":"Account","custom":false,"replicateable":true,"queryable":true,"fields":[{"name":"Id","label":"Account ID","type":"id","updateable":false,"calculated":false,"custom":false,"nillable":false,"length":18,"referenceTo":[]},{"name":"Health_Score__c","label":"Health Score","type":"double","updateable":true,"calculated":false,"custom":true,"precision":3,"scale":0},{"name":"Days_Open__c","label":"Days Open","type":"double","updateable":false,"calculated":true,"custom":true,"calculatedFormula":"TODAY() - CreatedDate"},{"name":"Type","label":"Account Type","type":"picklist","updateable":true,"picklistValues":[{"active":true,"label":"Customer","value":"Customer","defaultValue":false}]},{"name":"OwnerId","label":"Owner ID","type":"reference","referenceTo":["User"],"relationshipName":"Owner"}],"childRelationships":[],"urls":{"describe":"/services/data/v62.0/sobjects/Account/describe"}}`,
		`{"name":"Whizbang","fields":[{"name":"Text_Label","label":"Text Label","type":"string","updateable":true}]}`,
		`{"name":"Account","fields":[]}`,
		`{"name":"Account","fields":[null]}`,
		`{"name":"Account","fields":[{"label":"no name","type":"string"}]}`,
		`{"name":"Account","fields":[{"name":" ","type":"string"}]}`,
		`{"name":"Account","fields":[{"name":"Id","updateable":"yes"}]}`,
		`{"name":"Account","FIELDS":[{"NAME":"Id"}]}`,
		`{"name":"Account","fields":[{"name":"Id","type":"id"},{"name":"Na`,
		`[{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}]`,
		`{}`,
		`null`,
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		c := fuzzClient(t, func(r *http.Request, _ []byte) reply {
			if r.URL.Path != "/services/data/v62.0/sobjects/Account/describe" {
				t.Errorf("unexpected request %s %s", r.Method, r.URL)
				return jsonReply(404, `[{"errorCode":"NOT_FOUND","message":"no route"}]`)
			}
			return reply{status: 200, body: body}
		})
		fields, err := c.Describe(context.Background(), "Account")
		var d describeAnswer
		ok := json.Unmarshal(body, &d) == nil && len(d.Fields) > 0
		for _, fl := range d.Fields {
			if strings.TrimSpace(fl.Name) == "" {
				ok = false
			}
		}
		// The fields as read after simpleforce's map (which keeps
		// members that differ only in case apart).
		var m map[string]any
		if ok && json.Unmarshal(body, &m) == nil {
			b, _ := json.Marshal(m)
			d = describeAnswer{}
			ok = json.Unmarshal(b, &d) == nil
		}
		if !ok {
			mustBeMalformed(t, err, "/sobjects/Account/describe", body)
			if !strings.Contains(err.Error(), "describe Account") {
				t.Fatalf("error %q does not name the describe of Account", err)
			}
			return
		}
		if err != nil {
			t.Fatalf("answer %q: %v", body, err)
		}
		if len(fields) != len(d.Fields) {
			t.Fatalf("answer %q: %d fields, the describe has %d", body, len(fields), len(d.Fields))
		}
		for i, got := range fields {
			w := d.Fields[i]
			want := connector.Field{Name: w.Name, Label: w.Label, Type: w.Type, Updateable: w.Updateable, Calculated: w.Calculated, Custom: w.Custom}
			if got != want {
				t.Fatalf("field %d: %+v, the describe has %+v", i, got, want)
			}
		}
	})
}

// answeredResult is a lenient reading of one sObject Collections result.
type answeredResult struct {
	ID      string `json:"id"`
	Success bool   `json:"success"`
}

// FuzzCompositeResults: the answer to an sObject Collections update or
// create (200 with one result per record, or an error status) gives one
// result per record in order, updates with the ID they were sent with; a
// success only where the answer has a successful result that does not
// name another record (a creation: with the new ID); every failure with a
// code and a message; no error return (nothing here stops a run).
func FuzzCompositeResults(f *testing.F) {
	for i, s := range []string{
		`[{"id":"001000000000001AAA","success":true,"errors":[]},{"id":"001000000000002AAA","success":true,"errors":[]},{"id":"001000000000003AAA","success":true,"errors":[]}]`,
		`[{"id":"001000000000001AAA","success":true,"errors":[]},{"success":false,"errors":[{"statusCode":"UNABLE_TO_LOCK_ROW","message":"unable to obtain exclusive access to this record or 1 records: 001000000000002AAA","fields":[]}]},{"success":false,"errors":[{"statusCode":"FIELD_CUSTOM_VALIDATION_EXCEPTION","message":"Score must be between 0 and 100","fields":["Health_Score__c"]}]}]`,
		`[{"id":"00T000000000001AAA","success":true,"errors":[]},{"id":"00T000000000002AAA","success":true,"errors":[]}]`,
		`[{"success":true,"errors":[]},{"success":false,"errors":[{"statusCode":"","message":"","fields":["",""]}]},{"success":false,"errors":[]}]`,
		`[{"id":"001000000000009AAA","success":true,"errors":[]},{"success":true},{}]`,
		`[{"success":false,"errors":[{"statusCode":"ENTITY_IS_DELETED","message":"entity is deleted","fields":[]}]}]`,
		`[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`,
		`[{"message":"ConcurrentRequests (Concurrent API Requests) Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`,
		`[{"id":"001000000000001AAA","success":true,"errors":[]},{"id":"0010000000`,
		`[null,null,null]`,
		`{}`,
		`null`,
		``,
	} {
		for kind := range 12 {
			if (i+kind)%3 == 0 {
				f.Add(uint8(kind), []byte(s))
			}
		}
	}
	statuses := []int{200, 200, 200, 400, 500, 503}
	f.Fuzz(func(t *testing.T, kind uint8, body []byte) {
		status := statuses[int(kind/2)%len(statuses)]
		create := kind%2 == 1
		c := fuzzClient(t, func(r *http.Request, _ []byte) reply {
			if r.URL.Path != "/services/data/v62.0/composite/sobjects" {
				t.Errorf("unexpected request %s %s", r.Method, r.URL)
				return jsonReply(404, `[{"errorCode":"NOT_FOUND","message":"no route"}]`)
			}
			return reply{status: status, body: body}
		})
		var answer []answeredResult
		readable := status == 200 && json.Unmarshal(body, &answer) == nil
		var sent []string
		var results []connector.Result
		var err error
		if create {
			sent = []string{"", ""}
			results, err = c.CreateTasks(context.Background(), []crm.Task{
				{Key: "hs-1", Subject: "Call the sponsor", AccountID: "001000000000001AAA", OwnerID: "005000000000001AAA", Due: fuzzNow},
				{Key: "hs-2", Subject: "Plan the renewal", AccountID: "001000000000002AAA", OwnerID: "005000000000001AAA", ContactID: "003000000000001AAA"},
			})
		} else {
			sent = []string{"001000000000001AAA", "001000000000002AAA", "001000000000003AAA"}
			ups := make([]connector.Update, len(sent))
			for i, id := range sent {
				ups[i] = connector.Update{ID: id, Fields: map[string]any{"Health_Score__c": 72}}
			}
			results, err = c.Update(context.Background(), "Account", ups)
		}
		if err != nil && !errors.Is(err, connector.ErrDailyLimit) {
			t.Fatalf("status %d, answer %q: %v", status, body, err)
		}
		if len(results) != len(sent) {
			t.Fatalf("%d results for %d records", len(results), len(sent))
		}
		for i, r := range results {
			if !create && r.ID != sent[i] {
				t.Fatalf("result %d has ID %q, the record was sent as %q", i, r.ID, sent[i])
			}
			if r.OK() {
				if !readable || !slices.ContainsFunc(answer, func(a answeredResult) bool {
					return a.Success && (create && a.ID == r.ID || !create && (a.ID == "" || a.ID == sent[i]))
				}) {
					t.Fatalf("status %d, answer %q: record %d reported written as %q", status, body, i, r.ID)
				}
				if create && r.ID == "" {
					t.Fatalf("task %d reported created without an ID", i)
				}
				continue
			}
			if r.Err == nil || strings.TrimSpace(r.Err.Code) == "" || strings.TrimSpace(r.Err.Message) == "" {
				t.Fatalf("status %d, answer %q: result %d fails without code or message: %#v", status, body, i, r.Err)
			}
			for _, fl := range r.Err.Fields {
				if fl == "" {
					t.Fatalf("result %d names an empty field: %#v", i, r.Err)
				}
			}
		}
	})
}

// fuzzAccountDescribe is the describe the Bulk API targets convert with.
func fuzzAccountDescribe() *objectDescribe {
	return newObjectDescribe("Account", true, []connector.Field{
		{Name: "Id", Type: "id"}, {Name: "Name", Type: "string"}, {Name: "AnnualRevenue", Type: "currency"},
		{Name: "NumberOfEmployees", Type: "int"}, {Name: "IsDeleted", Type: "boolean"},
		{Name: "SystemModstamp", Type: "datetime"}, {Name: "OwnerId", Type: "reference"},
	}, fuzzNow)
}

const fuzzJobID = "750R0000000zlh9IAA"

// FuzzBulkQueryResults: a Bulk API 2.0 query result page (CSV with its
// Sforce-NumberOfRecords and Sforce-Locator headers) becomes exactly its
// rows as REST-shaped records (Id and attributes.url round-trip, typed
// values, empty cells null, a cell not of its column's type kept as
// text); a page that holds fewer or more rows than
// Sforce-NumberOfRecords announces (a body cut at a line break) is a
// typed error; Sforce-Locator is sent back verbatim until it is null.
func FuzzBulkQueryResults(f *testing.F) {
	for _, s := range []struct{ csv, count, locator string }{
		{"\"Id\",\"SystemModstamp\",\"IsDeleted\",\"Name\",\"AnnualRevenue\",\"NumberOfEmployees\"\n\"001000000000001AAA\",\"2025-12-01T09:30:00.000Z\",\"false\",\"Acme, Inc.\",\"15000000\",\"120\"\n\"001000000000002AAA\",\"2025-12-01T09:31:00.000Z\",\"true\",\"\",\"\",\"\"\n", "2", "null"},
		{"Id,Name\n001000000000001AAA,\"Quote \"\"Co\"\"\"\n", "1", "MTAwMA"},
		{"Id,Name\n001000000000001AAA,Acme\n001000000000002AAA,Glo", "2", "null"},
		{"Id,Name\n001000000000001AAA,Acme\n", "2", "null"},
		{"Id,Name\n001000000000001AAA,Acme\n", "", ""},
		{"Id,Name\n001000000000001AAA,Acme\n", "one", "null"},
		{"Id,Name\n001000000000001AAA\n", "1", "null"},
		{"Id,AnnualRevenue\n001000000000001AAA,lots\n", "1", "null"},
		{"Id,SystemModstamp\n001000000000001AAA,yesterday\n", "1", "null"},
		{"Id,Name\n001000000000001AAA,\"unterminated\n", "1", "null"},
		{"Id\n", "0", "null"},
		{"", "0", ""},
		{"", "3", "null"},
	} {
		f.Add([]byte(s.csv), s.count, s.locator)
	}
	f.Fuzz(func(t *testing.T, body []byte, count, locator string) {
		var mu stdsync.Mutex
		var locators []string
		c := fuzzClient(t, func(r *http.Request, _ []byte) reply {
			base := "/services/data/v62.0/jobs/query"
			switch {
			case r.Method == http.MethodPost && r.URL.Path == base:
				return jsonReply(200, `{"id":"`+fuzzJobID+`","operation":"queryAll","object":"Account","state":"UploadComplete"}`)
			case r.Method == http.MethodGet && r.URL.Path == base+"/"+fuzzJobID:
				return jsonReply(200, `{"id":"`+fuzzJobID+`","state":"JobComplete","numberRecordsProcessed":2}`)
			case r.Method == http.MethodGet && r.URL.Path == base+"/"+fuzzJobID+"/results":
				mu.Lock()
				defer mu.Unlock()
				loc := r.URL.Query().Get("locator")
				locators = append(locators, loc)
				if loc == "" {
					h := http.Header{"Content-Type": {"text/csv"}}
					if count != "" {
						h.Set("Sforce-NumberOfRecords", count)
					}
					if locator != "" {
						h.Set("Sforce-Locator", locator)
					}
					return reply{status: 200, header: h, body: body}
				}
				return reply{status: 200, header: http.Header{"Content-Type": {"text/csv"}, "Sforce-Locator": {"null"}, "Sforce-NumberOfRecords": {"0"}}, body: []byte("Id\n")}
			}
			t.Errorf("unexpected request %s %s", r.Method, r.URL)
			return jsonReply(404, `[{"errorCode":"NOT_FOUND","message":"no route"}]`)
		})
		d := fuzzAccountDescribe()
		var got []rawRecord
		err := c.bulkQuery(context.Background(), "Account", "SELECT Id FROM Account", d, nil, func(_ context.Context, recs []rawRecord) error {
			got = append(got, recs...)
			return nil
		})

		// The oracle reads the CSV as Salesforce writes it.
		cr := csv.NewReader(bytes.NewReader(body))
		rows, cerr := cr.ReadAll()
		bad := cerr != nil
		var header []string
		if len(rows) > 0 {
			header, rows = rows[0], rows[1:]
		}
		want := make([]map[string]any, len(rows))
		for i, row := range rows {
			want[i] = map[string]any{}
			for j, name := range header {
				v := row[j]
				var val any = v
				switch d.types[strings.ToLower(name)] {
				case "boolean":
					val = strings.EqualFold(v, "true")
				case "currency", "int":
					// A cell that is not a number stays text, for the
					// mapping to report.
					if n, perr := strconv.ParseFloat(v, 64); perr == nil && !math.IsNaN(n) && !math.IsInf(n, 0) {
						val = n
					}
				case "datetime":
					if tm, perr := crm.ParseTime(strings.Replace(v, "Z", "+0000", 1)); perr == nil {
						val = crm.FormatSalesforce(tm)
					}
				}
				if v == "" {
					val = nil
				}
				want[i][name] = val
			}
			delete(want[i], "attributes") // the record's own member wins
		}
		if n, perr := strconv.Atoi(strings.TrimSpace(count)); count != "" && (perr != nil || n != len(rows)) {
			if !bad {
				mustBeMalformed(t, err, "Sforce-NumberOfRecords", body)
			}
			bad = true
		}
		if bad {
			if err == nil || !strings.Contains(err.Error(), "bulk query results") {
				t.Fatalf("page %q (count %q): error %v, want one naming the bulk query results", body, count, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("page %q (count %q, locator %q): %v", body, count, locator, err)
		}
		if len(got) != len(want) {
			t.Fatalf("page %q: %d records, it holds %d", body, len(got), len(want))
		}
		for i, r := range got {
			attrs, _ := r["attributes"].(map[string]any)
			if attrs == nil || attrs["url"] != "/services/data/v62.0/sobjects/Account/"+r.str("Id") || attrs["type"] != "Account" {
				t.Fatalf("record %d: attributes %v for Id %q", i, r["attributes"], r.str("Id"))
			}
			delete(r, "attributes")
			if !reflect.DeepEqual(map[string]any(r), want[i]) {
				t.Fatalf("record %d: %v, the row is %v", i, r, want[i])
			}
		}
		wantLocs := []string{""}
		if locator != "" && locator != "null" {
			wantLocs = append(wantLocs, locator)
		}
		if !slices.Equal(locators, wantLocs) {
			t.Fatalf("Sforce-Locator %q: locators asked %q", locator, locators)
		}
	})
}

// FuzzBulkIngestResults: the successfulResults/ and failedResults/ CSVs of
// a Bulk API 2.0 ingest job give one result per update in order with its
// ID; a success only for a record listed as successful and not as failed
// (or sent again, after a retryable failure, through a composite call
// that succeeded); a failure with the code, message and fields of its
// sf__Error ("CODE:message:fields", a message that may hold colons).
func FuzzBulkIngestResults(f *testing.F) {
	for _, s := range []struct{ failed, success string }{
		{"\"sf__Id\",\"sf__Error\",\"Id\",\"Health_Score__c\"\n\"001000000000002AAA\",\"FIELD_CUSTOM_VALIDATION_EXCEPTION:Score must be between 0 and 100:Health_Score__c\",\"001000000000002AAA\",\"720\"\n",
			"\"sf__Id\",\"sf__Created\",\"Id\",\"Health_Score__c\"\n\"001000000000001AAA\",\"false\",\"001000000000001AAA\",\"72\"\n\"001000000000003AAA\",\"false\",\"001000000000003AAA\",\"72\"\n"},
		{"sf__Id,sf__Error,Id\n,REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --,001000000000001AAA\n001000000000002AAA,UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record:--,001000000000002AAA\n",
			"sf__Id,sf__Created,Id\n001000000000003AAA,false,001000000000003AAA\n"},
		{"sf__Id,sf__Error\n001000000000001AAA,NOT_FOUND:entity is deleted:\n001000000000002AAA,\n001000000000003AAA,just some text\n", ""},
		{"sf__Id,sf__Error\n001000000000001AAA,INVALID_FIELD:No such column: Foo:Foo,Bar,Foo\n", "sf__Id\n001000000000001AAA\n"},
		{"sf__Id,sf__Error\n001000000000001AAA,\"FIELD_INTEGRITY_EXCEPTION:Value \"\"x\"\" bad:Health_Score__c --\"\n", "sf__Id,sf__Created\n001000000000001AAA,false\n001000000000002AAA,false\n0010000"},
		{"sf__Id,sf__Error\n\"001000000000001AAA,UNABLE_TO_LOCK", ""},
		{"", ""},
	} {
		f.Add([]byte(s.failed), []byte(s.success))
	}
	ids := []string{"001000000000001AAA", "001000000000002AAA", "001000000000003AAA"}
	f.Fuzz(func(t *testing.T, failed, success []byte) {
		var mu stdsync.Mutex
		var retried []string
		c := fuzzClient(t, func(r *http.Request, in []byte) reply {
			base := "/services/data/v62.0/jobs/ingest"
			job := base + "/" + fuzzJobID
			csvReply := func(b []byte) reply {
				return reply{status: 200, header: http.Header{"Content-Type": {"text/csv"}}, body: b}
			}
			switch {
			case r.Method == http.MethodPost && r.URL.Path == base:
				return jsonReply(200, `{"id":"`+fuzzJobID+`","object":"Account","operation":"update","state":"Open"}`)
			case r.Method == http.MethodPut && r.URL.Path == job+"/batches":
				return reply{status: 201}
			case r.Method == http.MethodPatch && r.URL.Path == job:
				return jsonReply(200, `{"id":"`+fuzzJobID+`","state":"UploadComplete"}`)
			case r.Method == http.MethodGet && r.URL.Path == job:
				return jsonReply(200, `{"id":"`+fuzzJobID+`","state":"JobComplete"}`)
			case r.Method == http.MethodGet && r.URL.Path == job+"/successfulResults/":
				return csvReply(success)
			case r.Method == http.MethodGet && r.URL.Path == job+"/failedResults/":
				return csvReply(failed)
			case r.Method == http.MethodGet && r.URL.Path == job+"/unprocessedrecords/":
				return csvReply(nil)
			case r.Method == http.MethodPatch && r.URL.Path == "/services/data/v62.0/composite/sobjects":
				var req struct {
					Records []struct {
						ID string `json:"id"`
					} `json:"records"`
				}
				if err := json.Unmarshal(in, &req); err != nil {
					t.Errorf("composite request: %v", err)
				}
				out := make([]map[string]any, len(req.Records))
				mu.Lock()
				for i, rec := range req.Records {
					retried = append(retried, rec.ID)
					out[i] = map[string]any{"id": rec.ID, "success": true, "errors": []any{}}
				}
				mu.Unlock()
				b, _ := json.Marshal(out)
				return reply{status: 200, body: b}
			}
			t.Errorf("unexpected request %s %s", r.Method, r.URL)
			return jsonReply(404, `[{"errorCode":"NOT_FOUND","message":"no route"}]`)
		})
		ups := make([]connector.Update, len(ids))
		for i, id := range ids {
			ups[i] = connector.Update{ID: id, Fields: map[string]any{"Health_Score__c": 72}}
		}
		results, err := c.bulkUpdate(context.Background(), "Account", ups)

		// read is a lenient reading of a result CSV: the rows before any
		// error, by Id (else sf__Id).
		read := func(b []byte) (map[string]map[string]string, error) {
			cr := csv.NewReader(bytes.NewReader(b))
			cr.FieldsPerRecord = -1
			out := map[string]map[string]string{}
			header, err := cr.Read()
			if err != nil {
				if errors.Is(err, io.EOF) {
					err = nil
				}
				return out, err
			}
			header = slices.Clone(header)
			for {
				row, err := cr.Read()
				if errors.Is(err, io.EOF) {
					return out, nil
				}
				if err != nil {
					return out, err
				}
				rec := map[string]string{}
				for j, h := range header {
					if j < len(row) {
						rec[h] = row[j]
					}
				}
				if rec["Id"] == "" {
					rec["Id"] = rec["sf__Id"]
				}
				out[rec["Id"]] = rec
			}
		}
		succeeded, serr := read(success)
		failures, ferr := read(failed)
		if len(results) != len(ids) {
			t.Fatalf("%d results for %d updates", len(results), len(ids))
		}
		if serr != nil || ferr != nil {
			if err == nil || !strings.Contains(err.Error(), "bulk ingest results") {
				t.Fatalf("result CSVs %q / %q: error %v, want one naming the bulk ingest results", success, failed, err)
			}
		} else if err != nil {
			t.Fatalf("result CSVs %q / %q: %v", success, failed, err)
		}
		for i, r := range results {
			if r.ID != ids[i] {
				t.Fatalf("result %d has ID %q, the update %q", i, r.ID, ids[i])
			}
			if r.OK() {
				_, listed := succeeded[r.ID]
				if !slices.Contains(retried, r.ID) && (!listed || (ferr == nil && failures[r.ID] != nil)) {
					t.Fatalf("record %s reported written; successful %q, failed %q", r.ID, success, failed)
				}
				continue
			}
			e := r.Err
			if strings.TrimSpace(e.Code) == "" || strings.TrimSpace(e.Message) == "" {
				t.Fatalf("record %s fails without code or message: %#v", r.ID, e)
			}
			for _, fl := range e.Fields {
				if soqlName(fl) != nil {
					t.Fatalf("record %s: field %q is not a field name: %#v", r.ID, fl, e)
				}
			}
			rec := failures[r.ID]
			if rec == nil || ferr != nil || serr != nil {
				continue
			}
			// A well-formed "CODE:message:F1,F2" reads exactly.
			parts := strings.Split(rec["sf__Error"], ":")
			if len(parts) == 3 && parts[0] != "" && !strings.ContainsAny(parts[0], " \t") && strings.TrimSpace(parts[1]) != "" && strings.TrimSpace(parts[1]) == parts[1] {
				var wantFields []string
				ok := true
				if tail := strings.TrimSpace(strings.TrimRight(strings.TrimSpace(parts[2]), "-")); tail != "" {
					for _, fl := range strings.Split(tail, ",") {
						fl = strings.TrimSpace(fl)
						ok = ok && soqlName(fl) == nil
						if !slices.Contains(wantFields, fl) {
							wantFields = append(wantFields, fl)
						}
					}
				}
				if ok && (e.Code != parts[0] || e.Message != parts[1] || !slices.Equal(e.Fields, wantFields)) {
					t.Fatalf("sf__Error %q read as %#v", rec["sf__Error"], e)
				}
			}
		}
	})
}

// FuzzDeletedRecords: on an incremental pull, the deleted/ answer (in the
// composite call with the query's first page, or on its own) becomes one
// deletion per entry not already covered by the cursor, with the entry's
// id and deletedDate; an answer that is not a deleted/ answer (not JSON,
// no deletedRecords, an entry without id) is a typed error naming the
// request, with no deletion emitted; an unreadable deletedDate is an error
// naming the deleted records.
func FuzzDeletedRecords(f *testing.F) {
	for i, s := range []string{
		`{"deletedRecords":[{"id":"001000000000007AAA","deletedDate":"2026-01-15T11:30:00.000+0000"},{"id":"001000000000008AAA","deletedDate":"2026-01-15T11:31:07.000+0000"}],"earliestDateAvailable":"2026-01-01T00:00:00.000+0000","latestDateCovered":"2026-01-15T12:00:00.000+0000"}`,
		`{"deletedRecords":[{"id":"a00D0000008pQRAIA2","deletedDate":"2013-05-07T22:07:19.000+0000"}],"earliestDateAvailable":"2013-05-03T15:57:00.000+0000","latestDateCovered":"2013-05-08T21:20:00.000+0000"}`,
		`{"deletedRecords":[{"id":"001000000000001AAA","deletedDate":"2026-01-15T11:00:00.000+0000"}]}`,
		`{"deletedRecords":[],"earliestDateAvailable":"2026-01-01T00:00:00.000+0000","latestDateCovered":"2026-01-15T12:00:00.000+0000"}`,
		`{"deletedRecords":[{"id":"","deletedDate":"2026-01-15T11:30:00.000+0000"}]}`,
		`{"deletedRecords":[{"deletedDate":"2026-01-15T11:30:00.000+0000"}]}`,
		`{"deletedRecords":[{"id":"001000000000007AAA","deletedDate":"last week"}]}`,
		`{"deletedRecords":[{"id":"001000000000007AAA","deletedDate":"2026-01-15T11:30:00.000+0000"},{"id":"0010`,
		`{"earliestDateAvailable":"2026-01-01T00:00:00.000+0000"}`,
		`{}`,
		`null`,
		``,
	} {
		f.Add(uint8(i%2), []byte(s))
	}
	since := connector.Cursor{ModifiedAt: fuzzNow.Add(-time.Hour), LastID: "001000000000005AAA"}
	describe := `{"name":"Account","replicateable":true,"fields":[{"name":"Id","type":"id"},{"name":"SystemModstamp","type":"datetime"},{"name":"IsDeleted","type":"boolean"},{"name":"Name","type":"string","updateable":true}]}`
	f.Fuzz(func(t *testing.T, kind uint8, body []byte) {
		c := fuzzClient(t, func(r *http.Request, in []byte) reply {
			p := r.URL.Path
			switch {
			case strings.HasSuffix(p, "/sobjects/Account/describe"):
				return jsonReply(200, describe)
			case r.Method == http.MethodPost && p == "/services/data/v62.0/composite":
				if kind%2 == 0 && json.Valid(body) {
					return jsonReply(200, `{"compositeResponse":[{"body":`+lastPage+`,"httpHeaders":{},"httpStatusCode":200,"referenceId":"changes"},{"body":`+string(body)+`,"httpHeaders":{},"httpStatusCode":200,"referenceId":"deleted"}]}`)
				}
				return jsonReply(200, `{"compositeResponse":[]}`)
			case strings.Contains(p, "/query"):
				return jsonReply(200, lastPage)
			case strings.HasSuffix(p, "/sobjects/Account/deleted/"):
				return reply{status: 200, body: body}
			}
			t.Errorf("unexpected request %s %s", r.Method, r.URL)
			return jsonReply(404, `[{"errorCode":"NOT_FOUND","message":"no route"}]`)
		})
		var got []connector.Record
		err := c.Pull(context.Background(), connector.PullRequest{Object: "Account", Fields: []string{"Name"}, Since: since}, func(_ context.Context, p connector.Page) error {
			if !p.Cursor.ModifiedAt.Equal(since.ModifiedAt) || p.Cursor.LastID != since.LastID {
				t.Errorf("a deletion moved the cursor to %+v", p.Cursor)
			}
			got = append(got, p.Records...)
			return nil
		})

		var ans struct {
			DeletedRecords *[]struct {
				ID          string `json:"id"`
				DeletedDate string `json:"deletedDate"`
			} `json:"deletedRecords"`
		}
		ok := json.Unmarshal(body, &ans) == nil && ans.DeletedRecords != nil
		if ok {
			for _, dr := range *ans.DeletedRecords {
				ok = ok && strings.TrimSpace(dr.ID) != ""
			}
		}
		if !ok {
			if len(got) > 0 {
				t.Fatalf("answer %q: %d deletions emitted from a broken answer", body, len(got))
			}
			mustBeMalformed(t, err, "/deleted/", body)
			return
		}
		var want []connector.Record
		for _, dr := range *ans.DeletedRecords {
			when, perr := crm.ParseTime(dr.DeletedDate)
			if perr != nil {
				if err == nil || !strings.Contains(err.Error(), "deleted record") {
					t.Fatalf("deletedDate %q: error %v, want one naming the deleted records", dr.DeletedDate, err)
				}
				return
			}
			if when.Equal(crm.Normalize(since.ModifiedAt)) && dr.ID <= since.LastID {
				continue
			}
			want = append(want, connector.Record{ID: dr.ID, ModifiedAt: when})
		}
		if err != nil {
			t.Fatalf("answer %q: %v", body, err)
		}
		if len(got) != len(want) {
			t.Fatalf("answer %q: %d deletions, want %d", body, len(got), len(want))
		}
		for i, r := range got {
			var raw map[string]any
			if r.ID != want[i].ID || !r.ModifiedAt.Equal(want[i].ModifiedAt) || !r.Deleted || r.Object != "Account" ||
				json.Unmarshal(r.Raw, &raw) != nil || raw["Id"] != r.ID || raw["IsDeleted"] != true {
				t.Fatalf("deletion %d: %+v (raw %s), want %s at %v", i, r, r.Raw, want[i].ID, want[i].ModifiedAt)
			}
		}
	})
}

// FuzzTokenResponse: the JWT bearer flow's token answer gives a token with
// an access token, whose instance_url the client then accepts only as an
// http(s) URL; an error never shows the signed assertion; a refused
// assertion names the checks to make.
func FuzzTokenResponse(f *testing.F) {
	for i, s := range []string{
		`{"access_token":"00Dx0000000BV7z!AR8AQAxo9UfVkh8AlV0Gomt9Czx9LjHnSSpwBMmbRcgKFmxOtvxjTrKW19ye6PE3Ds1eQz3z8jr3W7_VbWmEu4Q8TVGSTHxs","scope":"api","instance_url":"https://na1.salesforce.com","id":"https://login.salesforce.com/id/00Dx0000000BV7z/005x00000012Q9P","token_type":"Bearer","issued_at":"1278448832702","signature":"0CmxinZir53Yex7nE0TD+zMpvIWYGb/bdJh6XfOH6EQ="}`,
		`{"access_token":"00Dfuzz!tok","instance_url":"http://127.0.0.1:8080/","id":"https://login.salesforce.test/id/00D/005"}`,
		`{"access_token":"00Dfuzz!tok","instance_url":"javascript:alert(1)"}`,
		`{"access_token":"00Dfuzz!tok","instance_url":"https://user:pw@evil.example"}`,
		`{"access_token":"00Dfuzz!tok","instance_url":""}`,
		`{"access_token":"00Dfuzz!tok","instance_url":5,"issued_at":1278448832702}`,
		`{"error":"invalid_grant","error_description":"user hasn't approved this consumer"}`,
		`{"error":"invalid_client_id","error_description":"client identifier invalid"}`,
		`{"error":"invalid_grant","error_description":"audience is invalid: ASSERTION"}`,
		`{"error":"ASSERTION","error_description":"ASSERTION"}`,
		`{"access_token":"","instance_url":"https://na1.salesforce.com"}`,
		`{"access_token":"00Dfuzz!tok","instance_url":"https://na1.sales`,
		`<html>maintenance</html>`,
		`{}`,
		`null`,
		``,
	} {
		f.Add(uint8(i%4), []byte(s))
	}
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		f.Fatal(err)
	}
	statuses := []int{200, 200, 400, 500}
	f.Fuzz(func(t *testing.T, kind uint8, body []byte) {
		status := statuses[int(kind)%len(statuses)]
		var assertion string
		hc := &http.Client{Transport: replier(func(r *http.Request, in []byte) reply {
			form, _ := url.ParseQuery(string(in))
			assertion = form.Get("assertion")
			// The answer may quote the assertion back, as a careless
			// endpoint would.
			return reply{status: status, body: bytes.ReplaceAll(body, []byte("ASSERTION"), []byte(assertion))}
		})}
		j := &oauth.JWTBearer{Connector: "salesforce", ConsumerKey: "3MVG9fuzzconsumerkey", Username: "integration@example.com",
			Audience: "https://login.salesforce.test", Key: key, HTTPClient: hc, Now: crm.FixedClock(fuzzNow).Now}
		tok, err := j.Grant(context.Background(), nil)
		if assertion == "" {
			t.Fatal("no assertion was posted")
		}
		if err != nil {
			if strings.Contains(err.Error(), assertion) {
				t.Fatalf("answer %q: the error shows the assertion: %v", body, err)
			}
			return
		}
		if status != 200 || tok.AccessToken == "" {
			t.Fatalf("status %d, answer %q: token %v", status, body, tok)
		}
		blob, err := tok.MarshalBlob()
		if err != nil {
			t.Fatal(err)
		}
		src := oauth.NewSource(tokensHolding("salesforce", blob), "salesforce", nil, oauth.SourceOptions{Now: crm.FixedClock(fuzzNow).Now})
		c, err := newClient(DefaultConfig(), src, Deps{Clock: crm.FixedClock(fuzzNow), Transport: replier(func(*http.Request, []byte) reply { return jsonReply(500, "") })})
		if err != nil {
			t.Fatal(err)
		}
		inst, err := c.InstanceURL(context.Background())
		if err != nil {
			if !strings.Contains(err.Error(), "healthsync auth salesforce") {
				t.Fatalf("instance_url %q: error %v does not say what to do", tok.InstanceURL, err)
			}
			return
		}
		u, perr := url.Parse(inst)
		if perr != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || strings.HasSuffix(inst, "/") {
			t.Fatalf("instance_url %q accepted as %q", tok.InstanceURL, inst)
		}
	})
}

// tokensHolding is a token store holding blob for connection.
func tokensHolding(connection string, blob []byte) *testkit.Tokens {
	tokens := testkit.NewTokens()
	tokens.SaveToken(context.Background(), connection, blob)
	return tokens
}
