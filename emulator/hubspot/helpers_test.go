package hubspot_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"healthsync/emulator/hubspot"
	"healthsync/internal/testkit"
)

// bundle is what a test needs: the portal, its HTTP server and a client.
type bundle struct {
	t     *testing.T
	srv   *hubspot.Server
	ts    *httptest.Server
	clock *testkit.Clock
	token string
}

// setup starts a portal over real HTTP. Rate limits are off unless the
// options set them, so tests exercise behaviour, not pacing.
func setup(t *testing.T, opts hubspot.Options) *bundle {
	t.Helper()
	clock := testkit.NewClock(time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC))
	if opts.Clock == nil {
		opts.Clock = clock
	}
	srv := hubspot.New(opts)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &bundle{t: t, srv: srv, ts: ts, clock: clock, token: srv.Credentials().PrivateAppToken}
}

func noLimits() hubspot.Options {
	return hubspot.Options{RateLimits: hubspot.RateLimits{Disabled: true}}
}

// response is a decoded answer.
type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

// call sends a request with the bundle's token; body may be a string (sent
// verbatim) or a value (sent as JSON).
func (b *bundle) call(method, path string, body any) response {
	b.t.Helper()
	return b.callAs(b.token, method, path, body)
}

func (b *bundle) callAs(token, method, path string, body any) response {
	b.t.Helper()
	var rd io.Reader
	switch v := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(v)
	default:
		raw, err := json.Marshal(v)
		if err != nil {
			b.t.Fatalf("marshal: %v", err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, b.ts.URL+path, rd)
	if err != nil {
		b.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := b.ts.Client().Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	out := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(bytes.TrimSpace(raw)) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			b.t.Fatalf("%s %s: answer is not JSON: %v: %s", method, path, err, raw)
		}
	}
	return out
}

// must fails the test unless the answer has the wanted status.
func (r response) must(t *testing.T, status int) response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	return r
}

func (r response) str(key string) string {
	s, _ := r.body[key].(string)
	return s
}

func (r response) results() []map[string]any {
	list, _ := r.body["results"].([]any)
	out := make([]map[string]any, 0, len(list))
	for _, v := range list {
		m, _ := v.(map[string]any)
		out = append(out, m)
	}
	return out
}

func props(m map[string]any) map[string]any {
	p, _ := m["properties"].(map[string]any)
	return p
}

// nextAfter returns paging.next.after, or "".
func (r response) nextAfter() string {
	p, _ := r.body["paging"].(map[string]any)
	n, _ := p["next"].(map[string]any)
	a, _ := n["after"].(string)
	return a
}

// expectError checks HubSpot's error envelope.
func (r response) expectError(t *testing.T, status int, category string) {
	t.Helper()
	r.must(t, status)
	if r.str("status") != "error" || r.str("category") != category || r.str("correlationId") == "" || r.str("message") == "" {
		t.Fatalf("error envelope = %s, want status error, category %s, a message and a correlationId", r.raw, category)
	}
}

// create makes a record over HTTP and returns its id.
func (b *bundle) create(objectType string, p map[string]string) string {
	b.t.Helper()
	r := b.call("POST", "/crm/v3/objects/"+objectType, map[string]any{"properties": p}).must(b.t, 201)
	return r.str("id")
}

func readResponse(t *testing.T, resp *http.Response) response {
	t.Helper()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			t.Fatalf("answer is not JSON: %v: %s", err, raw)
		}
	}
	return out
}
