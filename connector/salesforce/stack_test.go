package salesforce_test

// The HTTP stack with Salesforce's options (StackOptions): which answers
// are retried, refreshed or the daily limit, and the budget fed by
// Sforce-Limit-Info, against a recording server.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"healthsync/connector"
	"healthsync/connector/internal/stacktest"
	"healthsync/connector/salesforce"
)

// newStack is a quick-retrying stack with Salesforce's options and opts.
func newStack(t *testing.T, opts ...connector.Option) *connector.Stack {
	t.Helper()
	return stacktest.NewStack(t, append(salesforce.StackOptions(), opts...)...)
}

func newBudget(t *testing.T, run, total float64) *connector.Budget {
	t.Helper()
	b, err := connector.NewBudget(connector.BudgetConfig{RunShare: run, TotalShare: total})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRetryAfterSecondsHonoured(t *testing.T) {
	t.Parallel()
	srv := stacktest.NewRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 0 {
			w.Header().Set("Retry-After", "1")
			stacktest.WriteJSON(w, 503, `[{"message":"Server unavailable","errorCode":"SERVER_UNAVAILABLE"}]`)
			return
		}
		stacktest.WriteJSON(w, 200, `{"ok":true}`)
	})
	s := newStack(t)
	resp, err := stacktest.Get(t, context.Background(), s, srv.URL+"/services/data/v60.0/limits")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != `{"ok":true}` {
		t.Fatalf("body %q", body)
	}
	if got := srv.Count(); got != 2 {
		t.Fatalf("server saw %d attempts, want 2", got)
	}
	if gap := srv.Hit(1).At.Sub(srv.Hit(0).At); gap < time.Second {
		t.Fatalf("retry came %s after the 503, Retry-After said 1s", gap)
	}
	if s.APICalls() != 2 {
		t.Fatalf("APICalls = %d, want 2", s.APICalls())
	}
}

func TestRetryAfterBeyondMaxIsNotWaited(t *testing.T) {
	t.Parallel()
	srv := stacktest.NewRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3600")
		stacktest.WriteJSON(w, 503, `[{"message":"maintenance","errorCode":"SERVER_UNAVAILABLE"}]`)
	})
	s := newStack(t)
	_, err := stacktest.Get(t, context.Background(), s, srv.URL+"/x")
	var apiErr *connector.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 503 || apiErr.Code != "SERVER_UNAVAILABLE" {
		t.Fatalf("err = %v, want the 503 as *APIError", err)
	}
	if srv.Count() != 1 {
		t.Fatalf("server saw %d attempts, want 1", srv.Count())
	}
}

func TestLockAndConcurrencyErrorsRetriedWithBodyReplayed(t *testing.T) {
	t.Parallel()
	const payload = `{"allOrNone":false,"records":[{"attributes":{"type":"Account"},"id":"001000000000001AAA","Health_Score__c":72}]}`
	srv := stacktest.NewRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) {
		switch n {
		case 0:
			stacktest.WriteJSON(w, 400, `[{"message":"unable to obtain exclusive access to this record","errorCode":"UNABLE_TO_LOCK_ROW"}]`)
		case 1:
			stacktest.WriteJSON(w, 403, `[{"message":"ConcurrentRequests (Concurrent API Requests) Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`)
		default:
			stacktest.WriteJSON(w, 200, `[{"id":"001000000000001AAA","success":true,"errors":[]}]`)
		}
	})
	s := newStack(t)
	req, _ := http.NewRequest(http.MethodPatch, srv.URL+"/services/data/v60.0/composite/sobjects", strings.NewReader(payload))
	resp, err := s.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if srv.Count() != 3 {
		t.Fatalf("server saw %d attempts, want 3", srv.Count())
	}
	for i := range 3 {
		if got := srv.Hit(i).Body; got != payload {
			t.Fatalf("attempt %d body %q, want the original", i, got)
		}
	}
}

func TestServerErrorsRetriedOnlyForIdempotentRequests(t *testing.T) {
	t.Parallel()
	html := `<html><body>Bad gateway from proxy; Authorization: Bearer 00Dxx0000000001!AQ8AQM.sEcReTtOkEnVaLuE_ThatMustNotLeak1234567890</body></html>`
	srv := stacktest.NewRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(502)
		w.Write([]byte(html))
	})
	s := newStack(t)

	req, _ := http.NewRequestWithContext(connector.NonIdempotent(context.Background()), http.MethodPost, srv.URL+"/create", strings.NewReader(`{}`))
	_, err := s.Do(req)
	var apiErr *connector.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != connector.CodeMalformedResponse || apiErr.Status != 502 {
		t.Fatalf("err = %v, want a MALFORMED_RESPONSE 502", err)
	}
	if strings.Contains(err.Error(), "sEcReTtOkEn") {
		t.Fatalf("error leaks the token from the body: %v", err)
	}
	if !strings.Contains(err.Error(), "text/html") {
		t.Fatalf("error does not say what came back: %v", err)
	}
	if srv.Count() != 1 {
		t.Fatalf("non-idempotent POST attempted %d times after a 502, want 1", srv.Count())
	}

	_, err = stacktest.Get(t, context.Background(), s, srv.URL+"/read")
	if !errors.As(err, &apiErr) || apiErr.Status != 502 {
		t.Fatalf("err = %v", err)
	}
	if got := srv.Count() - 1; got != 4 {
		t.Fatalf("idempotent GET attempted %d times, want 1 + MaxRetries(3)", got)
	}
}

func TestContextCancelledDuringBackoff(t *testing.T) {
	t.Parallel()
	first := make(chan struct{})
	srv := stacktest.NewRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		stacktest.WriteJSON(w, 503, `[{"message":"busy","errorCode":"SERVER_UNAVAILABLE"}]`)
		if n == 0 {
			close(first)
		}
	})
	s := newStack(t)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-first
		cancel()
	}()
	_, err := stacktest.Get(t, ctx, s, srv.URL+"/x")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if srv.Count() != 1 {
		t.Fatalf("attempts %d, want 1", srv.Count())
	}
}

func TestValidationErrorsAreNeverRetried(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		status int
		body   string
		code   string
	}{
		{"malformed query", 400,
			`[{"message":"unexpected token: FORM","errorCode":"MALFORMED_QUERY"}]`, "MALFORMED_QUERY"},
		{"invalid field", 400,
			`[{"message":"No such column 'Foo__c'","errorCode":"INVALID_FIELD","fields":["Foo__c"]}]`, "INVALID_FIELD"},
		{"not found", 404,
			`[{"message":"The requested resource does not exist","errorCode":"NOT_FOUND"}]`, "NOT_FOUND"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := stacktest.NewRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) { stacktest.WriteJSON(w, tc.status, tc.body) })
			s := newStack(t)
			req, _ := http.NewRequest(http.MethodPatch, srv.URL+"/obj", strings.NewReader(`{"a":1}`))
			_, err := s.Do(req)
			var apiErr *connector.APIError
			if !errors.As(err, &apiErr) || apiErr.Code != tc.code || apiErr.Status != tc.status {
				t.Fatalf("err = %v, want *APIError %d %s", err, tc.status, tc.code)
			}
			if srv.Count() != 1 || s.APICalls() != 1 {
				t.Fatalf("attempts: server %d, APICalls %d; want 1", srv.Count(), s.APICalls())
			}
		})
	}
}

func TestBudgetStopsTheRunAtItsShare(t *testing.T) {
	t.Parallel()
	// A Salesforce org with a daily limit of 50 that nobody else uses: a
	// 20% run share allows 10 calls.
	used := 0
	srv := stacktest.NewRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) {
		used++
		w.Header().Set("Sforce-Limit-Info", fmt.Sprintf("api-usage=%d/50", used))
		stacktest.WriteJSON(w, 200, `{"done":true}`)
	})
	b := newBudget(t, 0.2, 0.8)
	s := newStack(t, connector.WithBudget(b))
	var err error
	calls := 0
	for ; calls < 100; calls++ {
		var resp *http.Response
		if resp, err = stacktest.Get(t, context.Background(), s, srv.URL+"/q"); err != nil {
			break
		}
		resp.Body.Close()
	}
	if !errors.Is(err, connector.ErrBudgetExhausted) {
		t.Fatalf("err = %v, want ErrBudgetExhausted", err)
	}
	if !strings.Contains(err.Error(), "HEALTHSYNC_API_BUDGET_RUN_SHARE") {
		t.Fatalf("message does not name the setting: %v", err)
	}
	if calls != 10 || srv.Count() != 10 || s.APICalls() != 10 {
		t.Fatalf("succeeded %d, server saw %d, APICalls %d; want 10 each", calls, srv.Count(), s.APICalls())
	}
	if u := b.Usage(); u.RunCalls != 10 || u.DailyLimit != 50 || u.DailyUsed != 10 {
		t.Fatalf("usage %+v", u)
	}
	// A new run has its own share again.
	b.StartRun()
	resp, err := stacktest.Get(t, context.Background(), s, srv.URL+"/q")
	if err != nil {
		t.Fatalf("after StartRun: %v", err)
	}
	resp.Body.Close()
}

func TestDailyLimitSurfacesAsErrDailyLimit(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		status int
		body   string
		code   string
	}{
		{"salesforce", 403,
			`[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`, "REQUEST_LIMIT_EXCEEDED"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := stacktest.NewRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) { stacktest.WriteJSON(w, tc.status, tc.body) })
			b := newBudget(t, 0.2, 0.8)
			s := newStack(t, connector.WithBudget(b))
			_, err := stacktest.Get(t, context.Background(), s, srv.URL+"/x")
			var apiErr *connector.APIError
			if !errors.Is(err, connector.ErrDailyLimit) || !errors.As(err, &apiErr) || apiErr.Code != tc.code {
				t.Fatalf("err = %v, want ErrDailyLimit wrapping the %s APIError", err, tc.code)
			}
			if srv.Count() != 1 {
				t.Fatalf("attempts %d, want 1 (never retried)", srv.Count())
			}
			// The rest of the run is refused without calling the CRM.
			_, err = stacktest.Get(t, context.Background(), s, srv.URL+"/y")
			if !errors.Is(err, connector.ErrDailyLimit) || srv.Count() != 1 {
				t.Fatalf("second call: err %v, attempts %d; want ErrDailyLimit without a call", err, srv.Count())
			}
			// Through the plain *http.Client too (simpleforce's path).
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/z", nil)
			if _, err := s.Client().Do(req); !errors.Is(err, connector.ErrDailyLimit) {
				t.Fatalf("Client().Do err = %v", err)
			}
		})
	}
}

// BenchmarkStackDo measures what the stack adds to a request: the auth
// header, retryablehttp, the limiter, the budget and header parsing.
func BenchmarkStackDo(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Sforce-Limit-Info", "api-usage=18/15000")
		io.WriteString(w, `{"done":true}`)
	}))
	defer srv.Close()
	budget, _ := connector.NewBudget(connector.BudgetConfig{RunShare: 1, TotalShare: 1})
	stack, err := connector.NewStack(connector.DefaultHTTPConfig(), nil,
		append(salesforce.StackOptions(), connector.WithAuth(connector.StaticToken("tok")), connector.WithBudget(budget))...)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("stack", func(b *testing.B) {
		for b.Loop() {
			budget.StartRun()
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL, nil)
			resp, err := stack.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
	b.Run("plain", func(b *testing.B) {
		for b.Loop() {
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL, nil)
			resp, err := srv.Client().Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}
