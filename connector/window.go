package connector

import (
	"context"
	"math"
	"sync"
	"time"
)

// WindowLimiter admits at most N requests in any rolling window of Per,
// for a CRM that counts requests as they arrive in a rolling window and
// refuses the one over (HubSpot's search API: 5 per second). A request
// holds its place in the window from when it is sent until Per after its
// answer arrived: the CRM counted it somewhere in between, so a request
// sent once that place is free can never find N others still in the CRM's
// window, however long the network took either way. A token bucket at the
// same rate can: two requests sent 1/rate apart may arrive closer.
//
// With one request at a time, N requests take Per plus one round trip;
// when a round trip is over Per/(N-1) (HubSpot's searches: over 250 ms)
// the requests themselves are the bound, and the window costs nothing.
type WindowLimiter struct {
	n   int
	per time.Duration
	now func() time.Time

	mu       sync.Mutex
	inflight int
	done     []time.Time   // answer times still inside the window, oldest first
	freed    chan struct{} // closed (and replaced) when a request ends
}

// NewWindowLimiter returns a limiter allowing rps requests per second as
// whole requests in a rolling window: 5 is 5 per second, 2.5 is 2 per
// 800 ms, 0.5 is 1 per 2 s. rps <= 0 means unlimited (nil).
func NewWindowLimiter(rps float64) *WindowLimiter {
	if rps <= 0 || math.IsInf(rps, 1) || math.IsNaN(rps) {
		return nil
	}
	n := max(1, int(math.Floor(rps)))
	per := time.Duration(float64(n) / rps * float64(time.Second))
	return &WindowLimiter{n: n, per: per, now: time.Now, freed: make(chan struct{})}
}

// StartFull counts the window as full from now: no request is sent for
// Per. A new process does not know what the one before it sent, and a
// CRM counting per account still counts those requests for up to Per; a
// limiter at the CRM's own rate starts full so that the first requests
// of a process never find the window taken.
func (l *WindowLimiter) StartFull() {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for len(l.done)+l.inflight < l.n {
		l.done = append(l.done, now)
	}
}

// Window returns the limiter's N and Per.
func (l *WindowLimiter) Window() (n int, per time.Duration) { return l.n, l.per }

// Acquire blocks until a request may be sent (or ctx is done, when it
// returns ctx's error) and returns the function to call as soon as the
// request's answer (or failure) arrived. A nil limiter admits everything.
func (l *WindowLimiter) Acquire(ctx context.Context) (release func(), err error) {
	if l == nil {
		return func() {}, ctx.Err()
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		l.mu.Lock()
		now := l.now()
		i := 0
		for i < len(l.done) && !now.Before(l.done[i].Add(l.per)) {
			i++
		}
		l.done = l.done[i:]
		if l.inflight+len(l.done) < l.n {
			l.inflight++
			l.mu.Unlock()
			var once sync.Once
			return func() { once.Do(l.release) }, nil
		}
		freed := l.freed
		var timer <-chan time.Time
		if len(l.done) > 0 {
			t := time.NewTimer(l.done[0].Add(l.per).Sub(now))
			defer t.Stop()
			timer = t.C
		}
		l.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-freed:
		case <-timer:
		}
	}
}

// release ends one request: its place stays taken for Per from now.
func (l *WindowLimiter) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inflight--
	l.done = append(l.done, l.now())
	close(l.freed)
	l.freed = make(chan struct{})
}
