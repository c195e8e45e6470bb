package connector

import (
	"errors"
	"fmt"
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
)

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
