package connector

import (
	"context"
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
// error. Each connector supplies the one of its CRM (WithPolicy), which
// knows that CRM's retryable codes and how it says its daily limit is
// used up; DefaultPolicy is the fallback.
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
