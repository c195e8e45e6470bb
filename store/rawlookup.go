package store

import (
	"context"
	"fmt"
	"strings"
)

// RawRecords returns the stored raw records of object with the given IDs
// (deleted ones flagged), by ID; IDs not stored are absent. It reads
// outside any transaction, in chunks of 500 IDs, so a connector can
// compare what it reads with what is stored (HubSpot activity
// associations) without holding a write transaction open; Tx.RawRecords
// is the same lookup inside one.
func (s *Store) RawRecords(ctx context.Context, connection, object string, ids []string) (map[string]RawRecord, error) {
	const chunk = 500
	out := make(map[string]RawRecord, len(ids))
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		args := append([]any{connection, object}, toAny(part)...)
		rows, err := s.query(ctx, `SELECT id, modified_at, deleted, raw FROM raw_records WHERE connection = ? AND object = ? AND id IN (?`+
			strings.Repeat(", ?", len(part)-1)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("read stored %s: %w", object, err)
		}
		for rows.Next() {
			r := RawRecord{Object: object}
			var (
				mod int64
				raw string
			)
			if err := rows.Scan(&r.ID, &mod, &r.Deleted, &raw); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read stored %s: %w", object, err)
			}
			r.ModifiedAt, r.Raw = fromMs(mod), []byte(raw)
			out[r.ID] = r
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("read stored %s: %w", object, err)
		}
	}
	return out, nil
}
