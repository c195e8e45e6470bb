package store_test

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"healthsync/internal/inputfile"
	"healthsync/store"
)

// The encryption key file, named or generated, is read only when it is a
// small regular file that other users cannot read: a device or FIFO
// would exhaust memory or hang, and a world-readable key is no secret.
func TestKeyFileRefused(t *testing.T) {
	t.Parallel()
	key := []byte(base64.StdEncoding.EncodeToString(make([]byte, 32)) + "\n")
	withMode := func(t *testing.T, name string, mode os.FileMode) string {
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, key, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fifo := filepath.Join(t.TempDir(), "key.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		// file is HEALTHSYNC_ENCRYPTION_KEY_FILE; "" means the generated
		// key beside the database, made with mode generated.
		file      string
		generated os.FileMode
		want      error
		words     []string
	}{
		{name: "named_world_readable", file: withMode(t, "k", 0o644), want: inputfile.ErrNotPrivate,
			words: []string{"HEALTHSYNC_ENCRYPTION_KEY_FILE", "readable by other users (mode 0644)", "chmod 600"}},
		{name: "named_dev_zero", file: "/dev/zero", want: inputfile.ErrNotRegular,
			words: []string{"HEALTHSYNC_ENCRYPTION_KEY_FILE", "/dev/zero: is a character device"}},
		{name: "named_fifo", file: fifo, want: inputfile.ErrNotRegular,
			words: []string{"key.fifo: is a named pipe (FIFO)"}},
		{name: "named_too_large", file: func() string {
			p := filepath.Join(t.TempDir(), "big.key")
			if err := os.WriteFile(p, []byte(strings.Repeat("A", 5000)), 0o600); err != nil {
				t.Fatal(err)
			}
			return p
		}(), want: inputfile.ErrTooLarge, words: []string{"file is 5000 bytes; a key file must be under 4096 bytes (4 KiB)"}},
		{name: "generated_made_world_readable", generated: 0o604, want: inputfile.ErrNotPrivate,
			words: []string{"generated beside the database", "healthsync.key: is readable by other users (mode 0604)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			cfg := store.Config{DatabaseURL: filepath.Join(dir, "hs.db"), EncryptionKeyFile: tt.file}
			if tt.file == "" {
				p := filepath.Join(dir, "healthsync.key")
				if err := os.WriteFile(p, key, 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(p, tt.generated); err != nil {
					t.Fatal(err)
				}
			}
			s, err := store.Open(t.Context(), cfg, store.Options{})
			if err == nil {
				s.Close()
				t.Fatal("store opened with the key file")
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open: %v, want %v", err, tt.want)
			}
			for _, w := range tt.words {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message %q lacks %q", err, w)
				}
			}
		})
	}
}
