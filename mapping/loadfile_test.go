package mapping

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"healthsync/crm"
)

// Load reads only a regular file of sane size: a device, a FIFO or a huge
// sparse file is refused, naming the file, before any of it is read (a
// FIFO without a writer would otherwise hang the command, /dev/zero
// exhaust its memory).
func TestLoadRefusesIrregularFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "healthsync.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	sparse := filepath.Join(dir, "sparse.yaml")
	f, err := os.Create(sparse)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1500 << 20); err != nil { // 1.5 GB, no block written
		t.Fatal(err)
	}
	f.Close()
	for _, tt := range []struct {
		path string
		want string
	}{
		{fifo, fifo + ": is a named pipe (FIFO), not a regular file: a mapping file must be a regular file"},
		{"/dev/zero", "/dev/zero: is a character device, not a regular file"},
		{dir, dir + ": is a directory"},
		{sparse, sparse + ": file is 1572864000 bytes; a mapping file must be under 1048576 bytes (1 MiB)"},
	} {
		_, err := Load(tt.path, Options{System: crm.Salesforce})
		var es Errors
		if !errors.As(err, &es) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Load(%s) = %v, want Errors saying %q", tt.path, err, tt.want)
		}
	}
	if _, err := Load(filepath.Join(dir, "none.yaml"), Options{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want ErrNotExist", err)
	}
}
