package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"syscall"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// fullBelow is the free space under which a failed write is put down to a
// full disk: SQLite writes pages of 4 KiB, a WAL frame at a time.
const fullBelow = 1 << 20

// fault names the cause of a SQLite error an operator can act on — a full
// disk, a failed read or write — with the file and what became of the
// data. Any other error, and every Postgres error, comes back unchanged.
func (s *Store) fault(err error) error {
	if err == nil || s.loc.Backend != SQLite || errors.Is(err, ErrDiskFull) || errors.Is(err, ErrDiskIO) {
		return err
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	free, known := freeSpace(filepath.Dir(s.loc.Path))
	return diskError(err, se.Code(), s.loc.Path, free, known)
}

// diskError words a SQLite error of result code code that happened on the
// database at path, whose file system had free bytes left (when known).
// SQLite reports a write that found no space as SQLITE_FULL (13), but a
// write the kernel refused otherwise (a quota, a file-size limit, EIO), a
// -shm file it could not grow, or a failed fsync as one of the
// SQLITE_IOERR codes (10 and its extended codes, such as 778, a failed
// write): those too are a full disk when the file system has no space left.
func diskError(err error, code int, path string, free uint64, freeKnown bool) error {
	ioErr := code&0xff == sqlite3.SQLITE_IOERR
	const kept = "Nothing committed was lost: SQLite rolls back what was being written, and the next run resumes from the last commit"
	switch {
	case code == sqlite3.SQLITE_FULL, ioErr && freeKnown && free < fullBelow:
		return fmt.Errorf("%w: the disk holding %s is full (%w). %s once space is freed there (or the database moved to a larger disk)", ErrDiskFull, path, err, kept)
	case ioErr:
		return fmt.Errorf("%w: reading or writing %s failed (%w): the disk may be failing, or a quota or file-size limit was reached. %s once the disk is fixed", ErrDiskIO, path, err, kept)
	}
	return err
}

// freeSpace is the space left to unprivileged users on the file system
// holding dir.
func freeSpace(dir string) (uint64, bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, false
	}
	return uint64(st.Bavail) * uint64(st.Bsize), true
}
