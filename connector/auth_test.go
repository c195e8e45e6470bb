package connector_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/go-hclog"

	"healthsync/connector"
	"healthsync/connector/oauth"
	"healthsync/internal/testkit"
)

// tokenServer is an OAuth token endpoint that rotates refresh tokens: each
// refresh returns a new pair and kills the old refresh token. The API
// server accepts only the latest access token.
type tokenServer struct {
	*httptest.Server
	mu        sync.Mutex
	refresh   string // the live refresh token
	access    string // the live access token
	refreshes atomic.Int64
}

func newTokenServer(t *testing.T, initialRefresh string) *tokenServer {
	ts := &tokenServer{refresh: initialRefresh}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		ts.mu.Lock()
		defer ts.mu.Unlock()
		if r.Form.Get("grant_type") != "refresh_token" || r.Form.Get("refresh_token") != ts.refresh {
			writeJSON(w, 400, `{"error":"invalid_grant","error_description":"expired access/refresh token"}`)
			return
		}
		n := ts.refreshes.Add(1)
		ts.access = fmt.Sprintf("00Dxx!access-token-%03d-SECRET", n)
		ts.refresh = fmt.Sprintf("5Aep-refresh-token-%03d-SECRET", n)
		writeJSON(w, 200, fmt.Sprintf(`{"access_token":%q,"refresh_token":%q,"instance_url":"https://instance.example.com","token_type":"Bearer","issued_at":"1700000000000"}`, ts.access, ts.refresh))
	}))
	t.Cleanup(ts.Close)
	return ts
}

func (ts *tokenServer) valid(auth string) bool {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.access != "" && auth == "Bearer "+ts.access
}

func apiServer(t *testing.T, ts *tokenServer) *recorder {
	return newRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if !ts.valid(r.Header.Get("Authorization")) {
			writeJSON(w, 401, `{"error":"invalid_token","error_description":"Session expired or invalid"}`)
			return
		}
		writeJSON(w, 200, `{"totalSize":0,"done":true,"records":[]}`)
	})
}

func storedSource(t *testing.T, store *testkit.Tokens, ts *tokenServer, logger hclog.Logger) *oauth.Source {
	t.Helper()
	old := &oauth.Token{AccessToken: "00Dxx!access-token-000-SECRET", RefreshToken: "5Aep-refresh-token-000-SECRET", TokenType: "Bearer", InstanceURL: "https://instance.example.com"}
	blob, err := old.MarshalBlob()
	if err != nil {
		t.Fatal(err)
	}
	store.SaveToken(context.Background(), "sf-prod", blob)
	cfg := &oauth.Config{Connector: "example", ClientID: "cid", ClientSecret: "client-secret-SECRET",
		AuthURL: ts.URL + "/services/oauth2/authorize", TokenURL: ts.URL + "/services/oauth2/token"}
	return oauth.NewSource(store, "sf-prod", cfg.RefreshGrant(), oauth.SourceOptions{Logger: logger})
}

func TestOneRefreshForManyConcurrent401s(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t, "5Aep-refresh-token-000-SECRET")
	api := apiServer(t, ts)
	store := testkit.NewTokens()
	src := storedSource(t, store, ts, nil)
	s := newStack(t, connector.WithAuth(src))

	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, api.URL+"/services/data/v60.0/composite/sobjects", strings.NewReader(fmt.Sprintf(`{"i":%d}`, i)))
			resp, err := s.Do(req)
			if err != nil {
				errs <- err
				return
			}
			resp.Body.Close()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := ts.refreshes.Load(); got != 1 {
		t.Fatalf("%d refreshes, want exactly 1", got)
	}
	// Every request is sent at most twice, and the retried ones carried their body.
	if api.count() > 2*n || s.APICalls() != int64(api.count()) {
		t.Fatalf("server saw %d attempts, APICalls %d", api.count(), s.APICalls())
	}
	for i := range api.count() {
		if h := api.hit(i); !strings.HasPrefix(h.body, `{"i":`) {
			t.Fatalf("attempt %d lost its body: %q", i, h.body)
		}
	}
	// The rotated refresh token is persisted: a new process can refresh with it.
	blob, _ := store.LoadToken(context.Background(), "sf-prod")
	tok, err := oauth.UnmarshalBlob(blob)
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken != "5Aep-refresh-token-001-SECRET" || tok.InstanceURL != "https://instance.example.com" {
		t.Fatalf("stored %v, want the rotated refresh token and the instance URL", tok)
	}
}

func Test401AfterRefreshIsRetriedOnlyOnce(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t, "5Aep-refresh-token-000-SECRET")
	api := newRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 401, `{"error":"invalid_token","error_description":"The OAuth token used to make this call expired 2 minute(s) ago."}`)
	})
	src := storedSource(t, testkit.NewTokens(), ts, nil)
	s := newStack(t, connector.WithAuth(src))
	_, err := get(t, context.Background(), s, api.URL+"/crm/v3/objects/companies")
	var apiErr *connector.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 401 || apiErr.Code != "invalid_token" {
		t.Fatalf("err = %v, want the 401 APIError", err)
	}
	if api.count() != 2 || ts.refreshes.Load() != 1 {
		t.Fatalf("attempts %d, refreshes %d; want 2 and 1", api.count(), ts.refreshes.Load())
	}
}

func TestRevokedRefreshTokenAsksForReauthorization(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t, "a-different-live-token") // the stored one is dead
	api := apiServer(t, ts)
	src := storedSource(t, testkit.NewTokens(), ts, nil)
	s := newStack(t, connector.WithAuth(src))
	_, err := get(t, context.Background(), s, api.URL+"/services/data/v60.0/query")
	if !errors.Is(err, connector.ErrReauthorize) || !strings.Contains(err.Error(), "re-authorize with `healthsync auth example`") {
		t.Fatalf("err = %v, want ErrReauthorize telling the command", err)
	}
	if api.count() != 1 {
		t.Fatalf("attempts %d, want 1", api.count())
	}
}

func TestSecretsNeverLoggedOrInErrors(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := hclog.New(&hclog.LoggerOptions{Level: hclog.Trace, Output: &lockedWriter{w: &logs, mu: &mu}})

	ts := newTokenServer(t, "5Aep-refresh-token-000-SECRET")
	// The API fails in every way it can: 401 first, then a 503 storm, then
	// an echo of the Authorization header in an HTML error page.
	api := newRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) {
		switch {
		case !ts.valid(r.Header.Get("Authorization")):
			writeJSON(w, 401, `{"error":"invalid_token","error_description":"Session expired or invalid"}`)
		case n < 4:
			writeJSON(w, 503, `[{"message":"unavailable","errorCode":"SERVER_UNAVAILABLE"}]`)
		default:
			w.WriteHeader(500)
			fmt.Fprintf(w, "<html>debug: Authorization=%s</html>", r.Header.Get("Authorization"))
		}
	})
	src := storedSource(t, testkit.NewTokens(), ts, logger)
	s, err := connector.NewStack(testConfig(), logger, connector.WithAuth(src))
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for range 3 {
		if _, err := get(t, context.Background(), s, api.URL+"/services/data/v60.0/query?q=SELECT+Id+FROM+Account"); err != nil {
			msgs = append(msgs, err.Error())
		}
	}
	// Then the refresh token is revoked.
	ts.mu.Lock()
	ts.refresh, ts.access = "revoked", "revoked"
	ts.mu.Unlock()
	if _, err := get(t, context.Background(), s, api.URL+"/x"); err != nil {
		msgs = append(msgs, err.Error())
	}
	if len(msgs) < 2 {
		t.Fatalf("expected failures, got %v", msgs)
	}
	mu.Lock()
	all := logs.String() + strings.Join(msgs, "\n")
	mu.Unlock()
	if !strings.Contains(all, "retrying request") {
		t.Fatalf("the log is not the stack's log:\n%s", all)
	}
	t.Log(all)
	if strings.Contains(all, "SECRET") {
		t.Fatalf("a secret reached the logs or errors:\n%s", all)
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
