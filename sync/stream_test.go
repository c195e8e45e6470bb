package sync_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"healthsync/store"
	"healthsync/store/storetest"
	hsync "healthsync/sync"
)

// The planner and the scoring pass read two store streams beside their
// main loop: the writeback ledger (what was last written) and the score
// history (for the trend). A read that fails part-way must fail the step.
// Taken for the end of the stream, a failed ledger read looks like
// "nothing written yet" and plans to rewrite every field of every record
// after the failure; a failed history read silently scores the rest
// without their trend.

// brokenStore is a wbRig whose database a test can also reach raw.
type brokenStore struct {
	*wbRig
	raw     *sql.DB
	backend store.Backend
}

func newBrokenStore(t *testing.T, storeAt func(testing.TB) store.Config) *brokenStore {
	t.Helper()
	if storeAt == nil {
		storeAt = func(tb testing.TB) store.Config {
			return store.Config{DatabaseURL: filepath.Join(tb.TempDir(), "hs.db")}
		}
	}
	var cfg store.Config
	r := newWBRigAt(t, 20, "", time.Now(), nil, func(tb testing.TB) store.Config {
		cfg = storeAt(tb)
		return cfg
	})
	return &brokenStore{wbRig: r, raw: storetest.RawDB(t, cfg), backend: r.st.Backend()}
}

// breakRow makes one row of table unreadable by the store: its column
// holds text where the store scans a number. SQLite stores any value in
// any column; on Postgres the column is made text first (after dropping
// the BI views that read it). The rows before it still read, so the
// stream fails part-way, not at its start.
func (b *brokenStore) breakRow(t *testing.T, table, column, where string, args ...any) {
	t.Helper()
	ctx := context.Background()
	if b.backend == store.Postgres {
		for _, q := range []string{
			"DROP VIEW IF EXISTS bi_accounts, bi_score_history, bi_flags, bi_tasks, bi_sync_runs",
			"ALTER TABLE " + table + " ALTER COLUMN " + column + " TYPE text",
		} {
			if _, err := b.raw.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		where = strings.ReplaceAll(where, "?", "$1")
	}
	res, err := b.raw.ExecContext(ctx, "UPDATE "+table+" SET "+column+" = 'not a number' WHERE "+where, args...)
	if err != nil {
		t.Fatalf("break %s: %v", table, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		t.Fatalf("break %s: no row where %s %v", table, where, args)
	}
}

// middleAccount is the account in the middle of the scored accounts, in
// the order the store streams them.
func (b *brokenStore) middleAccount(t *testing.T) string {
	t.Helper()
	var ids []string
	err := b.st.ForEachLatestScore(context.Background(), "default", func(sc store.Score) error {
		ids = append(ids, sc.AccountID)
		return nil
	})
	if err != nil || len(ids) < 3 {
		t.Fatalf("scored accounts = %v, %v; want at least 3", ids, err)
	}
	return ids[len(ids)/2]
}

// TestPlanFailsWhenTheLedgerCannotBeRead: after an apply, the ledger row
// of the middle account cannot be read. The plan fails, saying it could
// not read what was written, instead of planning to rewrite the fields of
// every account after that row.
func TestPlanFailsWhenTheLedgerCannotBeRead(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, storeAt func(testing.TB) store.Config) {
		b := newBrokenStore(t, storeAt)
		b.syncAndScore(t)
		b.planApply(t, false)
		b.assertEmptyPlan(t)
		b.breakRow(t, "writeback_ledger", "written_at", "record_id = ?", b.middleAccount(t))
		p, err := b.wb(hsync.ApplyHooks{}).Plan(context.Background(), b.c)
		if err == nil {
			t.Fatalf("plan over an unreadable ledger succeeded with %d updates, %d creates; want an error", len(p.Updates), len(p.Creates))
		}
		if !strings.Contains(err.Error(), "read what healthsync last wrote") {
			t.Fatalf("plan error = %v, want it to say the ledger could not be read", err)
		}
	})
}

// TestScoreAllFailsWhenTheHistoryCannotBeRead: the stored score of the
// middle account cannot be read. The next day's scoring pass fails, saying
// it could not read the history, instead of scoring the accounts after
// that row without their trend.
func TestScoreAllFailsWhenTheHistoryCannotBeRead(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, storeAt func(testing.TB) store.Config) {
		b := newBrokenStore(t, storeAt)
		b.syncAndScore(t)
		b.breakRow(t, "scores", "trend", "account_id = ?", b.middleAccount(t))
		ctx := context.Background()
		_, err := b.scorer(time.Now().Add(24 * time.Hour)).ScoreAll(ctx)
		if err == nil {
			t.Fatal("scoring over an unreadable score history succeeded; want an error")
		}
		if !strings.Contains(err.Error(), "read score history") {
			t.Fatalf("score error = %v, want it to say the history could not be read", err)
		}
	})
}
