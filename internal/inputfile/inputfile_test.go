package inputfile_test

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"healthsync/internal/inputfile"
)

func write(t *testing.T, name string, data []byte, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // not subject to the umask
		t.Fatal(err)
	}
	return p
}

func TestRead(t *testing.T) {
	t.Parallel()
	key := Rules(true)
	mapping := Rules(false)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	sparse := filepath.Join(dir, "sparse")
	if f, err := os.Create(sparse); err != nil {
		t.Fatal(err)
	} else {
		if err := f.Truncate(1 << 40); err != nil { // 1 TiB, no block written
			t.Fatal(err)
		}
		f.Close()
	}
	tests := []struct {
		name  string
		path  string
		rules inputfile.Rules
		want  error    // nil: read
		words []string // in the message
	}{
		{name: "regular", path: write(t, "ok.yaml", []byte("crm: {}\n"), 0o644), rules: mapping},
		{name: "private_key", path: write(t, "k", []byte("key"), 0o600), rules: key},
		{name: "read_only_key", path: write(t, "k", []byte("key"), 0o400), rules: key},
		{name: "at_limit", path: write(t, "max", []byte(strings.Repeat("x", 64)), 0o600), rules: key},
		{name: "one_over_limit", path: write(t, "big", []byte(strings.Repeat("x", 65)), 0o600), rules: key,
			want: inputfile.ErrTooLarge, words: []string{"file is 65 bytes", "a key file must be under 64 bytes"}},
		{name: "sparse_huge", path: sparse, rules: mapping,
			want: inputfile.ErrTooLarge, words: []string{"file is 1099511627776 bytes", "a mapping file must be under 1024 bytes (1 KiB)"}},
		{name: "dev_zero", path: "/dev/zero", rules: key,
			want: inputfile.ErrNotRegular, words: []string{"/dev/zero: is a character device, not a regular file", "a key file must be a regular file"}},
		{name: "fifo", path: fifo, rules: mapping,
			want: inputfile.ErrNotRegular, words: []string{"is a named pipe (FIFO), not a regular file"}},
		{name: "socket", path: sock, rules: mapping,
			want: inputfile.ErrNotRegular, words: []string{"is a socket"}},
		{name: "directory", path: dir, rules: mapping,
			want: inputfile.ErrNotRegular, words: []string{"is a directory"}},
		{name: "world_readable_key", path: write(t, "k644", []byte("key"), 0o644), rules: key,
			want: inputfile.ErrNotPrivate, words: []string{"is readable by other users (mode 0644)", "chmod 600"}},
		{name: "world_writable_only", path: write(t, "k602", []byte("key"), 0o602), rules: key,
			want: inputfile.ErrNotPrivate, words: []string{"mode 0602"}},
		{name: "world_readable_mapping", path: write(t, "m644", []byte("x"), 0o644), rules: mapping},
		{name: "missing", path: filepath.Join(dir, "none"), rules: key, want: fs.ErrNotExist},
	}
	if os.Geteuid() != 0 {
		// Owned by the user healthsync runs as, shared with the group: a
		// mistake (root-owned group sharing is the deliberate form).
		tests = append(tests, struct {
			name  string
			path  string
			rules inputfile.Rules
			want  error
			words []string
		}{name: "group_readable_own_key", path: write(t, "k640", []byte("key"), 0o640), rules: key,
			want: inputfile.ErrNotPrivate, words: []string{"is readable by its group (mode 0640)", "owned by root, mode 0640 or 0440"}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data, err := inputfile.Read(tt.path, tt.rules)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Read: %v", err)
				}
				if len(data) == 0 {
					t.Fatal("Read returned nothing")
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Read: %v, want %v", err, tt.want)
			}
			for _, w := range tt.words {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message %q lacks %q", err, w)
				}
			}
			if !strings.HasPrefix(err.Error(), tt.path) && tt.want != fs.ErrNotExist {
				t.Errorf("message %q does not start with the path", err)
			}
		})
	}
}

// A FIFO a writer never opens must not hang Read, even when it is swapped
// in where a regular file was checked: Read refuses it at once.
func TestReadFIFONeverBlocks(t *testing.T) {
	t.Parallel()
	fifo := filepath.Join(t.TempDir(), "healthsync.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := inputfile.Read(fifo, Rules(false))
		done <- err
	}()
	// If Read blocked in open(2), only a writer would release it; the
	// test would then end by its own timeout.
	if err := <-done; !errors.Is(err, inputfile.ErrNotRegular) {
		t.Fatalf("Read(FIFO): %v, want ErrNotRegular", err)
	}
}

// Rules returns the rules of a key file (private, 64 bytes) or of a
// mapping file (1 KiB) at a scale a test can write.
func Rules(private bool) inputfile.Rules {
	if private {
		return inputfile.Rules{What: "key file", Max: 64, Private: true}
	}
	return inputfile.Rules{What: "mapping file", Max: 1 << 10}
}

func TestPrivate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		perm          os.FileMode
		ownedByRunner bool
		ok            bool
	}{
		{0o600, true, true}, {0o400, true, true}, {0o600, false, true},
		{0o640, false, true}, {0o440, false, true}, // root:service-group, as a Kubernetes secret volume with fsGroup
		{0o640, true, false}, {0o644, false, false}, {0o604, true, false}, {0o444, false, false},
	} {
		err := inputfile.Private(tt.perm, tt.ownedByRunner)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, inputfile.ErrNotPrivate)) {
			t.Errorf("Private(%04o, owned by runner %v) = %v, want ok %v", tt.perm, tt.ownedByRunner, err, tt.ok)
		}
	}
}
