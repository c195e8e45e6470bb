package connector

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
)

var (
	// ErrReauthorize means the stored authorization is gone (revoked or
	// expired refresh token): only a new interactive login helps.
	ErrReauthorize = errors.New("authorization revoked or expired")
	// ErrBudgetExhausted means the run stopped because it would use more of
	// the CRM's daily API limit than configured. It is a controlled stop:
	// what was done is committed.
	ErrBudgetExhausted = errors.New("API budget for this run exhausted")
	// ErrDailyLimit means the CRM refused calls because its daily API limit
	// is used up. It is a controlled stop; the next run resumes.
	ErrDailyLimit = errors.New("CRM daily API limit reached")
	// ErrTimeout means an attempt did not get its whole answer within
	// HEALTHSYNC_HTTP_TIMEOUT: no answer, or a body that stalled. It is a
	// failure of the request (retried like a lost connection), never a
	// stop: only the caller's own context ends a run as interrupted.
	ErrTimeout = errors.New("the CRM did not answer")
	// ErrPagingLoop means a paged answer points back at a page already
	// read in the same pull, or holds more rows than it announced: going
	// on would read the same records forever.
	ErrPagingLoop = errors.New("the pages would repeat forever")
)

// IsStop reports whether err (from a call made with ctx) ends the run
// rather than failing only the records of one call: ctx has ended, the
// stack stopped (the run's API budget, the CRM's daily limit, a lost
// authorization), the CRM did not answer in time (it would not answer the
// next call either), or the CRM refused the whole call as unauthorized
// even after the stack refreshed the token. Any other error is the
// failure of the call's records, and the run goes on with the next call.
func IsStop(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return true
	}
	switch {
	case err == nil:
		return false
	case errors.Is(err, ErrBudgetExhausted), errors.Is(err, ErrDailyLimit), errors.Is(err, ErrReauthorize),
		errors.Is(err, ErrTimeout), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return true
	}
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.Status == http.StatusUnauthorized
}

// UnreachableError is a request that found no server: the connection was
// refused, the host name is unknown, no route leads there. It names the
// URL that failed and, when the connector knows it, the setting to check.
type UnreachableError struct {
	URL   string // scheme://host[:port] that could not be reached
	Cause string // "connection refused", "no such host", ...
	// Hint says what to check, e.g. "check HEALTHSYNC_SALESFORCE_LOGIN_URL".
	Hint string
	Err  error
}

// Error implements error: "cannot reach https://login.example.com:
// connection refused; check HEALTHSYNC_SALESFORCE_LOGIN_URL".
func (e *UnreachableError) Error() string {
	msg := "cannot reach " + e.URL + ": " + e.Cause
	if e.Hint != "" {
		msg += "; " + e.Hint
	}
	return msg
}

// Unwrap returns the network error.
func (e *UnreachableError) Unwrap() error { return e.Err }

// Unreachable returns err as an *UnreachableError for the origin of u when
// it is a failure to connect (or already is one, whose empty Hint it
// fills); any other error comes back as it is. hint may be empty.
func Unreachable(u *url.URL, err error, hint string) error {
	if err == nil {
		return nil
	}
	var ue *UnreachableError
	if errors.As(err, &ue) {
		if ue.Hint == "" {
			ue.Hint = hint
		}
		return err
	}
	cause, ok := dialFailure(err)
	if !ok {
		return err
	}
	origin := ""
	if u != nil {
		origin = (&url.URL{Scheme: u.Scheme, Host: u.Host}).String()
	}
	return &UnreachableError{URL: origin, Cause: cause, Hint: hint, Err: err}
}

// dialFailure says why a connection could not be made, when err is such a
// failure.
func dialFailure(err error) (string, bool) {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		if dnsErr.IsNotFound {
			return "no such host " + dnsErr.Name, true
		}
		return "cannot resolve " + dnsErr.Name + ": " + dnsErr.Err, true
	}
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "dial" {
		return "", false
	}
	if errors.Is(err, context.Canceled) {
		return "", false
	}
	var sys *os.SyscallError
	if errors.As(op.Err, &sys) {
		return sys.Err.Error(), true
	}
	if op.Timeout() {
		return "connection timed out", true
	}
	return op.Err.Error(), true
}

// APIError is a non-2xx answer from a CRM API (or one failed record of a
// batched write), reduced to what healthsync acts on.
type APIError struct {
	Status  int      // HTTP status; 0 for a per-record error inside a 2xx batch answer
	Code    string   // the CRM's error code: INVALID_SESSION_ID, VALIDATION_ERROR, ...
	Message string   // the CRM's message
	Fields  []string // fields the error names, when the CRM says
}

// Error implements error.
func (e *APIError) Error() string {
	var b strings.Builder
	if e.Status != 0 {
		fmt.Fprintf(&b, "HTTP %d ", e.Status)
	}
	b.WriteString(e.Code)
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if len(e.Fields) > 0 {
		fmt.Fprintf(&b, " (fields: %s)", strings.Join(e.Fields, ", "))
	}
	return b.String()
}

// RedactSecrets removes the given secrets (and anything Redact removes)
// from every text of e: a careless endpoint may quote back in its code,
// message or fields a token it was sent.
func (e *APIError) RedactSecrets(secrets ...string) {
	e.Code = RedactSecrets(e.Code, secrets...)
	e.Message = RedactSecrets(e.Message, secrets...)
	for i, f := range e.Fields {
		e.Fields[i] = RedactSecrets(f, secrets...)
	}
}
