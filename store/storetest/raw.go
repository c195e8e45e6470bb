package storetest

import (
	"database/sql"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
	_ "modernc.org/sqlite"             // the "sqlite" driver

	"healthsync/store"
)

// RawDB opens a second connection on the database cfg names (the SQLite
// file, or the Postgres schema of FreshPostgres) for a test that must
// reach under the store's API: move a lease's expiry (the database's
// clock, which a test cannot set), look at how a token is sealed, run a
// migration file by hand, or break a table to see an error surface. The
// store itself offers no such handle. The connection is closed when t
// ends, before the schema FreshPostgres made is dropped.
//
// A raw SQLite connection works beside a store that holds the file: the
// store's single-process lock is a flock(2) on the file, which SQLite's
// own (POSIX) locks do not interact with.
func RawDB(t testing.TB, cfg store.Config) *sql.DB {
	t.Helper()
	loc, err := cfg.Location()
	if err != nil {
		t.Fatalf("raw database: %v", err)
	}
	var db *sql.DB
	switch loc.Backend {
	case store.Postgres:
		db, err = sql.Open("pgx", loc.DSN)
	default:
		path := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(loc.Path)
		db, err = sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	}
	if err != nil {
		t.Fatalf("raw database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
