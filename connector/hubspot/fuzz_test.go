package hubspot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"healthsync/connector"
	"healthsync/connector/oauth"
	"healthsync/crm"
	"healthsync/internal/testkit"
)

// The fuzz targets of this file hand the client's real methods (Pull,
// ListIDs, Update, CreateTasks, the token calls) answers whose body is the
// fuzzed input, through an in-memory transport, and check what they make
// of it: records that round-trip their ID and raw JSON, paging tokens
// followed verbatim, associations that are exactly the answer's, per-record
// results that are never an unexplained success, and for a broken answer
// a typed MALFORMED_RESPONSE error naming the call, never a panic and
// never an empty success. Seeds (here and in testdata/fuzz) are the
// emulator's answers and HubSpot's documented shapes; plain `go test` runs
// them. Run one longer with
//
//	go test -run '^$' -fuzz '^FuzzSearchPage$' -fuzztime 60s ./connector/hubspot

// fuzzNow is the clock of every fuzz target.
var fuzzNow = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)

// canned answers one request in memory.
type canned func(r *http.Request, body []byte) (status int, answer []byte)

func (f canned) RoundTrip(r *http.Request) (*http.Response, error) {
	var in []byte
	if r.Body != nil {
		in, _ = io.ReadAll(r.Body)
		r.Body.Close()
	}
	status, out := f(r, in)
	return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/json;charset=utf-8"}},
		Body: io.NopCloser(bytes.NewReader(out)), ContentLength: int64(len(out)), Request: r}, nil
}

// fuzzClient is a client of a portal that answers through f.
func fuzzClient(t *testing.T, f canned) *Client {
	t.Helper()
	c, err := newClient(&http.Client{Transport: f}, "https://api.hubapi.test", withClock(crm.FixedClock(fuzzNow)))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const (
	emptySearch = `{"total":0,"results":[]}`
	emptyList   = `{"results":[]}`
)

// collect runs a pull and returns what it emitted.
func collect(c *Client, object string) ([]connector.Record, error) {
	got, _, _, err := pullAll(c, object)
	return got, err
}

// pullAll runs a pull and returns the records it emitted, the results it
// skipped and the last page's cursor.
func pullAll(c *Client, object string) ([]connector.Record, []connector.Skipped, connector.Cursor, error) {
	var got []connector.Record
	var skipped []connector.Skipped
	var cur connector.Cursor
	err := c.Pull(context.Background(), connector.PullRequest{Object: object, Fields: []string{"name"}}, func(_ context.Context, p connector.Page) error {
		got = append(got, p.Records...)
		skipped = append(skipped, p.Skipped...)
		cur = p.Cursor
		return nil
	})
	return got, skipped, cur, err
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

// oraclePage is a lenient reading of a list or search answer.
type oraclePage struct {
	Results []json.RawMessage `json:"results"`
	Paging  *struct {
		Next *struct {
			After string `json:"after"`
		} `json:"next"`
	} `json:"paging"`
}

func (p oraclePage) after() string {
	if p.Paging == nil || p.Paging.Next == nil {
		return ""
	}
	return p.Paging.Next.After
}

// oracleRecord is a lenient reading of one result.
type oracleRecord struct {
	ID         string             `json:"id"`
	Properties map[string]*string `json:"properties"`
	UpdatedAt  string             `json:"updatedAt"`
	Archived   bool               `json:"archived"`
	ArchivedAt string             `json:"archivedAt"`
}

// oracleResult is one search or list result as a pull must read it.
type oracleResult struct {
	object                bool // a JSON object: anything else makes the answer malformed
	storable              bool // a string id, a readable stamp, properties all strings or null
	id                    string
	stamp                 time.Time // hs_lastmodifieddate, or else updatedAt; zero when unreadable
	updatedAt, archivedAt string
}

// placed reports whether a search can continue by key after the result.
func (r oracleResult) placed() bool { return r.id != "" && !r.stamp.IsZero() }

func readResult(raw json.RawMessage) oracleResult {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil || m == nil {
		return oracleResult{}
	}
	r := oracleResult{object: true, storable: true}
	isText := func(v any) bool {
		_, ok := v.(string)
		return v == nil || ok
	}
	if id, ok := m["id"].(string); ok && strings.TrimSpace(id) != "" {
		r.id = id
	} else {
		r.storable = false
	}
	props, ok := m["properties"].(map[string]any)
	if !ok && m["properties"] != nil {
		r.storable = false
	}
	for _, v := range props {
		r.storable = r.storable && isText(v)
	}
	r.storable = r.storable && isText(m["updatedAt"]) && isText(m["archivedAt"])
	r.updatedAt, _ = m["updatedAt"].(string)
	r.archivedAt, _ = m["archivedAt"].(string)
	stamp, _ := props["hs_lastmodifieddate"].(string)
	if stamp == "" {
		stamp = r.updatedAt
	}
	if t, err := crm.ParseTime(stamp); err == nil {
		r.stamp = t
	} else {
		r.storable = false
	}
	return r
}

// oracleOwner is a lenient reading of one owner.
type oracleOwner struct {
	ID        string `json:"id"`
	UpdatedAt string `json:"updatedAt"`
}

// FuzzSearchPage: the answer to a companies search is emitted record for
// record (same ID, raw JSON byte for byte, the stamp of
// hs_lastmodifieddate or else updatedAt), the next page is asked for by
// key after the page's last placed record when paging.next.after is set; a
// result that is an object but cannot be stored (no id, no readable stamp,
// a property that is not a string) is skipped and reported once, the
// cursor stopping before it; a broken answer (truncated, not a page, a
// result that is not an object, or no result to continue by key after)
// is an error naming companies with nothing emitted.
func FuzzSearchPage(f *testing.F) {
	for _, s := range []string{
		`{"total":2,"results":[{"id":"101","properties":{"createdate":"2025-03-01T10:00:00.000Z","hs_lastmodifieddate":"2025-12-01T09:30:00.123Z","hs_object_id":"101","name":"Acme"},"createdAt":"2025-03-01T10:00:00.000Z","updatedAt":"2025-12-01T09:30:00.123Z","archived":false},{"id":"102","properties":{"hs_lastmodifieddate":"2025-12-01T09:30:00.123Z","hs_object_id":"102","name":null},"createdAt":"2025-03-01T10:00:00.000Z","updatedAt":"2025-12-01T09:30:00.123Z","archived":false}],"paging":{"next":{"after":"2"}}}`,
		`{"total":1,"results":[{"id":"7","properties":{"hs_lastmodifieddate":"1764581400123"},"updatedAt":"2025-12-01T09:30:00.123Z"}]}`,
		`{"total":1,"results":[{"id":"8","properties":{},"updatedAt":"2025-12-01T09:30:00Z"}]}`,
		`{"total":0,"results":[]}`,
		`{"total":1,"results":[{"id":"7","properties":{"lastmodifieddate":"yesterday"}}]}`,
		`{"total":1,"results":[{"properties":{"hs_lastmodifieddate":"2025-12-01T09:30:00Z"}}]}`,
		`{"total":2,"results":[{"id":"101","properties":{"hs_lastmodifieddate":"2025-12-01T09:30:00.123Z"}}],"paging":{"next":{"after":""}}}`,
		`{"total":2,"results":[{"id":"101","properties":{"hs_lastmodifieddate":"2025-12-01T09:30:00.123Z","name":"Acm`,
		`{"total":5}`,
		`{}`,
		`null`,
		`[]`,
		`{"total":3,"results":[{"id":"101","properties":{"hs_lastmodifieddate":"2025-12-01T09:30:00Z","name":12345}},{"id":"102","properties":{"hs_lastmodifieddate":"2025-12-01T09:31:00Z"}},{"properties":{"hs_object_id":"103","name":"Acme"}}],"paging":{"next":{"after":"3"}}}`,
		`{"total":2,"results":[{"id":"101","properties":{"hs_lastmodifieddate":"2025-12-01T09:30:00Z"}},{"id":102,"properties":{"hs_lastmodifieddate":"2025-12-01T09:31:00Z"}}]}`,
		`{"total":2,"results":[{"properties":{}},{"properties":{}}],"paging":{"next":{"after":"2"}}}`,
		`{"total":2,"results":[{"id":"101","properties":{"hs_lastmodifieddate":"2025-12-01T09:30:00Z"}},7]}`,
		`<html><body>502 Bad Gateway</body></html>`,
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var mu stdsync.Mutex
		var searches []searchRequest
		c := fuzzClient(t, func(r *http.Request, in []byte) (int, []byte) {
			switch {
			case r.Method == http.MethodPost && r.URL.Path == "/crm/v3/objects/companies/search":
				var sr searchRequest
				if err := json.Unmarshal(in, &sr); err != nil {
					t.Errorf("search request is not JSON: %v", err)
				}
				mu.Lock()
				defer mu.Unlock()
				searches = append(searches, sr)
				if len(searches) == 1 {
					return 200, body
				}
				return 200, []byte(emptySearch)
			case r.Method == http.MethodGet && r.URL.Path == "/crm/v3/objects/companies":
				return 200, []byte(emptyList)
			}
			t.Errorf("unexpected request %s %s", r.Method, r.URL)
			return 404, []byte(`{"status":"error","message":"no route","category":"OBJECT_NOT_FOUND"}`)
		})
		got, skipped, cursor, err := pullAll(c, Companies)

		var page oraclePage
		broken := json.Unmarshal(body, &page) != nil || page.Results == nil
		results := make([]oracleResult, len(page.Results))
		for i, raw := range page.Results {
			results[i] = readResult(raw)
			broken = broken || !results[i].object
		}
		if broken {
			if len(got) > 0 || len(skipped) > 0 {
				t.Fatalf("answer %q: %d records emitted, %d skipped from a broken page", body, len(got), len(skipped))
			}
			mustBeMalformed(t, err, "search companies", body)
			return
		}
		var want []int // indexes of the results to emit
		var lastPlaced *oracleResult
		var wantCursor connector.Cursor
		held := false
		unstorable := map[string]bool{}
		for i, r := range results {
			if r.placed() {
				lastPlaced = &results[i]
			}
			if !r.storable {
				held = true
				unstorable[string(page.Results[i])] = true
				continue
			}
			want = append(want, i)
			if !held {
				wantCursor = advance(wantCursor, r.stamp, r.id)
			}
		}
		if len(skipped) != len(unstorable) {
			t.Fatalf("answer %q: %d results skipped, want %d: %+v", body, len(skipped), len(unstorable), skipped)
		}
		for _, sk := range skipped {
			if !strings.HasPrefix(sk.Reason, "HubSpot companies result ") || !strings.Contains(sk.Reason, " of search page 1") {
				t.Fatalf("answer %q: skipped result reported as %q, which does not say where it was", body, sk.Reason)
			}
		}
		if len(results) > 0 && page.after() != "" && lastPlaced == nil {
			if len(got) > 0 {
				t.Fatalf("answer %q: records emitted from a page no result of which is placed", body)
			}
			mustBeMalformed(t, err, "search companies", body)
			return
		}
		if err != nil {
			t.Fatalf("answer %q: %v", body, err)
		}
		if len(got) != len(want) {
			t.Fatalf("answer %q: %d records emitted, the page has %d storable", body, len(got), len(want))
		}
		for i, r := range got {
			w := results[want[i]]
			if r.ID != w.id || r.Object != Companies || r.Deleted {
				t.Fatalf("record %d: %+v, want id %q", i, r, w.id)
			}
			if !bytes.Equal(r.Raw, page.Results[want[i]]) {
				t.Fatalf("record %s: raw %s, the answer had %s", r.ID, r.Raw, page.Results[want[i]])
			}
			if !r.ModifiedAt.Equal(crm.Normalize(w.stamp)) {
				t.Fatalf("record %s: stamp %v, the answer's %v", r.ID, r.ModifiedAt, w.stamp)
			}
		}
		if (len(got) > 0 || len(skipped) > 0) && (!cursor.ModifiedAt.Equal(wantCursor.ModifiedAt) || cursor.LastID != wantCursor.LastID) {
			t.Fatalf("answer %q: cursor %+v, want %+v (never past a skipped result)", body, cursor, wantCursor)
		}
		if page.after() == "" || len(results) == 0 {
			if len(searches) != 1 {
				t.Fatalf("answer %q is a last page, yet %d searches were made", body, len(searches))
			}
			return
		}
		if len(searches) != 2 {
			t.Fatalf("answer %q has paging.next, yet %d searches were made", body, len(searches))
		}
		last := lastPlaced.id
		found := false
		for _, g := range searches[1].FilterGroups {
			for _, fl := range g.Filters {
				if fl.PropertyName == "hs_object_id" && fl.Operator == "GT" && fl.Value == last {
					found = true
				}
			}
		}
		if !found {
			t.Fatalf("next search %+v does not continue after record %s", searches[1].FilterGroups, last)
		}
	})
}

// FuzzListPages: a list answer (archived companies in a pull, owners in a
// pull, company and owner IDs for the reconciliation) is emitted result
// for result with its ID (archived ones as deletions stamped with
// archivedAt or else updatedAt, an archived one without an id or a
// readable date skipped and reported); paging.next.after is sent back
// verbatim as the next request's after; a broken answer is an error naming
// the list, with nothing emitted.
func FuzzListPages(f *testing.F) {
	for i, s := range []string{
		`{"results":[{"id":"55","properties":{"hs_lastmodifieddate":"2025-11-02T08:00:00Z","hs_object_id":"55"},"createdAt":"2025-01-01T00:00:00Z","updatedAt":"2025-11-02T08:00:00Z","archived":true,"archivedAt":"2025-11-02T08:00:00.250Z"}],"paging":{"next":{"after":"56","link":"https://api.hubapi.com/crm/v3/objects/companies?after=56"}}}`,
		`{"results":[{"id":"90001","email":"ana@example.com","type":"PERSON","firstName":"Ana","lastName":"Ruiz","userId":123,"createdAt":"2024-05-01T10:00:00Z","updatedAt":"2025-10-01T10:00:00Z","archived":false,"teams":[{"id":"1","name":"CS","primary":true}]}],"paging":{"next":{"after":"MTAw"}}}`,
		`{"results":[{"id":"1"},{"id":"2"}],"paging":{"next":{"after":"a b&c=d"}}}`,
		`{"results":[{"id":"55","archived":true}]}`,
		`{"results":[{"id":""}]}`,
		`{"results":[]}`,
		`{"results":null}`,
		`{}`,
		`null`,
		`{"results":[{"id":"55","archivedAt":"2025-11-02T08:00:00Z"`,
		`<html>gateway timeout</html>`,
	} {
		for kind := range 4 {
			if (i+kind)%2 == 0 {
				f.Add(uint8(kind), []byte(s))
			}
		}
	}
	f.Fuzz(func(t *testing.T, kind uint8, body []byte) {
		type call struct{ path, after, archived string }
		var mu stdsync.Mutex
		var calls []call
		target := map[uint8]call{
			0: {path: "/crm/v3/objects/companies", archived: "true"},
			1: {path: "/crm/v3/owners", archived: ""},
			2: {path: "/crm/v3/objects/companies", archived: ""},
			3: {path: "/crm/v3/owners", archived: ""},
		}[kind%4]
		c := fuzzClient(t, func(r *http.Request, _ []byte) (int, []byte) {
			if r.Method == http.MethodPost && r.URL.Path == "/crm/v3/objects/companies/search" {
				return 200, []byte(emptySearch)
			}
			if r.Method != http.MethodGet {
				t.Errorf("unexpected request %s %s", r.Method, r.URL)
				return 405, nil
			}
			q := r.URL.Query()
			mu.Lock()
			defer mu.Unlock()
			cl := call{path: r.URL.Path, after: q.Get("after"), archived: q.Get("archived")}
			calls = append(calls, cl)
			if cl.path == target.path && cl.archived == target.archived && cl.after == "" {
				return 200, body
			}
			return 200, []byte(emptyList)
		})
		var got []connector.Record
		var skipped []connector.Skipped
		var ids []string
		var err error
		var names string
		switch kind % 4 {
		case 0:
			got, skipped, _, err = pullAll(c, Companies)
			names = "archived companies"
		case 1:
			got, err = collect(c, Owners)
			names = "owners"
		case 2, 3:
			obj := map[uint8]string{2: Companies, 3: Owners}[kind%4]
			err = c.ListIDs(context.Background(), obj, func(p []string) error {
				ids = append(ids, p...)
				return nil
			})
			names = map[uint8]string{2: "companies IDs", 3: "owners"}[kind%4]
		}
		for _, r := range got {
			ids = append(ids, r.ID)
		}

		var page oraclePage
		broken := json.Unmarshal(body, &page) != nil || page.Results == nil
		if kind%4 == 0 && !broken {
			// Archived results: one that is not an object breaks the
			// answer; one without an id or a readable archivedAt or
			// updatedAt is skipped, and the others are deletions.
			var want []oracleResult
			var raws []json.RawMessage
			nSkipped := 0
			for _, raw := range page.Results {
				r := readResult(raw)
				_, e1 := crm.ParseTime(r.archivedAt)
				_, e2 := crm.ParseTime(r.updatedAt)
				switch {
				case !r.object:
					broken = true
				case r.id == "" || (e1 != nil && e2 != nil):
					nSkipped++
				default:
					want = append(want, r)
					raws = append(raws, raw)
				}
			}
			if broken {
				if len(got) > 0 || len(skipped) > 0 {
					t.Fatalf("answer %q: %d records emitted from a broken page", body, len(got))
				}
				mustBeMalformed(t, err, names, body)
				return
			}
			if err != nil {
				t.Fatalf("answer %q: %v", body, err)
			}
			if len(got) != len(want) || len(skipped) != nSkipped {
				t.Fatalf("answer %q: %d deletions and %d skipped, want %d and %d", body, len(got), len(skipped), len(want), nSkipped)
			}
			for i, r := range got {
				at, aerr := crm.ParseTime(want[i].archivedAt)
				if aerr != nil {
					at, _ = crm.ParseTime(want[i].updatedAt)
				}
				if r.ID != want[i].id || !r.Deleted || !r.ModifiedAt.Equal(at) || !bytes.Equal(r.Raw, raws[i]) {
					t.Fatalf("archived %s: %+v, want a deletion of %s at %v", r.ID, r, want[i].id, at)
				}
			}
			for _, sk := range skipped {
				if !strings.HasPrefix(sk.Reason, "HubSpot companies result ") || !strings.Contains(sk.Reason, "archived list page 1") {
					t.Fatalf("answer %q: skipped result reported as %q, which does not say where it was", body, sk.Reason)
				}
			}
			if next := page.after(); next != "" && !slices.ContainsFunc(calls, func(cl call) bool {
				return cl.path == target.path && cl.archived == target.archived && cl.after == next
			}) {
				t.Fatalf("paging.next.after %q was not sent back: calls %+v", next, calls)
			}
			return
		}
		recs := make([]oracleRecord, len(page.Results))
		for i, raw := range page.Results {
			if target.path == "/crm/v3/owners" {
				var o oracleOwner
				if json.Unmarshal(raw, &o) != nil || o.ID == "" {
					broken = true
				}
				recs[i] = oracleRecord{ID: o.ID, UpdatedAt: o.UpdatedAt}
				continue
			}
			if json.Unmarshal(raw, &recs[i]) != nil || recs[i].ID == "" {
				broken = true
			}
		}
		if broken {
			if len(ids) > 0 {
				t.Fatalf("answer %q: %d records emitted from a broken page", body, len(ids))
			}
			mustBeMalformed(t, err, names, body)
			return
		}
		if err != nil {
			t.Fatalf("answer %q: %v", body, err)
		}
		want := make([]string, len(recs))
		for i, r := range recs {
			want[i] = r.ID
		}
		if !slices.Equal(ids, want) {
			t.Fatalf("answer %q: IDs %q, want %q", body, ids, want)
		}
		for i, r := range got {
			if !bytes.Equal(r.Raw, page.Results[i]) {
				t.Fatalf("record %s: raw %s, the answer had %s", r.ID, r.Raw, page.Results[i])
			}
			if r.Deleted {
				t.Fatalf("owner %s emitted as deleted", r.ID)
			}
		}
		if next := page.after(); next != "" {
			ok := false
			for _, cl := range calls {
				if cl.path == target.path && cl.archived == target.archived && cl.after == next {
					ok = true
				}
			}
			if !ok {
				t.Fatalf("paging.next.after %q was not sent back: calls %+v", next, calls)
			}
		}
	})
}

// FuzzAssociations: the v4 association batch read answer for tasks →
// companies becomes, on each task's raw record, exactly the answer's
// targets of that task (merged over entries, each once, ordered by ID,
// never an empty ID, typed by label or task_to_company); a broken answer
// is an error naming the associations, with no task emitted without them.
func FuzzAssociations(f *testing.F) {
	for _, s := range []string{
		`{"status":"COMPLETE","results":[{"from":{"id":"101"},"to":[{"toObjectId":5001,"associationTypes":[{"category":"HUBSPOT_DEFINED","typeId":192,"label":null}]}]},{"from":{"id":"102"},"to":[{"toObjectId":5002,"associationTypes":[{"category":"USER_DEFINED","typeId":7,"label":"Billing"},{"category":"HUBSPOT_DEFINED","typeId":192,"label":null}]},{"toObjectId":5001,"associationTypes":[]}]}],"startedAt":"2026-01-15T12:00:00.000Z","completedAt":"2026-01-15T12:00:00.010Z"}`,
		`{"status":"COMPLETE","results":[{"from":{"id":"103"},"to":[{"toObjectId":9}]}],"numErrors":2,"errors":[{"status":"error","category":"OBJECT_NOT_FOUND","subCategory":"crm.associations.NO_ASSOCIATIONS_FOUND","context":{"fromObjectId":["101"]},"message":"No company is associated with task 101."}]}`,
		`{"status":"COMPLETE","results":[{"from":{"id":"101"},"to":[{"toObjectId":3}]},{"from":{"id":"101"},"to":[{"toObjectId":2},{"toObjectId":3}]}]}`,
		`{"status":"COMPLETE","results":[{"from":{"id":"101"},"to":[{"associationTypes":[]}]}]}`,
		`{"status":"COMPLETE","results":[{"from":{},"to":[{"toObjectId":1}]}]}`,
		`{"status":"COMPLETE","results":[{"from":{"id":"101"},"to":[{"toObjectId":"12"}]}]}`,
		`{"status":"COMPLETE","results":[]}`,
		`{"status":"COMPLETE"}`,
		`{"status":"COMPLETE","results":[{"from":{"id":"101"},"to":[{"toObjectId":50`,
		`null`,
	} {
		f.Add([]byte(s))
	}
	tasks := `{"total":3,"results":[` +
		`{"id":"101","properties":{"hs_lastmodifieddate":"2026-01-10T10:00:00Z","hs_timestamp":"2026-01-10T10:00:00Z"},"updatedAt":"2026-01-10T10:00:00Z"},` +
		`{"id":"102","properties":{"hs_lastmodifieddate":"2026-01-10T10:00:01Z","hs_timestamp":"2026-01-10T10:00:00Z"},"updatedAt":"2026-01-10T10:00:01Z"},` +
		`{"id":"103","properties":{"hs_lastmodifieddate":"2026-01-10T10:00:02Z","hs_timestamp":"2026-01-10T10:00:00Z"},"updatedAt":"2026-01-10T10:00:02Z"}]}`
	f.Fuzz(func(t *testing.T, body []byte) {
		c := fuzzClient(t, func(r *http.Request, _ []byte) (int, []byte) {
			switch {
			case r.Method == http.MethodPost && r.URL.Path == "/crm/v3/objects/tasks/search":
				return 200, []byte(tasks)
			case r.Method == http.MethodGet && r.URL.Path == "/crm/v3/objects/tasks":
				return 200, []byte(emptyList)
			case r.Method == http.MethodPost && r.URL.Path == "/crm/v4/associations/tasks/companies/batch/read":
				return 207, body
			case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/crm/v4/associations/tasks/"):
				return 200, []byte(`{"status":"COMPLETE","results":[]}`)
			}
			t.Errorf("unexpected request %s %s", r.Method, r.URL)
			return 404, nil
		})
		got, err := collect(c, Tasks)

		var ans struct {
			Results []struct {
				From struct {
					ID string `json:"id"`
				} `json:"from"`
				To []struct {
					ToObjectID *json.Number `json:"toObjectId"`
					Types      []struct {
						Category string  `json:"category"`
						TypeID   int     `json:"typeId"`
						Label    *string `json:"label"`
					} `json:"associationTypes"`
				} `json:"to"`
			} `json:"results"`
		}
		broken := json.Unmarshal(body, &ans) != nil || ans.Results == nil
		want := map[string][]string{}
		for _, r := range ans.Results {
			if r.From.ID == "" {
				broken = true
			}
			for _, to := range r.To {
				if to.ToObjectID == nil || *to.ToObjectID == "" {
					broken = true
					continue
				}
				if id := to.ToObjectID.String(); !slices.Contains(want[r.From.ID], id) {
					want[r.From.ID] = append(want[r.From.ID], id)
				}
			}
		}
		if broken {
			if len(got) > 0 {
				t.Fatalf("answer %q: %d tasks emitted without their associations", body, len(got))
			}
			mustBeMalformed(t, err, "associations", body)
			return
		}
		if err != nil {
			t.Fatalf("answer %q: %v", body, err)
		}
		if len(got) != 3 {
			t.Fatalf("%d tasks emitted, want 3", len(got))
		}
		for _, r := range got {
			var raw struct {
				ID           string `json:"id"`
				Associations map[string]struct {
					Results []assocRef `json:"results"`
				} `json:"associations"`
			}
			if err := json.Unmarshal(r.Raw, &raw); err != nil || raw.ID != r.ID || raw.Associations == nil {
				t.Fatalf("task %s: raw %s (%v)", r.ID, r.Raw, err)
			}
			refs := raw.Associations[Companies].Results
			var ids []string
			for i, ref := range refs {
				if ref.ID == "" || ref.Type == "" {
					t.Fatalf("task %s: association %+v", r.ID, ref)
				}
				// idLess is not transitive between numeric and other IDs,
				// so order is checked pairwise.
				if i > 0 && idLess(ref.ID, refs[i-1].ID) {
					t.Fatalf("task %s: associations out of order: %+v", r.ID, refs)
				}
				ids = append(ids, ref.ID)
			}
			w := slices.Clone(want[r.ID])
			slices.Sort(w)
			slices.Sort(ids)
			if !slices.Equal(ids, w) {
				t.Fatalf("task %s: companies %q, the answer has %q", r.ID, ids, w)
			}
			for _, other := range []string{Contacts, Deals} {
				if len(raw.Associations[other].Results) > 0 {
					t.Fatalf("task %s: %s associations from an empty answer", r.ID, other)
				}
			}
		}
	})
}

// FuzzBatchResults: the answer to a batch update or create (200, a 207
// multi-status, an error status) gives one result per input, in order,
// with the input's ID (updates); a success only for a record the answer
// lists as written and does not list as failed (for creates: by key, with
// the new ID); every failure with a code and a message; an error return
// only when the run must stop.
func FuzzBatchResults(f *testing.F) {
	for i, s := range []string{
		`{"status":"COMPLETE","results":[{"id":"1","properties":{"healthsync_score":"72","hs_lastmodifieddate":"2026-01-15T12:00:00Z"},"createdAt":"2025-01-01T00:00:00Z","updatedAt":"2026-01-15T12:00:00Z","archived":false},{"id":"2","properties":{"healthsync_score":"72"}},{"id":"3","properties":{}}],"startedAt":"2026-01-15T12:00:00Z","completedAt":"2026-01-15T12:00:00Z"}`,
		`{"status":"COMPLETE","results":[{"id":"1","properties":{}}],"numErrors":2,"errors":[{"status":"error","category":"OBJECT_NOT_FOUND","message":"Object not found. objectId are usually numeric.","context":{"ids":["2"]}},{"status":"error","category":"VALIDATION_ERROR","message":"Property values were not valid","context":{"ids":["3"],"propertyName":["healthsync_score"]}}]}`,
		`{"status":"COMPLETE","results":[{"id":"9001","properties":{"healthsync_key":"k-1","hs_task_subject":"Call"}},{"id":"9002","properties":{"healthsync_key":"K-2"}}]}`,
		`{"status":"COMPLETE","results":[{"id":"1"}],"errors":[{"context":{"ids":["1","2"]}},{"status":"","category":"","message":"","context":{"ids":["3"]}}]}`,
		`{"status":"COMPLETE","results":[{"id":"9001","properties":{"healthsync_key":"k-1"}},{"id":"","properties":{"healthsync_key":"k-2"}}]}`,
		`{"status":"error","message":"Property values were not valid","correlationId":"c9","category":"VALIDATION_ERROR","errors":[{"message":"72x was not a valid number","code":"INVALID_INTEGER","context":{"propertyName":["healthsync_score"]}}]}`,
		`{"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT","policyName":"TEN_SECONDLY_ROLLING"}`,
		`{"status":"COMPLETE","results":[{"id":"1","properties":{"healthsync_score":"7`,
		`{}`,
		`null`,
		``,
	} {
		for kind := range 16 {
			if (i+kind)%4 == 0 {
				f.Add(uint8(kind), []byte(s))
			}
		}
	}
	statuses := []int{200, 207, 207, 200, 400, 429, 500, 401}
	f.Fuzz(func(t *testing.T, kind uint8, body []byte) {
		status := statuses[int(kind/2)%len(statuses)]
		create := kind%2 == 1
		c := fuzzClient(t, func(r *http.Request, _ []byte) (int, []byte) {
			if r.Method == http.MethodPost && (strings.HasSuffix(r.URL.Path, "/batch/update") || strings.HasSuffix(r.URL.Path, "/batch/create")) {
				return status, body
			}
			t.Errorf("unexpected request %s %s", r.Method, r.URL)
			return 404, nil
		})
		var ans struct {
			Results []json.RawMessage `json:"results"`
			Errors  []struct {
				Context map[string][]string `json:"context"`
			} `json:"errors"`
		}
		readable := status < 300 && json.Unmarshal(body, &ans) == nil
		listed := map[string]bool{} // ID, or key for creates, written
		failedIDs := map[string]bool{}
		keyOf := map[string][]string{} // key → IDs created with it
		for _, raw := range ans.Results {
			var w oracleRecord
			if json.Unmarshal(raw, &w) == nil && w.ID != "" {
				listed[w.ID] = true
				if v := w.Properties["healthsync_key"]; v != nil {
					k := strings.ToLower(*v)
					keyOf[k] = append(keyOf[k], w.ID)
				}
			}
		}
		for _, e := range ans.Errors {
			for _, id := range e.Context["ids"] {
				failedIDs[id] = true
			}
		}

		var results []connector.Result
		var err error
		var ids []string
		if create {
			results, err = c.CreateTasks(context.Background(), []crm.Task{
				{Key: "k-1", Subject: "Call the sponsor", AccountID: "5001", Due: fuzzNow},
				{Key: "k-2", Subject: "Plan the renewal", ContactID: "6001"},
			})
			ids = []string{"", ""}
		} else {
			ids = []string{"1", "2", "3"}
			ups := make([]connector.Update, len(ids))
			for i, id := range ids {
				ups[i] = connector.Update{ID: id, Fields: map[string]any{"healthsync_score": 72}}
			}
			results, err = c.Update(context.Background(), Companies, ups)
		}
		if len(results) != len(ids) {
			t.Fatalf("%d results for %d inputs", len(results), len(ids))
		}
		if (err != nil) != (status == 401) {
			t.Fatalf("status %d, answer %q: error %v", status, body, err)
		}
		for i, r := range results {
			if !create && r.ID != ids[i] {
				t.Fatalf("result %d has ID %q, the input %q", i, r.ID, ids[i])
			}
			if r.OK() {
				if !readable {
					t.Fatalf("status %d, answer %q: record %d reported written", status, body, i)
				}
				if create {
					key := []string{"k-1", "k-2"}[i]
					if r.ID == "" || !slices.Contains(keyOf[key], r.ID) {
						t.Fatalf("task %s reported created as %q; the answer has %q", key, r.ID, keyOf[key])
					}
				} else if !listed[r.ID] || failedIDs[r.ID] {
					t.Fatalf("record %s reported written; answer %q", r.ID, body)
				}
				continue
			}
			if strings.TrimSpace(r.Err.Code) == "" || strings.TrimSpace(r.Err.Message) == "" {
				t.Fatalf("status %d, answer %q: result %d fails without code or message: %#v", status, body, i, r.Err)
			}
			if err != nil && r.Err.Code != connector.CodeNotAttempted {
				t.Fatalf("the run stopped, yet record %d has %#v", i, r.Err)
			}
		}
	})
}

// Credentials of FuzzTokenResponses; none may show in an error.
const (
	fuzzAccess  = "CJSP5qfSLhIuAAEAQAAAAR8GKQ-fuzz-access-token-9f8e7d6c"
	fuzzRefresh = "na1-7c2e-fuzz-refresh-token-4b1d-8a3f-0e6d5c4b3a29"
	fuzzSecret  = "fuzz-client-secret-5d4c3b2a-1f0e"
)

// FuzzTokenResponses: the token information answer (GET
// /oauth/v1/access-tokens/{token}) gives exactly its scopes, or an error
// that never shows the token (which is in the URL) even when the answer
// quotes it; a refresh answer (POST /oauth/v1/token) gives a token with an
// access token and an expiry in the future, or an error that shows neither
// the refresh token nor the client secret, and that wraps
// connector.ErrReauthorize when HubSpot refused the refresh token.
func FuzzTokenResponses(f *testing.F) {
	for i, s := range []string{
		`{"token":"` + fuzzAccess + `","user":"ana@example.com","hub_domain":"example.com","scopes":["oauth","crm.objects.companies.read","crm.objects.contacts.read"],"hub_id":62515,"app_id":456,"expires_in":1754,"user_id":123,"token_type":"access"}`,
		`{"access_token":"CN2zlYnmLBICAQIYs-gDIIGOBii1_fuzz","refresh_token":"na1-new-refresh","expires_in":1800,"token_type":"bearer"}`,
		`{"access_token":"CN2zlYnmLBICAQIYs-gDIIGOBii1_fuzz","expires_in":"1800"}`,
		`{"status":"BAD_REFRESH_TOKEN","message":"missing or unknown refresh token ` + fuzzRefresh + `","correlationId":"c1","error":"invalid_grant","error_description":"missing or unknown refresh token"}`,
		`{"status":"error","message":"The OAuth token used to make this call expired 3 minute(s) ago.","correlationId":"c2","category":"EXPIRED_AUTHENTICATION"}`,
		`{"status":"error","message":"Token ` + fuzzAccess + ` not found","category":"OBJECT_NOT_FOUND"}`,
		`{"error":"invalid_client","error_description":"client_secret=` + fuzzSecret + ` is wrong"}`,
		`{"status":"` + fuzzRefresh + `","category":"` + fuzzAccess + `","error":"` + fuzzSecret + `","errors":[{"context":{"propertyName":["` + fuzzAccess + `"]}}]}`,
		`{"scopes":null}`,
		`{"scopes":[1,2]}`,
		`{"token":"` + fuzzAccess + `","scopes":["oauth"`,
		`{"access_token":"","expires_in":-5}`,
		`{"access_token":"CN2zlYnmLBICAQIYs","expires_in":1e300}`,
		`{}`,
		`null`,
		``,
	} {
		for kind := range 14 {
			if (i+kind)%3 == 0 {
				f.Add(uint8(kind), []byte(s))
			}
		}
	}
	statuses := []int{200, 200, 200, 400, 401, 404, 500}
	f.Fuzz(func(t *testing.T, kind uint8, body []byte) {
		status := statuses[int(kind/2)%len(statuses)]
		hc := &http.Client{Transport: canned(func(r *http.Request, _ []byte) (int, []byte) { return status, body })}
		base := "https://api.hubapi.test"
		secrets := []string{fuzzAccess, fuzzRefresh, fuzzSecret}
		leaks := func(err error) {
			t.Helper()
			for _, s := range secrets {
				if err != nil && strings.Contains(err.Error(), s) {
					t.Fatalf("status %d, answer %q: error shows a credential: %v", status, body, err)
				}
			}
		}
		if kind%2 == 0 {
			tok := &oauth.Token{AccessToken: fuzzAccess, RefreshToken: fuzzRefresh, TokenType: "bearer", Expiry: fuzzNow.Add(time.Hour)}
			blob, err := tok.MarshalBlob()
			if err != nil {
				t.Fatal(err)
			}
			src := oauth.NewSource(tokensHolding("hubspot", blob), "hubspot", nil, oauth.SourceOptions{Now: func() time.Time { return fuzzNow }})
			scopes, err := tokenInfoScopes(context.Background(), hc, base, src)
			leaks(err)
			var info struct {
				Scopes []string `json:"scopes"`
			}
			if status == 200 && json.Unmarshal(body, &info) == nil && info.Scopes != nil {
				if err != nil || !slices.Equal(scopes, info.Scopes) {
					t.Fatalf("answer %q: scopes %q (%v), want %q", body, scopes, err, info.Scopes)
				}
				return
			}
			if err == nil {
				t.Fatalf("status %d, answer %q: scopes %q without an error", status, body, scopes)
			}
			var apiErr *connector.APIError
			if !errors.As(err, &apiErr) || !strings.Contains(err.Error(), "token information") {
				t.Fatalf("status %d, answer %q: error %v is not a typed token information error", status, body, err)
			}
			return
		}
		cfg := DefaultConfig()
		cfg.BaseURL, cfg.ClientID, cfg.ClientSecret = base, "fuzz-client", fuzzSecret
		tok, err := cfg.oauth(hc, crm.FixedClock(fuzzNow)).Refresh(context.Background(), fuzzRefresh)
		leaks(err)
		if err != nil {
			var e struct {
				Error            string `json:"error"`
				ErrorDescription string `json:"error_description"`
				Status           string `json:"status"`
				Message          string `json:"message"`
			}
			if status >= 400 && json.Unmarshal(body, &e) == nil && (e.Status == "BAD_REFRESH_TOKEN" || (e.Error == "invalid_grant" && (e.Status == "" || e.Status == "error"))) &&
				!errors.Is(err, connector.ErrReauthorize) {
				t.Fatalf("refused refresh token %q: %v does not ask for re-authorization", body, err)
			}
			return
		}
		if status >= 300 {
			t.Fatalf("status %d, answer %q: a token", status, body)
		}
		if tok.AccessToken == "" || (!tok.Expiry.IsZero() && tok.Expiry.Before(fuzzNow)) {
			t.Fatalf("answer %q: token %v with access token %t", body, tok, tok.AccessToken != "")
		}
	})
}

// tokensHolding is a token store holding blob for connection.
func tokensHolding(connection string, blob []byte) *testkit.Tokens {
	tokens := testkit.NewTokens()
	tokens.SaveToken(context.Background(), connection, blob)
	return tokens
}
