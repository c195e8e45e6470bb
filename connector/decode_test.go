package connector_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"healthsync/connector"
)

func TestDecoders(t *testing.T) {
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
		{"salesforce array", connector.DecodeSalesforce, 400, nil,
			`[{"message":"No such column 'Foo__c' on entity 'Account'","errorCode":"INVALID_FIELD","fields":["Foo__c"]},{"message":"second","errorCode":"INVALID_FIELD","fields":["Foo__c","Bar__c"]}]`,
			connector.APIError{Status: 400, Code: "INVALID_FIELD", Message: "No such column 'Foo__c' on entity 'Account'; second", Fields: []string{"Foo__c", "Bar__c"}}},
		{"salesforce single object", connector.DecodeSalesforce, 412, nil,
			`{"errorCode":"JOB_NOT_COMPLETE","message":"job not done"}`,
			connector.APIError{Status: 412, Code: "JOB_NOT_COMPLETE", Message: "job not done"}},
		{"salesforce oauth", connector.DecodeSalesforce, 400, nil,
			`{"error":"invalid_grant","error_description":"expired access/refresh token"}`,
			connector.APIError{Status: 400, Code: "invalid_grant", Message: "expired access/refresh token"}},
		{"hubspot envelope", connector.DecodeHubSpot, 400, nil,
			`{"status":"error","message":"Property values were not valid","correlationId":"aeb5f871","category":"VALIDATION_ERROR","errors":[{"message":"abc was not a valid number","code":"INVALID_INTEGER","context":{"propertyName":["healthsync_score"]}}]}`,
			connector.APIError{Status: 400, Code: "VALIDATION_ERROR", Message: "Property values were not valid; INVALID_INTEGER: abc was not a valid number; correlationId aeb5f871", Fields: []string{"healthsync_score"}}},
		{"hubspot scopes", connector.DecodeHubSpot, 403, nil,
			`{"status":"error","message":"This app hasn't been granted all required scopes to make this call.","correlationId":"c1","category":"MISSING_SCOPES","errors":[{"message":"One or more of the following scopes are required.","context":{"requiredGranularScopes":["crm.objects.companies.write"]}}]}`,
			connector.APIError{Status: 403, Code: "MISSING_SCOPES", Message: "This app hasn't been granted all required scopes to make this call.; One or more of the following scopes are required. (requiredGranularScopes: crm.objects.companies.write); correlationId c1"}},
		{"hubspot 429", connector.DecodeHubSpot, 429, nil,
			`{"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT","correlationId":"c2","policyName":"TEN_SECONDLY_ROLLING"}`,
			connector.APIError{Status: 429, Code: "TEN_SECONDLY_ROLLING", Message: "You have reached your ten_secondly_rolling limit.; correlationId c2"}},
		{"hubspot bad refresh token", connector.DecodeHubSpot, 400, nil,
			`{"status":"BAD_REFRESH_TOKEN","message":"missing or unknown refresh token","error":"invalid_grant"}`,
			connector.APIError{Status: 400, Code: "BAD_REFRESH_TOKEN", Message: "missing or unknown refresh token"}},
		{"oauth", connector.DecodeOAuth, 400, nil,
			`{"error":"invalid_request","error_description":"invalid code verifier"}`,
			connector.APIError{Status: 400, Code: "invalid_request", Message: "invalid code verifier"}},
		{"empty 503", connector.DecodeSalesforce, 503, nil, ``,
			connector.APIError{Status: 503, Code: "SERVICE_UNAVAILABLE", Message: "empty response body"}},
		{"html", connector.DecodeHubSpot, 502, html, "<html>\n<body>502 Bad Gateway</body>\n</html>",
			connector.APIError{Status: 502, Code: connector.CodeMalformedResponse, Message: "unexpected response body (text/html, 43 bytes): <html> <body>502 Bad Gateway</body> </html>"}},
		{"truncated json", connector.DecodeSalesforce, 500, nil, `[{"message":"x","errorCo`,
			connector.APIError{Status: 500, Code: connector.CodeMalformedResponse, Message: `unexpected response body (no content type, 24 bytes): [{"message":"x","errorCo`}},
		{"json of another shape", connector.DecodeHubSpot, 500, nil, `{"foo":1}`,
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
	e := connector.DecodeHubSpot(500, nil, []byte(body))
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

func TestPolicies(t *testing.T) {
	t.Parallel()
	cases := []struct {
		policy connector.RetryPolicy
		status int
		code   string
		msg    string
		want   connector.Decision
	}{
		{connector.SalesforcePolicy, 401, "INVALID_SESSION_ID", "", connector.Reauthenticate},
		{connector.SalesforcePolicy, 403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", connector.DailyLimit},
		{connector.SalesforcePolicy, 403, "REQUEST_LIMIT_EXCEEDED", "ConcurrentRequests (Concurrent API Requests) Limit exceeded.", connector.Retry},
		{connector.SalesforcePolicy, 500, "UNABLE_TO_LOCK_ROW", "", connector.Retry},
		{connector.SalesforcePolicy, 400, "UNABLE_TO_LOCK_ROW", "", connector.Retry},
		{connector.SalesforcePolicy, 503, "SERVER_UNAVAILABLE", "", connector.Retry},
		{connector.SalesforcePolicy, 500, "UNKNOWN_EXCEPTION", "", connector.RetryIfIdempotent},
		{connector.SalesforcePolicy, 400, "FIELD_CUSTOM_VALIDATION_EXCEPTION", "", connector.Fail},
		{connector.SalesforcePolicy, 404, "NOT_FOUND", "", connector.Fail},
		{connector.HubSpotPolicy, 401, "EXPIRED_AUTHENTICATION", "", connector.Reauthenticate},
		{connector.HubSpotPolicy, 429, "DAILY", "", connector.DailyLimit},
		{connector.HubSpotPolicy, 429, "TEN_SECONDLY_ROLLING", "", connector.Retry},
		{connector.HubSpotPolicy, 429, "SECONDLY", "You have reached your secondly limit.", connector.Retry},
		{connector.HubSpotPolicy, 400, "VALIDATION_ERROR", "", connector.Fail},
		{connector.HubSpotPolicy, 403, "MISSING_SCOPES", "", connector.Fail},
		{connector.HubSpotPolicy, 502, "MALFORMED_RESPONSE", "", connector.RetryIfIdempotent},
		{connector.DefaultPolicy, 429, "", "", connector.Retry},
		{connector.DefaultPolicy, 409, "", "", connector.Fail},
	}
	for _, tc := range cases {
		if got := tc.policy(tc.status, &connector.APIError{Status: tc.status, Code: tc.code, Message: tc.msg}); got != tc.want {
			t.Errorf("%d %s %q: %v, want %v", tc.status, tc.code, tc.msg, got, tc.want)
		}
	}
}
