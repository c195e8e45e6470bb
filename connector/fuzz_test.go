package connector

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The fuzz target of this file feeds the stack's own readers of what a
// CRM answers: Retry-After and the rate-limit window and daily usage a
// connector's header readers report (the header readers themselves, and
// the error decoders, are fuzzed in each CRM's connector). Plain `go test`
// runs the seeds as regression tests. Run it longer with
//
//	go test -run '^$' -fuzz '^FuzzRateLimits$' -fuzztime 60s ./connector

// FuzzRateLimits: Retry-After (in seconds or as an HTTP date) is a wait in
// [0, 24h] and the backoff honours it exactly; any window a CRM reports
// never stops the limiter (a positive rate, at most the configured one,
// at least one request per hour); any usage leaves the budget's counts
// not negative.
func FuzzRateLimits(f *testing.F) {
	for _, s := range []struct {
		ra                          string
		maxN, remaining, intervalMs int64
		used, limit                 int64
	}{
		{"120", 190, 188, 10000, 1000, 1000000},
		{"0", 100, 0, 10000, 250000, 250000},
		{"Wed, 21 Oct 2015 07:28:00 GMT", 10, 2, 1000, 5, 10},
		{"Fri, 31 Dec 9999 23:59:59 GMT", 1, -5, 9223372036854775807, -1, 10},
		{"-1", 0, 1, 1, 1, 0},
		{"99999999999999999999", 9223372036854775807, 9223372036854775807, 1, 0, -1},
		{" 7 ", 1, 0, 3600000, 10, 20},
		{"", 0, 0, 0, 0, 0},
	} {
		f.Add(s.ra, s.maxN, s.remaining, s.intervalMs, s.used, s.limit)
	}
	now := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, ra string, maxN, remaining, intervalMs, used, limit int64) {
		h := http.Header{}
		if ra != "" {
			h.Set("Retry-After", ra)
		}
		// Header values with characters net/http would never deliver are
		// still parsed: the parsers read strings, not the wire.

		d, ok := retryAfter(h, now)
		if !ok && d != 0 {
			t.Fatalf("Retry-After %q: not read but a wait of %v", ra, d)
		}
		if ok && (d < 0 || d > maxRetryAfter) {
			t.Fatalf("Retry-After %q: wait %v outside [0, %v]", ra, d, maxRetryAfter)
		}
		if s, err := strconv.ParseInt(strings.TrimSpace(h.Get("Retry-After")), 10, 64); err == nil && s >= 0 {
			want := time.Duration(min(s, int64(maxRetryAfter/time.Second))) * time.Second
			if !ok || d != want {
				t.Fatalf("Retry-After %q: %v, %v, want %v", ra, d, ok, want)
			}
		}
		if ok && !strings.HasPrefix(strings.TrimSpace(h.Get("Retry-After")), "-") {
			resp := &http.Response{Header: h}
			got := backoff(time.Millisecond, time.Second, 3, resp)
			if want, _ := retryAfter(h, time.Now()); got < want || got-want > time.Minute {
				t.Fatalf("backoff with Retry-After %q: %v, want about %v", ra, got, want)
			}
		}
		if b := backoff(time.Millisecond, time.Second, int(len(ra)%70), nil); b < 0 || b > time.Second {
			t.Fatalf("backoff without Retry-After: %v outside [0, 1s]", b)
		}

		w := RateWindow{Max: maxN, Remaining: remaining}
		if intervalMs > 0 && intervalMs <= math.MaxInt64/int64(time.Millisecond) {
			w.Interval = time.Duration(intervalMs) * time.Millisecond
		}
		const base = 10.0
		l := NewLimiter(base, 1)
		l.Observe(w)
		r := l.Limit()
		if math.IsNaN(r) || r <= 0 || r > base || r < 1.0/3600 {
			t.Fatalf("limiter at %g requests/s after %+v", r, w)
		}
		u := NewLimiter(0, 1)
		u.Observe(w)
		if r := u.Limit(); math.IsNaN(r) || r < 1.0/3600 {
			t.Fatalf("unlimited limiter at %g requests/s after %+v", r, w)
		}
		b, _ := NewBudget(BudgetConfig{RunShare: 1, TotalShare: 1})
		b.Observe(used, limit)
		if got := b.Usage(); got.DailyLimit < 0 || got.DailyUsed < 0 {
			t.Fatalf("budget usage %+v from %d/%d", got, used, limit)
		}
		if got := b.Usage(); limit > 0 && used >= 0 && (got.DailyLimit != limit || got.DailyUsed != used) {
			t.Fatalf("budget usage %+v, want %d/%d as reported", got, used, limit)
		}
	})
}
