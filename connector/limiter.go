package connector

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter spaces out the requests of one connection. It is shared by every
// call of the connection and adapts to HubSpot's
// X-HubSpot-RateLimit-Max / -Remaining / -Interval-Milliseconds headers:
// while Remaining is above a low-water mark it allows Max per interval (but
// never more than its configured rate); below it, it spreads what remains
// over a whole interval. Responses without these headers (or with a window
// longer than an hour) change nothing.
type Limiter struct {
	lim *rate.Limiter

	mu       sync.Mutex
	base     rate.Limit // the configured rate; rate.Inf when unlimited
	lowWater float64
}

// NewLimiter returns a limiter allowing rps requests per second with the
// given burst; rps <= 0 means unlimited until the CRM's headers say
// otherwise.
func NewLimiter(rps float64, burst int) *Limiter {
	base := rate.Inf
	if rps > 0 {
		base = rate.Limit(rps)
	}
	if burst < 1 {
		burst = 1
	}
	return &Limiter{lim: rate.NewLimiter(base, burst), base: base, lowWater: 0.2}
}

// Limit returns the current rate in requests per second (+Inf when unlimited).
func (l *Limiter) Limit() float64 { return float64(l.lim.Limit()) }

// Wait blocks until a request may be sent or ctx is done, in which case it
// returns ctx's error.
func (l *Limiter) Wait(ctx context.Context) error {
	if l == nil {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	r := l.lim.Reserve()
	if !r.OK() {
		return fmt.Errorf("rate limiter: burst too small for one request")
	}
	d := r.Delay()
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		r.Cancel()
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Observe adapts the rate to a response's rate-limit headers.
func (l *Limiter) Observe(h http.Header) {
	if l == nil {
		return
	}
	maxN, ok1 := headerInt(h, "X-HubSpot-RateLimit-Max")
	remaining, ok2 := headerInt(h, "X-HubSpot-RateLimit-Remaining")
	intervalMs, ok3 := headerInt(h, "X-HubSpot-RateLimit-Interval-Milliseconds")
	if !ok1 || !ok2 || !ok3 || maxN <= 0 || intervalMs <= 0 || intervalMs > maxIntervalMs {
		return
	}
	interval := float64(intervalMs) / 1000
	target := rate.Limit(float64(maxN) / interval)
	if float64(remaining) <= l.lowWater*float64(maxN) {
		target = rate.Limit(math.Max(float64(remaining), 1) / interval)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.base != rate.Inf && target > l.base {
		target = l.base
	}
	if target != l.lim.Limit() {
		l.lim.SetLimit(target)
	}
}

// maxIntervalMs is the longest rate-limit window Observe adapts to (one
// hour). HubSpot's windows are seconds long; a longer one in a header is
// not one the limiter can spread requests over without stalling the
// connection (its daily limit is the Budget's business).
const maxIntervalMs = 3_600_000

func headerInt(h http.Header, name string) (int64, bool) {
	v := strings.TrimSpace(h.Get(name))
	if v == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}

type rateClassKey struct{}

// WithRateClass marks the requests sent with ctx as belonging to a rate
// class (e.g. "search" for HubSpot's 5 requests/s search limit). A stack
// built with WithClassLimiter for that class waits on that class's limiter
// in addition to the connection's.
func WithRateClass(ctx context.Context, class string) context.Context {
	return context.WithValue(ctx, rateClassKey{}, class)
}

// RateClass returns the rate class WithRateClass put in ctx ("" if none).
func RateClass(ctx context.Context) string {
	c, _ := ctx.Value(rateClassKey{}).(string)
	return c
}
