package hubspot_test

// The HTTP stack with HubSpot's options (StackOptions): which answers
// are retried, refreshed or the daily limit, the budget fed by the daily
// headers and the limiter by the window headers, against a recording server.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"healthsync/connector"
	"healthsync/connector/hubspot"
	"healthsync/connector/internal/stacktest"
)

// newBudget is a budget of the given shares.
func newBudget(t *testing.T, run, total float64) *connector.Budget {
	t.Helper()
	b, err := connector.NewBudget(connector.BudgetConfig{RunShare: run, TotalShare: total})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newStack is a quick-retrying stack with HubSpot's options and opts.
func newStack(t *testing.T, opts ...connector.Option) *connector.Stack {
	t.Helper()
	return stacktest.NewStack(t, append(hubspot.StackOptions(), opts...)...)
}

func TestRetryAfterHTTPDateHonoured(t *testing.T) {
	t.Parallel()
	var until time.Time
	srv := stacktest.NewRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 0 {
			until = time.Now().Add(2 * time.Second).Truncate(time.Second)
			w.Header().Set("Retry-After", until.UTC().Format(http.TimeFormat))
			stacktest.WriteJSON(w, 429, `{"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT","correlationId":"c1","policyName":"TEN_SECONDLY_ROLLING"}`)
			return
		}
		stacktest.WriteJSON(w, 200, `{}`)
	})
	s := newStack(t)
	resp, err := stacktest.Get(t, context.Background(), s, srv.URL+"/crm/v3/objects/companies")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := srv.Count(); got != 2 {
		t.Fatalf("server saw %d attempts, want 2", got)
	}
	if at := srv.Hit(1).At; at.Before(until) {
		t.Fatalf("retry at %s, before the Retry-After date %s", at, until)
	}
}

func TestNonIdempotentRequestRetriedWhenTheCRMDidNotAct(t *testing.T) {
	t.Parallel()
	srv := stacktest.NewRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 0 {
			stacktest.WriteJSON(w, 429, `{"status":"error","message":"You have reached your secondly limit.","errorType":"RATE_LIMIT","correlationId":"c","policyName":"SECONDLY"}`)
			return
		}
		stacktest.WriteJSON(w, 201, `{"status":"COMPLETE","results":[]}`)
	})
	s := newStack(t)
	req, _ := http.NewRequestWithContext(connector.NonIdempotent(context.Background()), http.MethodPost, srv.URL+"/crm/v3/objects/tasks/batch/create", strings.NewReader(`{"inputs":[]}`))
	resp, err := s.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if srv.Count() != 2 {
		t.Fatalf("attempts %d, want 2", srv.Count())
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
		{"validation", 400,
			`{"status":"error","message":"Property values were not valid","correlationId":"abc","category":"VALIDATION_ERROR","errors":[{"message":"x is not a number","code":"INVALID_INTEGER","context":{"propertyName":["healthsync_score"]}}]}`, "VALIDATION_ERROR"},
		{"missing scopes", 403,
			`{"status":"error","message":"This app hasn't been granted all required scopes","correlationId":"abc","category":"MISSING_SCOPES","errors":[{"message":"One or more of the following scopes are required.","context":{"requiredGranularScopes":["crm.objects.companies.write"]}}]}`, "MISSING_SCOPES"},
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

func TestBudgetStopsAtTheTotalShareFromTheDailyHeaders(t *testing.T) {
	t.Parallel()
	// Other integrations already used 795 of 1000: at 80% only 5 calls remain.
	remaining := 205
	srv := stacktest.NewRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) {
		remaining--
		w.Header().Set("X-HubSpot-RateLimit-Daily", "1000")
		w.Header().Set("X-HubSpot-RateLimit-Daily-Remaining", fmt.Sprint(remaining))
		stacktest.WriteJSON(w, 200, `{"results":[]}`)
	})
	s := newStack(t, connector.WithBudget(newBudget(t, 0.5, 0.8)))
	var err error
	ok := 0
	for ; ok < 100; ok++ {
		var resp *http.Response
		if resp, err = stacktest.Get(t, context.Background(), s, srv.URL+"/crm/v3/objects/companies"); err != nil {
			break
		}
		resp.Body.Close()
	}
	if !errors.Is(err, connector.ErrBudgetExhausted) || !strings.Contains(err.Error(), "HEALTHSYNC_API_BUDGET_TOTAL_SHARE") {
		t.Fatalf("err = %v, want ErrBudgetExhausted naming the total share", err)
	}
	if ok != 5 || srv.Count() != 5 {
		t.Fatalf("succeeded %d, server saw %d; want 5", ok, srv.Count())
	}
}

func TestDailyLimitSurfacesAsErrDailyLimit(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		status int
		body   string
		code   string
	}{
		{"hubspot", 429,
			`{"status":"error","message":"You have reached your daily limit.","errorType":"RATE_LIMIT","correlationId":"c","policyName":"DAILY"}`, "DAILY"},
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

func TestStackAdaptsToResponseHeaders(t *testing.T) {
	t.Parallel()
	srv := stacktest.NewRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-HubSpot-RateLimit-Max", "100")
		w.Header().Set("X-HubSpot-RateLimit-Remaining", "10")
		w.Header().Set("X-HubSpot-RateLimit-Interval-Milliseconds", "10000")
		stacktest.WriteJSON(w, 200, `{}`)
	})
	s := newStack(t, connector.WithLimiter(connector.NewLimiter(10, 10)))
	resp, err := stacktest.Get(t, context.Background(), s, srv.URL+"/crm/v3/objects/companies")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := s.Limiter().Limit(); got != 1 {
		t.Fatalf("limit %g after Remaining=10 of 100 per 10s, want 1/s", got)
	}
}
