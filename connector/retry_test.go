package connector_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"healthsync/connector"
)

func TestRetryAfterSecondsHonoured(t *testing.T) {
	t.Parallel()
	srv := newRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 0 {
			w.Header().Set("Retry-After", "1")
			writeJSON(w, 503, `[{"message":"Server unavailable","errorCode":"SERVER_UNAVAILABLE"}]`)
			return
		}
		writeJSON(w, 200, `{"ok":true}`)
	})
	s := newStack(t, connector.WithPolicy(connector.SalesforcePolicy), connector.WithDecoder(connector.DecodeSalesforce))
	resp, err := get(t, context.Background(), s, srv.URL+"/services/data/v60.0/limits")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != `{"ok":true}` {
		t.Fatalf("body %q", body)
	}
	if got := srv.count(); got != 2 {
		t.Fatalf("server saw %d attempts, want 2", got)
	}
	if gap := srv.hit(1).at.Sub(srv.hit(0).at); gap < time.Second {
		t.Fatalf("retry came %s after the 503, Retry-After said 1s", gap)
	}
	if s.APICalls() != 2 {
		t.Fatalf("APICalls = %d, want 2", s.APICalls())
	}
}

func TestRetryAfterHTTPDateHonoured(t *testing.T) {
	t.Parallel()
	var until time.Time
	srv := newRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 0 {
			until = time.Now().Add(2 * time.Second).Truncate(time.Second)
			w.Header().Set("Retry-After", until.UTC().Format(http.TimeFormat))
			writeJSON(w, 429, `{"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT","correlationId":"c1","policyName":"TEN_SECONDLY_ROLLING"}`)
			return
		}
		writeJSON(w, 200, `{}`)
	})
	s := newStack(t, connector.WithPolicy(connector.HubSpotPolicy), connector.WithDecoder(connector.DecodeHubSpot))
	resp, err := get(t, context.Background(), s, srv.URL+"/crm/v3/objects/companies")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := srv.count(); got != 2 {
		t.Fatalf("server saw %d attempts, want 2", got)
	}
	if at := srv.hit(1).at; at.Before(until) {
		t.Fatalf("retry at %s, before the Retry-After date %s", at, until)
	}
}

func TestRetryAfterBeyondMaxIsNotWaited(t *testing.T) {
	t.Parallel()
	srv := newRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3600")
		writeJSON(w, 503, `[{"message":"maintenance","errorCode":"SERVER_UNAVAILABLE"}]`)
	})
	s := newStack(t, connector.WithPolicy(connector.SalesforcePolicy), connector.WithDecoder(connector.DecodeSalesforce))
	_, err := get(t, context.Background(), s, srv.URL+"/x")
	var apiErr *connector.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 503 || apiErr.Code != "SERVER_UNAVAILABLE" {
		t.Fatalf("err = %v, want the 503 as *APIError", err)
	}
	if srv.count() != 1 {
		t.Fatalf("server saw %d attempts, want 1", srv.count())
	}
}

func TestValidationErrorsAreNeverRetried(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		policy connector.RetryPolicy
		decode connector.ErrorDecoder
		status int
		body   string
		code   string
	}{
		{"salesforce malformed query", connector.SalesforcePolicy, connector.DecodeSalesforce, 400,
			`[{"message":"unexpected token: FORM","errorCode":"MALFORMED_QUERY"}]`, "MALFORMED_QUERY"},
		{"salesforce invalid field", connector.SalesforcePolicy, connector.DecodeSalesforce, 400,
			`[{"message":"No such column 'Foo__c'","errorCode":"INVALID_FIELD","fields":["Foo__c"]}]`, "INVALID_FIELD"},
		{"salesforce not found", connector.SalesforcePolicy, connector.DecodeSalesforce, 404,
			`[{"message":"The requested resource does not exist","errorCode":"NOT_FOUND"}]`, "NOT_FOUND"},
		{"hubspot validation", connector.HubSpotPolicy, connector.DecodeHubSpot, 400,
			`{"status":"error","message":"Property values were not valid","correlationId":"abc","category":"VALIDATION_ERROR","errors":[{"message":"x is not a number","code":"INVALID_INTEGER","context":{"propertyName":["healthsync_score"]}}]}`, "VALIDATION_ERROR"},
		{"hubspot missing scopes", connector.HubSpotPolicy, connector.DecodeHubSpot, 403,
			`{"status":"error","message":"This app hasn't been granted all required scopes","correlationId":"abc","category":"MISSING_SCOPES","errors":[{"message":"One or more of the following scopes are required.","context":{"requiredGranularScopes":["crm.objects.companies.write"]}}]}`, "MISSING_SCOPES"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) { writeJSON(w, tc.status, tc.body) })
			s := newStack(t, connector.WithPolicy(tc.policy), connector.WithDecoder(tc.decode))
			req, _ := http.NewRequest(http.MethodPatch, srv.URL+"/obj", strings.NewReader(`{"a":1}`))
			_, err := s.Do(req)
			var apiErr *connector.APIError
			if !errors.As(err, &apiErr) || apiErr.Code != tc.code || apiErr.Status != tc.status {
				t.Fatalf("err = %v, want *APIError %d %s", err, tc.status, tc.code)
			}
			if srv.count() != 1 || s.APICalls() != 1 {
				t.Fatalf("attempts: server %d, APICalls %d; want 1", srv.count(), s.APICalls())
			}
		})
	}
}

func TestLockAndConcurrencyErrorsRetriedWithBodyReplayed(t *testing.T) {
	t.Parallel()
	const payload = `{"allOrNone":false,"records":[{"attributes":{"type":"Account"},"id":"001000000000001AAA","Health_Score__c":72}]}`
	srv := newRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) {
		switch n {
		case 0:
			writeJSON(w, 400, `[{"message":"unable to obtain exclusive access to this record","errorCode":"UNABLE_TO_LOCK_ROW"}]`)
		case 1:
			writeJSON(w, 403, `[{"message":"ConcurrentRequests (Concurrent API Requests) Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`)
		default:
			writeJSON(w, 200, `[{"id":"001000000000001AAA","success":true,"errors":[]}]`)
		}
	})
	s := newStack(t, connector.WithPolicy(connector.SalesforcePolicy), connector.WithDecoder(connector.DecodeSalesforce))
	req, _ := http.NewRequest(http.MethodPatch, srv.URL+"/services/data/v60.0/composite/sobjects", strings.NewReader(payload))
	resp, err := s.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if srv.count() != 3 {
		t.Fatalf("server saw %d attempts, want 3", srv.count())
	}
	for i := range 3 {
		if got := srv.hit(i).body; got != payload {
			t.Fatalf("attempt %d body %q, want the original", i, got)
		}
	}
}

func TestServerErrorsRetriedOnlyForIdempotentRequests(t *testing.T) {
	t.Parallel()
	html := `<html><body>Bad gateway from proxy; Authorization: Bearer 00Dxx0000000001!AQ8AQM.sEcReTtOkEnVaLuE_ThatMustNotLeak1234567890</body></html>`
	srv := newRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(502)
		w.Write([]byte(html))
	})
	s := newStack(t, connector.WithPolicy(connector.SalesforcePolicy), connector.WithDecoder(connector.DecodeSalesforce))

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
	if srv.count() != 1 {
		t.Fatalf("non-idempotent POST attempted %d times after a 502, want 1", srv.count())
	}

	_, err = get(t, context.Background(), s, srv.URL+"/read")
	if !errors.As(err, &apiErr) || apiErr.Status != 502 {
		t.Fatalf("err = %v", err)
	}
	if got := srv.count() - 1; got != 4 {
		t.Fatalf("idempotent GET attempted %d times, want 1 + MaxRetries(3)", got)
	}
}

func TestNonIdempotentRequestRetriedWhenTheCRMDidNotAct(t *testing.T) {
	t.Parallel()
	srv := newRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 0 {
			writeJSON(w, 429, `{"status":"error","message":"You have reached your secondly limit.","errorType":"RATE_LIMIT","correlationId":"c","policyName":"SECONDLY"}`)
			return
		}
		writeJSON(w, 201, `{"status":"COMPLETE","results":[]}`)
	})
	s := newStack(t, connector.WithPolicy(connector.HubSpotPolicy), connector.WithDecoder(connector.DecodeHubSpot))
	req, _ := http.NewRequestWithContext(connector.NonIdempotent(context.Background()), http.MethodPost, srv.URL+"/crm/v3/objects/tasks/batch/create", strings.NewReader(`{"inputs":[]}`))
	resp, err := s.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if srv.count() != 2 {
		t.Fatalf("attempts %d, want 2", srv.count())
	}
}

func TestContextCancelledDuringBackoff(t *testing.T) {
	t.Parallel()
	first := make(chan struct{})
	srv := newRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		writeJSON(w, 503, `[{"message":"busy","errorCode":"SERVER_UNAVAILABLE"}]`)
		if n == 0 {
			close(first)
		}
	})
	s := newStack(t, connector.WithPolicy(connector.SalesforcePolicy), connector.WithDecoder(connector.DecodeSalesforce))
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-first
		cancel()
	}()
	_, err := get(t, ctx, s, srv.URL+"/x")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if srv.count() != 1 {
		t.Fatalf("attempts %d, want 1", srv.count())
	}
}

func TestAttemptTimeoutIsRetried(t *testing.T) {
	t.Parallel()
	srv := newRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 0 {
			<-r.Context().Done() // hang until the client gives up on the attempt
			return
		}
		writeJSON(w, 200, `{}`)
	})
	cfg := testConfig()
	cfg.Timeout = 200 * time.Millisecond
	s, err := connector.NewStack(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := get(t, context.Background(), s, srv.URL+"/slow")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if srv.count() != 2 {
		t.Fatalf("attempts %d, want 2", srv.count())
	}
}

func TestRedirectToAnotherHostCarriesNoToken(t *testing.T) {
	t.Parallel()
	other := newRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, `{}`) })
	srv := newRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/elsewhere", http.StatusFound)
	})
	s := newStack(t, connector.WithAuth(connector.StaticToken("pat-na1-secret")))
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/start", nil)
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || other.count() != 0 {
		t.Fatalf("status %d, other host saw %d requests; want the 302 back and no request elsewhere", resp.StatusCode, other.count())
	}
	if srv.hit(0).auth != "Bearer pat-na1-secret" {
		t.Fatalf("first host got Authorization %q", srv.hit(0).auth)
	}
}
