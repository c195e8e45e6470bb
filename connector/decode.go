package connector

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// CodeMalformedResponse is the APIError code of a response whose body is
// not what the CRM documents (HTML from a proxy, truncated JSON, ...).
const CodeMalformedResponse = "MALFORMED_RESPONSE"

// maxMessage bounds the length of a decoded message.
const maxMessage = 1000

// noMessage is the Message of an error whose body names a code but gives
// no text, so that every *APIError says something after its code.
const noMessage = "the response gave no message"

// ErrorDecoder turns a non-2xx response into an *APIError. It never returns
// nil: a body it cannot read gives CodeMalformedResponse. Each connector
// supplies its own (DecodeSalesforce, DecodeHubSpot); DecodeOAuth reads
// OAuth token-endpoint errors.
type ErrorDecoder func(status int, header http.Header, body []byte) *APIError

// DecodeSalesforce reads Salesforce's error bodies: the REST array
// [{"message","errorCode","fields"}], a single {"errorCode","message"}
// object, and OAuth's {"error","error_description"}.
func DecodeSalesforce(status int, header http.Header, body []byte) *APIError {
	if len(bytes.TrimSpace(body)) == 0 {
		return emptyBody(status)
	}
	type sfErr struct {
		Message   string   `json:"message"`
		ErrorCode string   `json:"errorCode"`
		Fields    []string `json:"fields"`
	}
	var arr []sfErr
	if err := json.Unmarshal(body, &arr); err == nil && len(arr) > 0 && arr[0].ErrorCode != "" {
		e := &APIError{Status: status, Code: arr[0].ErrorCode}
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
		e.Message = orNoMessage(truncate(strings.Join(msgs, "; "), maxMessage))
		return e
	}
	var one sfErr
	if err := json.Unmarshal(body, &one); err == nil && one.ErrorCode != "" {
		e := &APIError{Status: status, Code: one.ErrorCode, Message: orNoMessage(truncate(one.Message, maxMessage))}
		for _, f := range one.Fields {
			if f != "" && !slices.Contains(e.Fields, f) {
				e.Fields = append(e.Fields, f)
			}
		}
		return e
	}
	if e := decodeOAuthBody(status, body); e != nil {
		return e
	}
	return MalformedError(status, header, body, nil)
}

// DecodeHubSpot reads HubSpot's error envelope
// {"status":"error","message","correlationId","category","errors":[{"message","code","context"}]}
// and its 429 body, whose policyName (TEN_SECONDLY_ROLLING, SECONDLY,
// DAILY) becomes the Code. Property names in the errors' context become
// Fields; other context (e.g. the required scopes) is added to the message.
func DecodeHubSpot(status int, header http.Header, body []byte) *APIError {
	if len(bytes.TrimSpace(body)) == 0 {
		return emptyBody(status)
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
		return MalformedError(status, header, body, nil)
	}
	e := &APIError{Status: status}
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
		e.Code = statusCode(status)
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
	e.Message = orNoMessage(truncate(strings.Join(nonEmpty(parts), "; "), maxMessage))
	return e
}

// DecodeOAuth reads an OAuth 2.0 error body {"error","error_description"}
// (and HubSpot's {"status":"BAD_REFRESH_TOKEN","message","error"}).
func DecodeOAuth(status int, header http.Header, body []byte) *APIError {
	if len(bytes.TrimSpace(body)) == 0 {
		return emptyBody(status)
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
		e.Code = statusCode(status)
	}
	if e.Message == "" {
		e.Message = o.Message
	}
	e.Message = orNoMessage(truncate(e.Message, maxMessage))
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

func emptyBody(status int) *APIError {
	return &APIError{Status: status, Code: statusCode(status), Message: "empty response body"}
}

// statusCode makes an error code from an HTTP status: 503 → SERVICE_UNAVAILABLE.
func statusCode(status int) string {
	t := http.StatusText(status)
	if t == "" {
		return fmt.Sprintf("HTTP_%d", status)
	}
	return strings.ToUpper(strings.NewReplacer(" ", "_", "-", "_", "'", "").Replace(t))
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

// orNoMessage returns msg, or noMessage when msg is blank.
func orNoMessage(msg string) string {
	if strings.TrimSpace(msg) == "" {
		return noMessage
	}
	return msg
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
