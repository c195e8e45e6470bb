package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"healthsync/store"
	"healthsync/store/storetest"
)

// TestSQLiteWALBounded: commits do not checkpoint (wal_autocheckpoint=0
// on every connection), the store's checkpointer does it after them, and
// a writer that commits without pause still cannot grow the WAL past the
// forced-checkpoint bound plus one transaction. Without the checkpointer
// the WAL would hold every page written (30 MiB here).
func TestSQLiteWALBounded(t *testing.T) {
	defer store.SetWALForceBytes(4 << 20)()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hs.db")
	s := storetest.Open(t, store.Config{DatabaseURL: path, EncryptionKey: storetest.Key}, store.Options{})
	db := store.DBOf(s)
	var auto int
	if err := db.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&auto); err != nil {
		t.Fatal(err)
	}
	if auto != 0 {
		t.Fatalf("wal_autocheckpoint = %d on a store connection, want 0: commits must not checkpoint", auto)
	}
	filler := `{"Description":"` + strings.Repeat("x", 900) + `"}`
	var largest int64
	const txs, perTx = 60, 512 // ~0.5 MiB of raw JSON per transaction, 30 MiB in all
	for i := range txs {
		err := s.InTx(ctx, func(tx *store.Tx) error {
			b := tx.Batch("c")
			for j := range perTx {
				b.UpsertRaw(store.RawRecord{Object: "Task", ID: fmt.Sprintf("00T%06d%06d", i, j), ModifiedAt: time.Now(), Raw: []byte(filler)})
			}
			return b.Flush(ctx)
		})
		if err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > largest {
			largest = fi.Size()
		}
	}
	// The bound: 4 MiB before a forced checkpoint, one transaction
	// (~0.6 MiB with its index pages) while it waits, and slack for the
	// passive checkpoints' timing.
	if limit := int64(12 << 20); largest > limit {
		t.Errorf("the WAL grew to %d MiB while 30 MiB were written; want at most %d MiB", largest>>20, limit>>20)
	}
	runs, _ := store.CheckpointCounts(s)
	if runs == 0 {
		t.Error("the checkpointer never ran")
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM raw_records").Scan(&n); err != nil || n != txs*perTx {
		t.Fatalf("raw records: %d, %v; want %d", n, err, txs*perTx)
	}
	t.Logf("largest WAL %.1f MiB, %d checkpoints", float64(largest)/(1<<20), runs)
}

// TestSQLiteCommitsWithAReaderOpen: a reader that stays open while the
// same store commits (scoring streams the accounts while it commits their
// scores) never makes a commit wait for it, however long the WAL grows.
// The committer's checkpoint past walForceBytes was a RESTART, which
// waits for readers: every commit then waited out the busy timeout (10 s),
// and a 100,000-account score never ended.
func TestSQLiteCommitsWithAReaderOpen(t *testing.T) {
	defer store.SetWALForceBytes(400 << 10)()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hs.db")
	s := storetest.Open(t, store.Config{DatabaseURL: path, EncryptionKey: storetest.Key}, store.Options{})
	filler := `{"Description":"` + strings.Repeat("x", 900) + `"}`
	write := func(i int) error {
		return s.InTx(ctx, func(tx *store.Tx) error {
			b := tx.Batch("c")
			for j := range 512 {
				b.UpsertRaw(store.RawRecord{Object: "Task", ID: fmt.Sprintf("00T%06d%06d", i, j), ModifiedAt: time.Now(), Raw: []byte(filler)})
			}
			return b.Flush(ctx)
		})
	}
	if err := write(0); err != nil {
		t.Fatal(err)
	}
	rows, err := store.DBOf(s).QueryContext(ctx, "SELECT id FROM raw_records")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if !rows.Next() { // the reader now holds its snapshot
		t.Fatal("no row to read")
	}
	const commits = 20 // each ~0.6 MiB: well past 400 KiB of WAL
	done := make(chan error, 1)
	go func() {
		for i := 1; i <= commits; i++ {
			if err := write(i); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Minute): // the old checkpoint: 20 × the 10 s busy timeout
		t.Fatal("commits with a reader open did not end: the committer's checkpoint waits for the reader")
	}
	if _, forced := store.CheckpointCounts(s); forced == 0 {
		t.Error("no commit ran its own checkpoint: the test did not pass walForceBytes")
	}
}

// TestSQLiteCheckpointsAfterABurst: commits do not each run a checkpoint
// (a sync's commits rewrite the same pages, and copying them after every
// commit cost a tenth of its CPU), yet the WAL a short burst of commits
// leaves is copied into the database file soon after the burst, without
// waiting for more commits or for the store to close.
func TestSQLiteCheckpointsAfterABurst(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t, store.Config{DatabaseURL: filepath.Join(t.TempDir(), "hs.db"), EncryptionKey: storetest.Key}, store.Options{})
	for i := range 3 {
		err := s.InTx(ctx, func(tx *store.Tx) error {
			b := tx.Batch("c")
			b.UpsertRaw(store.RawRecord{Object: "Task", ID: fmt.Sprintf("00T%015d", i), ModifiedAt: time.Now(), Raw: []byte(`{}`)})
			return b.Flush(ctx)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if runs, _ := store.CheckpointCounts(s); runs != 0 {
		t.Errorf("%d checkpoints after 3 commits; want none until the burst ends", runs)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if runs, _ := store.CheckpointCounts(s); runs > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the WAL of a burst of 3 commits was not checkpointed 10 s after it")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSQLitePageSize: a new file gets 16 KiB pages and WAL mode; a file
// an earlier version made with 4 KiB pages keeps them and works as before.
func TestSQLitePageSize(t *testing.T) {
	ctx := context.Background()
	pageSize := func(s *store.Store) (int, string) {
		t.Helper()
		var page int
		var mode string
		db := store.DBOf(s)
		if err := db.QueryRowContext(ctx, "PRAGMA page_size").Scan(&page); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		return page, mode
	}
	fresh := filepath.Join(t.TempDir(), "hs.db")
	s := storetest.Open(t, store.Config{DatabaseURL: fresh, EncryptionKey: storetest.Key}, store.Options{})
	if page, mode := pageSize(s); page != 16384 || mode != "wal" {
		t.Errorf("new file: page_size %d, journal_mode %s; want 16384, wal", page, mode)
	}

	// An older file: made with 4 KiB pages before the store opens it.
	old := filepath.Join(t.TempDir(), "old.db")
	raw, err := sql.Open("sqlite", "file:"+old+"?_pragma=page_size(4096)&_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.PingContext(ctx); err != nil { // WAL mode fixes the page size
		t.Fatal(err)
	}
	raw.Close()
	s = storetest.Open(t, store.Config{DatabaseURL: old, EncryptionKey: storetest.Key}, store.Options{})
	if page, mode := pageSize(s); page != 4096 || mode != "wal" {
		t.Errorf("older file: page_size %d, journal_mode %s; want 4096 kept, wal", page, mode)
	}
	if err := s.InTx(ctx, func(tx *store.Tx) error {
		return tx.UpsertRaw(ctx, "c", store.RawRecord{Object: "Account", ID: "001A", ModifiedAt: time.Now(), Raw: []byte(`{"Id":"001A"}`)})
	}); err != nil {
		t.Fatalf("write to the 4 KiB file: %v", err)
	}
}
