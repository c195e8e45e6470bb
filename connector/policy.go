package connector

import (
	"context"
	"strings"
)

// Decision is what the HTTP stack does with a failed response.
type Decision int

const (
	// Fail returns the response to the caller, which turns it into an
	// *APIError: validation errors, 403, 404, ...
	Fail Decision = iota
	// Retry retries with backoff: the CRM did not act on the request
	// (429, 503, a locked row, a concurrency limit), so it is safe for
	// every request.
	Retry
	// RetryIfIdempotent retries only requests not marked NonIdempotent:
	// the CRM may have acted (500, 502, 504, a lost connection).
	RetryIfIdempotent
	// Reauthenticate refreshes the token once and retries once (401).
	Reauthenticate
	// DailyLimit stops: the CRM's daily API limit is used up. The stack
	// returns an error wrapping ErrDailyLimit and the *APIError.
	DailyLimit
)

// RetryPolicy classifies a non-2xx response from its status and its decoded
// error. Each connector supplies its own; DefaultPolicy is the fallback.
type RetryPolicy func(status int, e *APIError) Decision

// DefaultPolicy refreshes on 401, retries 429 and 503 always and other 5xx
// for idempotent requests, and fails everything else.
func DefaultPolicy(status int, _ *APIError) Decision {
	switch {
	case status == 401:
		return Reauthenticate
	case status == 429 || status == 503:
		return Retry
	case status >= 500:
		return RetryIfIdempotent
	default:
		return Fail
	}
}

// SalesforcePolicy is the RetryPolicy of the Salesforce REST API:
// 401 INVALID_SESSION_ID refreshes; UNABLE_TO_LOCK_ROW and
// REQUEST_LIMIT_EXCEEDED for concurrent requests retry;
// REQUEST_LIMIT_EXCEEDED "TotalRequests Limit exceeded" is the daily
// limit; validation errors (MALFORMED_QUERY, INVALID_FIELD, ...) and 404
// fail.
func SalesforcePolicy(status int, e *APIError) Decision {
	code, msg := "", ""
	if e != nil {
		code, msg = e.Code, strings.ToLower(e.Message)
	}
	switch {
	case status == 401:
		return Reauthenticate
	case code == "REQUEST_LIMIT_EXCEEDED" && strings.Contains(msg, "totalrequests"):
		return DailyLimit
	case code == "REQUEST_LIMIT_EXCEEDED" && strings.Contains(msg, "concurrent"):
		return Retry
	case code == "UNABLE_TO_LOCK_ROW":
		return Retry
	case status == 429 || status == 503:
		return Retry
	case status >= 500:
		return RetryIfIdempotent
	default:
		return Fail
	}
}

// HubSpotPolicy is the RetryPolicy of the HubSpot API: 401
// EXPIRED_AUTHENTICATION refreshes; 429 with policyName DAILY is the daily
// limit; other 429s (TEN_SECONDLY_ROLLING, the search's secondly limit)
// retry; 423 (a locked record) and 503 retry; 400 VALIDATION_ERROR,
// 403 MISSING_SCOPES and 404 fail.
func HubSpotPolicy(status int, e *APIError) Decision {
	code := ""
	if e != nil {
		code = e.Code
	}
	switch {
	case status == 401:
		return Reauthenticate
	case status == 429 && code == "DAILY":
		return DailyLimit
	case status == 429 || status == 423 || status == 503:
		return Retry
	case status >= 500:
		return RetryIfIdempotent
	default:
		return Fail
	}
}

type nonIdempotentKey struct{}

// NonIdempotent marks the requests sent with ctx as not safe to repeat
// (record creation): they are retried only when the CRM certainly did not
// act (Retry decisions and failures to connect), never after a timeout or a
// 500.
func NonIdempotent(ctx context.Context) context.Context {
	return context.WithValue(ctx, nonIdempotentKey{}, true)
}

func isNonIdempotent(ctx context.Context) bool {
	v, _ := ctx.Value(nonIdempotentKey{}).(bool)
	return v
}
