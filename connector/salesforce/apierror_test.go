package salesforce

import (
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"testing"

	"healthsync/connector"
	"healthsync/connector/internal/stacktest"
)

// The fuzz targets and tests of this file feed Salesforce's error decoder,
// retry policy and usage header parser what the org, a proxy or a broken
// network could send. Their seeds (here and in testdata/fuzz) are
// Salesforce's documented bodies, shaped like the restforce project's
// fixtures (MIT) and the emulator's answers, plus truncations of them;
// plain `go test` runs them as regression tests. Run one longer with
//
//	go test -run '^$' -fuzz '^FuzzDecodeError$' -fuzztime 60s ./connector/salesforce

// plainUsage is a Sforce-Limit-Info header of one well-formed api-usage.
var plainUsage = regexp.MustCompile(`^api-usage=(\d{1,15})/(\d{1,15})$`)

// FuzzDecodeError: decodeError (REST error arrays, single error
// objects, OAuth errors) and DecodeOAuth give a typed error with a code and
// a message for any body; the code of a well-formed REST error array is
// its first errorCode; retryPolicy refreshes on every 401, stops for
// the daily limit only on REQUEST_LIMIT_EXCEEDED and never retries a
// validation error or a malformed 4xx other than 429.
func FuzzDecodeError(f *testing.F) {
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
		status := stacktest.FuzzStatus(n)
		h := http.Header{}
		if ct != "" {
			h.Set("Content-Type", ct)
		}
		e := stacktest.CheckAPIError(t, "decodeError", decodeError, status, h, body)
		var arr []struct {
			Message   string   `json:"message"`
			ErrorCode string   `json:"errorCode"`
			Fields    []string `json:"fields"`
		}
		if json.Unmarshal(body, &arr) == nil && len(arr) > 0 && arr[0].ErrorCode != "" && e.Code != arr[0].ErrorCode {
			t.Fatalf("REST error array %q gave code %q, want %q", body, e.Code, arr[0].ErrorCode)
		}
		o := stacktest.CheckAPIError(t, "DecodeOAuth", connector.DecodeOAuth, status, h, body)
		var oa struct {
			Error            string `json:"error"`
			ErrorDescription string `json:"error_description"`
			Status           string `json:"status"`
			Message          string `json:"message"`
		}
		if json.Unmarshal(body, &oa) == nil && oa.Error != "" && o.Code == connector.CodeMalformedResponse {
			t.Fatalf("OAuth error %q was not read: %#v", body, o)
		}

		d := retryPolicy(status, e)
		switch {
		case status == 401 && d != connector.Reauthenticate:
			t.Fatalf("401 %#v: decision %v, want connector.Reauthenticate", e, d)
		case d == connector.DailyLimit && e.Code != "REQUEST_LIMIT_EXCEEDED":
			t.Fatalf("daily limit decided for %#v", e)
		case d == connector.Retry && status != 429 && status != 503 && e.Code != "UNABLE_TO_LOCK_ROW" && e.Code != "REQUEST_LIMIT_EXCEEDED":
			t.Fatalf("retry decided for %#v", e)
		case e.Code == connector.CodeMalformedResponse && status < 500 && status != 401 && status != 429 && d != connector.Fail:
			t.Fatalf("malformed %d answer: decision %v, want connector.Fail", status, d)
		}
	})
}

func TestDecodeError(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		decode connector.ErrorDecoder
		status int
		header http.Header
		body   string
		want   connector.APIError
	}{
		{"salesforce array", decodeError, 400, nil,
			`[{"message":"No such column 'Foo__c' on entity 'Account'","errorCode":"INVALID_FIELD","fields":["Foo__c"]},{"message":"second","errorCode":"INVALID_FIELD","fields":["Foo__c","Bar__c"]}]`,
			connector.APIError{Status: 400, Code: "INVALID_FIELD", Message: "No such column 'Foo__c' on entity 'Account'; second", Fields: []string{"Foo__c", "Bar__c"}}},
		{"salesforce single object", decodeError, 412, nil,
			`{"errorCode":"JOB_NOT_COMPLETE","message":"job not done"}`,
			connector.APIError{Status: 412, Code: "JOB_NOT_COMPLETE", Message: "job not done"}},
		{"salesforce oauth", decodeError, 400, nil,
			`{"error":"invalid_grant","error_description":"expired access/refresh token"}`,
			connector.APIError{Status: 400, Code: "invalid_grant", Message: "expired access/refresh token"}},
		{"empty 503", decodeError, 503, nil, ``,
			connector.APIError{Status: 503, Code: "SERVICE_UNAVAILABLE", Message: "empty response body"}},
		{"truncated json", decodeError, 500, nil, `[{"message":"x","errorCo`,
			connector.APIError{Status: 500, Code: connector.CodeMalformedResponse, Message: `unexpected response body (no content type, 24 bytes): [{"message":"x","errorCo`}},
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

func TestRetryPolicy(t *testing.T) {
	t.Parallel()
	cases := []struct {
		policy connector.RetryPolicy
		status int
		code   string
		msg    string
		want   connector.Decision
	}{
		{retryPolicy, 401, "INVALID_SESSION_ID", "", connector.Reauthenticate},
		{retryPolicy, 403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", connector.DailyLimit},
		{retryPolicy, 403, "REQUEST_LIMIT_EXCEEDED", "ConcurrentRequests (Concurrent API Requests) Limit exceeded.", connector.Retry},
		{retryPolicy, 500, "UNABLE_TO_LOCK_ROW", "", connector.Retry},
		{retryPolicy, 400, "UNABLE_TO_LOCK_ROW", "", connector.Retry},
		{retryPolicy, 503, "SERVER_UNAVAILABLE", "", connector.Retry},
		{retryPolicy, 500, "UNKNOWN_EXCEPTION", "", connector.RetryIfIdempotent},
		{retryPolicy, 400, "FIELD_CUSTOM_VALIDATION_EXCEPTION", "", connector.Fail},
		{retryPolicy, 404, "NOT_FOUND", "", connector.Fail},
	}
	for _, tc := range cases {
		if got := tc.policy(tc.status, &connector.APIError{Status: tc.status, Code: tc.code, Message: tc.msg}); got != tc.want {
			t.Errorf("%d %s %q: %v, want %v", tc.status, tc.code, tc.msg, got, tc.want)
		}
	}
}

// FuzzLimitInfo: dailyUsage reads from any Sforce-Limit-Info a positive
// limit and a usage that is not negative, exactly as written when the
// header is one well-formed api-usage; the budget it feeds keeps counts
// that are not negative.
func FuzzLimitInfo(f *testing.F) {
	for _, s := range []string{
		"api-usage=18/15000",
		"api-usage=15000/15000,per-app-api-usage=17/250(appName=healthsync)",
		"per-app-api-usage=1/2(appName=x), api-usage= 5 / 10 ",
		"api-usage=-1/10",
		"api-usage=1/0",
		"api-usage=",
		"api-usage=1/2/3",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sforce string) {
		h := http.Header{}
		if sforce != "" {
			h.Set("Sforce-Limit-Info", sforce)
		}
		used, limit, ok := dailyUsage(h)
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
		b, _ := connector.NewBudget(connector.BudgetConfig{RunShare: 1, TotalShare: 1})
		if ok {
			b.Observe(used, limit)
		}
		if got := b.Usage(); got.DailyLimit < 0 || got.DailyUsed < 0 {
			t.Fatalf("budget usage %+v from %q", got, h)
		}
	})
}
