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
	// ErrOutputs means an output field is missing in the CRM, not
	// writable or not healthsync's own: nothing is written.
	ErrOutputs = errors.New("the fields healthsync would write are not ready")
	// ErrWriteFailed means an apply finished but the CRM refused some
	// records or tasks; they are not in the ledger and the next run
	// retries them.
	ErrWriteFailed = errors.New("some writes failed")
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
