package connector_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	stdsync "sync"
	"sync/atomic"
	"testing"
	"time"

	"healthsync/connector"
)

func TestWindowLimiterRates(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		rps float64
		n   int
		per time.Duration
	}{{5, 5, time.Second}, {4, 4, time.Second}, {2.5, 2, 800 * time.Millisecond}, {0.5, 1, 2 * time.Second}} {
		n, per := connector.NewWindowLimiter(c.rps).Window()
		if n != c.n || per != c.per {
			t.Errorf("NewWindowLimiter(%g) = %d per %s, want %d per %s", c.rps, n, per, c.n, c.per)
		}
	}
	if l := connector.NewWindowLimiter(0); l != nil {
		t.Error("rate 0 should mean no limiter")
	}
	l := connector.NewWindowLimiter(0.001)
	rel, err := l.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rel()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := l.Acquire(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second request: err = %v, want ctx's deadline", err)
	}
}

// TestWindowLimiterNeverExceedsTheCRMsRollingWindow sends searches one
// after another through the stack at 5 per second to a server that, like
// HubSpot's search API, refuses a request arriving when 5 arrived in the
// second before it; every fifth request spends 80 ms more on the way
// there. Counted from when requests are sent, 5 per second would put 5
// arrivals in one second (a token bucket at 5/s does); the window limiter
// counts each request until a second after its answer, so none is refused.
func TestWindowLimiterNeverExceedsTheCRMsRollingWindow(t *testing.T) {
	t.Parallel()
	var mu stdsync.Mutex
	var arrivals []time.Time
	var refused atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		now := time.Now()
		i := 0
		for i < len(arrivals) && !arrivals[i].After(now.Add(-time.Second)) {
			i++
		}
		arrivals = arrivals[i:]
		if len(arrivals) >= 5 {
			mu.Unlock()
			refused.Add(1)
			writeJSON(w, http.StatusTooManyRequests, `{"message":"You have reached your secondly limit."}`)
			return
		}
		arrivals = append(arrivals, now)
		mu.Unlock()
		writeJSON(w, http.StatusOK, `{}`)
	}))
	t.Cleanup(srv.Close)
	var sent atomic.Int32
	slow := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if sent.Add(1)%5 == 1 {
			time.Sleep(80 * time.Millisecond)
		}
		return http.DefaultTransport.RoundTrip(r)
	})
	s := newStack(t, connector.WithTransport(slow), connector.WithClassWindow("search", connector.NewWindowLimiter(5)))
	search := connector.WithRateClass(context.Background(), "search")
	start := time.Now()
	const n = 16
	for range n {
		resp, err := get(t, search, s, srv.URL+"/search")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if r := refused.Load(); r != 0 {
		t.Errorf("the server refused %d of %d searches for exceeding 5 per rolling second", r, n)
	}
	// 16 requests, at most 5 per window: three full windows at least.
	if d := time.Since(start); d < 3*time.Second {
		t.Errorf("%d searches took %s: faster than 5 per second", n, d)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestWindowLimiterStartFull: a limiter that starts full sends nothing
// for a window, since the searches of a process before it may still count.
func TestWindowLimiterStartFull(t *testing.T) {
	t.Parallel()
	l := connector.NewWindowLimiter(5)
	l.StartFull()
	start := time.Now()
	rel, err := l.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rel()
	if d := time.Since(start); d < time.Second {
		t.Errorf("the first request of a full window went out after %s, want a second", d)
	}
}
