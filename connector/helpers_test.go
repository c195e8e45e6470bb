package connector_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"healthsync/connector"
)

// testConfig retries quickly unless the server says Retry-After.
func testConfig() connector.HTTPConfig {
	return connector.HTTPConfig{
		Timeout:      10 * time.Second,
		MaxRetries:   3,
		RetryWaitMin: time.Millisecond,
		RetryWaitMax: 40 * time.Second,
		RateBurst:    10,
	}
}

// hit is one request as the test server saw it, with the server's clock.
type hit struct {
	at     time.Time
	method string
	path   string
	auth   string
	body   string
}

// recorder is an httptest server whose handler answers request n (from 0)
// with answer(n, r) and records every request.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	hits []hit
}

func newRecorder(t *testing.T, answer func(n int, w http.ResponseWriter, r *http.Request)) *recorder {
	t.Helper()
	rec := &recorder{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b bytes.Buffer
		b.ReadFrom(r.Body)
		rec.mu.Lock()
		n := len(rec.hits)
		rec.hits = append(rec.hits, hit{at: time.Now(), method: r.Method, path: r.URL.Path, auth: r.Header.Get("Authorization"), body: b.String()})
		rec.mu.Unlock()
		answer(n, w, r)
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.hits)
}

func (r *recorder) hit(i int) hit {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hits[i]
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write([]byte(body))
}

func newStack(t *testing.T, opts ...connector.Option) *connector.Stack {
	t.Helper()
	s, err := connector.NewStack(testConfig(), hclog.NewNullLogger(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func get(t *testing.T, ctx context.Context, s *connector.Stack, url string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s.Do(req)
}
