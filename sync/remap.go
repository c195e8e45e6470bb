package sync

import (
	"context"
	"errors"

	"healthsync/connector"
	"healthsync/mapping"
	"healthsync/store"
)

// remapBatch is how many records one re-map transaction covers.
const remapBatch = 500

// remapObject maps every stored raw record of obj again with the current
// mapping and replaces the canonical rows, without any API call.
func (e *Engine) remapObject(ctx context.Context, obj string, rep *Report) error {
	or := rep.object(obj)
	kind, _ := e.mapping.Entity(obj)
	table := entityTable(kind)
	batch := make([]store.RawRecord, 0, remapBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		items := make([]mapped, 0, len(batch))
		for _, r := range batch {
			rec := connector.Record{Object: obj, ID: r.ID, ModifiedAt: r.ModifiedAt, Deleted: r.Deleted, Raw: r.Raw}
			if r.Deleted {
				items = append(items, mapped{rec: rec})
				continue
			}
			ent, err := e.mapping.Map(rec)
			var recErr *mapping.RecordError
			if err != nil {
				rep.addProblem(store.Problem{Object: obj, ID: r.ID, Error: err.Error()})
				or.Counts.Problems++
			}
			items = append(items, mapped{rec: rec, entity: ent, ok: err == nil || errors.As(err, &recErr)})
		}
		err := e.store.InTx(ctx, func(tx *store.Tx) error {
			if err := e.linkActivities(ctx, tx, items); err != nil {
				return err
			}
			if err := e.trackHistory(ctx, tx, items); err != nil {
				return err
			}
			for _, it := range items {
				if !it.ok {
					// Unmappable now: its old canonical row would be stale.
					if err := tx.Delete(ctx, e.cfg.Connection, table, it.rec.ID); err != nil {
						return err
					}
					continue
				}
				if err := upsertEntity(ctx, tx, e.cfg.Connection, it.entity); err != nil {
					return err
				}
			}
			return nil
		})
		batch = batch[:0]
		return err
	}
	err := e.store.ForEachRaw(ctx, e.cfg.Connection, obj, func(r store.RawRecord) error {
		batch = append(batch, r)
		if len(batch) == remapBatch {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// MappingChanged reports whether the mapping reads the CRM differently
// from how the stored records were mapped at the last sync (fields,
// classification, objects): scores computed now would still see the old
// mapping's records until a sync re-maps them. False before any sync.
func MappingChanged(ctx context.Context, st *store.Store, connection string, m *mapping.Mapping) (bool, error) {
	stored, err := st.State(ctx, connection, stateMappingHash)
	if err != nil {
		return false, err
	}
	return stored != "" && stored != m.Hash(), nil
}
