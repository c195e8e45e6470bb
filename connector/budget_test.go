package connector_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/sethvargo/go-envconfig"

	"healthsync/connector"
)

func newBudget(t *testing.T, run, total float64) *connector.Budget {
	t.Helper()
	b, err := connector.NewBudget(connector.BudgetConfig{RunShare: run, TotalShare: total})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBudgetStopsTheRunAtItsShare(t *testing.T) {
	t.Parallel()
	// A Salesforce org with a daily limit of 50 that nobody else uses: a
	// 20% run share allows 10 calls.
	used := 0
	srv := newRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) {
		used++
		w.Header().Set("Sforce-Limit-Info", fmt.Sprintf("api-usage=%d/50", used))
		writeJSON(w, 200, `{"done":true}`)
	})
	b := newBudget(t, 0.2, 0.8)
	s := newStack(t, connector.WithBudget(b), connector.WithPolicy(connector.SalesforcePolicy), connector.WithDecoder(connector.DecodeSalesforce))
	var err error
	calls := 0
	for ; calls < 100; calls++ {
		var resp *http.Response
		if resp, err = get(t, context.Background(), s, srv.URL+"/q"); err != nil {
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
	if calls != 10 || srv.count() != 10 || s.APICalls() != 10 {
		t.Fatalf("succeeded %d, server saw %d, APICalls %d; want 10 each", calls, srv.count(), s.APICalls())
	}
	if u := b.Usage(); u.RunCalls != 10 || u.DailyLimit != 50 || u.DailyUsed != 10 {
		t.Fatalf("usage %+v", u)
	}
	// A new run has its own share again.
	b.StartRun()
	resp, err := get(t, context.Background(), s, srv.URL+"/q")
	if err != nil {
		t.Fatalf("after StartRun: %v", err)
	}
	resp.Body.Close()
}

func TestBudgetStopsAtTheTotalShareFromHubSpotHeaders(t *testing.T) {
	t.Parallel()
	// Other integrations already used 795 of 1000: at 80% only 5 calls remain.
	remaining := 205
	srv := newRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) {
		remaining--
		w.Header().Set("X-HubSpot-RateLimit-Daily", "1000")
		w.Header().Set("X-HubSpot-RateLimit-Daily-Remaining", fmt.Sprint(remaining))
		writeJSON(w, 200, `{"results":[]}`)
	})
	s := newStack(t, connector.WithBudget(newBudget(t, 0.5, 0.8)), connector.WithPolicy(connector.HubSpotPolicy), connector.WithDecoder(connector.DecodeHubSpot))
	var err error
	ok := 0
	for ; ok < 100; ok++ {
		var resp *http.Response
		if resp, err = get(t, context.Background(), s, srv.URL+"/crm/v3/objects/companies"); err != nil {
			break
		}
		resp.Body.Close()
	}
	if !errors.Is(err, connector.ErrBudgetExhausted) || !strings.Contains(err.Error(), "HEALTHSYNC_API_BUDGET_TOTAL_SHARE") {
		t.Fatalf("err = %v, want ErrBudgetExhausted naming the total share", err)
	}
	if ok != 5 || srv.count() != 5 {
		t.Fatalf("succeeded %d, server saw %d; want 5", ok, srv.count())
	}
}

func TestDailyLimitSurfacesAsErrDailyLimit(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		policy connector.RetryPolicy
		decode connector.ErrorDecoder
		status int
		body   string
		code   string
	}{
		{"salesforce", connector.SalesforcePolicy, connector.DecodeSalesforce, 403,
			`[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`, "REQUEST_LIMIT_EXCEEDED"},
		{"hubspot", connector.HubSpotPolicy, connector.DecodeHubSpot, 429,
			`{"status":"error","message":"You have reached your daily limit.","errorType":"RATE_LIMIT","correlationId":"c","policyName":"DAILY"}`, "DAILY"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) { writeJSON(w, tc.status, tc.body) })
			b := newBudget(t, 0.2, 0.8)
			s := newStack(t, connector.WithBudget(b), connector.WithPolicy(tc.policy), connector.WithDecoder(tc.decode))
			_, err := get(t, context.Background(), s, srv.URL+"/x")
			var apiErr *connector.APIError
			if !errors.Is(err, connector.ErrDailyLimit) || !errors.As(err, &apiErr) || apiErr.Code != tc.code {
				t.Fatalf("err = %v, want ErrDailyLimit wrapping the %s APIError", err, tc.code)
			}
			if srv.count() != 1 {
				t.Fatalf("attempts %d, want 1 (never retried)", srv.count())
			}
			// The rest of the run is refused without calling the CRM.
			_, err = get(t, context.Background(), s, srv.URL+"/y")
			if !errors.Is(err, connector.ErrDailyLimit) || srv.count() != 1 {
				t.Fatalf("second call: err %v, attempts %d; want ErrDailyLimit without a call", err, srv.count())
			}
			// Through the plain *http.Client too (simpleforce's path).
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/z", nil)
			if _, err := s.Client().Do(req); !errors.Is(err, connector.ErrDailyLimit) {
				t.Fatalf("Client().Do err = %v", err)
			}
		})
	}
}

func TestConfigFromEnvironment(t *testing.T) {
	t.Parallel()
	type all struct {
		HTTP   connector.HTTPConfig
		Budget connector.BudgetConfig
	}
	var c all
	if err := envconfig.ProcessWith(context.Background(), &envconfig.Config{Target: &c, Lookuper: envconfig.MapLookuper(nil)}); err != nil {
		t.Fatal(err)
	}
	if c.HTTP != connector.DefaultHTTPConfig() || c.Budget != connector.DefaultBudgetConfig() {
		t.Fatalf("defaults %+v, want %+v and %+v", c, connector.DefaultHTTPConfig(), connector.DefaultBudgetConfig())
	}
	if err := c.HTTP.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := c.Budget.Validate(); err != nil {
		t.Fatal(err)
	}

	bad := map[string]string{
		"HEALTHSYNC_HTTP_TIMEOUT":           "0s",
		"HEALTHSYNC_HTTP_MAX_RETRIES":       "-1",
		"HEALTHSYNC_HTTP_RETRY_WAIT_MIN":    "2s",
		"HEALTHSYNC_HTTP_RETRY_WAIT_MAX":    "1s",
		"HEALTHSYNC_API_BUDGET_RUN_SHARE":   "20",
		"HEALTHSYNC_API_BUDGET_TOTAL_SHARE": "0",
		"HEALTHSYNC_HTTP_RATE_LIMIT":        "-3",
	}
	var b all
	if err := envconfig.ProcessWith(context.Background(), &envconfig.Config{Target: &b, Lookuper: envconfig.MapLookuper(bad)}); err != nil {
		t.Fatal(err)
	}
	msg := fmt.Sprint(b.HTTP.Validate(), b.Budget.Validate())
	for name := range bad {
		if !strings.Contains(msg, name) {
			t.Errorf("validation does not name %s: %s", name, msg)
		}
	}
	if _, err := connector.NewStack(b.HTTP, nil); err == nil {
		t.Fatal("NewStack accepted an invalid config")
	}
}
