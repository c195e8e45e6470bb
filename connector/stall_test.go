package connector_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"healthsync/connector"
)

// trickle answers 200 with a JSON body sent one byte at a time, every
// apart, until the client gives up on it.
func trickle(every time.Duration) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush() // the headers arrive at once
		for _, b := range []byte(`{"records":[{"Id":"001"}],"done":true}`) {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(every):
			}
			w.Write([]byte{b})
			w.(http.Flusher).Flush()
		}
	}
}

func stallConfig() connector.HTTPConfig {
	cfg := testConfig()
	cfg.Timeout, cfg.MaxRetries = 150*time.Millisecond, 2
	return cfg
}

// A body that stalls after its headers is a failed attempt, retried like
// one: the attempt's timeout covers the whole body, and the answer of the
// retry is the one the caller reads.
func TestStalledBodyIsRetried(t *testing.T) {
	t.Parallel()
	srv := newRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 0 {
			trickle(40*time.Millisecond)(w, r)
			return
		}
		writeJSON(w, 200, `{"records":[],"done":true}`)
	})
	s, err := connector.NewStack(stallConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := get(t, context.Background(), s, srv.URL+"/query")
	if err != nil {
		t.Fatalf("a stalled body was not retried: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(body) != `{"records":[],"done":true}` {
		t.Fatalf("body %q (%v), want the retry's answer", body, err)
	}
	if srv.count() != 2 {
		t.Fatalf("attempts %d, want 2", srv.count())
	}
}

// When every attempt stalls, the request fails after the retries with an
// error that is a timeout of the CRM (connector.ErrTimeout), not a
// context error a caller would take for its own interrupt, and that says
// which setting bounded it and how often it was retried. The caller's
// own cancellation still ends it as the caller's stop.
func TestStallThroughTheRetriesIsATimeoutFailure(t *testing.T) {
	t.Parallel()
	t.Run("cancel", func(t *testing.T) {
		t.Parallel()
		cancelDuringStalledBody(t)
	})
	for name, answer := range map[string]func(w http.ResponseWriter, r *http.Request){
		"no answer":     func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() },
		"trickled body": trickle(40 * time.Millisecond),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := newRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) { answer(w, r) })
			s, err := connector.NewStack(stallConfig(), nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = get(t, context.Background(), s, srv.URL+"/services/data/v62.0/query?q=SELECT+Id+FROM+Account")
			if !errors.Is(err, connector.ErrTimeout) {
				t.Fatalf("err = %v, want connector.ErrTimeout", err)
			}
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v reads as a context error: a caller would take it for its own interrupt", err)
			}
			for _, want := range []string{"GET " + srv.URL + "/services/data/v62.0/query: ", "the CRM did not answer within 150ms (HEALTHSYNC_HTTP_TIMEOUT", "after 2 retries"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("err = %q, want it to say %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "SELECT") {
				t.Errorf("err = %q shows the query string", err)
			}
			if srv.count() != 3 {
				t.Fatalf("attempts %d, want 3 (2 retries)", srv.count())
			}
		})
	}
}

// A request that may create something is not sent again when its answer
// stalled: the CRM may have acted on it.
func TestStalledNonIdempotentRequestIsNotRetried(t *testing.T) {
	t.Parallel()
	srv := newRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) { trickle(40*time.Millisecond)(w, r) })
	s, err := connector.NewStack(stallConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(connector.NonIdempotent(context.Background()), http.MethodPost, srv.URL+"/composite/sobjects", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Do(req); !errors.Is(err, connector.ErrTimeout) {
		t.Fatalf("err = %v, want connector.ErrTimeout", err)
	}
	if srv.count() != 1 {
		t.Fatalf("attempts %d, want 1: a creation whose answer stalled must not be sent twice", srv.count())
	}
}

// cancelDuringStalledBody: the caller's own cancellation (a signal) while
// an answer trickles in ends the request with the context's error, at
// once, and is not retried.
func cancelDuringStalledBody(t *testing.T) {
	started := make(chan struct{})
	srv := newRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 0 {
			close(started)
		}
		trickle(40*time.Millisecond)(w, r)
	})
	cfg := stallConfig()
	cfg.Timeout = time.Hour
	s, err := connector.NewStack(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-started
		cancel()
	}()
	_, err = get(t, ctx, s, srv.URL+"/query")
	if !errors.Is(err, context.Canceled) || errors.Is(err, connector.ErrTimeout) {
		t.Fatalf("err = %v, want context.Canceled and no timeout", err)
	}
	if srv.count() != 1 {
		t.Fatalf("attempts %d, want 1", srv.count())
	}
}
