package store

import "database/sql"

// DBOf is the store's own connection pool, for this package's tests that
// must change a setting of the connections the store writes through (a
// page limit standing in for a full disk) or run SQL beside its API.
// Tests of other packages use storetest.RawDB.
func DBOf(s *Store) *sql.DB { return s.db }
