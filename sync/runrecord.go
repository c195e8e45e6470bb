package sync

import (
	"context"
	"fmt"
	"time"

	"healthsync/crm"
	"healthsync/store"
)

// runRecord is a run recorded in the store (a sync or an apply): started
// before its work and finished after it whatever the outcome, so the
// status page, /readyz, the metrics and the run history see every run.
type runRecord struct {
	st        *store.Store
	clock     crm.Clock
	ID        int64
	StartedAt time.Time
}

// startRun records the start of a run of kind on connection. The record
// is written even when ctx is cancelled.
func startRun(ctx context.Context, st *store.Store, connection, kind string, clock crm.Clock) (*runRecord, error) {
	started := clock.Now()
	id, err := st.StartRun(context.WithoutCancel(ctx), connection, kind, started)
	if err != nil {
		return nil, err
	}
	return &runRecord{st: st, clock: clock, ID: id, StartedAt: started}, nil
}

// finish records the end of the run whose work, under ctx, ended in
// workErr, with its figures (API calls, counts, problems) from done. A
// controlled stop (a signal, the API budget, the daily limit) is recorded
// stopped with its reason and returned wrapping ErrStopped; any other
// error is recorded failed with its message. It returns the run as
// recorded and the run's error, or the error recording it when the work
// succeeded. The record is written even when ctx is cancelled.
func (r *runRecord) finish(ctx context.Context, done store.Run, workErr error) (store.Run, error) {
	run := done
	run.ID, run.Status, run.StopReason = r.ID, store.RunOK, ""
	if workErr != nil {
		if reason := stopReason(ctx, workErr); reason != "" {
			run.Status, run.StopReason = store.RunStopped, reason
			workErr = fmt.Errorf("%w: %s: %w", ErrStopped, reason, workErr)
		} else {
			run.Status, run.StopReason = store.RunFailed, workErr.Error()
		}
	}
	finished := r.clock.Now()
	run.FinishedAt = &finished
	if err := r.st.FinishRun(context.WithoutCancel(ctx), run); err != nil && workErr == nil {
		workErr = err
	}
	return run, workErr
}
