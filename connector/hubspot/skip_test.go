package hubspot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"healthsync/connector"
	"healthsync/connector/hubspot"
)

// corrupter passes requests to the portal and, while change is set,
// applies it to the result with id wherever it appears in a search or
// list answer, as a broken API or proxy would.
type corrupter struct {
	next   http.Handler
	mu     stdsync.Mutex
	id     string
	change func(rec map[string]any)
}

func (c *corrupter) set(id string, change func(rec map[string]any)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.id, c.change = id, change
}

func (c *corrupter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	id, change := c.id, c.change
	c.mu.Unlock()
	if change == nil || !strings.HasPrefix(r.URL.Path, "/crm/v3/objects/") {
		c.next.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	c.next.ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if dec.Decode(&doc) == nil {
		if results, ok := doc["results"].([]any); ok {
			for _, x := range results {
				if m, ok := x.(map[string]any); ok && m["id"] == id {
					change(m)
				}
			}
			body, _ = json.Marshal(doc)
		}
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.Code)
	w.Write(body)
}

// pulled is what one pull handed on.
type pulled struct {
	ids, deleted []string
	skipped      []connector.Skipped
	cursor       connector.Cursor
}

func pullCompanies(t *testing.T, c *hubspot.Client, since connector.Cursor) pulled {
	t.Helper()
	out := pulled{cursor: since}
	err := c.Pull(context.Background(), connector.PullRequest{Object: "companies", Fields: []string{"name"}, Since: since}, func(_ context.Context, p connector.Page) error {
		for _, r := range p.Records {
			if r.Deleted {
				out.deleted = append(out.deleted, r.ID)
				continue
			}
			out.ids = append(out.ids, r.ID)
		}
		out.skipped = append(out.skipped, p.Skipped...)
		out.cursor = p.Cursor
		return nil
	})
	if err != nil {
		t.Fatalf("pull: %v", err)
	}
	return out
}

// corruptedPortal is a portal of n companies behind a corrupter, pulled
// once in full by a client without look-back (so only a held cursor
// brings a record back).
func corruptedPortal(t *testing.T, n int) (*bundle, *corrupter, *hubspot.Client, pulled) {
	t.Helper()
	var proxy *corrupter
	b := setupBehind(t, noLimits(), func(h http.Handler) http.Handler {
		proxy = &corrupter{next: h}
		return proxy
	})
	for i := range n {
		if _, err := b.srv.Create("companies", map[string]string{"name": "Co " + strconv.Itoa(i)}); err != nil {
			t.Fatal(err)
		}
	}
	cfg := b.config()
	cfg.Lookback = 0
	c := b.open(cfg, hubspot.Deps{})
	first := pullCompanies(t, c, connector.Cursor{})
	if len(first.ids) != n || len(first.skipped) != 0 {
		t.Fatalf("full pull: %d records, %d skipped", len(first.ids), len(first.skipped))
	}
	return b, proxy, c, first
}

// TestUnreadableResultIsSkippedAndReadAgain: over real HTTP, a changed
// company whose id, hs_lastmodifieddate or a property arrives unreadable
// is reported as skipped (by id when it has one, else by position,
// hs_object_id and name) while the companies changed before and after it
// are handed on; the cursor stops before it, so once the answer is whole
// the next pull hands it on.
func TestUnreadableResultIsSkippedAndReadAgain(t *testing.T) {
	t.Parallel()
	setProp := func(name string, v any) func(map[string]any) {
		return func(rec map[string]any) { rec["properties"].(map[string]any)[name] = v }
	}
	for _, tc := range []struct {
		name   string
		change func(rec map[string]any)
		id     bool     // the skipped entry carries the id
		want   []string // {id}: the bad record's id
	}{
		{name: "bad_modified_date", change: setProp("hs_lastmodifieddate", "not a date"), id: true,
			want: []string{"HubSpot companies result ", " of search page 1: hs_lastmodifieddate \"not a date\" is not a date"}},
		{name: "number_for_string", change: setProp("name", 12345), id: true,
			want: []string{"HubSpot companies result ", " of search page 1: property name is a number (12345), HubSpot sends strings"}},
		{name: "no_id", change: func(rec map[string]any) { delete(rec, "id") },
			want: []string{"HubSpot companies result ", ` of search page 1 (hs_object_id "{id}", name "Skipped Co"): it has no id`}},
		{name: "id_number", change: func(rec map[string]any) { rec["id"] = 7 },
			want: []string{"id is a number (7), HubSpot sends a string"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, proxy, c, first := corruptedPortal(t, 10)
			recs, err := b.srv.Records("companies")
			if err != nil {
				t.Fatal(err)
			}
			ids := []string{recs[0].ID, recs[1].ID, recs[2].ID}
			bad := ids[1]
			for i, id := range ids {
				b.clock.Add(time.Second)
				if err := b.srv.Update("companies", id, map[string]string{"name": []string{"Before Co", "Skipped Co", "After Co"}[i]}); err != nil {
					t.Fatal(err)
				}
			}
			proxy.set(bad, tc.change)
			got := pullCompanies(t, c, first.cursor)
			if strings.Join(got.ids, ",") != ids[0]+","+ids[2] {
				t.Errorf("handed on %v, want the companies changed before and after the bad one %v", got.ids, []string{ids[0], ids[2]})
			}
			if len(got.skipped) != 1 {
				t.Fatalf("skipped %+v, want the bad record once", got.skipped)
			}
			sk := got.skipped[0]
			if wantID := map[bool]string{true: bad}[tc.id]; sk.ID != wantID {
				t.Errorf("skipped ID %q, want %q", sk.ID, wantID)
			}
			for _, w := range tc.want {
				if w = strings.ReplaceAll(w, "{id}", bad); !strings.Contains(sk.Reason, w) {
					t.Errorf("reason %q lacks %q", sk.Reason, w)
				}
			}
			before, _ := b.srv.Record("companies", ids[0])
			if got.cursor.LastID != ids[0] || !got.cursor.ModifiedAt.Equal(before.UpdatedAt) {
				t.Errorf("cursor %+v, want the company before the bad one (%s at %v)", got.cursor, ids[0], before.UpdatedAt)
			}

			proxy.set("", nil)
			again := pullCompanies(t, c, got.cursor)
			if len(again.skipped) != 0 || len(again.ids) == 0 || again.ids[0] != bad {
				t.Errorf("whole answer: handed on %v, skipped %+v; want %s first", again.ids, again.skipped, bad)
			}
			after, _ := b.srv.Record("companies", ids[2])
			if again.cursor.LastID != ids[2] || !again.cursor.ModifiedAt.Equal(after.UpdatedAt) {
				t.Errorf("cursor %+v, want the last changed company (%s at %v)", again.cursor, ids[2], after.UpdatedAt)
			}
		})
	}
}

// TestSkippedResultAtTheEndOfASearchPage: when the last result of a full
// search page has no id, the search continues by key after the last
// result it could place, so no company is lost and the bad one is
// reported once although the next page answers it again.
func TestSkippedResultAtTheEndOfASearchPage(t *testing.T) {
	t.Parallel()
	b, proxy, c, first := corruptedPortal(t, 250)
	recs, err := b.srv.Records("companies")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		b.clock.Add(time.Millisecond)
		if err := b.srv.Update("companies", r.ID, map[string]string{"name": "Renamed " + r.ID}); err != nil {
			t.Fatal(err)
		}
	}
	bad := recs[199].ID // the last result of the first search page (200)
	proxy.set(bad, func(rec map[string]any) { delete(rec, "id") })
	got := pullCompanies(t, c, first.cursor)
	if len(got.skipped) != 1 || got.skipped[0].ID != "" || !strings.Contains(got.skipped[0].Reason, "result 200 of search page 1") {
		t.Errorf("skipped %+v, want result 200 of search page 1 once", got.skipped)
	}
	seen := map[string]int{}
	for _, id := range got.ids {
		seen[id]++
	}
	for _, r := range recs {
		switch n := seen[r.ID]; {
		case r.ID == bad && n != 0:
			t.Errorf("the bad record was handed on")
		case r.ID != bad && n != 1:
			t.Errorf("company %s handed on %d times, want once", r.ID, n)
		}
	}
	if got.cursor.LastID != recs[198].ID {
		t.Errorf("cursor %+v, want the last company before the bad one (%s)", got.cursor, recs[198].ID)
	}
}

// TestUnreadableArchivedResultIsSkipped: an archived company without an id
// or a readable archiving date is reported, and the other deletions are
// handed on.
func TestUnreadableArchivedResultIsSkipped(t *testing.T) {
	t.Parallel()
	b, proxy, c, first := corruptedPortal(t, 5)
	recs, err := b.srv.Records("companies")
	if err != nil {
		t.Fatal(err)
	}
	b.clock.Add(time.Second)
	for _, r := range recs[:2] {
		if err := b.srv.Archive("companies", r.ID); err != nil {
			t.Fatal(err)
		}
	}
	bad := recs[0].ID
	proxy.set(bad, func(rec map[string]any) { rec["archivedAt"], rec["updatedAt"] = "soon", "later" })
	got := pullCompanies(t, c, first.cursor)
	if strings.Join(got.deleted, ",") != recs[1].ID {
		t.Errorf("deletions %v, want %s", got.deleted, recs[1].ID)
	}
	if len(got.skipped) != 1 || got.skipped[0].ID != bad || !strings.Contains(got.skipped[0].Reason, `of archived list page 1: neither archivedAt "soon" nor updatedAt "later" is a date`) {
		t.Errorf("skipped %+v, want %s with its dates", got.skipped, bad)
	}
}

// TestSkippedResultDoesNotHideAnArchive: a company created unreadable (so
// not stored) while another is archived leaves the portal's live count
// equal to the stored one; the pull still reads the recycle bin, because
// a result it could not store is live in the portal and not in the store.
func TestSkippedResultDoesNotHideAnArchive(t *testing.T) {
	t.Parallel()
	b, proxy, c, first := corruptedPortal(t, 10)
	r := newReplica()
	r.live["companies"], r.deleted["companies"] = map[string]connector.Record{}, map[string]bool{}
	for _, id := range first.ids {
		r.live["companies"][id] = connector.Record{Object: "companies", ID: id, Raw: json.RawMessage(`{}`)}
	}
	b.clock.Add(time.Hour)
	gone := first.ids[4]
	if err := b.srv.Archive("companies", gone); err != nil {
		t.Fatal(err)
	}
	bad, err := b.srv.Create("companies", map[string]string{"name": "Unreadable Co"})
	if err != nil {
		t.Fatal(err)
	}
	proxy.set(bad, func(rec map[string]any) { rec["properties"].(map[string]any)["name"] = 12345 })
	var deleted []string
	var skipped []connector.Skipped
	err = c.Pull(context.Background(), connector.PullRequest{Object: "companies", Fields: []string{"name"}, Since: first.cursor, Stored: r.stored("companies")},
		func(_ context.Context, p connector.Page) error {
			for _, rec := range p.Records {
				if rec.Deleted {
					deleted = append(deleted, rec.ID)
				}
			}
			skipped = append(skipped, p.Skipped...)
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if len(skipped) != 1 || skipped[0].ID != bad {
		t.Errorf("skipped %+v, want the unreadable company %s", skipped, bad)
	}
	if len(deleted) != 1 || deleted[0] != gone {
		t.Errorf("deletions %v, want the archived company %s", deleted, gone)
	}
}
