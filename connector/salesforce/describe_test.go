package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"healthsync/connector"
	emu "healthsync/emulator/salesforce"
)

// memDescribeCache is a DescribeCache in memory, shared by the Clients of
// a test the way the store's state table is shared by successive runs.
type memDescribeCache struct {
	mu   stdsync.Mutex
	vals map[string][]byte
}

func newMemDescribeCache() *memDescribeCache {
	return &memDescribeCache{vals: map[string][]byte{}}
}

func (m *memDescribeCache) Get(_ context.Context, key string) ([]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.vals[key]
	return append([]byte(nil), v...), ok, nil
}

func (m *memDescribeCache) Put(_ context.Context, key string, v []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.vals[key] = append([]byte(nil), v...)
	return nil
}

// callLog records the REST calls a Client sends (token requests to the
// login host excluded), by kind.
type callLog struct {
	mu    stdsync.Mutex
	kinds map[string]int
	// wrap, when set, alters each answer (fault injection).
	wrap func(*http.Request, *http.Response) *http.Response
}

func (l *callLog) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil && l.wrap != nil {
		resp = l.wrap(req, resp)
	}
	p := req.URL.Path
	if err != nil || resp.StatusCode == http.StatusUnauthorized || !strings.HasPrefix(p, "/services/data/") {
		return resp, err // an expired session is not an API call; the stack retries it
	}
	kind := "other"
	switch {
	case strings.HasSuffix(strings.TrimSuffix(p, "/"), "/describe"):
		kind = "describe"
	case strings.Contains(p, "/jobs/"):
		kind = "bulk"
	case strings.Contains(p, "/query"): // query, queryAll and their next pages
		kind = "query"
	case strings.HasSuffix(strings.TrimSuffix(p, "/"), "/deleted"):
		kind = "deleted"
	case strings.HasSuffix(p, "/composite"):
		kind = "composite"
	}
	l.mu.Lock()
	l.kinds[kind]++
	l.mu.Unlock()
	return resp, nil
}

// take returns the calls by kind since the last take.
func (l *callLog) take() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.kinds
	l.kinds = map[string]int{}
	return out
}

// openLogged opens a Client on b's org with cache (may be nil) whose REST
// calls are recorded.
func (b *bundle) openLogged(cache DescribeCache) (*Client, *callLog) {
	b.t.Helper()
	return b.openWrapped(cache, nil)
}

// openWrapped is openLogged with wrap altering the org's answers.
func (b *bundle) openWrapped(cache DescribeCache, wrap func(*http.Request, *http.Response) *http.Response) (*Client, *callLog) {
	b.t.Helper()
	log := &callLog{kinds: map[string]int{}, wrap: wrap}
	deps := b.deps
	deps.Transport, deps.DescribeCache = log, cache
	c, err := Open(context.Background(), b.cfg, deps)
	if err != nil {
		b.t.Fatal(err)
	}
	return c, log
}

func sameCalls(got, want map[string]int) bool {
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	for k, v := range got {
		if want[k] != v {
			return false
		}
	}
	return true
}

// TestDescribeCacheOutlivesTheClient: a Client of a later run (a new
// process) reuses the describes an earlier one cached, until the TTL.
func TestDescribeCacheOutlivesTheClient(t *testing.T) {
	t.Parallel()
	b := setup(t, 20, emu.Options{})
	cache := newMemDescribeCache()
	objects := len(b.m.Objects())
	m := newMirror()

	first, log := b.openLogged(cache)
	if err := b.pull(first, m); err != nil {
		t.Fatal(err)
	}
	if got := log.take()["describe"]; got != objects {
		t.Errorf("first run: %d describes, want %d (one per object)", got, objects)
	}

	b.clock.Add(time.Hour)
	second, log := b.openLogged(cache)
	if err := b.pull(second, m); err != nil {
		t.Fatal(err)
	}
	if got := log.take(); got["describe"] != 0 {
		t.Errorf("second run within the TTL: %v, want no describe", got)
	}
	b.check(m)

	b.clock.Add(b.cfg.DescribeTTL)
	third, log := b.openLogged(cache)
	if err := b.pull(third, m); err != nil {
		t.Fatal(err)
	}
	if got := log.take()["describe"]; got != objects {
		t.Errorf("run after the TTL: %d describes, want %d", got, objects)
	}
	// The worker (run --interval) keeps one Client: its own copies expire
	// with the TTL too.
	b.clock.Add(b.cfg.DescribeTTL)
	if err := b.pull(third, m); err != nil {
		t.Fatal(err)
	}
	if got := log.take()["describe"]; got != objects {
		t.Errorf("same Client after the TTL: %d describes, want %d", got, objects)
	}
	b.check(m)
}

// TestStaleDescribeCacheSeesANewCustomField: the admin creates a field
// after the describe was cached and adds it to the mapping; the next run
// describes again instead of reporting the field missing.
func TestStaleDescribeCacheSeesANewCustomField(t *testing.T) {
	t.Parallel()
	b := setup(t, 10, emu.Options{})
	cache := newMemDescribeCache()
	ctx := context.Background()
	fields := b.m.Fields("Account")

	first, _ := b.openLogged(cache)
	req := connector.PullRequest{Object: "Account", Fields: fields}
	var cur connector.Cursor
	if err := first.Pull(ctx, req, func(_ context.Context, p connector.Page) error { cur = p.Cursor; return nil }); err != nil {
		t.Fatal(err)
	}

	// The admin's install, from another connection without the cache.
	if _, err := b.c.Install(ctx, []connector.FieldSpec{{Object: "Account", Name: "Churn_Risk__c", Type: connector.FieldText}}); err != nil {
		t.Fatal(err)
	}
	acc := b.srv.IDs("Account", false)[0]
	b.clock.Add(time.Minute)
	if err := b.srv.SetField("Account", acc, "Churn_Risk__c", "high"); err != nil {
		t.Fatal(err)
	}

	second, log := b.openLogged(cache)
	req = connector.PullRequest{Object: "Account", Fields: append(append([]string(nil), fields...), "Churn_Risk__c"), Since: cur}
	var got []connector.Record
	err := second.Pull(ctx, req, func(_ context.Context, p connector.Page) error { got = append(got, p.Records...); return nil })
	if err != nil {
		t.Fatalf("pull with the new field: %v (a stale cached describe must be refreshed, not reported)", err)
	}
	if calls := log.take(); calls["describe"] != 1 {
		t.Errorf("calls %v, want one describe (the cached one lacked the field)", calls)
	}
	if len(got) != 1 || got[0].ID != acc || !strings.Contains(string(got[0].Raw), `"Churn_Risk__c":"high"`) {
		t.Errorf("pulled %d records, want account %s with Churn_Risk__c: %v", len(got), acc, got)
	}

	// The refreshed describe went back into the cache.
	third, log := b.openLogged(cache)
	if err := third.Pull(ctx, req, func(context.Context, connector.Page) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if calls := log.take(); calls["describe"] != 0 {
		t.Errorf("next run: calls %v, want no describe", calls)
	}
}

// TestCachedDescribeOfADeletedField: the cache names a field the org no
// longer has; the org refuses the query (INVALID_FIELD), the describe is
// fetched again and the error names the field and the fix. On an
// incremental pull the refusal comes inside the composite request.
func TestCachedDescribeOfADeletedField(t *testing.T) {
	t.Parallel()
	b := setup(t, 3, emu.Options{})
	cache := newMemDescribeCache()
	ctx := context.Background()
	first, _ := b.openLogged(cache)
	m := newMirror()
	if err := b.pullObject(first, m, "Account"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		since connector.Cursor
		want  map[string]int
	}{
		{"full pull", connector.Cursor{}, map[string]int{"query": 1, "describe": 1}},
		{"incremental pull", m.cursors["Account"], map[string]int{"composite": 1, "describe": 1}},
	} {
		// Make the cached describe claim a field the org does not have.
		raw, ok, _ := cache.Get(ctx, describeCacheKey("Account"))
		if !ok {
			t.Fatal("no describe of Account cached")
		}
		var cd cachedDescribe
		if err := json.Unmarshal(raw, &cd); err != nil {
			t.Fatal(err)
		}
		cd.Fields = append(cd.Fields, cachedField{Name: "Gone__c", Type: "string", Custom: true})
		raw, _ = json.Marshal(cd)
		if err := cache.Put(ctx, describeCacheKey("Account"), raw); err != nil {
			t.Fatal(err)
		}

		c, log := b.openLogged(cache)
		err := c.Pull(ctx, connector.PullRequest{Object: "Account", Fields: []string{"Name", "Gone__c"}, Since: tc.since}, func(context.Context, connector.Page) error {
			t.Errorf("%s: a page was emitted", tc.name)
			return nil
		})
		if !errors.Is(err, ErrMissingField) || !strings.Contains(err.Error(), "Account.Gone__c") {
			t.Fatalf("%s: error = %v, want ErrMissingField naming Account.Gone__c", tc.name, err)
		}
		if got := log.take(); !sameCalls(got, tc.want) {
			t.Errorf("%s: calls %v, want %v (the refused query, then a describe)", tc.name, got, tc.want)
		}
		// The cache holds the org's describe again.
		raw, _, _ = cache.Get(ctx, describeCacheKey("Account"))
		if strings.Contains(string(raw), "Gone__c") {
			t.Errorf("%s: the cache still names Gone__c", tc.name)
		}
	}
}
