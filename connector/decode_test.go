package connector_test

import (
	"net/http"
	"reflect"
	"testing"

	"healthsync/connector"
)

func TestDecoders(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		decode connector.ErrorDecoder
		status int
		header http.Header
		body   string
		want   connector.APIError
	}{
		{"oauth", connector.DecodeOAuth, 400, nil,
			`{"error":"invalid_request","error_description":"invalid code verifier"}`,
			connector.APIError{Status: 400, Code: "invalid_request", Message: "invalid code verifier"}},
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

func TestPolicies(t *testing.T) {
	t.Parallel()
	cases := []struct {
		policy connector.RetryPolicy
		status int
		code   string
		msg    string
		want   connector.Decision
	}{
		{connector.DefaultPolicy, 429, "", "", connector.Retry},
		{connector.DefaultPolicy, 409, "", "", connector.Fail},
	}
	for _, tc := range cases {
		if got := tc.policy(tc.status, &connector.APIError{Status: tc.status, Code: tc.code, Message: tc.msg}); got != tc.want {
			t.Errorf("%d %s %q: %v, want %v", tc.status, tc.code, tc.msg, got, tc.want)
		}
	}
}
