package sync

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"healthsync/connector"
	"healthsync/store"
)

// stateSwept + object: epoch ms of the last association sweep.
const stateSwept = "associations_swept_at:"

// associationSweeper is a Source whose records' links change without
// bumping their modification stamp (HubSpot activities re-linked to
// another company): the links are swept on a schedule and compared with
// the stored records (docs/adr/0011-association-sweep.md).
type associationSweeper interface {
	// AssociationSweep says whether object's associations are swept and
	// how often (0: every sync).
	AssociationSweep(object string) (every time.Duration, ok bool)
	// SweepAssociations hands on the records of req.Object whose
	// associations differ from those stored (req.Stored), with
	// Page.Cursor req.Since.
	SweepAssociations(ctx context.Context, req connector.PullRequest, fn func(context.Context, connector.Page) error) error
}

// storedObject is connector.Stored over the store: the live raw records
// of one object of the engine's connection.
type storedObject struct {
	st     *store.Store
	conn   string
	object string
}

// stored returns what the store holds of obj, for the connector to
// compare with.
func (e *Engine) stored(obj string) connector.Stored {
	return storedObject{st: e.store, conn: e.cfg.Connection, object: obj}
}

// LiveCount implements connector.Stored.
func (s storedObject) LiveCount(ctx context.Context) (int, error) {
	return s.st.RawCount(ctx, s.conn, s.object, false)
}

// Raw implements connector.Stored.
func (s storedObject) Raw(ctx context.Context, ids []string) (map[string]json.RawMessage, error) {
	recs, err := s.st.RawRecords(ctx, s.conn, s.object, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]json.RawMessage, len(recs))
	for id, r := range recs {
		if !r.Deleted {
			out[id] = r.Raw
		}
	}
	return out, nil
}

// maybeSweepAssociations sweeps obj's associations when the Source has
// them and the interval has passed since the last sweep; the records
// whose links changed are stored like pulled ones, and the cursor stays
// where the pull left it. The first sync of obj that finds no sweep
// recorded only starts the clock: a full pull has just read every
// association. A later sync that finds none sweeps at once: the store was
// written by a version that did not read these associations (HubSpot
// deals' companies before they were read), so its records lack them.
func (e *Engine) maybeSweepAssociations(ctx context.Context, obj string, rep *Report) error {
	sw, ok := e.src.(associationSweeper)
	if !ok {
		return nil
	}
	every, ok := sw.AssociationSweep(obj)
	if !ok {
		return nil
	}
	start := e.clock.Now()
	mark := func() error {
		return e.store.InTx(ctx, func(tx *store.Tx) error {
			return tx.SetState(ctx, e.cfg.Connection, stateSwept+obj, strconv.FormatInt(start.UnixMilli(), 10))
		})
	}
	v, err := e.store.State(ctx, e.cfg.Connection, stateSwept+obj)
	if err != nil {
		return err
	}
	if n, err := strconv.ParseInt(v, 10, 64); err != nil {
		before, err := e.syncedBefore(ctx, obj, rep.RunID)
		if err != nil {
			return err
		}
		if !before {
			return mark()
		}
		e.log.Info("no association sweep recorded for an object synced before: sweeping now so its stored records gain their associations", "object", obj)
	} else if start.Before(time.UnixMilli(n).Add(every)) {
		return nil
	}
	err = e.reread(ctx, obj, rep, true, sw.SweepAssociations)
	if err != nil {
		return fmt.Errorf("sweep associations of %s: %w", obj, err)
	}
	return mark()
}

// syncedBefore reports whether a run of the connection before run (among
// the latest runsLookedAt) synced obj.
func (e *Engine) syncedBefore(ctx context.Context, obj string, run int64) (bool, error) {
	runs, err := e.store.Runs(ctx, e.cfg.Connection, runsLookedAt)
	if err != nil {
		return false, err
	}
	for _, r := range runs {
		if _, ok := r.Counts[obj]; ok && r.ID != run {
			return true, nil
		}
	}
	return false, nil
}

// runsLookedAt is how many of the latest runs syncedBefore reads.
const runsLookedAt = 20
