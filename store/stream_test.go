package store_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"healthsync/crm"
	"healthsync/store"
	"healthsync/store/storetest"
)

// Every streaming read of the store (ForEach…) returns an error when a row
// part-way cannot be read; it never ends as if the stream were complete,
// since its callers would take a short ledger for "nothing written yet"
// and a short history for "no trend".

func TestSQLiteStreamsFailPartWay(t *testing.T) {
	t.Parallel()
	testStreamsFailPartWay(t, freshSQLite)
}

func TestPostgresStreamsFailPartWay(t *testing.T) {
	t.Parallel()
	testStreamsFailPartWay(t, freshPostgres)
}

func testStreamsFailPartWay(t *testing.T, fresh func(*testing.T) store.Config) {
	ctx := context.Background()
	ids := []string{"001A", "001B", "001C"}
	// breakText puts text where the store reads a number, in the row of
	// 001B. SQLite takes any value in any column; on Postgres the column
	// is made text first (after dropping the BI views that read it).
	breakText := func(table, column, key string) func(*testing.T, *store.Store) {
		return func(t *testing.T, s *store.Store) {
			db := store.DBOf(s)
			if s.Backend() == store.Postgres {
				for _, q := range []string{
					"DROP VIEW IF EXISTS bi_accounts, bi_score_history, bi_flags, bi_tasks, bi_sync_runs",
					"ALTER TABLE " + table + " ALTER COLUMN " + column + " TYPE text",
				} {
					if _, err := db.ExecContext(ctx, q); err != nil {
						t.Fatalf("%s: %v", q, err)
					}
				}
			}
			if _, err := db.ExecContext(ctx, "UPDATE "+table+" SET "+column+" = 'not a number' WHERE "+key+" = '001B'"); err != nil {
				t.Fatal(err)
			}
		}
	}
	// breakJSON stores JSON of the wrong shape for 001B's entity, which
	// both backends accept (Postgres keeps entities as jsonb).
	breakJSON := func(table, key string) func(*testing.T, *store.Store) {
		return func(t *testing.T, s *store.Store) {
			if _, err := store.DBOf(s).ExecContext(ctx, "UPDATE "+table+` SET data = '{"ID": 5}' WHERE `+key+" = '001B'"); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name  string
		brk   func(*testing.T, *store.Store)
		read  func(s *store.Store, seen func(id string)) error
		wants string
	}{
		{"ForEachRaw", breakText("raw_records", "modified_at", "id"), func(s *store.Store, seen func(string)) error {
			return s.ForEachRaw(ctx, "sf", "Account", func(r store.RawRecord) error { seen(r.ID); return nil })
		}, "read raw Account"},
		{"ForEachLedger", breakText("writeback_ledger", "written_at", "record_id"), func(s *store.Store, seen func(string)) error {
			return s.ForEachLedger(ctx, "sf", "Account", func(e store.LedgerEntry) error { seen(e.RecordID); return nil })
		}, "read ledger"},
		{"ForEachScore", breakText("scores", "trend", "account_id"), func(s *store.Store, seen func(string)) error {
			return s.ForEachScore(ctx, "sf", func(sc store.Score) error { seen(sc.AccountID); return nil })
		}, "read scores"},
		{"ForEachLatestScore", breakText("scores", "trend", "account_id"), func(s *store.Store, seen func(string)) error {
			return s.ForEachLatestScore(ctx, "sf", func(sc store.Score) error { seen(sc.AccountID); return nil })
		}, "read latest scores"},
		{"ForEachAccount", breakJSON("accounts", "id"), func(s *store.Store, seen func(string)) error {
			return s.ForEachAccount(ctx, "sf", func(b store.Bundle) error { seen(string(b.Account.ID)); return nil })
		}, "decode account"},
		{"ForEachAccount contacts", breakJSON("contacts", "account_id"), func(s *store.Store, seen func(string)) error {
			return s.ForEachAccount(ctx, "sf", func(b store.Bundle) error { seen(string(b.Account.ID)); return nil })
		}, "read contacts of 001B"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := storetest.Open(t, fresh(t), store.Options{})
			err := s.InTx(ctx, func(tx *store.Tx) error {
				for _, id := range ids {
					if err := tx.UpsertRaw(ctx, "sf", store.RawRecord{Object: "Account", ID: id, ModifiedAt: viewT0, Raw: []byte(`{}`)}); err != nil {
						return err
					}
					if err := tx.UpsertAccount(ctx, "sf", crm.Account{ID: crm.AccountID(id), Name: id, ModifiedAt: viewT0}); err != nil {
						return err
					}
					if err := tx.UpsertContact(ctx, "sf", crm.Contact{ID: crm.ContactID("003" + id), AccountID: crm.AccountID(id), ModifiedAt: viewT0}); err != nil {
						return err
					}
					if err := tx.RecordWrite(ctx, "sf", store.LedgerEntry{Object: "Account", RecordID: id, Field: "Health_Score__c", Value: "50", WrittenAt: viewT0}); err != nil {
						return err
					}
					if err := tx.PutScore(ctx, "sf", store.Score{AccountID: id, ScoredAt: viewT0, Score: ptr(50), Trend: ptr(1)}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			tt.brk(t, s)
			var seen []string
			err = tt.read(s, func(id string) { seen = append(seen, id) })
			if err == nil || !strings.Contains(err.Error(), tt.wants) {
				t.Fatalf("%s over a broken row of 001B = %v (after %v), want an error saying %q", tt.name, err, seen, tt.wants)
			}
			if !slices.Equal(seen, []string{"001A"}) {
				t.Errorf("%s gave %v before failing, want the rows before the broken one: [001A]", tt.name, seen)
			}
		})
	}
}
