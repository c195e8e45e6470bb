package store_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"healthsync/store"
	"healthsync/store/storetest"
)

// freshPostgres gives each test its own schema (see storetest.FreshPostgres).
func freshPostgres(t *testing.T) store.Config { return storetest.FreshPostgres(t) }

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
	if _, err := store.DBOf(s).Exec("CREATE TABLE invoices (id int)"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Migrate(ctx); !errors.Is(err, store.ErrForeignDatabase) {
		t.Fatalf("migrate a schema with foreign tables: %v", err)
	}
	store.DBOf(s).Exec("DROP TABLE invoices")
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	store.DBOf(s).Exec("UPDATE schema_migrations SET version = 999")
	if _, err := s.Migrate(ctx); !errors.Is(err, store.ErrNewerSchema) {
		t.Fatalf("migrate newer: %v", err)
	}
}

// TestPostgresAsyncCommitIsTheTransactions: AsyncCommit lets its own
// transaction's commit skip the flush to disk (the apply's ledger), and no
// other: the next transaction on the store waits for the disk again.
func TestPostgresAsyncCommitIsTheTransactions(t *testing.T) {
	t.Parallel()
	if os.Getenv("HEALTHSYNC_TEST_DATABASE_URL") == "" {
		t.Skip("Postgres suite SKIPPED: set HEALTHSYNC_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run it")
	}
	ctx := context.Background()
	s := storetest.Open(t, freshPostgres(t), store.Options{})
	setting := func(tx *store.Tx) string {
		var v string
		if err := store.SQLTxOf(tx).QueryRowContext(ctx, "SHOW synchronous_commit").Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	err := s.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.AsyncCommit(ctx); err != nil {
			return err
		}
		if v := setting(tx); v != "off" {
			t.Errorf("synchronous_commit = %q after AsyncCommit, want off", v)
		}
		return tx.RecordWrites(ctx, "c", []store.LedgerEntry{{Object: "Account", RecordID: "001", Field: "Health_Score__c", Value: "71", WrittenAt: time.Now()}})
	})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 { // the pool's connections: none keeps the setting
		err = s.InTx(ctx, func(tx *store.Tx) error {
			if v := setting(tx); v != "on" {
				t.Errorf("synchronous_commit = %q in a later transaction, want on", v)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := s.ForEachLedger(ctx, "c", "Account", func(store.LedgerEntry) error { n++; return nil }); err != nil || n != 1 {
		t.Fatalf("ledger entries after the async commit: %d (%v), want 1", n, err)
	}
}
