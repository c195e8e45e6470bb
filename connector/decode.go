package connector

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"
)

// CodeMalformedResponse is the APIError code of a response whose body is
// not what the CRM documents (HTML from a proxy, truncated JSON, ...).
const CodeMalformedResponse = "MALFORMED_RESPONSE"

// MaxMessage bounds the length, in characters, of a decoded message
// (ErrorMessage cuts a longer one and marks the cut with "…").
const MaxMessage = 1000

// noMessage is the Message of an error whose body names a code but gives
// no text, so that every *APIError says something after its code.
const noMessage = "the response gave no message"

// ErrorDecoder turns a non-2xx response into an *APIError. It never returns
// nil: a body it cannot read gives CodeMalformedResponse. Each connector
// supplies the one of its CRM's error format (WithDecoder); DecodeOAuth
// reads OAuth token-endpoint errors and is the default.
type ErrorDecoder func(status int, header http.Header, body []byte) *APIError

// DecodeOAuth reads an OAuth 2.0 error body {"error","error_description"}
// (and HubSpot's {"status":"BAD_REFRESH_TOKEN","message","error"}).
func DecodeOAuth(status int, header http.Header, body []byte) *APIError {
	if len(bytes.TrimSpace(body)) == 0 {
		return EmptyBodyError(status)
	}
	if e := decodeOAuthBody(status, body); e != nil {
		return e
	}
	return MalformedError(status, header, body, nil)
}

func decodeOAuthBody(status int, body []byte) *APIError {
	var o struct {
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
		Status           string `json:"status"`
		Message          string `json:"message"`
	}
	if err := json.Unmarshal(body, &o); err != nil || (o.Error == "" && o.Status == "") {
		return nil
	}
	e := &APIError{Status: status, Code: o.Error, Message: o.ErrorDescription}
	if o.Status != "" && o.Status != "error" {
		e.Code = o.Status
	}
	if e.Code == "" {
		e.Code = StatusCode(status)
	}
	if e.Message == "" {
		e.Message = o.Message
	}
	e.Message = ErrorMessage(e.Message)
	return e
}

// MalformedError describes a body that is not what the CRM documents, with
// a short excerpt from which anything that looks like a credential is
// removed. cause, if not nil, is the decoding error.
func MalformedError(status int, header http.Header, body []byte, cause error) *APIError {
	ct := "no content type"
	if header != nil {
		if v := header.Get("Content-Type"); v != "" {
			if mt, _, err := mime.ParseMediaType(v); err == nil {
				ct = Excerpt([]byte(mt), 100)
			}
		}
	}
	msg := fmt.Sprintf("unexpected response body (%s, %d bytes)", ct, len(body))
	if cause != nil {
		msg += ": " + truncate(Redact(cause.Error()), 200)
	}
	if ex := Excerpt(body, 200); ex != "" {
		msg += ": " + ex
	}
	return &APIError{Status: status, Code: CodeMalformedResponse, Message: msg}
}

// Excerpt returns at most n characters of body on one line, with anything
// that looks like a credential redacted. Invalid UTF-8 and control
// characters (a terminal escape from a proxy's page) become spaces.
func Excerpt(body []byte, n int) string {
	s := strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(string(body), " "))
	s = strings.Join(strings.Fields(s), " ")
	return truncate(Redact(s), n)
}

// EmptyBodyError is the error of a non-2xx answer without a body: its code
// is made from the status.
func EmptyBodyError(status int) *APIError {
	return &APIError{Status: status, Code: StatusCode(status), Message: "empty response body"}
}

// StatusCode makes an error code from an HTTP status: 503 → SERVICE_UNAVAILABLE.
func StatusCode(status int) string {
	t := http.StatusText(status)
	if t == "" {
		return fmt.Sprintf("HTTP_%d", status)
	}
	return strings.ToUpper(strings.NewReplacer(" ", "_", "-", "_", "'", "").Replace(t))
}

// ErrorMessage is msg as the Message of a decoded error: cut to
// MaxMessage characters, and a text saying the CRM gave none when blank,
// so that every *APIError says something after its code.
func ErrorMessage(msg string) string { return orNoMessage(truncate(msg, MaxMessage)) }

// orNoMessage returns msg, or noMessage when msg is blank.
func orNoMessage(msg string) string {
	if strings.TrimSpace(msg) == "" {
		return noMessage
	}
	return msg
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
