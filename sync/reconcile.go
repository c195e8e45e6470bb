package sync

import (
	"context"
	"fmt"
	"strconv"

	"healthsync/store"
)

// maybeReconcile finds hard deletes of obj when due (or forced): records
// stored as live whose IDs the CRM no longer lists.
func (e *Engine) maybeReconcile(ctx context.Context, obj string, force bool, rep *Report) error {
	last, err := e.reconciledAt(ctx, obj)
	if err != nil {
		return err
	}
	now := e.clock.Now()
	if !force && !last.IsZero() && now.Sub(last) < e.cfg.ReconcileEvery {
		return nil
	}
	if err := e.reconcile(ctx, obj, rep); err != nil {
		return err
	}
	return e.store.InTx(ctx, func(tx *store.Tx) error {
		return tx.SetState(ctx, e.cfg.Connection, stateReconciled+obj, strconv.FormatInt(now.UnixMilli(), 10))
	})
}

func (e *Engine) reconcile(ctx context.Context, obj string, rep *Report) error {
	live := map[string]struct{}{}
	err := e.src.ListIDs(ctx, obj, func(ids []string) error {
		for _, id := range ids {
			live[id] = struct{}{}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("list %s IDs: %w", obj, err)
	}
	var gone []string
	stored := 0
	err = e.store.RawIDs(ctx, e.cfg.Connection, obj, func(id string) error {
		stored++
		if _, ok := live[id]; !ok {
			gone = append(gone, id)
		}
		return nil
	})
	if err != nil {
		return err
	}
	// A CRM that suddenly lists (almost) nothing is more likely a lost
	// permission than a mass delete: keep the data and say so.
	if len(gone) > 10 && len(gone)*2 > stored {
		return fmt.Errorf("%w: the CRM lists %d live %s records but %d of the %d stored ones are missing from it; nothing was deleted. Check the integration user's access to %s, or pull it again with `healthsync sync --full %s`",
			ErrReconcileRefused, len(live), obj, len(gone), stored, obj, obj)
	}
	if len(gone) == 0 {
		rep.object(obj).Reconciled = true
		return nil
	}
	kind, _ := e.mapping.Entity(obj)
	err = e.store.InTx(ctx, func(tx *store.Tx) error {
		// Both take every ID at once: a few batched statements, not two per record.
		if err := tx.MarkRawDeleted(ctx, e.cfg.Connection, obj, gone...); err != nil {
			return err
		}
		if err := tx.Delete(ctx, e.cfg.Connection, entityTable(kind), gone...); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	or := rep.object(obj)
	or.Reconciled = true
	or.Counts.Deleted += len(gone)
	e.log.Info("reconciliation found hard-deleted records", "object", obj, "deleted", len(gone))
	return nil
}
