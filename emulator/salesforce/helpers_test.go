package salesforce

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"healthsync/emulator/gen"
	"healthsync/internal/testkit"
)

var testNow = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)

type bundle struct {
	t     *testing.T
	s     *Server
	ts    *httptest.Server
	clock *testkit.Clock
	token string
	org   *gen.Org
}

// setup starts an emulator with accounts generated accounts (0 for none),
// logged in with the password grant.
func setup(t *testing.T, accounts int, opts Options) *bundle {
	t.Helper()
	clock := testkit.NewClock(testNow)
	if opts.Clock == nil {
		opts.Clock = clock
	}
	s := New(opts)
	b := &bundle{t: t, s: s, clock: clock}
	if accounts > 0 {
		org, err := gen.Generate(gen.Options{Seed: 11, Accounts: accounts, Now: testNow})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.LoadOrg(org); err != nil {
			t.Fatal(err)
		}
		b.org = org
	}
	b.ts = httptest.NewServer(s)
	t.Cleanup(b.ts.Close)
	b.token = b.login()
	return b
}

func (b *bundle) login() string {
	b.t.Helper()
	c := b.s.Credentials()
	tok := b.tokenRequest(url.Values{"grant_type": {"password"}, "client_id": {c.ClientID}, "client_secret": {c.ClientSecret}, "username": {c.Username}, "password": {c.Password}})
	if tok["access_token"] == nil {
		b.t.Fatalf("password login failed: %v", tok)
	}
	return tok["access_token"].(string)
}

func (b *bundle) tokenRequest(form url.Values) map[string]any {
	b.t.Helper()
	resp, err := http.PostForm(b.ts.URL+"/services/oauth2/token", form)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		b.t.Fatalf("token response: %v", err)
	}
	out["_status"] = resp.StatusCode
	return out
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// errorCode returns the errorCode of a Salesforce error array.
func (r response) errorCode(t *testing.T) (string, string) {
	t.Helper()
	var errs []apiError
	if err := json.Unmarshal(r.body, &errs); err != nil || len(errs) == 0 {
		t.Fatalf("want an error array, got %d %s", r.status, r.body)
	}
	return errs[0].ErrorCode, errs[0].Message
}

// do sends an authenticated API request; path is relative to
// /services/data/v60.0/ unless it starts with "/".
func (b *bundle) do(method, path string, body any, hdr ...string) response {
	b.t.Helper()
	if !strings.HasPrefix(path, "/") {
		path = "/services/data/v60.0/" + path
	}
	var rd io.Reader
	switch x := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(x)
	default:
		j, err := json.Marshal(x)
		if err != nil {
			b.t.Fatal(err)
		}
		rd = strings.NewReader(string(j))
	}
	req, err := http.NewRequestWithContext(context.Background(), method, b.ts.URL+path, rd)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+b.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

type queryPage struct {
	TotalSize      int              `json:"totalSize"`
	Done           bool             `json:"done"`
	NextRecordsURL string           `json:"nextRecordsUrl"`
	Records        []map[string]any `json:"records"`
}

func (b *bundle) query(endpoint, q string, hdr ...string) (queryPage, response) {
	b.t.Helper()
	r := b.do("GET", endpoint+"?q="+url.QueryEscape(q), nil, hdr...)
	var p queryPage
	if r.status == 200 {
		r.json(b.t, &p)
	}
	return p, r
}

// queryAllPages follows nextRecordsUrl to the end.
func (b *bundle) queryAllPages(endpoint, q string, hdr ...string) (int, []map[string]any, int) {
	b.t.Helper()
	p, r := b.query(endpoint, q, hdr...)
	if r.status != 200 {
		b.t.Fatalf("query %q: %d %s", q, r.status, r.body)
	}
	recs := p.Records
	pages := 1
	for !p.Done {
		r = b.do("GET", p.NextRecordsURL, nil, hdr...)
		if r.status != 200 {
			b.t.Fatalf("next page %s: %d %s", p.NextRecordsURL, r.status, r.body)
		}
		p = queryPage{}
		r.json(b.t, &p)
		recs = append(recs, p.Records...)
		pages++
	}
	return p.TotalSize, recs, pages
}
