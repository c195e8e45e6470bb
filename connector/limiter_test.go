package connector_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"healthsync/connector"
)

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
