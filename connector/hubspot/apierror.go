package hubspot

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"healthsync/connector"
)

// StackOptions make a connector.Stack speak the HubSpot API: its error
// envelope (decodeError), which answers are retried, refreshed or the
// daily limit (retryPolicy), the portal's daily usage each answer reports
// (dailyUsage, for the API budget) and its rate-limit window (rateWindow,
// for the limiter). Open builds its stack with them (and a limiter for the
// search API); so does a test that wants a bare stack against the
// emulated portal.
func StackOptions() []connector.Option {
	return []connector.Option{
		connector.WithPolicy(retryPolicy),
		connector.WithDecoder(decodeError),
		connector.WithUsageHeaders(dailyUsage),
		connector.WithRateWindowHeaders(rateWindow),
	}
}

// decodeError is the connector.ErrorDecoder of HubSpot's error envelope
// {"status":"error","message","correlationId","category","errors":[{"message","code","context"}]}
// and its 429 body, whose policyName (TEN_SECONDLY_ROLLING, SECONDLY,
// DAILY) becomes the Code. Property names in the errors' context become
// Fields; other context (e.g. the required scopes) is added to the message.
func decodeError(status int, header http.Header, body []byte) *connector.APIError {
	if len(bytes.TrimSpace(body)) == 0 {
		return connector.EmptyBodyError(status)
	}
	var env struct {
		Status        string `json:"status"`
		Message       string `json:"message"`
		CorrelationID string `json:"correlationId"`
		Category      string `json:"category"`
		SubCategory   string `json:"subCategory"`
		ErrorType     string `json:"errorType"`
		PolicyName    string `json:"policyName"`
		Error         string `json:"error"`
		Errors        []struct {
			Message string                     `json:"message"`
			Code    string                     `json:"code"`
			Context map[string]json.RawMessage `json:"context"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(body, &env); err != nil || (env.Message == "" && env.Category == "" && env.PolicyName == "" && env.Error == "") {
		return connector.MalformedError(status, header, body, nil)
	}
	e := &connector.APIError{Status: status}
	switch {
	case env.PolicyName != "":
		e.Code = env.PolicyName
	case env.Category != "":
		e.Code = env.Category
	case env.ErrorType != "":
		e.Code = env.ErrorType
	case env.Status != "" && env.Status != "error":
		e.Code = env.Status // e.g. BAD_REFRESH_TOKEN from the token endpoint
	case env.Error != "":
		e.Code = env.Error
	default:
		e.Code = connector.StatusCode(status)
	}
	parts := []string{env.Message}
	seen := map[string]bool{env.Message: true}
	for _, sub := range env.Errors {
		var ctx []string
		keys := make([]string, 0, len(sub.Context))
		for k := range sub.Context {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			vals := contextValues(sub.Context[k])
			if k == "propertyName" || k == "properties" || k == "propertyNames" {
				for _, v := range vals {
					if v != "" && !seen["field:"+v] {
						seen["field:"+v] = true
						e.Fields = append(e.Fields, v)
					}
				}
				continue
			}
			if len(vals) > 0 {
				ctx = append(ctx, k+": "+strings.Join(vals, ", "))
			}
		}
		m := sub.Message
		if sub.Code != "" && m != "" {
			m = sub.Code + ": " + m
		}
		if len(ctx) > 0 {
			m = strings.TrimSpace(m + " (" + strings.Join(ctx, "; ") + ")")
		}
		if m != "" && !seen[m] {
			seen[m] = true
			parts = append(parts, m)
		}
	}
	if env.CorrelationID != "" {
		parts = append(parts, "correlationId "+env.CorrelationID)
	}
	e.Message = connector.ErrorMessage(strings.Join(nonEmpty(parts), "; "))
	return e
}

// retryPolicy is the connector.RetryPolicy of the HubSpot API: 401
// EXPIRED_AUTHENTICATION refreshes; 429 with policyName DAILY is the daily
// limit; other 429s (TEN_SECONDLY_ROLLING, the search's secondly limit)
// retry; 423 (a locked record) and 503 retry; 400 VALIDATION_ERROR,
// 403 MISSING_SCOPES and 404 fail.
func retryPolicy(status int, e *connector.APIError) connector.Decision {
	code := ""
	if e != nil {
		code = e.Code
	}
	switch {
	case status == 401:
		return connector.Reauthenticate
	case status == 429 && code == "DAILY":
		return connector.DailyLimit
	case status == 429 || status == 423 || status == 503:
		return connector.Retry
	case status >= 500:
		return connector.RetryIfIdempotent
	default:
		return connector.Fail
	}
}

// dailyUsage is the connector.UsageReader of HubSpot: the portal's daily
// limit in X-HubSpot-RateLimit-Daily and what is left of it in
// X-HubSpot-RateLimit-Daily-Remaining.
func dailyUsage(h http.Header) (used, limit int64, ok bool) {
	if d, r := h.Get("X-HubSpot-RateLimit-Daily"), h.Get("X-HubSpot-RateLimit-Daily-Remaining"); d != "" && r != "" {
		di, err1 := strconv.ParseInt(strings.TrimSpace(d), 10, 64)
		ri, err2 := strconv.ParseInt(strings.TrimSpace(r), 10, 64)
		if err1 != nil || err2 != nil || di <= 0 || ri < 0 {
			return 0, 0, false
		}
		return max(di-ri, 0), di, true
	}
	return 0, 0, false
}

// rateWindow is the connector.WindowReader of HubSpot: the
// X-HubSpot-RateLimit-Max requests per -Interval-Milliseconds, of which
// -Remaining are left. An answer without all three (or with an interval
// that is not a positive duration) reports none.
func rateWindow(h http.Header) (connector.RateWindow, bool) {
	maxN, ok1 := headerInt(h, "X-HubSpot-RateLimit-Max")
	remaining, ok2 := headerInt(h, "X-HubSpot-RateLimit-Remaining")
	intervalMs, ok3 := headerInt(h, "X-HubSpot-RateLimit-Interval-Milliseconds")
	if !ok1 || !ok2 || !ok3 || intervalMs <= 0 || intervalMs > math.MaxInt64/int64(time.Millisecond) {
		return connector.RateWindow{}, false
	}
	return connector.RateWindow{Max: maxN, Remaining: remaining, Interval: time.Duration(intervalMs) * time.Millisecond}, true
}

func headerInt(h http.Header, name string) (int64, bool) {
	v := strings.TrimSpace(h.Get(name))
	if v == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}

// contextValues returns the values of one member of an error's context
// (a list or a single value) as text: strings as they are, other values as
// JSON; nulls and empty strings are left out.
func contextValues(raw json.RawMessage) []string {
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		list = []json.RawMessage{raw}
	}
	out := make([]string, 0, len(list))
	for _, v := range list {
		var s string
		if json.Unmarshal(v, &s) != nil {
			var buf bytes.Buffer
			if json.Compact(&buf, v) != nil || buf.String() == "null" {
				continue
			}
			s = buf.String()
		}
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func nonEmpty(ss []string) []string {
	out := ss[:0]
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
