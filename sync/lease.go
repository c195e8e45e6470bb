package sync

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"

	"healthsync/crm"
	"healthsync/store"
)

// Lease holds a connection's lease in the store while work runs, so that
// of several replicas against one Postgres only one syncs or writes a
// connection at a time. A replica that dies stops renewing; its lease
// expires after its TTL (by the database's clock) and another replica
// takes over, marking the runs the dead one left running as interrupted.
// Build it with NewLease.
type Lease struct {
	store      *store.Store
	connection string
	holder     string
	ttl        time.Duration
	clock      crm.Clock
	log        hclog.Logger
}

// LeaseOptions build a Lease: Store, Connection and Holder are required.
type LeaseOptions struct {
	Store      *store.Store
	Connection string
	Holder     string        // unique per replica, e.g. hostname-pid
	TTL        time.Duration // default 30s
	// Clock times the renewals; the lease's expiry is the database's
	// clock. Default: the system clock.
	Clock crm.Clock
	Log   hclog.Logger // default: discard
}

// NewLease returns the lease of o.Connection for o.Holder.
func NewLease(o LeaseOptions) *Lease {
	l := &Lease{store: o.Store, connection: o.Connection, holder: o.Holder, ttl: o.TTL, clock: o.Clock, log: o.Log}
	if l.ttl <= 0 {
		l.ttl = 30 * time.Second
	}
	if l.clock == nil {
		l.clock = crm.SystemClock{}
	}
	if l.log == nil {
		l.log = hclog.NewNullLogger()
	}
	return l
}

// endDeadRuns marks the connection's runs still recorded as running as
// interrupted, and logs each: the caller holds the connection (its lease,
// or the SQLite single-process lock), so no live process runs them.
func endDeadRuns(ctx context.Context, st *store.Store, connection string, now time.Time, log hclog.Logger) error {
	runs, err := st.InterruptRuns(ctx, connection, now)
	if err != nil {
		return err
	}
	if log == nil {
		log = hclog.NewNullLogger()
	}
	for _, r := range runs {
		log.Warn("a run left running by a process that ended without recording its end is marked interrupted", "run", r.ID, "kind", r.Kind,
			"started", r.StartedAt.Format(time.RFC3339), "last_seen", r.SeenAt.Format(time.RFC3339))
	}
	return nil
}

// Do runs fn while holding the lease, renewing it every TTL/3. If the
// lease cannot be taken, Do returns a *LeaseHeldError without running fn.
// Once it holds the lease, it marks the runs a dead holder left running as
// interrupted (endDeadRuns). If the lease is lost while fn runs (the store
// unreachable for longer than the TTL, or taken over), fn's context is
// cancelled so it stops at the next page, and Do returns an error saying
// so.
func (l *Lease) Do(ctx context.Context, fn func(ctx context.Context) error) error {
	ttl, clock := l.ttl, l.clock
	ok, err := l.store.AcquireLease(ctx, l.connection, l.holder, ttl)
	if err != nil {
		return err
	}
	if !ok {
		held := &LeaseHeldError{Connection: l.connection}
		if cur, err := l.store.LeaseOf(ctx, l.connection); err == nil {
			held.Holder, held.ExpiresAt = cur.Holder, cur.ExpiresAt
		}
		return held
	}
	if err := endDeadRuns(ctx, l.store, l.connection, clock.Now(), l.log); err != nil {
		l.store.ReleaseLease(context.WithoutCancel(ctx), l.connection, l.holder)
		return err
	}
	workCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	errLost := errors.New("lease lost")
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(ttl / 3)
		defer tick.Stop()
		lastOK := clock.Now()
		for {
			select {
			case <-workCtx.Done():
				return
			case <-tick.C:
			}
			now := clock.Now()
			ok, err := l.store.AcquireLease(workCtx, l.connection, l.holder, ttl)
			if err == nil && ok {
				lastOK = now
				continue
			}
			if (err == nil && !ok) || now.Sub(lastOK) >= ttl {
				cancel(fmt.Errorf("%w: connection %s (renewal: %v)", errLost, l.connection, err))
				return
			}
		}
	}()
	fnErr := fn(workCtx)
	cancel(nil)
	<-done
	if cause := context.Cause(workCtx); cause != nil && errors.Is(cause, errLost) {
		return fmt.Errorf("%w; the work stopped and the next turn resumes", cause)
	}
	if err := l.store.ReleaseLease(context.WithoutCancel(ctx), l.connection, l.holder); err != nil && fnErr == nil {
		return err
	}
	return fnErr
}
