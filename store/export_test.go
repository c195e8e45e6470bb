package store

import "database/sql"

// DBOf is the store's own connection pool, for this package's tests that
// must change a setting of the connections the store writes through (a
// page limit standing in for a full disk) or run SQL beside its API.
// Tests of other packages use storetest.RawDB.
func DBOf(s *Store) *sql.DB { return s.db }

// SetWALForceBytes lowers the WAL length past which a committer runs the
// checkpoint itself, so a test need not write 64 MiB; it returns the
// function that restores it.
func SetWALForceBytes(n int64) (restore func()) {
	old := walForceBytes
	walForceBytes = n
	return func() { walForceBytes = old }
}

// CheckpointCounts reports the checkpoints the store's checkpointer ran
// and how many of them waited for a full one (0, 0 on Postgres).
func CheckpointCounts(s *Store) (runs, forced int) {
	if s.ckpt == nil {
		return 0, 0
	}
	return s.ckpt.counts()
}

// SQLTxOf is a store transaction's own database transaction, for tests
// that read a setting inside it.
func SQLTxOf(t *Tx) *sql.Tx { return t.tx }
