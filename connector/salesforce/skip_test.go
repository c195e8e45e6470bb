package salesforce

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"healthsync/connector"
	emu "healthsync/emulator/salesforce"
)

// corrupter passes requests to the emulator and, while change is set,
// applies it to the record with Id id wherever it appears in a query or
// composite answer, as a broken API or proxy would.
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
	if change == nil || !(strings.Contains(r.URL.Path, "/query") || strings.HasSuffix(r.URL.Path, "/composite")) {
		c.next.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	c.next.ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	var doc any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if dec.Decode(&doc) == nil {
		var walk func(v any)
		walk = func(v any) {
			switch v := v.(type) {
			case map[string]any:
				if v["Id"] == id {
					change(v)
					return
				}
				for _, x := range v {
					walk(x)
				}
			case []any:
				for _, x := range v {
					walk(x)
				}
			}
		}
		walk(doc)
		body, _ = json.Marshal(doc)
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
	ids     []string
	skipped []connector.Skipped
	cursor  connector.Cursor
}

func pullAccounts(t *testing.T, c *Client, since connector.Cursor) pulled {
	t.Helper()
	out := pulled{cursor: since}
	err := c.Pull(context.Background(), connector.PullRequest{Object: "Account", Fields: []string{"Name", "Industry"}, Since: since}, func(_ context.Context, p connector.Page) error {
		for _, r := range p.Records {
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

// TestUnreadableRecordIsSkippedAndReadAgain: over real HTTP, a changed
// account whose Id or SystemModstamp arrives unreadable is reported as
// skipped (by Id when it has one, else by position and Name) while the
// accounts changed before and after it are handed on; the cursor stops
// before it, so once the answer is whole the next pull hands it on.
func TestUnreadableRecordIsSkippedAndReadAgain(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		change func(rec map[string]any)
		id     bool     // the skipped entry carries the Id
		want   []string // {id}: the bad record's Id
	}{
		{name: "bad_modstamp", change: func(rec map[string]any) { rec["SystemModstamp"] = "yesterday" }, id: true,
			want: []string{"Salesforce Account record ", " of page 1: SystemModstamp \"yesterday\" is not a date-time"}},
		{name: "modstamp_number", change: func(rec map[string]any) { rec["SystemModstamp"] = 20251201 }, id: true,
			want: []string{"SystemModstamp is a number (20251201), Salesforce sends a date-time string"}},
		{name: "no_id", change: func(rec map[string]any) { delete(rec, "Id") },
			want: []string{"Salesforce Account record ", `(Name "Skipped Co", attributes.url ending "{id}"): it has no Id`}},
		{name: "id_number", change: func(rec map[string]any) { rec["Id"] = 42 },
			want: []string{"Id is a number (42), Salesforce sends a string"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var proxy *corrupter
			b := setupBehind(t, 10, emu.Options{}, func(h http.Handler) http.Handler {
				proxy = &corrupter{next: h}
				return proxy
			})
			cfg := b.cfg
			cfg.Lookback = 0 // only the held cursor can bring the record back
			c := b.open(cfg)
			first := pullAccounts(t, c, connector.Cursor{})
			if len(first.ids) != 10 || len(first.skipped) != 0 {
				t.Fatalf("full pull: %d records, %d skipped", len(first.ids), len(first.skipped))
			}

			// Three accounts change in turn; the middle one arrives broken.
			ids := b.srv.IDs("Account", false)[:3]
			bad := ids[1]
			for i, id := range ids {
				b.clock.Add(time.Second)
				name := []string{"Before Co", "Skipped Co", "After Co"}[i]
				if err := b.srv.SetField("Account", id, "Name", name); err != nil {
					t.Fatal(err)
				}
			}
			proxy.set(bad, tc.change)
			got := pullAccounts(t, c, first.cursor)
			if strings.Join(got.ids, ",") != ids[0]+","+ids[2] {
				t.Errorf("handed on %v, want the accounts changed before and after the bad one %v", got.ids, []string{ids[0], ids[2]})
			}
			if len(got.skipped) != 1 {
				t.Fatalf("skipped %+v, want the bad record", got.skipped)
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
			before, _ := b.srv.Record("Account", ids[0])
			if stamp, _ := before["SystemModstamp"].(time.Time); got.cursor.LastID != ids[0] || !got.cursor.ModifiedAt.Equal(stamp) {
				t.Errorf("cursor %+v, want the account before the bad one (%s at %v)", got.cursor, ids[0], stamp)
			}

			proxy.set("", nil)
			again := pullAccounts(t, c, got.cursor)
			if len(again.skipped) != 0 || len(again.ids) == 0 || again.ids[0] != bad {
				t.Errorf("whole answer: handed on %v, skipped %+v; want %s first", again.ids, again.skipped, bad)
			}
			after, _ := b.srv.Record("Account", ids[2])
			if stamp, _ := after["SystemModstamp"].(time.Time); again.cursor.LastID != ids[2] || !again.cursor.ModifiedAt.Equal(stamp) {
				t.Errorf("cursor %+v, want the last changed account (%s at %v)", again.cursor, ids[2], stamp)
			}
		})
	}
}

// TestBulkCellOfTheWrongTypeStaysText: a Bulk result cell that does not
// read as its column's type is kept as its text (the mapping reports it),
// and a SystemModstamp cell that does not is a skipped record, not a
// failed job.
func TestBulkCellOfTheWrongTypeStaysText(t *testing.T) {
	t.Parallel()
	b := setup(t, 0, emu.Options{})
	d := fuzzAccountDescribe()
	csv := "Id,SystemModstamp,AnnualRevenue,Name\n" +
		"001000000000001AAA,2025-12-01T09:30:00.000Z,lots,Acme\n" +
		"001000000000002AAA,yesterday,5,Globex\n"
	var recs []rawRecord
	if _, err := b.c.streamCSV(context.Background(), strings.NewReader(csv), "Account", d, func(_ context.Context, page []rawRecord) error {
		recs = append(recs, page...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0]["AnnualRevenue"] != "lots" || recs[1]["SystemModstamp"] != "yesterday" {
		t.Fatalf("records %v", recs)
	}
	if _, problem, err := b.c.record("Account", recs[0]); problem != "" || err != nil {
		t.Errorf("a number cell that is text: %q, %v; want the record kept for the mapping to judge", problem, err)
	}
	if _, problem, _ := b.c.record("Account", recs[1]); !strings.Contains(problem, `SystemModstamp "yesterday" is not a date-time`) {
		t.Errorf("an unreadable SystemModstamp: %q", problem)
	}
}
