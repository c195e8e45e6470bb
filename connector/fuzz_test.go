package connector

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// The fuzz targets of this file feed the error decoders and the header
// parsers of the HTTP stack what a CRM, a proxy or a broken network could
// send. Their seeds (here and in testdata/fuzz) are Salesforce's and
// HubSpot's documented bodies, shaped like the restforce project's
// fixtures (MIT) and the emulators' answers, plus truncations of them;
// plain `go test` runs them as regression tests. Run one longer with
//
//	go test -run '^$' -fuzz '^FuzzDecodeSalesforce$' -fuzztime 60s ./connector

// secretValue finds a credential-named member with a long value in a body:
// such a value must never reach an error message.
var secretValue = regexp.MustCompile(`"(?:access_token|refresh_token|client_secret)"\s*:\s*"([A-Za-z0-9!._~+/=-]{12,})"`)

// checkAPIError asserts what every decoded error must be: typed, with the
// status it came with, a code, a message on one bounded, printable line
// when it is an excerpt, and deterministic.
func checkAPIError(t *testing.T, name string, decode ErrorDecoder, status int, h http.Header, body []byte) *APIError {
	t.Helper()
	e := decode(status, h, body)
	if e == nil {
		t.Fatalf("%s(%d, %q) = nil", name, status, body)
	}
	if e.Status != status {
		t.Fatalf("%s: status %d, want %d", name, e.Status, status)
	}
	if strings.TrimSpace(e.Code) == "" {
		t.Fatalf("%s(%d, %q): empty code: %#v", name, status, body, e)
	}
	if strings.TrimSpace(e.Message) == "" {
		t.Fatalf("%s(%d, %q): empty message: %#v", name, status, body, e)
	}
	if n := utf8.RuneCountInString(e.Message); n > maxMessage+1 {
		t.Fatalf("%s: message of %d characters, at most %d allowed", name, n, maxMessage+1)
	}
	for _, f := range e.Fields {
		if f == "" {
			t.Fatalf("%s(%q): empty field name in %q", name, body, e.Fields)
		}
	}
	if !strings.Contains(e.Error(), e.Code) {
		t.Fatalf("%s: Error() %q does not name the code %q", name, e.Error(), e.Code)
	}
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) == 0:
		if e.Message != "empty response body" {
			t.Fatalf("%s: empty body gave %#v", name, e)
		}
	case !json.Valid(body):
		// Truncated JSON, HTML from a proxy, binary garbage.
		if e.Code != CodeMalformedResponse {
			t.Fatalf("%s(%q): a body that is not JSON gave code %q, want %s", name, body, e.Code, CodeMalformedResponse)
		}
	}
	if e.Code == CodeMalformedResponse {
		if !utf8.ValidString(e.Message) {
			t.Fatalf("%s: excerpt is not UTF-8: %q", name, e.Message)
		}
		for _, r := range e.Message {
			if unicode.IsControl(r) {
				t.Fatalf("%s: excerpt holds control character %q: %q", name, r, e.Message)
			}
		}
		for _, m := range secretValue.FindAllSubmatch(body, -1) {
			if strings.Contains(e.Message, string(m[1])) {
				t.Fatalf("%s: excerpt leaks the credential %q: %s", name, m[1], e.Message)
			}
		}
	}
	if again := decode(status, h, body); !reflect.DeepEqual(again, e) {
		t.Fatalf("%s is not deterministic: %#v then %#v", name, e, again)
	}
	return e
}

// plainUsage is a Sforce-Limit-Info header of one well-formed api-usage.
var plainUsage = regexp.MustCompile(`^api-usage=(\d{1,15})/(\d{1,15})$`)

// fuzzStatus maps any fuzzed number onto an HTTP error status.
func fuzzStatus(n uint16) int { return 400 + int(n)%200 }

// FuzzDecodeSalesforce: DecodeSalesforce (REST error arrays, single error
// objects, OAuth errors) and DecodeOAuth give a typed error with a code and
// a message for any body; the code of a well-formed REST error array is
// its first errorCode; SalesforcePolicy refreshes on every 401, stops for
// the daily limit only on REQUEST_LIMIT_EXCEEDED and never retries a
// validation error or a malformed 4xx other than 429.
func FuzzDecodeSalesforce(f *testing.F) {
	for _, s := range []struct {
		status uint16
		ct     string
		body   string
	}{
		{1, "application/json", `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`},
		{0, "application/json;charset=UTF-8", `[{"message":"No such column 'foo' on sobject of type Bar","errorCode":"INVALID_FIELD","fields":["foo"]}]`},
		{3, "application/json", `[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`},
		{3, "application/json", `[{"message":"ConcurrentRequests (Concurrent API Requests) Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`},
		{100, "application/json", `[{"message":"unable to obtain exclusive access to this record","errorCode":"UNABLE_TO_LOCK_ROW","fields":[]}]`},
		{4, "application/json", `[{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}]`},
		{12, "application/json", `{"errorCode":"JOB_NOT_COMPLETE","message":"job not done"}`},
		{0, "application/json", `{"error":"invalid_grant","error_description":"authentication failure - Invalid Password"}`},
		{0, "application/json", `{"error":"invalid_grant","error_description":"expired access/refresh token"}`},
		{103, "text/html", "<html>\n<body>503 Service Unavailable</body>\n</html>"},
		{103, "", ``},
		{0, "", `[{"message":"x","errorCo`},
		{0, "application/json", `[{"errorCode":"MALFORMED_QUERY"}]`},
		{0, "application/json", `[{"errorCode":"INVALID_FIELD","message":"","fields":["","A__c","A__c"]}]`},
		{100, "application/json", `{"access_token":"00Dx0000000BV7z!AR8AQAxo9UfVkh8AlV0Gomt9Czx9LjHnSSpwBMmbRcgKFmx","oops":`},
		{0, "text/html; charset=\"utf-8\"", "\x1b[31mred\x1b[0m \xff\xfe"},
		{0, "application/json", `null`},
		{0, "application/json", `[]`},
		{0, "application/json", `[null]`},
	} {
		f.Add(s.status, s.ct, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, n uint16, ct string, body []byte) {
		status := fuzzStatus(n)
		h := http.Header{}
		if ct != "" {
			h.Set("Content-Type", ct)
		}
		e := checkAPIError(t, "DecodeSalesforce", DecodeSalesforce, status, h, body)
		var arr []struct {
			Message   string   `json:"message"`
			ErrorCode string   `json:"errorCode"`
			Fields    []string `json:"fields"`
		}
		if json.Unmarshal(body, &arr) == nil && len(arr) > 0 && arr[0].ErrorCode != "" && e.Code != arr[0].ErrorCode {
			t.Fatalf("REST error array %q gave code %q, want %q", body, e.Code, arr[0].ErrorCode)
		}
		o := checkAPIError(t, "DecodeOAuth", DecodeOAuth, status, h, body)
		var oa struct {
			Error            string `json:"error"`
			ErrorDescription string `json:"error_description"`
			Status           string `json:"status"`
			Message          string `json:"message"`
		}
		if json.Unmarshal(body, &oa) == nil && oa.Error != "" && o.Code == CodeMalformedResponse {
			t.Fatalf("OAuth error %q was not read: %#v", body, o)
		}

		d := SalesforcePolicy(status, e)
		switch {
		case status == 401 && d != Reauthenticate:
			t.Fatalf("401 %#v: decision %v, want Reauthenticate", e, d)
		case d == DailyLimit && e.Code != "REQUEST_LIMIT_EXCEEDED":
			t.Fatalf("daily limit decided for %#v", e)
		case d == Retry && status != 429 && status != 503 && e.Code != "UNABLE_TO_LOCK_ROW" && e.Code != "REQUEST_LIMIT_EXCEEDED":
			t.Fatalf("retry decided for %#v", e)
		case e.Code == CodeMalformedResponse && status < 500 && status != 401 && status != 429 && d != Fail:
			t.Fatalf("malformed %d answer: decision %v, want Fail", status, d)
		}
	})
}

// FuzzDecodeHubSpot: DecodeHubSpot gives a typed error with a code and a
// message for any body; the code of an envelope is its policyName, else
// its category; property names in the errors' context become Fields
// (never empty ones); HubSpotPolicy stops for the daily limit only on a
// 429 whose policyName is DAILY, and retries every other 429.
func FuzzDecodeHubSpot(f *testing.F) {
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
		status := fuzzStatus(n)
		e := checkAPIError(t, "DecodeHubSpot", DecodeHubSpot, status, http.Header{"Content-Type": {"application/json"}}, body)
		var env struct {
			PolicyName string `json:"policyName"`
			Category   string `json:"category"`
		}
		if json.Unmarshal(body, &env) == nil && e.Code != CodeMalformedResponse {
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
		d := HubSpotPolicy(status, e)
		switch {
		case status == 401 && d != Reauthenticate:
			t.Fatalf("401: decision %v", d)
		case d == DailyLimit && (status != 429 || e.Code != "DAILY"):
			t.Fatalf("daily limit decided for %d %#v", status, e)
		case status == 429 && e.Code != "DAILY" && d != Retry:
			t.Fatalf("429 %#v: decision %v, want Retry", e, d)
		}
	})
}

// FuzzRateHeaders feeds the header parsers of the stack: Retry-After (in
// seconds or as an HTTP date) is a wait in [0, 24h] and the backoff
// honours it exactly; Sforce-Limit-Info and HubSpot's daily headers give a
// positive limit and a usage that is not negative, exactly as written when
// they are well-formed numbers; HubSpot's per-window headers never stop
// the limiter (a positive rate, at most the configured one, at least one
// request per hour).
func FuzzRateHeaders(f *testing.F) {
	for _, s := range [][6]string{
		{"120", "api-usage=18/15000", "190", "188", "10000", "1000000,999000"},
		{"0", "api-usage=15000/15000,per-app-api-usage=17/250(appName=healthsync)", "100", "0", "10000", "250000,0"},
		{"Wed, 21 Oct 2015 07:28:00 GMT", "per-app-api-usage=1/2(appName=x), api-usage= 5 / 10 ", "10", "2", "1000", "5,9"},
		{"Fri, 31 Dec 9999 23:59:59 GMT", "api-usage=-1/10", "1", "-5", "9223372036854775807", "-1,-1"},
		{"-1", "api-usage=1/0", "0", "1", "1", "x,1"},
		{"99999999999999999999", "api-usage=", "9223372036854775807", "9223372036854775807", "1", ","},
		{" 7 ", "api-usage=1/2/3", "1", "0", "3600000", "10,20"},
		{"", "", "", "", "", ""},
	} {
		f.Add(s[0], s[1], s[2], s[3], s[4], s[5])
	}
	now := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, ra, sforce, hsMax, hsRemaining, hsInterval, daily string) {
		h := http.Header{}
		for k, v := range map[string]string{"Retry-After": ra, "Sforce-Limit-Info": sforce,
			"X-HubSpot-RateLimit-Max": hsMax, "X-HubSpot-RateLimit-Remaining": hsRemaining,
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

		d, ok := retryAfter(h, now)
		if !ok && d != 0 {
			t.Fatalf("Retry-After %q: not read but a wait of %v", ra, d)
		}
		if ok && (d < 0 || d > maxRetryAfter) {
			t.Fatalf("Retry-After %q: wait %v outside [0, %v]", ra, d, maxRetryAfter)
		}
		if s, err := strconv.ParseInt(strings.TrimSpace(h.Get("Retry-After")), 10, 64); err == nil && s >= 0 {
			want := time.Duration(min(s, int64(maxRetryAfter/time.Second))) * time.Second
			if !ok || d != want {
				t.Fatalf("Retry-After %q: %v, %v, want %v", ra, d, ok, want)
			}
		}
		if ok && !strings.HasPrefix(strings.TrimSpace(h.Get("Retry-After")), "-") {
			resp := &http.Response{Header: h}
			got := backoff(time.Millisecond, time.Second, 3, resp)
			if want, _ := retryAfter(h, time.Now()); got < want || got-want > time.Minute {
				t.Fatalf("backoff with Retry-After %q: %v, want about %v", ra, got, want)
			}
		}
		if b := backoff(time.Millisecond, time.Second, int(len(ra)%70), nil); b < 0 || b > time.Second {
			t.Fatalf("backoff without Retry-After: %v outside [0, 1s]", b)
		}

		used, limit, ok := parseDailyUsage(h)
		if ok && (limit <= 0 || used < 0) {
			t.Fatalf("daily usage %d/%d from %q", used, limit, h)
		}
		if !ok && (used != 0 || limit != 0) {
			t.Fatalf("daily usage not read but %d/%d", used, limit)
		}
		if m := plainUsage.FindStringSubmatch(h.Get("Sforce-Limit-Info")); m != nil {
			u, _ := strconv.ParseInt(m[1], 10, 64)
			l, _ := strconv.ParseInt(m[2], 10, 64)
			if l > 0 && (!ok || used != u || limit != l) {
				t.Fatalf("Sforce-Limit-Info %q read as %d/%d (%v)", m[0], used, limit, ok)
			}
		}

		const base = 10.0
		l := NewLimiter(base, 1)
		l.Observe(h)
		r := l.Limit()
		if math.IsNaN(r) || r <= 0 || r > base || r < 1.0/3600 {
			t.Fatalf("limiter at %g requests/s after %q", r, h)
		}
		u := NewLimiter(0, 1)
		u.Observe(h)
		if r := u.Limit(); math.IsNaN(r) || r < 1.0/3600 {
			t.Fatalf("unlimited limiter at %g requests/s after %q", r, h)
		}
		b, _ := NewBudget(BudgetConfig{RunShare: 1, TotalShare: 1})
		b.Observe(h)
		if got := b.Usage(); got.DailyLimit < 0 || got.DailyUsed < 0 {
			t.Fatalf("budget usage %+v from %q", got, h)
		}
	})
}
