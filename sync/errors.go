package sync

import (
	"errors"
	"fmt"
	"time"
)

var (
	// ErrStopped marks a controlled stop: the run committed what it did and
	// the next run resumes. Wrapped with the reason (signal, API budget,
	// daily limit).
	ErrStopped = errors.New("run stopped early")
	// ErrReconcileRefused means reconciliation would have deleted an
	// implausible share of the stored records, so it deleted nothing.
	ErrReconcileRefused = errors.New("reconciliation refused")
)

// LeaseHeldError says another replica holds the connection's lease.
type LeaseHeldError struct {
	Connection string
	Holder     string
	ExpiresAt  time.Time
}

func (e *LeaseHeldError) Error() string {
	return fmt.Sprintf("connection %s is being synced by %s (lease until %s); this replica waits its turn",
		e.Connection, e.Holder, e.ExpiresAt.Format(time.RFC3339))
}
