package salesforce

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"healthsync/connector"
)

// StackOptions make a connector.Stack speak the Salesforce REST API: its
// error bodies (decodeError), which answers are retried, refreshed or
// the daily limit (retryPolicy), and the org's daily usage each answer
// reports in Sforce-Limit-Info, which feeds the API budget (dailyUsage).
// Open builds its stack with them; so does a test that wants a bare stack
// against the emulated org.
func StackOptions() []connector.Option {
	return []connector.Option{
		connector.WithPolicy(retryPolicy),
		connector.WithDecoder(decodeError),
		connector.WithUsageHeaders(dailyUsage),
	}
}

// decodeError is the connector.ErrorDecoder of Salesforce's error bodies:
// the REST array [{"message","errorCode","fields"}], a single
// {"errorCode","message"} object, and OAuth's {"error","error_description"}.
func decodeError(status int, header http.Header, body []byte) *connector.APIError {
	if len(bytes.TrimSpace(body)) == 0 {
		return connector.EmptyBodyError(status)
	}
	type sfErr struct {
		Message   string   `json:"message"`
		ErrorCode string   `json:"errorCode"`
		Fields    []string `json:"fields"`
	}
	var arr []sfErr
	if err := json.Unmarshal(body, &arr); err == nil && len(arr) > 0 && arr[0].ErrorCode != "" {
		e := &connector.APIError{Status: status, Code: arr[0].ErrorCode}
		var msgs []string
		seen := map[string]bool{}
		for _, x := range arr {
			if x.Message != "" && !seen[x.Message] {
				seen[x.Message] = true
				msgs = append(msgs, x.Message)
			}
			for _, f := range x.Fields {
				if f != "" && !seen["field:"+f] {
					seen["field:"+f] = true
					e.Fields = append(e.Fields, f)
				}
			}
		}
		e.Message = connector.ErrorMessage(strings.Join(msgs, "; "))
		return e
	}
	var one sfErr
	if err := json.Unmarshal(body, &one); err == nil && one.ErrorCode != "" {
		e := &connector.APIError{Status: status, Code: one.ErrorCode, Message: connector.ErrorMessage(one.Message)}
		for _, f := range one.Fields {
			if f != "" && !slices.Contains(e.Fields, f) {
				e.Fields = append(e.Fields, f)
			}
		}
		return e
	}
	return connector.DecodeOAuth(status, header, body)
}

// retryPolicy is the connector.RetryPolicy of the Salesforce REST API:
// 401 INVALID_SESSION_ID refreshes; UNABLE_TO_LOCK_ROW and
// REQUEST_LIMIT_EXCEEDED for concurrent requests retry;
// REQUEST_LIMIT_EXCEEDED "TotalRequests Limit exceeded" is the daily
// limit; validation errors (MALFORMED_QUERY, INVALID_FIELD, ...) and 404
// fail.
func retryPolicy(status int, e *connector.APIError) connector.Decision {
	code, msg := "", ""
	if e != nil {
		code, msg = e.Code, strings.ToLower(e.Message)
	}
	switch {
	case status == 401:
		return connector.Reauthenticate
	case code == "REQUEST_LIMIT_EXCEEDED" && strings.Contains(msg, "totalrequests"):
		return connector.DailyLimit
	case code == "REQUEST_LIMIT_EXCEEDED" && strings.Contains(msg, "concurrent"):
		return connector.Retry
	case code == "UNABLE_TO_LOCK_ROW":
		return connector.Retry
	case status == 429 || status == 503:
		return connector.Retry
	case status >= 500:
		return connector.RetryIfIdempotent
	default:
		return connector.Fail
	}
}

// dailyUsage is the connector.UsageReader of Salesforce: the org's API
// usage and daily limit from "Sforce-Limit-Info: api-usage=18/15000",
// possibly followed by ",per-app-api-usage=17/250(appName=...)".
func dailyUsage(h http.Header) (used, limit int64, ok bool) {
	if v := h.Get("Sforce-Limit-Info"); v != "" {
		for _, part := range strings.Split(v, ",") {
			k, val, found := strings.Cut(strings.TrimSpace(part), "=")
			if !found || k != "api-usage" {
				continue
			}
			u, m, found := strings.Cut(val, "/")
			if !found {
				return 0, 0, false
			}
			ui, err1 := strconv.ParseInt(strings.TrimSpace(u), 10, 64)
			mi, err2 := strconv.ParseInt(strings.TrimSpace(m), 10, 64)
			if err1 != nil || err2 != nil || mi <= 0 || ui < 0 {
				return 0, 0, false
			}
			return ui, mi, true
		}
	}
	return 0, 0, false
}
