package store

import (
	"context"
	"fmt"
	"time"
)

// MarkPulled records that object was pulled completely — every change the
// CRM had committed when the pull started is stored — by a pull that
// started at startedAt. The sync lag counts from the newest such time.
func (t *Tx) MarkPulled(ctx context.Context, connection, object string, startedAt time.Time) error {
	err := t.exec(ctx, `INSERT INTO object_pulls (connection, object, pulled_at) VALUES (?, ?, ?)
		ON CONFLICT (connection, object) DO UPDATE SET pulled_at = excluded.pulled_at`, connection, object, ms(startedAt))
	if err != nil {
		return fmt.Errorf("record the pull of %s: %w", object, err)
	}
	return nil
}

// LastPulls returns, by object, when the last complete pull of each object
// of connection started. An object never pulled completely is absent.
func (s *Store) LastPulls(ctx context.Context, connection string) (map[string]time.Time, error) {
	rows, err := s.query(ctx, `SELECT object, pulled_at FROM object_pulls WHERE connection = ?`, connection)
	if err != nil {
		return nil, fmt.Errorf("read last pulls: %w", err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var (
			obj string
			at  int64
		)
		if err := rows.Scan(&obj, &at); err != nil {
			return nil, fmt.Errorf("read last pulls: %w", err)
		}
		out[obj] = fromMs(at)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read last pulls: %w", err)
	}
	return out, nil
}
