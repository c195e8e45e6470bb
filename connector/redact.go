package connector

import (
	"regexp"
	"strings"
)

var (
	// secretAssignment matches credential-named keys followed by a value:
	// access_token=..., "refresh_token":"...", Authorization: Bearer ...
	secretAssignment = regexp.MustCompile(`(?i)("?(?:access_token|refresh_token|id_token|client_secret|assertion|password|code_verifier|authorization|api_?key|token|secret)"?\s*[:=]\s*"?)(?:bearer\s+)?[^"&,\s}]+`)
	// bearerValue matches "Bearer <token>".
	bearerValue = regexp.MustCompile(`(?i)(bearer\s+)[A-Za-z0-9!._~+/=-]+`)
	// longOpaque matches long opaque strings such as tokens.
	longOpaque = regexp.MustCompile(`[A-Za-z0-9!._~+/=-]{32,}`)
)

// Redact removes from s anything that looks like a credential: values of
// credential-named keys, bearer tokens, and opaque strings of 32 or more
// token characters. It is applied to every excerpt of a response body that
// reaches an error or a log.
func Redact(s string) string {
	s = secretAssignment.ReplaceAllString(s, "${1}[redacted]")
	s = bearerValue.ReplaceAllString(s, "${1}[redacted]")
	return longOpaque.ReplaceAllString(s, "[redacted]")
}

// RedactSecrets replaces every occurrence of the given secrets in s (and
// then anything Redact removes). Empty secrets are ignored.
func RedactSecrets(s string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return Redact(s)
}
