package connector

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter spaces out the requests of one connection. It is shared by every
// call of the connection and adapts to the rate-limit window the CRM
// reports (the stack reads it with the connector's WindowReader, see
// WithRateWindowHeaders): while Remaining is above a low-water mark it
// allows Max per interval (but never more than its configured rate); below
// it, it spreads what remains over a whole interval. A window longer than
// an hour changes nothing.
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

// RateWindow is a rate limit a response reports: Max requests per
// Interval, of which Remaining are left in the current window.
type RateWindow struct {
	Max       int64
	Remaining int64
	Interval  time.Duration
}

// Observe adapts the rate to a window a response reported.
func (l *Limiter) Observe(w RateWindow) {
	if l == nil || w.Max <= 0 || w.Interval <= 0 || w.Interval > maxInterval {
		return
	}
	interval := w.Interval.Seconds()
	target := rate.Limit(float64(w.Max) / interval)
	if float64(w.Remaining) <= l.lowWater*float64(w.Max) {
		target = rate.Limit(math.Max(float64(w.Remaining), 1) / interval)
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

// maxInterval is the longest rate-limit window Observe adapts to (one
// hour). CRMs' windows are seconds long; a longer one is not one the
// limiter can spread requests over without stalling the connection (a
// daily limit is the Budget's business).
const maxInterval = time.Hour

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
