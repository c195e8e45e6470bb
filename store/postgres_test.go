package store_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"healthsync/store"
	"healthsync/store/storetest"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// freshPostgres gives each test its own schema in the database named by
// HEALTHSYNC_TEST_DATABASE_URL and drops it afterwards.
func freshPostgres(t *testing.T) store.Config {
	t.Helper()
	base := os.Getenv("HEALTHSYNC_TEST_DATABASE_URL")
	if base == "" {
		t.Skip("Postgres suite SKIPPED: set HEALTHSYNC_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run it")
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
	return store.Config{DatabaseURL: u.String(), EncryptionKey: storetest.Key}
}

func TestPostgresConformance(t *testing.T) {
	t.Parallel()
	if os.Getenv("HEALTHSYNC_TEST_DATABASE_URL") == "" {
		t.Skip("Postgres suite SKIPPED: set HEALTHSYNC_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run it")
	}
	storetest.Run(t, freshPostgres)
}

func TestPostgresUnreachable(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := store.Open(ctx, store.Config{DatabaseURL: "postgres://bob:hunter2@127.0.0.1:1/x?sslmode=disable&connect_timeout=5"}, store.Options{})
	if err == nil || !strings.Contains(err.Error(), "HEALTHSYNC_DATABASE_URL") || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("open unreachable: %v, want a message naming the variable and no password", err)
	}
}

func TestPostgresForeignAndNewer(t *testing.T) {
	t.Parallel()
	cfg := freshPostgres(t)
	ctx := context.Background()
	s, err := store.Open(ctx, cfg, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.DB().Exec("CREATE TABLE invoices (id int)"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Migrate(ctx); !errors.Is(err, store.ErrForeignDatabase) {
		t.Fatalf("migrate a schema with foreign tables: %v", err)
	}
	s.DB().Exec("DROP TABLE invoices")
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	s.DB().Exec("UPDATE schema_migrations SET version = 999")
	if _, err := s.Migrate(ctx); !errors.Is(err, store.ErrNewerSchema) {
		t.Fatalf("migrate newer: %v", err)
	}
}
