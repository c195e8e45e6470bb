package hubspot_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	stdsync "sync"
	"sync/atomic"
	"testing"
	"time"

	"healthsync/connector"
	"healthsync/connector/hubspot"
	"healthsync/emulator/gen"
	emu "healthsync/emulator/hubspot"
)

// counting serves h and counts the requests to paths starting with prefix.
type counting struct {
	h      http.Handler
	prefix string
	n      atomic.Int64
}

func (c *counting) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, c.prefix) {
		c.n.Add(1)
	}
	c.h.ServeHTTP(w, r)
}

// loaded is a portal with a small generated org, served through wrap.
func loaded(t *testing.T, wrap func(http.Handler) http.Handler) *bundle {
	t.Helper()
	b := setupBehind(t, noLimits(), wrap)
	org, err := gen.Generate(gen.Options{Seed: 5, Accounts: 6, Now: b.clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.srv.LoadOrg(org); err != nil {
		t.Fatal(err)
	}
	return b
}

// A portal that stalls (no answer, or one trickling in a byte at a time)
// fails the pull once the retries are spent, with a timeout of the CRM
// naming the request, never a context error; the same client pulls
// everything once the portal answers again.
func TestStalledPortalFailsThePullThenRecovers(t *testing.T) {
	t.Parallel()
	for name, f := range map[string]emu.Faults{
		"latency": {Latency: 30 * time.Second},
		"trickle": {Trickle: 50 * time.Millisecond},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var seen *counting
			b := loaded(t, func(h http.Handler) http.Handler {
				seen = &counting{h: h, prefix: "/crm/v3/objects/companies/search"}
				return seen
			})
			h := fastHTTP()
			h.Timeout, h.MaxRetries = 150*time.Millisecond, 2
			c := b.open(b.config(), hubspot.Deps{HTTP: h})
			b.srv.SetFaults(f)
			r := newReplica()
			err := r.pull(t, c, hubspot.Companies, []string{"name"})
			if !errors.Is(err, connector.ErrTimeout) {
				t.Fatalf("err = %v, want connector.ErrTimeout", err)
			}
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v reads as a context error", err)
			}
			for _, want := range []string{"search companies: POST " + b.ts.URL + "/crm/v3/objects/companies/search: ", "did not answer within 150ms (HEALTHSYNC_HTTP_TIMEOUT", "after 2 retries"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("err = %q, want it to say %q", err, want)
				}
			}
			if n := seen.n.Load(); n != 3 {
				t.Errorf("the portal saw %d searches, want 3 (the first and 2 retries)", n)
			}
			b.srv.SetFaults(emu.Faults{})
			r = newReplica()
			if err := r.pull(t, c, hubspot.Companies, []string{"name"}); err != nil {
				t.Fatalf("after the portal recovered: %v", err)
			}
			if len(r.live[hubspot.Companies]) != b.srv.Count(hubspot.Companies) {
				t.Fatalf("after the portal recovered: %d companies, the portal has %d", len(r.live[hubspot.Companies]), b.srv.Count(hubspot.Companies))
			}
		})
	}
}

// List answers whose paging.next.after points back at a page already read
// end the read with a message naming the request.
func TestLoopingListPagesFail(t *testing.T) {
	t.Parallel()
	b := loaded(t, nil)
	c := b.open(b.config(), hubspot.Deps{})
	b.srv.SetFaults(emu.Faults{LoopPaging: true})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	pages := 0
	err := c.ListIDs(ctx, hubspot.Companies, func([]string) error { pages++; return nil })
	want := "list companies IDs: GET " + b.ts.URL + "/crm/v3/objects/companies: HTTP 200 MALFORMED_RESPONSE: an answer points back at a page already read (paging.next.after \""
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want %q", err, want)
	}
	if pages != 1 {
		t.Errorf("%d pages handed on, want the first only", pages)
	}

	err = c.Pull(ctx, connector.PullRequest{Object: hubspot.Owners}, func(context.Context, connector.Page) error { return nil })
	want = "list owners: GET " + b.ts.URL + "/crm/v3/owners: HTTP 200 MALFORMED_RESPONSE: an answer points back at a page already read"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want %q", err, want)
	}
}

// replayFirst answers every search after the first with the first one's
// answer, as a caching proxy gone wrong would: a search paged by key that
// never gets past its first page.
type replayFirst struct {
	h    http.Handler
	mu   stdsync.Mutex
	body []byte
	n    int
}

func (p *replayFirst) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.URL.Path, "/search") {
		p.h.ServeHTTP(w, r)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	if p.body == nil {
		rec := httptest.NewRecorder()
		p.h.ServeHTTP(rec, r)
		p.body = bytes.Replace(rec.Body.Bytes(), []byte(`"results"`), []byte(`"paging":{"next":{"after":"2"}},"results"`), 1)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(p.body)
}

// A search answered with the same page whatever key it asks from fails
// instead of asking forever.
func TestSearchThatDoesNotAdvanceFails(t *testing.T) {
	t.Parallel()
	proxy := &replayFirst{}
	b := loaded(t, func(h http.Handler) http.Handler { proxy.h = h; return proxy })
	c := b.open(b.config(), hubspot.Deps{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := c.Pull(ctx, connector.PullRequest{Object: hubspot.Companies, Fields: []string{"name"}}, func(context.Context, connector.Page) error { return nil })
	want := "search companies: POST " + b.ts.URL + "/crm/v3/objects/companies/search: HTTP 200 MALFORMED_RESPONSE: search page 2 ends at hs_lastmodifieddate "
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "the search does not advance") {
		t.Fatalf("err = %v, want %q", err, want)
	}
	if proxy.n != 2 {
		t.Errorf("%d searches, want 2", proxy.n)
	}
}

// A base URL nobody answers at is named, with the variable to check.
func TestUnreachableBaseURLIsNamed(t *testing.T) {
	t.Parallel()
	closed := httptest.NewServer(http.NotFoundHandler())
	dead := closed.URL
	closed.Close()
	b := setup(t, noLimits())
	cfg := b.config()
	cfg.BaseURL = dead
	h := fastHTTP()
	h.MaxRetries = 1
	c := b.open(cfg, hubspot.Deps{HTTP: h})
	err := newReplica().pull(t, c, hubspot.Companies, []string{"name"})
	var ue *connector.UnreachableError
	if !errors.As(err, &ue) {
		t.Fatalf("err = %v, want an UnreachableError", err)
	}
	if want := "cannot reach " + dead + ": connection refused; check HEALTHSYNC_HUBSPOT_BASE_URL"; !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %q, want %q", err, want)
	}
}
