package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	stdsync "sync"
	"syscall"
)

// The SQLite file holds raw CRM records (names, e-mails, phones): it is
// created 0600, whatever the umask. SQLite creates the -wal and -shm files
// beside it with the database file's own mode, so they follow.
const privateMode = 0o600

// createPrivate creates the database file 0600 if it does not exist yet,
// so SQLite never creates it with its default 0644. An existing file is
// left as it is (and reported by wideFiles).
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, privateMode)
	switch {
	case err == nil:
		return f.Close()
	case errors.Is(err, fs.ErrExist):
		return nil
	}
	return fmt.Errorf("create database file %s: %w", path, err)
}

// wideFiles reports the database file, -wal and -shm that group or other
// users may read or write, as one warning with the fix; nil when there is
// none.
func wideFiles(path string) []string {
	var wide, modes []string
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm()&0o077 == 0 {
			continue
		}
		wide = append(wide, shellQuote(p))
		modes = append(modes, fmt.Sprintf("%s mode %04o", filepath.Base(p), fi.Mode().Perm()))
	}
	if len(wide) == 0 {
		return nil
	}
	return []string{fmt.Sprintf("%s can be read by other users of this machine (%s) and holds CRM records (names, e-mails, phones): run chmod 600 %s (the -wal and -shm files SQLite creates beside it take the database file's mode)",
		path, strings.Join(modes, ", "), strings.Join(wide, " "))}
}

// shellQuote quotes a path for a command line a user copies.
func shellQuote(p string) string {
	if strings.Trim(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._+-") == "" {
		return p
	}
	return "'" + strings.ReplaceAll(p, "'", `'\''`) + "'"
}

// sqliteLock is the single-process lock of a SQLite database: an exclusive
// flock(2) on the database file itself, so deleting a file beside it
// cannot undo it. On local file systems flock locks and the POSIX
// (fcntl) locks SQLite takes on the same file do not interact, so readers
// opening the store Shared still read beside the holder. The lock ends
// with the process, however it ends.
//
// The lock on the older "<database>.lock" file is taken too, so a
// healthsync from before this lock still sees the database as held.
type sqliteLock struct {
	db, legacy *os.File
	key        fileKey
}

// fileKey identifies a file by device and inode.
type fileKey struct{ dev, ino uint64 }

// heldHere are the database files this process holds. A second Open of a
// held file in the same process is refused before it opens a descriptor
// of the file: closing that descriptor after a failed flock would drop
// the POSIX locks the holder's SQLite connections have on it.
var (
	heldMu   stdsync.Mutex
	heldHere = map[fileKey]bool{}
)

func keyOf(fi os.FileInfo) (fileKey, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileKey{}, false
	}
	return fileKey{dev: uint64(st.Dev), ino: uint64(st.Ino)}, true
}

// lockDatabase creates the database file 0600 if needed and takes the
// single-process lock on it, or fails with ErrLocked.
func lockDatabase(path string) (*sqliteLock, error) {
	heldMu.Lock()
	defer heldMu.Unlock()
	locked := func() error {
		return fmt.Errorf("%w: %s is a single-process database and another healthsync holds it; stop the other process, or use Postgres (HEALTHSYNC_DATABASE_URL=postgres://…) to run several", ErrLocked, path)
	}
	if fi, err := os.Stat(path); err == nil {
		if k, ok := keyOf(fi); ok && heldHere[k] {
			return nil, locked()
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, privateMode)
	if err != nil {
		return nil, fmt.Errorf("open database file %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, locked()
		}
		return nil, fmt.Errorf("lock database file %s: %w", path, err)
	}
	l := &sqliteLock{db: f}
	legacy, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, privateMode)
	if err != nil {
		l.unlock()
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(legacy.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		legacy.Close()
		l.unlock()
		return nil, locked()
	}
	l.legacy = legacy
	if fi, err := f.Stat(); err == nil {
		if k, ok := keyOf(fi); ok {
			l.key = k
			heldHere[k] = true
		}
	}
	return l, nil
}

// release gives the lock up. Call it only after the database is closed.
func (l *sqliteLock) release() {
	heldMu.Lock()
	defer heldMu.Unlock()
	delete(heldHere, l.key)
	l.unlock()
}

func (l *sqliteLock) unlock() {
	if l.legacy != nil {
		l.legacy.Close()
	}
	l.db.Close()
}
