package connector_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"healthsync/connector"
)

func TestLimiterFollowsHubSpotWindowHeaders(t *testing.T) {
	t.Parallel()
	l := connector.NewLimiter(50, 5)
	h := http.Header{}
	h.Set("X-HubSpot-RateLimit-Max", "190")
	h.Set("X-HubSpot-RateLimit-Interval-Milliseconds", "10000")

	h.Set("X-HubSpot-RateLimit-Remaining", "150")
	l.Observe(h)
	if got := l.Limit(); got != 19 {
		t.Fatalf("plenty remaining: limit %g, want 190/10s = 19", got)
	}
	h.Set("X-HubSpot-RateLimit-Remaining", "20")
	l.Observe(h)
	if got := l.Limit(); got != 2 {
		t.Fatalf("low remaining: limit %g, want 20 spread over 10s = 2", got)
	}
	h.Set("X-HubSpot-RateLimit-Remaining", "0")
	l.Observe(h)
	if got := l.Limit(); got != 0.1 {
		t.Fatalf("none remaining: limit %g, want one per interval", got)
	}
	// A search response has no headers: nothing changes.
	l.Observe(http.Header{})
	if got := l.Limit(); got != 0.1 {
		t.Fatalf("headerless response changed the limit to %g", got)
	}
	// Never above the configured rate.
	slow := connector.NewLimiter(5, 1)
	h.Set("X-HubSpot-RateLimit-Remaining", "190")
	slow.Observe(h)
	if got := slow.Limit(); got != 5 {
		t.Fatalf("limit %g, want the configured 5", got)
	}
}

func TestLimiterWaitReturnsContextError(t *testing.T) {
	t.Parallel()
	l := connector.NewLimiter(0.001, 1)
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := l.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded (ctx's own error)", err)
	}
}

func TestRateClassLimiterAppliesOnlyToItsClass(t *testing.T) {
	t.Parallel()
	srv := newRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, `{}`) })
	// One search per ~17 minutes: the second search must wait, other calls not.
	s := newStack(t, connector.WithClassLimiter("search", connector.NewLimiter(0.001, 1)))
	search := connector.WithRateClass(context.Background(), "search")
	if connector.RateClass(search) != "search" {
		t.Fatal("RateClass lost the class")
	}
	resp, err := get(t, search, s, srv.URL+"/search")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for range 5 {
		resp, err := get(t, context.Background(), s, srv.URL+"/list")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	ctx, cancel := context.WithTimeout(search, 50*time.Millisecond)
	defer cancel()
	if _, err := get(t, ctx, s, srv.URL+"/search"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second search: err = %v, want it held by the search limiter until ctx ended", err)
	}
	if srv.count() != 6 {
		t.Fatalf("server saw %d requests, want 6", srv.count())
	}
}

func TestStackAdaptsToResponseHeaders(t *testing.T) {
	t.Parallel()
	srv := newRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-HubSpot-RateLimit-Max", "100")
		w.Header().Set("X-HubSpot-RateLimit-Remaining", "10")
		w.Header().Set("X-HubSpot-RateLimit-Interval-Milliseconds", "10000")
		writeJSON(w, 200, `{}`)
	})
	s := newStack(t, connector.WithLimiter(connector.NewLimiter(10, 10)))
	resp, err := get(t, context.Background(), s, srv.URL+"/crm/v3/objects/companies")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := s.Limiter().Limit(); got != 1 {
		t.Fatalf("limit %g after Remaining=10 of 100 per 10s, want 1/s", got)
	}
}

func TestUnlimitedLimiterStartsLimitingWhenHeadersArrive(t *testing.T) {
	t.Parallel()
	l := connector.NewLimiter(0, 2)
	for range 100 {
		if err := l.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	h := http.Header{}
	h.Set("X-HubSpot-RateLimit-Max", "10")
	h.Set("X-HubSpot-RateLimit-Remaining", "0")
	h.Set("X-HubSpot-RateLimit-Interval-Milliseconds", "10000")
	l.Observe(h)
	if got := l.Limit(); got != 0.1 {
		t.Fatalf("limit %g", got)
	}
	// The burst is spent at most once; then the limiter holds calls back.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	var err error
	for range 3 {
		if err = l.Wait(ctx); err != nil {
			break
		}
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the limiter to hold a call", err)
	}
}
