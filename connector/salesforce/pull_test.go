package salesforce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"healthsync/connector"
	emu "healthsync/emulator/salesforce"
)

func TestFullThenIncrementalReproducesTheOrg(t *testing.T) {
	t.Parallel()
	b := setup(t, 20, emu.Options{})
	m := newMirror()
	if err := b.pull(b.c, m); err != nil {
		t.Fatal(err)
	}
	b.check(m)

	// Updates, inserts and soft deletes, then an incremental pull.
	b.clock.Add(10 * time.Minute)
	accs := b.srv.IDs("Account", false)
	for _, id := range accs[:3] {
		if err := b.srv.SetField("Account", id, "Industry", "Biotechnology"); err != nil {
			t.Fatal(err)
		}
	}
	contacts := b.srv.IDs("Contact", false)
	for _, id := range contacts[:4] {
		if err := b.srv.Delete("Contact", id); err != nil {
			t.Fatal(err)
		}
	}
	insertAccounts(t, b, 5, "New")
	if err := b.pull(b.c, m); err != nil {
		t.Fatal(err)
	}
	b.check(m)
	if m.emitted["Account"] != 8 {
		t.Errorf("incremental Account pull emitted %d records, want 8 (3 updated + 5 new)", m.emitted["Account"])
	}

	// Nothing changed: an incremental pull emits nothing.
	b.clock.Add(10 * time.Minute)
	if err := b.pull(b.c, m); err != nil {
		t.Fatal(err)
	}
	for obj, n := range m.emitted {
		if n != 0 {
			t.Errorf("%s: %d records emitted with nothing changed", obj, n)
		}
	}
	b.check(m)
}

// insertAccounts creates n accounts through the API at the current time.
func insertAccounts(t *testing.T, b *bundle, n int, prefix string) []string {
	t.Helper()
	recs := make([]map[string]any, n)
	for i := range recs {
		recs[i] = map[string]any{"attributes": map[string]any{"type": "Account"}, "Name": prefix + " " + strings.Repeat("x", i%7) + string(rune('A'+i%26))}
	}
	res, err := b.c.writeCollections(context.Background(), http.MethodPost, recs)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, n)
	for i, r := range res {
		if !r.OK() {
			t.Fatalf("insert account %d: %v", i, r.Err)
		}
		ids[i] = r.ID
	}
	return ids
}

var errStop = errors.New("stop after the first page")

func TestEqualStampsNeitherDroppedNorRepeated(t *testing.T) {
	t.Parallel()
	b := setup(t, 0, emu.Options{})
	m := newMirror()
	if err := b.pullObject(b.c, m, "Account"); err != nil {
		t.Fatal(err)
	}
	b.clock.Add(time.Hour)
	ids := insertAccounts(t, b, 2500, "Same stamp") // one clock instant: one SystemModstamp
	stamp, _ := b.srv.Record("Account", ids[0])
	for _, id := range ids {
		r, _ := b.srv.Record("Account", id)
		if !r["SystemModstamp"].(time.Time).Equal(stamp["SystemModstamp"].(time.Time)) {
			t.Fatal("the accounts do not share one SystemModstamp")
		}
	}
	// The run stops after its first page (2,000 records): the cursor sits
	// inside the group of equal stamps.
	seen := map[string]int{}
	var cur connector.Cursor
	err := b.c.Pull(context.Background(), connector.PullRequest{Object: "Account", Fields: []string{"Name"}, Since: m.cursors["Account"]},
		func(_ context.Context, p connector.Page) error {
			for _, r := range p.Records {
				seen[r.ID]++
			}
			cur = p.Cursor
			return errStop
		})
	if !errors.Is(err, errStop) {
		t.Fatalf("Pull: %v, want the callback's error", err)
	}
	if len(seen) != 2000 {
		t.Fatalf("first page has %d records, want 2000", len(seen))
	}
	err = b.c.Pull(context.Background(), connector.PullRequest{Object: "Account", Fields: []string{"Name"}, Since: cur},
		func(_ context.Context, p connector.Page) error {
			for _, r := range p.Records {
				seen[r.ID]++
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if seen[id] != 1 {
			t.Errorf("account %s emitted %d times, want once", id, seen[id])
		}
	}
}

func TestPullNamesAMissingField(t *testing.T) {
	t.Parallel()
	b := setup(t, 1, emu.Options{})
	err := b.c.Pull(context.Background(), connector.PullRequest{Object: "Account", Fields: []string{"Name", "Churn_Risk__c"}},
		func(context.Context, connector.Page) error { return nil })
	if !errors.Is(err, ErrMissingField) || !strings.Contains(err.Error(), "Account.Churn_Risk__c") || !strings.Contains(err.Error(), "mapping file") {
		t.Fatalf("error = %v, want ErrMissingField naming Account.Churn_Risk__c and the mapping fix", err)
	}
}

// TestSmallSyncCallCount: describe + one call per 2,000 records, per
// object (no SELECT COUNT(): the first page's totalSize decides REST or
// Bulk); the JWT token request goes to the login host and is not an API
// call.
func TestSmallSyncCallCount(t *testing.T) {
	t.Parallel()
	b := setup(t, 150, emu.Options{})
	m := newMirror()
	for _, obj := range b.m.Objects() {
		before, emuBefore := b.c.APICalls(), b.srv.APICalls()
		if err := b.pullObject(b.c, m, obj); err != nil {
			t.Fatal(err)
		}
		n := len(b.srv.IDs(obj, true))
		want := int64(1 + (n+1999)/2000)
		if n == 0 {
			want = 2 // an empty result is still one query call
		}
		got, emuGot := b.c.APICalls()-before, b.srv.APICalls()-emuBefore
		t.Logf("full pull of %s: %d records, %d API calls", obj, n, got)
		if got != want || emuGot != want {
			t.Errorf("%s (%d records): %d calls (emulator counted %d), want %d = describe + ceil(n/2000)", obj, n, got, emuGot, want)
		}
	}
	b.check(m)
}

func TestBulkPullMatchesREST(t *testing.T) {
	t.Parallel()
	b := setup(t, 60, emu.Options{})
	rest := newMirror()
	if err := b.pull(b.c, rest); err != nil {
		t.Fatal(err)
	}
	cfg := b.cfg
	cfg.BulkThreshold = 100
	for _, page := range []int{200, 50_000} {
		b.deps.BulkResultPage = page
		bc := b.open(cfg)
		bulk := newMirror()
		for _, obj := range b.m.Objects() {
			before := bc.APICalls()
			if err := b.pullObject(bc, bulk, obj); err != nil {
				t.Fatal(err)
			}
			n := len(b.srv.IDs(obj, true))
			got := bc.APICalls() - before
			want := int64(2) // describe + REST page
			if n > 100 {
				// describe + the first REST page (its totalSize is above
				// the threshold: discarded) + create job + 2 polls +
				// result pages
				want = int64(5 + (n+page-1)/page)
			}
			t.Logf("maxRecords %d: full pull of %s: %d records, %d API calls", page, obj, n, got)
			if got != want {
				t.Errorf("maxRecords %d: %s (%d records): %d calls, want %d", page, obj, n, got, want)
			}
			for id, r := range rest.recs[obj] {
				if br, ok := bulk.recs[obj][id]; !ok || string(br.Raw) != string(r.Raw) || !br.ModifiedAt.Equal(r.ModifiedAt) {
					t.Errorf("%s %s: bulk raw\n%s\nREST raw\n%s", obj, id, br.Raw, r.Raw)
					break
				}
			}
			if len(bulk.recs[obj]) != len(rest.recs[obj]) || bulk.cursors[obj] != rest.cursors[obj] {
				t.Errorf("%s: bulk %d records cursor %v, REST %d records cursor %v", obj, len(bulk.recs[obj]), bulk.cursors[obj], len(rest.recs[obj]), rest.cursors[obj])
			}
		}
	}
}

func TestFaultsConverge(t *testing.T) {
	t.Parallel()
	b := setup(t, 20, emu.Options{Faults: emu.Faults{Seed: 3, Unavailable: 0.1, LockRow: 0.1, SessionCallLimit: 15}})
	m := newMirror()
	if err := b.pull(b.c, m); err != nil {
		t.Fatal(err)
	}
	b.check(m)
	b.clock.Add(5 * time.Minute)
	insertAccounts(t, b, 30, "Faulty")
	for _, id := range b.srv.IDs("Opportunity", false)[:3] {
		if err := b.srv.Delete("Opportunity", id); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.pull(b.c, m); err != nil {
		t.Fatal(err)
	}
	b.check(m)
}

func TestBudgetStopsTheRun(t *testing.T) {
	t.Parallel()
	b := setup(t, 5, emu.Options{DailyLimit: 1000})
	b.deps.Budget = connector.BudgetConfig{RunShare: 0.004, TotalShare: 0.8} // 4 calls per run
	c := b.open(b.cfg)
	m := newMirror()
	err := b.pull(c, m)
	if !errors.Is(err, connector.ErrBudgetExhausted) {
		t.Fatalf("pull: %v, want ErrBudgetExhausted", err)
	}
	if u := c.Budget().Usage(); u.RunCalls != 4 {
		t.Errorf("run made %d calls, want 4", u.RunCalls)
	}
}

// TestIncrementalSyncCallCount: with the describes cached by an earlier
// run, a sync with nothing changed, and one with a record of every object
// changed, costs one call per object: a composite request holding the
// query's first page and deleted/.
func TestIncrementalSyncCallCount(t *testing.T) {
	t.Parallel()
	b := setup(t, 30, emu.Options{})
	cache := newMemDescribeCache()
	objects := len(b.m.Objects())
	m := newMirror()
	first, log := b.openLogged(cache)
	if err := b.pull(first, m); err != nil {
		t.Fatal(err)
	}
	pages := 0
	for _, obj := range b.m.Objects() {
		pages += max(1, (len(b.srv.IDs(obj, true))+1999)/2000)
	}
	if got, want := log.take(), map[string]int{"describe": objects, "query": pages}; !sameCalls(got, want) {
		t.Errorf("full sync: calls %v, want %v", got, want)
	}

	b.clock.Add(10 * time.Minute)
	next, log := b.openLogged(cache)
	if err := b.pull(next, m); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"composite": objects}
	if got := log.take(); !sameCalls(got, want) {
		t.Errorf("unchanged sync: calls %v, want %v", got, want)
	}

	b.clock.Add(10 * time.Minute)
	for _, obj := range b.m.Objects() {
		touchOne(t, b, obj)
	}
	third, log := b.openLogged(cache)
	if err := b.pull(third, m); err != nil {
		t.Fatal(err)
	}
	if got := log.take(); !sameCalls(got, want) {
		t.Errorf("sync with one change per object: calls %v, want %v", got, want)
	}
	for obj, n := range m.emitted {
		if n != 1 {
			t.Errorf("%s: %d records emitted, want the 1 changed", obj, n)
		}
	}
	b.check(m)
}

// TestBigCatchUpSwitchesToBulk: an incremental pull whose first REST page
// says more records are pending than the Bulk threshold discards that page
// and reads them with a Bulk API 2.0 job, emitting each record once.
func TestBigCatchUpSwitchesToBulk(t *testing.T) {
	t.Parallel()
	b := setup(t, 5, emu.Options{})
	b.cfg.BulkThreshold = 100
	cache := newMemDescribeCache()
	m := newMirror()
	c, log := b.openLogged(cache)
	if err := b.pullObject(c, m, "Account"); err != nil {
		t.Fatal(err)
	}
	log.take()
	b.clock.Add(10 * time.Minute)
	ids := insertAccounts(t, b, 250, "Catch-up")

	seen := map[string]int{}
	err := c.Pull(context.Background(), connector.PullRequest{Object: "Account", Fields: b.m.Fields("Account"), Since: m.cursors["Account"]},
		func(_ context.Context, p connector.Page) error {
			for _, r := range p.Records {
				seen[r.ID]++
				m.recs["Account"][r.ID] = r
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	// the first REST page (discarded) with deleted/ in one composite call,
	// then create job + 2 polls + 1 result page
	if got, want := log.take(), map[string]int{"composite": 1, "bulk": 4}; !sameCalls(got, want) {
		t.Errorf("calls %v, want %v", got, want)
	}
	if len(seen) != len(ids) {
		t.Errorf("%d records emitted, want the %d inserted", len(seen), len(ids))
	}
	for _, id := range ids {
		if seen[id] != 1 {
			t.Errorf("account %s emitted %d times, want once", id, seen[id])
		}
	}
	if got := len(m.recs["Account"]); got != len(b.srv.IDs("Account", false)) {
		t.Errorf("mirror has %d accounts, the org %d", got, len(b.srv.IDs("Account", false)))
	}
}

// touchOne changes a text field the mapping reads on one record of obj.
func touchOne(t *testing.T, b *bundle, obj string) {
	t.Helper()
	id := b.srv.IDs(obj, false)[0]
	rec, _ := b.srv.Record(obj, id)
	for _, f := range b.m.Fields(obj) {
		if v, ok := rec[f].(string); ok && f != "Id" && !strings.HasSuffix(f, "Id") {
			if err := b.srv.SetField(obj, id, f, v+" (changed)"); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("%s %s has no text field the mapping reads", obj, id)
}

// firstSubAnswers answers the first subrequest of every composite request
// with status and body, the rest as the org did.
func firstSubAnswers(t *testing.T, status int, subBody any) func(*http.Request, *http.Response) *http.Response {
	return func(req *http.Request, resp *http.Response) *http.Response {
		if req.Method != http.MethodPost || !strings.HasSuffix(req.URL.Path, "/composite") || resp.StatusCode != http.StatusOK {
			return resp
		}
		var out map[string][]map[string]any
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || json.Unmarshal(body, &out) != nil || len(out["compositeResponse"]) == 0 {
			t.Errorf("unexpected composite answer %s (%v)", body, err)
			return resp
		}
		out["compositeResponse"][0]["httpStatusCode"] = status
		out["compositeResponse"][0]["body"] = subBody
		body, _ = json.Marshal(out)
		resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		resp.Header.Del("Content-Length")
		return resp
	}
}

// TestCompositeSubrequestFailureFallsBack: a subrequest failing in a way
// a retry could mend (503), or answering a body that is no query page,
// makes the pull send the query and deleted/ as separate calls, and the
// mirror still converges.
func TestCompositeSubrequestFailureFallsBack(t *testing.T) {
	t.Parallel()
	for name, sub := range map[string]struct {
		status int
		body   any
	}{
		"unavailable":     {http.StatusServiceUnavailable, []map[string]any{{"errorCode": "SERVER_UNAVAILABLE", "message": "Server temporarily unavailable."}}},
		"unreadable page": {http.StatusOK, map[string]any{}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, 10, emu.Options{})
			cache := newMemDescribeCache()
			m := newMirror()
			first, _ := b.openLogged(cache)
			if err := b.pull(first, m); err != nil {
				t.Fatal(err)
			}
			b.clock.Add(10 * time.Minute)
			insertAccounts(t, b, 3, "Late")
			if err := b.srv.Delete("Contact", b.srv.IDs("Contact", false)[0]); err != nil {
				t.Fatal(err)
			}
			c, log := b.openWrapped(cache, firstSubAnswers(t, sub.status, sub.body))
			if err := b.pull(c, m); err != nil {
				t.Fatal(err)
			}
			objects := len(b.m.Objects())
			if got, want := log.take(), map[string]int{"composite": objects, "query": objects, "deleted": objects}; !sameCalls(got, want) {
				t.Errorf("calls %v, want %v", got, want)
			}
			if m.emitted["Account"] != 3 || m.emitted["Contact"] != 1 {
				t.Errorf("emitted %v, want 3 accounts and 1 contact deletion", m.emitted)
			}
			b.check(m)
		})
	}
}

// TestBulkPageOutlivesASlowStore: a store slower than the HTTP timeout
// while a Bulk result page is handed on does not cut the page: the page
// is read whole before its rows go to the engine.
func TestBulkPageOutlivesASlowStore(t *testing.T) {
	t.Parallel()
	b := setup(t, 150, emu.Options{})
	n := len(b.srv.IDs("Task", true))
	if n <= 2000 {
		t.Fatalf("only %d tasks: the page would be handed on in one piece", n)
	}
	cfg := b.cfg
	cfg.BulkThreshold = 100
	b.deps.HTTP.Timeout = time.Second
	c := b.open(cfg)
	got := 0
	err := c.Pull(context.Background(), connector.PullRequest{Object: "Task", Fields: b.m.Fields("Task")}, func(_ context.Context, p connector.Page) error {
		got += len(p.Records)
		time.Sleep(1500 * time.Millisecond) // a commit slower than the request's timeout
		return nil
	})
	if err != nil {
		t.Fatalf("pull with a slow store: %v", err)
	}
	if got != n {
		t.Errorf("pulled %d tasks, want %d", got, n)
	}
}

// TestBulkPagesSpoolToTempFiles: a Bulk result page is read into a
// temporary file in $TMPDIR, not memory, and the file is gone once the
// pull is over; where no temporary file can be made, the pull fails
// saying so and what to set, and stores nothing of that object.
func TestBulkPagesSpoolToTempFiles(t *testing.T) {
	b := setup(t, 30, emu.Options{})
	cfg := b.cfg
	cfg.BulkThreshold = 10
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	bulk := newMirror()
	if err := b.pullObject(b.open(cfg), bulk, "Contact"); err != nil {
		t.Fatal(err)
	}
	if n := len(b.srv.IDs("Contact", false)); n <= 10 || len(bulk.recs["Contact"]) != n {
		t.Fatalf("%d of %d contacts pulled; the test needs more than the Bulk threshold of 10", len(bulk.recs["Contact"]), n)
	}
	if left, err := os.ReadDir(tmp); err != nil || len(left) != 0 {
		t.Errorf("the temporary directory holds %v after the pull (%v), want nothing", left, err)
	}

	t.Setenv("TMPDIR", filepath.Join(tmp, "missing"))
	none := newMirror()
	err := b.pullObject(b.open(cfg), none, "Contact")
	if err == nil || !strings.Contains(err.Error(), "TMPDIR") {
		t.Fatalf("pull with no temporary directory: %v, want an error naming TMPDIR", err)
	}
	if len(none.recs["Contact"]) != 0 {
		t.Errorf("%d contacts stored from a page that could not be read", len(none.recs["Contact"]))
	}
}
