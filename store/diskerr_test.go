package store

import (
	"errors"
	"strings"
	"testing"

	sqlite3 "modernc.org/sqlite/lib"
)

// TestDiskError words the result codes modernc's SQLite gives a failed
// write, as the real ones read: SQLITE_FULL when write(2) found no space,
// an SQLITE_IOERR code when the kernel refused otherwise or a -shm file
// could not grow, which is a full disk too when the file system has no
// space left. (A real SQLITE_FULL goes through the store in
// TestSQLiteFullStoreNamed, real ones from a full tmpfs and a file-size
// limit through the binary in cmd/healthsync.)
func TestDiskError(t *testing.T) {
	t.Parallel()
	const path = "/data/hs.db"
	tests := []struct {
		name      string
		code      int
		msg       string
		free      uint64
		freeKnown bool
		want      error
		words     []string
	}{
		{"full", sqlite3.SQLITE_FULL, "database or disk is full (13)", 0, true, ErrDiskFull,
			[]string{"the disk holding /data/hs.db is full", "(13)", "Nothing committed was lost"}},
		{"full, free space unknown", sqlite3.SQLITE_FULL, "database or disk is full (13)", 0, false, ErrDiskFull,
			[]string{"the disk holding /data/hs.db is full"}},
		{"write failed on a full disk", sqlite3.SQLITE_IOERR_WRITE, "disk I/O error (778)", 4096, true, ErrDiskFull,
			[]string{"the disk holding /data/hs.db is full", "disk I/O error (778)", "Nothing committed was lost"}},
		{"shm could not grow on a full disk", sqlite3.SQLITE_IOERR_SHMSIZE, "disk I/O error (4874)", 0, true, ErrDiskFull,
			[]string{"is full", "(4874)"}},
		{"write failed with space left", sqlite3.SQLITE_IOERR_WRITE, "disk I/O error (778)", 50 << 30, true, ErrDiskIO,
			[]string{"reading or writing /data/hs.db failed", "disk I/O error (778)", "quota or file-size limit", "Nothing committed was lost"}},
		{"fsync failed, free space unknown", sqlite3.SQLITE_IOERR_FSYNC, "disk I/O error (1034)", 0, false, ErrDiskIO,
			[]string{"reading or writing /data/hs.db failed", "(1034)"}},
		{"plain I/O error", sqlite3.SQLITE_IOERR, "disk I/O error (10)", 50 << 30, true, ErrDiskIO, []string{"failed"}},
	}
	for _, tt := range tests {
		orig := errors.New(tt.msg)
		got := diskError(orig, tt.code, path, tt.free, tt.freeKnown)
		if !errors.Is(got, tt.want) || !errors.Is(got, orig) {
			t.Errorf("%s: %v, want %v wrapping the SQLite error", tt.name, got, tt.want)
			continue
		}
		for _, w := range tt.words {
			if !strings.Contains(got.Error(), w) {
				t.Errorf("%s: %q lacks %q", tt.name, got, w)
			}
		}
	}
	// Other errors are not the disk's.
	for _, code := range []int{sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_BUSY, sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_CANTOPEN} {
		orig := errors.New("other")
		if got := diskError(orig, code, path, 0, true); got != orig {
			t.Errorf("code %d: %v, want the error unchanged", code, got)
		}
	}
}
