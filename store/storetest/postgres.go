package storetest

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver for the admin connection

	"healthsync/store"
)

// PostgresURLVar names the variable that enables the Postgres tests.
const PostgresURLVar = "HEALTHSYNC_TEST_DATABASE_URL"

// FreshPostgres gives the test its own schema in the database named by
// HEALTHSYNC_TEST_DATABASE_URL and drops it when the test ends. Without
// the variable the test is skipped with a message saying how to run it.
func FreshPostgres(t *testing.T) store.Config { return PostgresConfig(t) }

// PostgresConfig is FreshPostgres for any test or benchmark.
func PostgresConfig(t testing.TB) store.Config {
	t.Helper()
	base := os.Getenv(PostgresURLVar)
	if base == "" {
		t.Skip("Postgres test SKIPPED: set " + PostgresURLVar + "=postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run it")
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "hs_test_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		admin.Close()
		t.Fatalf("create test schema: %v", err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return store.Config{DatabaseURL: u.String(), EncryptionKey: Key}
}
