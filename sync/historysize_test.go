package sync_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"healthsync/store"
	"healthsync/store/storetest"
	hsync "healthsync/sync"
)

// TestFieldHistoryStaysSmall runs 30 daily syncs on a generated org (with
// its CRM field history backfilled) in which 1% of the accounts and 1% of
// the opportunities change every history field each day, and checks that
// the field history stays under twice the size of one copy of the mapped
// fields (issue 20's budget). Sizes are logical bytes: every column of
// every history row counted twice (the table and its account index both
// hold them), against the canonical account and opportunity rows. The
// ratio does not depend on the org's size: both sides grow with the number
// of records. HEALTHSYNC_HISTORY_SIZE_ACCOUNTS=100000 runs it on the
// benchmark's size (about ten minutes per store without -race).
func TestFieldHistoryStaysSmall(t *testing.T) {
	t.Parallel()
	orgSize := 200
	if v := os.Getenv("HEALTHSYNC_HISTORY_SIZE_ACCOUNTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 100 {
			t.Fatalf("HEALTHSYNC_HISTORY_SIZE_ACCOUNTS=%q: want a number of accounts, at least 100", v)
		}
		orgSize = n
	}
	eachStore(t, func(t *testing.T, storeAt func(testing.TB) store.Config) {
		ctx := context.Background()
		r := newWBRigAt(t, orgSize, "", time.Now(), nil, storeAt)
		engine := hsync.NewEngine(hsync.EngineOptions{Store: r.st, Source: r.c, Mapping: r.m, Config: r.cfg})
		db := storetest.RawDB(t, r.storeCfg)
		size := func() (history, mapped int64, rows int) {
			t.Helper()
			q := `SELECT COUNT(*), COALESCE(SUM(2 * (LENGTH(connection) + LENGTH(entity) + LENGTH(record_id) + LENGTH(field) + 8 + LENGTH(account_id) + LENGTH(CAST(value AS TEXT)))), 0) FROM field_history`
			if err := db.QueryRowContext(ctx, q).Scan(&rows, &history); err != nil {
				t.Fatal(err)
			}
			q = `SELECT (SELECT COALESCE(SUM(LENGTH(CAST(data AS TEXT))), 0) FROM accounts) + (SELECT COALESCE(SUM(LENGTH(CAST(data AS TEXT))), 0) FROM opportunities)`
			if err := db.QueryRowContext(ctx, q).Scan(&mapped); err != nil {
				t.Fatal(err)
			}
			return history, mapped, rows
		}
		if _, err := engine.Sync(ctx, hsync.SyncOptions{}); err != nil {
			t.Fatal(err)
		}
		backfill, _, backfillRows := size()
		if backfillRows == 0 {
			t.Fatal("the first sync backfilled no field history")
		}
		accounts, opps := r.em.IDs("Account", false), r.em.IDs("Opportunity", false)
		sentiments := []string{"Red", "Yellow", "Green"}
		for d := 0; d < 30; d++ {
			for i := d % 100; i < len(accounts); i += 100 {
				for f, v := range map[string]any{"Adoption__c": float64((i + d) % 100), "ARR__c": float64(1000 * (i + d + 1)),
					"CSM_Sentiment__c": sentiments[(i+d)%3], "NPS__c": float64((i + d) % 11),
					"Renewal_Date__c": time.Now().AddDate(0, 1, d).Format(time.DateOnly)} {
					if err := r.em.SetField("Account", accounts[i], f, v); err != nil {
						t.Fatalf("day %d: set %s: %v", d+1, f, err)
					}
				}
			}
			for i := d % 100; i < len(opps); i += 100 {
				for f, v := range map[string]any{"Amount": float64(500 * (i + d + 1)), "CloseDate": time.Now().AddDate(0, 2, d).Format(time.DateOnly)} {
					if err := r.em.SetField("Opportunity", opps[i], f, v); err != nil {
						t.Fatalf("day %d: set %s: %v", d+1, f, err)
					}
				}
			}
			if _, err := engine.Sync(ctx, hsync.SyncOptions{}); err != nil {
				t.Fatalf("day %d: sync: %v", d+1, err)
			}
		}
		history, mapped, rows := size()
		if rows <= backfillRows {
			t.Fatalf("30 days of changes added no history rows (%d before, %d after)", backfillRows, rows)
		}
		if mapped == 0 {
			t.Fatal("no mapped fields measured")
		}
		// The benchmark org has no CRM field history: its history tables
		// hold the 30 days' changes alone. The generated demo org's
		// backfill (years of monthly moves) is logged beside it.
		growth := float64(history-backfill) / float64(mapped)
		t.Logf("field history %d rows, %d bytes (backfill %d rows, %d bytes); one copy of the mapped fields %d bytes; 30 days of 1%% change %.2f×, with the backfill %.2f×",
			rows, history, backfillRows, backfill, mapped, growth, float64(history)/float64(mapped))
		if growth >= 2 {
			t.Errorf("30 days of 1%% change grew the field history by %.2f× one copy of the mapped fields, want under 2×", growth)
		}
	})
}
