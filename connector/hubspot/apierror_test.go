package hubspot

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"healthsync/connector"
	"healthsync/connector/internal/stacktest"
)

// The fuzz targets and tests of this file feed HubSpot's error decoder,
// retry policy and rate-limit header parsers what the portal, a proxy or a broken
// network could send. Their seeds (here and in testdata/fuzz) are
// HubSpot's documented bodies and the emulator's answers, plus truncations of them;
// plain `go test` runs them as regression tests. Run one longer with
//
//	go test -run '^$' -fuzz '^FuzzDecodeError$' -fuzztime 60s ./connector/hubspot

// FuzzDecodeError: decodeError gives a typed error with a code and a
// message for any body; the code of an envelope is its policyName, else
// its category; property names in the errors' context become Fields
// (never empty ones); retryPolicy stops for the daily limit only on a
// 429 whose policyName is DAILY, and retries every other 429.
func FuzzDecodeError(f *testing.F) {
	for _, s := range []struct {
		status uint16
		body   string
	}{
		{0, `{"status":"error","message":"Property values were not valid","correlationId":"aeb5f871-7f07-4993-9211-075dc63e7cbf","category":"VALIDATION_ERROR","errors":[{"message":"abc was not a valid number","code":"INVALID_INTEGER","context":{"propertyName":["healthsync_score"]}}]}`},
		{3, `{"status":"error","message":"This app hasn't been granted all required scopes to make this call.","correlationId":"c1","category":"MISSING_SCOPES","errors":[{"message":"One or more of the following scopes are required.","context":{"requiredGranularScopes":["crm.objects.companies.write"]}}]}`},
		{29, `{"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT","correlationId":"c2","policyName":"TEN_SECONDLY_ROLLING"}`},
		{29, `{"status":"error","message":"You have reached your daily limit.","errorType":"RATE_LIMIT","correlationId":"c3","policyName":"DAILY"}`},
		{29, `{"status":"error","message":"You have reached your secondly limit.","errorType":"RATE_LIMIT","correlationId":"c4","policyName":"SECONDLY"}`},
		{1, `{"status":"error","message":"Authentication credentials not found.","correlationId":"c5","category":"EXPIRED_AUTHENTICATION"}`},
		{4, `{"status":"error","message":"Object not found.  objectId are usually numeric.","correlationId":"c6","category":"OBJECT_NOT_FOUND","context":{"id":["x"]}}`},
		{0, `{"status":"BAD_REFRESH_TOKEN","message":"missing or unknown refresh token","error":"invalid_grant"}`},
		{0, `{"status":"error","category":"VALIDATION_ERROR"}`},
		{0, `{"status":"error","category":"VALIDATION_ERROR","errors":[{"context":{"propertyName":[null,"",5,"x"],"ids":[{"a":1}]}}]}`},
		{102, "<html><body>502 Bad Gateway</body></html>"},
		{102, `{"status":"error","message":"You have reached`},
		{100, `{"foo":1}`},
		{100, ``},
		{100, `null`},
	} {
		f.Add(s.status, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, n uint16, body []byte) {
		status := stacktest.FuzzStatus(n)
		e := stacktest.CheckAPIError(t, "decodeError", decodeError, status, http.Header{"Content-Type": {"application/json"}}, body)
		var env struct {
			PolicyName string `json:"policyName"`
			Category   string `json:"category"`
		}
		if json.Unmarshal(body, &env) == nil && e.Code != connector.CodeMalformedResponse {
			if env.PolicyName != "" && e.Code != env.PolicyName {
				t.Fatalf("envelope %q gave code %q, want policyName %q", body, e.Code, env.PolicyName)
			}
			if env.PolicyName == "" && env.Category != "" && e.Code != env.Category {
				t.Fatalf("envelope %q gave code %q, want category %q", body, e.Code, env.Category)
			}
		}
		seen := map[string]bool{}
		for _, fld := range e.Fields {
			if seen[fld] {
				t.Fatalf("field %q named twice: %q", fld, e.Fields)
			}
			seen[fld] = true
		}
		d := retryPolicy(status, e)
		switch {
		case status == 401 && d != connector.Reauthenticate:
			t.Fatalf("401: decision %v", d)
		case d == connector.DailyLimit && (status != 429 || e.Code != "DAILY"):
			t.Fatalf("daily limit decided for %d %#v", status, e)
		case status == 429 && e.Code != "DAILY" && d != connector.Retry:
			t.Fatalf("429 %#v: decision %v, want connector.Retry", e, d)
		}
	})
}

func TestDecodeError(t *testing.T) {
	t.Parallel()
	html := http.Header{"Content-Type": {"text/html; charset=utf-8"}}
	cases := []struct {
		name   string
		decode connector.ErrorDecoder
		status int
		header http.Header
		body   string
		want   connector.APIError
	}{
		{"hubspot envelope", decodeError, 400, nil,
			`{"status":"error","message":"Property values were not valid","correlationId":"aeb5f871","category":"VALIDATION_ERROR","errors":[{"message":"abc was not a valid number","code":"INVALID_INTEGER","context":{"propertyName":["healthsync_score"]}}]}`,
			connector.APIError{Status: 400, Code: "VALIDATION_ERROR", Message: "Property values were not valid; INVALID_INTEGER: abc was not a valid number; correlationId aeb5f871", Fields: []string{"healthsync_score"}}},
		{"hubspot scopes", decodeError, 403, nil,
			`{"status":"error","message":"This app hasn't been granted all required scopes to make this call.","correlationId":"c1","category":"MISSING_SCOPES","errors":[{"message":"One or more of the following scopes are required.","context":{"requiredGranularScopes":["crm.objects.companies.write"]}}]}`,
			connector.APIError{Status: 403, Code: "MISSING_SCOPES", Message: "This app hasn't been granted all required scopes to make this call.; One or more of the following scopes are required. (requiredGranularScopes: crm.objects.companies.write); correlationId c1"}},
		{"hubspot 429", decodeError, 429, nil,
			`{"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT","correlationId":"c2","policyName":"TEN_SECONDLY_ROLLING"}`,
			connector.APIError{Status: 429, Code: "TEN_SECONDLY_ROLLING", Message: "You have reached your ten_secondly_rolling limit.; correlationId c2"}},
		{"hubspot bad refresh token", decodeError, 400, nil,
			`{"status":"BAD_REFRESH_TOKEN","message":"missing or unknown refresh token","error":"invalid_grant"}`,
			connector.APIError{Status: 400, Code: "BAD_REFRESH_TOKEN", Message: "missing or unknown refresh token"}},
		{"html", decodeError, 502, html, "<html>\n<body>502 Bad Gateway</body>\n</html>",
			connector.APIError{Status: 502, Code: connector.CodeMalformedResponse, Message: "unexpected response body (text/html, 43 bytes): <html> <body>502 Bad Gateway</body> </html>"}},
		{"json of another shape", decodeError, 500, nil, `{"foo":1}`,
			connector.APIError{Status: 500, Code: connector.CodeMalformedResponse, Message: `unexpected response body (no content type, 9 bytes): {"foo":1}`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.decode(tc.status, tc.header, []byte(tc.body))
			if !reflect.DeepEqual(*got, tc.want) {
				t.Fatalf("got  %#v\nwant %#v", *got, tc.want)
			}
		})
	}
}

func TestMalformedBodyIsTruncatedAndRedacted(t *testing.T) {
	t.Parallel()
	body := `{"access_token":"short","refresh_token":"also-short","x":"` + strings.Repeat("A", 40) + `"}` + strings.Repeat(" filler", 200)
	e := decodeError(500, nil, []byte(body))
	if e.Code != connector.CodeMalformedResponse {
		t.Fatalf("code %s", e.Code)
	}
	for _, secret := range []string{"short", "also-short", strings.Repeat("A", 40)} {
		if strings.Contains(e.Message, `"`+secret+`"`) || strings.Contains(e.Message, strings.Repeat("A", 40)) {
			t.Fatalf("message leaks %q: %s", secret, e.Message)
		}
	}
	if len(e.Message) > 400 {
		t.Fatalf("message not truncated: %d bytes", len(e.Message))
	}
}

func TestRetryPolicy(t *testing.T) {
	t.Parallel()
	cases := []struct {
		policy connector.RetryPolicy
		status int
		code   string
		msg    string
		want   connector.Decision
	}{
		{retryPolicy, 401, "EXPIRED_AUTHENTICATION", "", connector.Reauthenticate},
		{retryPolicy, 429, "DAILY", "", connector.DailyLimit},
		{retryPolicy, 429, "TEN_SECONDLY_ROLLING", "", connector.Retry},
		{retryPolicy, 429, "SECONDLY", "You have reached your secondly limit.", connector.Retry},
		{retryPolicy, 400, "VALIDATION_ERROR", "", connector.Fail},
		{retryPolicy, 403, "MISSING_SCOPES", "", connector.Fail},
		{retryPolicy, 502, "MALFORMED_RESPONSE", "", connector.RetryIfIdempotent},
	}
	for _, tc := range cases {
		if got := tc.policy(tc.status, &connector.APIError{Status: tc.status, Code: tc.code, Message: tc.msg}); got != tc.want {
			t.Errorf("%d %s %q: %v, want %v", tc.status, tc.code, tc.msg, got, tc.want)
		}
	}
}

func TestLimiterFollowsTheWindowHeaders(t *testing.T) {
	t.Parallel()
	l := connector.NewLimiter(50, 5)
	h := http.Header{}
	h.Set("X-HubSpot-RateLimit-Max", "190")
	h.Set("X-HubSpot-RateLimit-Interval-Milliseconds", "10000")

	h.Set("X-HubSpot-RateLimit-Remaining", "150")
	l.Observe(window(t, h))
	if got := l.Limit(); got != 19 {
		t.Fatalf("plenty remaining: limit %g, want 190/10s = 19", got)
	}
	h.Set("X-HubSpot-RateLimit-Remaining", "20")
	l.Observe(window(t, h))
	if got := l.Limit(); got != 2 {
		t.Fatalf("low remaining: limit %g, want 20 spread over 10s = 2", got)
	}
	h.Set("X-HubSpot-RateLimit-Remaining", "0")
	l.Observe(window(t, h))
	if got := l.Limit(); got != 0.1 {
		t.Fatalf("none remaining: limit %g, want one per interval", got)
	}
	// A search response has no headers: nothing changes.
	l.Observe(window(t, http.Header{}))
	if got := l.Limit(); got != 0.1 {
		t.Fatalf("headerless response changed the limit to %g", got)
	}
	// Never above the configured rate.
	slow := connector.NewLimiter(5, 1)
	h.Set("X-HubSpot-RateLimit-Remaining", "190")
	slow.Observe(window(t, h))
	if got := slow.Limit(); got != 5 {
		t.Fatalf("limit %g, want the configured 5", got)
	}
}

func TestUnlimitedLimiterStartsLimitingWhenHeadersArrive(t *testing.T) {
	t.Parallel()
	l := connector.NewLimiter(0, 2)
	for range 100 {
		if err := l.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	h := http.Header{}
	h.Set("X-HubSpot-RateLimit-Max", "10")
	h.Set("X-HubSpot-RateLimit-Remaining", "0")
	h.Set("X-HubSpot-RateLimit-Interval-Milliseconds", "10000")
	l.Observe(window(t, h))
	if got := l.Limit(); got != 0.1 {
		t.Fatalf("limit %g", got)
	}
	// The burst is spent at most once; then the limiter holds calls back.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	var err error
	for range 3 {
		if err = l.Wait(ctx); err != nil {
			break
		}
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the limiter to hold a call", err)
	}
}

// window reads h as rateWindow does, failing the test when the headers
// hold no window but a test means them to (the empty header excepted).
func window(t *testing.T, h http.Header) connector.RateWindow {
	t.Helper()
	w, ok := rateWindow(h)
	if !ok && len(h) > 0 {
		t.Fatalf("rateWindow(%v) read no window", h)
	}
	return w
}

// FuzzRateLimitHeaders: the daily headers give a positive limit and a
// usage that is not negative; the per-window headers never stop the
// limiter they feed (a positive rate, at most the configured one, at
// least one request per hour).
func FuzzRateLimitHeaders(f *testing.F) {
	for _, s := range [][4]string{
		{"190", "188", "10000", "1000000,999000"},
		{"100", "0", "10000", "250000,0"},
		{"10", "2", "1000", "5,9"},
		{"1", "-5", "9223372036854775807", "-1,-1"},
		{"0", "1", "1", "x,1"},
		{"9223372036854775807", "9223372036854775807", "1", ","},
		{"1", "0", "3600000", "10,20"},
		{"", "", "", ""},
	} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	f.Fuzz(func(t *testing.T, hsMax, hsRemaining, hsInterval, daily string) {
		h := http.Header{}
		for k, v := range map[string]string{"X-HubSpot-RateLimit-Max": hsMax, "X-HubSpot-RateLimit-Remaining": hsRemaining,
			"X-HubSpot-RateLimit-Interval-Milliseconds": hsInterval} {
			if v != "" {
				h.Set(k, v)
			}
		}
		dLimit, dRemaining, _ := strings.Cut(daily, ",")
		if dLimit != "" {
			h.Set("X-HubSpot-RateLimit-Daily", dLimit)
		}
		if dRemaining != "" {
			h.Set("X-HubSpot-RateLimit-Daily-Remaining", dRemaining)
		}
		// Header values with characters net/http would never deliver are
		// still parsed: the parsers read strings, not the wire.

		used, limit, ok := dailyUsage(h)
		if ok && (limit <= 0 || used < 0) {
			t.Fatalf("daily usage %d/%d from %q", used, limit, h)
		}
		if !ok && (used != 0 || limit != 0) {
			t.Fatalf("daily usage not read but %d/%d", used, limit)
		}
		b, _ := connector.NewBudget(connector.BudgetConfig{RunShare: 1, TotalShare: 1})
		if ok {
			b.Observe(used, limit)
		}
		if got := b.Usage(); got.DailyLimit < 0 || got.DailyUsed < 0 {
			t.Fatalf("budget usage %+v from %q", got, h)
		}

		w, ok := rateWindow(h)
		if ok && (w.Interval <= 0) {
			t.Fatalf("window %+v from %q", w, h)
		}
		const base = 10.0
		l := connector.NewLimiter(base, 1)
		if ok {
			l.Observe(w)
		}
		r := l.Limit()
		if math.IsNaN(r) || r <= 0 || r > base || r < 1.0/3600 {
			t.Fatalf("limiter at %g requests/s after %q", r, h)
		}
		u := connector.NewLimiter(0, 1)
		if ok {
			u.Observe(w)
		}
		if r := u.Limit(); math.IsNaN(r) || r < 1.0/3600 {
			t.Fatalf("unlimited limiter at %g requests/s after %q", r, h)
		}
	})
}
