package store

import (
	"context"
	"fmt"
	"time"
)

// Lease is who holds a connection's lease, and until when.
type Lease struct {
	Connection string
	Holder     string
	ExpiresAt  time.Time
}

// AcquireLease takes or renews the lease of a connection for holder for
// ttl from now. It succeeds when nobody holds the lease, holder already
// holds it, or the previous holder's lease expired (a dead replica). It
// reports whether holder now holds the lease. The check and the write are
// one statement, so two replicas never both succeed.
//
// "Now" is the database's clock, never the caller's: replicas whose
// clocks disagree still agree on when a lease expires, so a replica whose
// clock runs ahead cannot take a live lease, and one whose clock runs
// behind cannot write a lease that others see as already expired.
func (s *Store) AcquireLease(ctx context.Context, connection, holder string, ttl time.Duration) (bool, error) {
	now := s.nowMsSQL()
	var got string
	err := s.queryRow(ctx, `INSERT INTO leases (connection, holder, expires_at) VALUES (?, ?, `+now+` + ?)
		ON CONFLICT (connection) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE leases.holder = excluded.holder OR leases.expires_at < `+now+`
		RETURNING holder`, connection, holder, ttl.Milliseconds()).Scan(&got)
	switch {
	case notFound(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("acquire lease of %s: %w", connection, s.fault(err))
	}
	return got == holder, nil
}

// nowMsSQL is the database's current time in epoch milliseconds, as SQL.
func (s *Store) nowMsSQL() string {
	if s.loc.Backend == Postgres {
		return "(extract(epoch FROM now()) * 1000)::bigint"
	}
	return "CAST(unixepoch('subsec') * 1000 AS INTEGER)"
}

// ReleaseLease gives up holder's lease so another replica can take it at
// once. Releasing a lease one does not hold does nothing.
func (s *Store) ReleaseLease(ctx context.Context, connection, holder string) error {
	if err := s.exec(ctx, `DELETE FROM leases WHERE connection = ? AND holder = ?`, connection, holder); err != nil {
		return fmt.Errorf("release lease of %s: %w", connection, err)
	}
	return nil
}

// LeaseOf returns the current lease of a connection, or ErrNotFound.
func (s *Store) LeaseOf(ctx context.Context, connection string) (Lease, error) {
	l := Lease{Connection: connection}
	var exp int64
	err := s.queryRow(ctx, `SELECT holder, expires_at FROM leases WHERE connection = ?`, connection).Scan(&l.Holder, &exp)
	switch {
	case notFound(err):
		return Lease{}, fmt.Errorf("lease of %s: %w", connection, ErrNotFound)
	case err != nil:
		return Lease{}, fmt.Errorf("read lease of %s: %w", connection, err)
	}
	l.ExpiresAt = fromMs(exp)
	return l, nil
}
