package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"healthsync/store"
	"healthsync/store/storetest"
)

// TestSQLiteFilesPrivate: under the common umask 022, which leaves new
// files readable by everyone, the database, its -wal and -shm, and the
// generated key file are created 0600. It sets the process umask, so it
// does not run in parallel (parallel tests start only after it ends).
func TestSQLiteFilesPrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	ctx := context.Background()
	for _, shared := range []bool{false, true} {
		t.Run(fmt.Sprintf("shared=%v", shared), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "hs.db")
			s, err := store.Open(ctx, store.Config{DatabaseURL: path}, store.Options{Shared: shared})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if _, err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			// A write, with the store still open: SQLite keeps the -wal
			// and -shm files while a connection is open.
			if err := s.SaveToken(ctx, "c", []byte("tok")); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{path, path + "-wal", path + "-shm", filepath.Join(dir, "healthsync.key")} {
				fi, err := os.Stat(p)
				if err != nil {
					t.Fatalf("%s: %v", filepath.Base(p), err)
				}
				if fi.Mode().Perm() != 0o600 {
					t.Errorf("%s created with mode %04o under umask 022, want 0600", filepath.Base(p), fi.Mode().Perm())
				}
			}
			if w := s.Warnings(); len(w) != 0 {
				t.Errorf("warnings about a private file: %q", w)
			}
		})
	}
}

// TestSQLiteWideFileWarned: an existing database others can read is
// reported with the chmod that fixes it, and left as it is.
func TestSQLiteWideFileWarned(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "my data", "hs.db") // a path the chmod must quote
	cfg := store.Config{DatabaseURL: path, EncryptionKey: storetest.Key}
	storetest.Open(t, cfg, store.Options{}).Close()
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, shared := range []bool{false, true} {
		s, err := store.Open(ctx, cfg, store.Options{Shared: shared})
		if err != nil {
			t.Fatal(err)
		}
		w := s.Warnings()
		s.Close()
		if len(w) != 1 {
			t.Fatalf("shared=%v: warnings = %q, want one", shared, w)
		}
		for _, want := range []string{path, "mode 0644", "CRM records", "chmod 600 '" + path + "'"} {
			if !strings.Contains(w[0], want) {
				t.Errorf("shared=%v: warning %q lacks %q", shared, w[0], want)
			}
		}
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("the wide file was changed: %v, %v (the operator decides)", fi.Mode(), err)
	}
}

// TestSQLiteDirectory: a directory given as the database names itself as
// one and says what to give instead, creating nothing in it.
func TestSQLiteDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, url := range []string{dir, "sqlite://" + dir} {
		for _, shared := range []bool{false, true} {
			_, err := store.Open(context.Background(), store.Config{DatabaseURL: url}, store.Options{Shared: shared})
			if !errors.Is(err, store.ErrDirectory) {
				t.Fatalf("open %s: %v, want ErrDirectory", url, err)
			}
			for _, want := range []string{"HEALTHSYNC_DATABASE_URL", dir + ", which is a directory", filepath.Join(dir, "healthsync.db")} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("open %s: %q lacks %q", url, err, want)
				}
			}
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("opening a directory as the database created %s in it", entries[0].Name())
	}
}

// lockHelperVar makes the test binary, run again as a child, try to open
// the database it names and report the outcome.
const lockHelperVar = "HEALTHSYNC_TEST_LOCK_HELPER"

func TestMain(m *testing.M) {
	if path := os.Getenv(lockHelperVar); path != "" {
		// "shared:PATH" opens as the read-only commands do and reads the
		// token the holder saved.
		path, shared := strings.CutPrefix(path, "shared:")
		s, err := store.Open(context.Background(), store.Config{DatabaseURL: path, EncryptionKey: storetest.Key}, store.Options{Shared: shared})
		switch {
		case errors.Is(err, store.ErrLocked):
			fmt.Print("locked")
		case err != nil:
			fmt.Print("error: ", err)
		case shared:
			tok, err := s.LoadToken(context.Background(), "c")
			s.Close()
			fmt.Printf("read %q %v", tok, err)
		default:
			s.Close()
			fmt.Print("opened")
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// openInChild opens the database in another process, as a second
// healthsync would, and returns what happened.
func openInChild(t *testing.T, path string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), lockHelperVar+"="+path)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	return string(out)
}

// TestSQLiteLockSurvivesLockFileDeletion: the single-process lock is on
// the database file itself, so deleting the .lock file beside it while a
// holder runs lets no second process in; once the holder closes, the next
// one gets in.
func TestSQLiteLockSurvivesLockFileDeletion(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hs.db")
	holder := storetest.Open(t, store.Config{DatabaseURL: path, EncryptionKey: storetest.Key}, store.Options{})
	if got := openInChild(t, path); got != "locked" {
		t.Fatalf("second process beside the holder: %s, want locked", got)
	}
	if err := os.Remove(path + ".lock"); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	if got := openInChild(t, path); got != "locked" {
		t.Fatalf("second process after the .lock file was deleted: %s, want locked", got)
	}
	// In this process too, without disturbing the holder.
	if _, err := store.Open(context.Background(), store.Config{DatabaseURL: path, EncryptionKey: storetest.Key}, store.Options{}); !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second open in the holder's process: %v, want ErrLocked", err)
	}
	if err := holder.SaveToken(context.Background(), "c", []byte("tok")); err != nil {
		t.Fatalf("holder after the refused opens: %v", err)
	}
	// A read-only command in another process reads beside the holder: the
	// flock does not block SQLite's own locks.
	if got := openInChild(t, "shared:"+path); got != `read "tok" <nil>` {
		t.Fatalf("shared reader beside the holder: %s", got)
	}
	holder.Close()
	if got := openInChild(t, path); got != "opened" {
		t.Fatalf("next process after the holder closed: %s, want opened", got)
	}
}

// TestSQLiteFullStoreNamed: a write SQLite refuses for lack of space (a
// real SQLITE_FULL, from a page limit standing in for a full disk) names
// the file and says nothing committed was lost; what was committed stays.
func TestSQLiteFullStoreNamed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hs.db")
	s := storetest.Open(t, store.Config{DatabaseURL: path, EncryptionKey: storetest.Key}, store.Options{})
	if err := s.SaveToken(ctx, "kept", []byte("committed")); err != nil {
		t.Fatal(err)
	}
	db := store.DBOf(s)
	db.SetMaxOpenConns(1) // the page limit is per connection
	var pages int
	if err := db.QueryRow("PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(fmt.Sprintf("PRAGMA max_page_count = %d", pages)); err != nil {
		t.Fatal(err)
	}
	err := s.InTx(ctx, func(tx *store.Tx) error {
		for i := range 200 {
			if err := tx.UpsertRaw(ctx, "c", store.RawRecord{Object: "Account", ID: fmt.Sprint(i), Raw: []byte(`{"pad":"` + strings.Repeat("x", 2000) + `"}`)}); err != nil {
				return err
			}
		}
		return nil
	})
	if !errors.Is(err, store.ErrDiskFull) {
		t.Fatalf("write past the limit: %v, want ErrDiskFull", err)
	}
	for _, want := range []string{"the disk holding " + path + " is full", "(13)", "Nothing committed was lost"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
	if got, err := s.LoadToken(ctx, "kept"); err != nil || string(got) != "committed" {
		t.Fatalf("committed token after the failed write = %q, %v", got, err)
	}
}
