// Package stacktest holds what the tests of the HTTP stack share, in
// connector and in each CRM's connector: a recording test server, a stack
// that retries quickly, and the checks every decoded error must pass. It
// is for tests only.
package stacktest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/go-hclog"

	"healthsync/connector"
)

// Config retries quickly unless the server says Retry-After.
func Config() connector.HTTPConfig {
	return connector.HTTPConfig{
		Timeout:      10 * time.Second,
		MaxRetries:   3,
		RetryWaitMin: time.Millisecond,
		RetryWaitMax: 40 * time.Second,
		RateBurst:    10,
	}
}

// Hit is one request as the test server saw it, with the server's clock.
type Hit struct {
	At     time.Time
	Method string
	Path   string
	Auth   string
	Body   string
}

// Recorder is an httptest server whose handler answers request n (from 0)
// with answer(n, r) and records every request.
type Recorder struct {
	*httptest.Server
	mu   sync.Mutex
	hits []Hit
}

// NewRecorder starts a Recorder, closed when the test ends.
func NewRecorder(t testing.TB, answer func(n int, w http.ResponseWriter, r *http.Request)) *Recorder {
	t.Helper()
	rec := &Recorder{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b bytes.Buffer
		b.ReadFrom(r.Body)
		rec.mu.Lock()
		n := len(rec.hits)
		rec.hits = append(rec.hits, Hit{At: time.Now(), Method: r.Method, Path: r.URL.Path, Auth: r.Header.Get("Authorization"), Body: b.String()})
		rec.mu.Unlock()
		answer(n, w, r)
	}))
	t.Cleanup(rec.Close)
	return rec
}

// Count is the number of requests received.
func (r *Recorder) Count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.hits)
}

// Hit returns request i (from 0).
func (r *Recorder) Hit(i int) Hit {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hits[i]
}

// WriteJSON answers with status and a JSON body.
func WriteJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write([]byte(body))
}

// NewStack builds a stack with Config and opts.
func NewStack(t testing.TB, opts ...connector.Option) *connector.Stack {
	t.Helper()
	s, err := connector.NewStack(Config(), hclog.NewNullLogger(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Get sends a GET of url through s.
func Get(t testing.TB, ctx context.Context, s *connector.Stack, url string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s.Do(req)
}

// secretValue finds a credential-named member with a long value in a body:
// such a value must never reach an error message.
var secretValue = regexp.MustCompile(`"(?:access_token|refresh_token|client_secret)"\s*:\s*"([A-Za-z0-9!._~+/=-]{12,})"`)

// CheckAPIError asserts what every decoded error must be: typed, with the
// status it came with, a code, a message on one bounded, printable line
// when it is an excerpt, and deterministic. name names decode in messages.
func CheckAPIError(t testing.TB, name string, decode connector.ErrorDecoder, status int, h http.Header, body []byte) *connector.APIError {
	t.Helper()
	e := decode(status, h, body)
	if e == nil {
		t.Fatalf("%s(%d, %q) = nil", name, status, body)
	}
	if e.Status != status {
		t.Fatalf("%s: status %d, want %d", name, e.Status, status)
	}
	if strings.TrimSpace(e.Code) == "" {
		t.Fatalf("%s(%d, %q): empty code: %#v", name, status, body, e)
	}
	if strings.TrimSpace(e.Message) == "" {
		t.Fatalf("%s(%d, %q): empty message: %#v", name, status, body, e)
	}
	if n := utf8.RuneCountInString(e.Message); n > connector.MaxMessage+1 {
		t.Fatalf("%s: message of %d characters, at most %d allowed", name, n, connector.MaxMessage+1)
	}
	for _, f := range e.Fields {
		if f == "" {
			t.Fatalf("%s(%q): empty field name in %q", name, body, e.Fields)
		}
	}
	if !strings.Contains(e.Error(), e.Code) {
		t.Fatalf("%s: Error() %q does not name the code %q", name, e.Error(), e.Code)
	}
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) == 0:
		if e.Message != "empty response body" {
			t.Fatalf("%s: empty body gave %#v", name, e)
		}
	case !json.Valid(body):
		// Truncated JSON, HTML from a proxy, binary garbage.
		if e.Code != connector.CodeMalformedResponse {
			t.Fatalf("%s(%q): a body that is not JSON gave code %q, want %s", name, body, e.Code, connector.CodeMalformedResponse)
		}
	}
	if e.Code == connector.CodeMalformedResponse {
		if !utf8.ValidString(e.Message) {
			t.Fatalf("%s: excerpt is not UTF-8: %q", name, e.Message)
		}
		for _, r := range e.Message {
			if unicode.IsControl(r) {
				t.Fatalf("%s: excerpt holds control character %q: %q", name, r, e.Message)
			}
		}
		for _, m := range secretValue.FindAllSubmatch(body, -1) {
			if strings.Contains(e.Message, string(m[1])) {
				t.Fatalf("%s: excerpt leaks the credential %q: %s", name, m[1], e.Message)
			}
		}
	}
	if again := decode(status, h, body); !reflect.DeepEqual(again, e) {
		t.Fatalf("%s is not deterministic: %#v then %#v", name, e, again)
	}
	return e
}

// FuzzStatus maps any fuzzed number onto an HTTP error status.
func FuzzStatus(n uint16) int { return 400 + int(n)%200 }
