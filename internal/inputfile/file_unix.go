//go:build unix

package inputfile

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// openNoBlock opens path for reading with O_NONBLOCK, so that opening a
// FIFO returns at once instead of waiting for a writer. On a regular file
// the flag changes nothing.
func openNoBlock(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
}

// notPrivate returns why a key file is too open, and the fix, or "".
func notPrivate(path string, fi fs.FileInfo) string {
	perm := fi.Mode().Perm()
	owner := -1
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		owner = int(st.Uid)
	}
	if err := Private(perm, owner == os.Geteuid() && owner != 0); err == nil {
		return ""
	}
	if perm&0o007 != 0 {
		return fmt.Sprintf("is readable by other users (mode %04o): run chmod 600 %s (or 0640 with owner root and the service's group, to share it with that group only)", perm, path)
	}
	return fmt.Sprintf("is readable by its group (mode %04o) and owned by the user healthsync runs as: run chmod 600 %s (a key shared with a group must be owned by root, mode 0640 or 0440)", perm, path)
}
