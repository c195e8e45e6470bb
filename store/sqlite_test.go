package store_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"healthsync/store"
	"healthsync/store/storetest"

	_ "modernc.org/sqlite"
)

func freshSQLite(t *testing.T) store.Config {
	dir := t.TempDir()
	return store.Config{DatabaseURL: "sqlite://" + filepath.Join(dir, "hs.db"), EncryptionKey: storetest.Key}
}

func TestSQLiteConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, freshSQLite)
}

func TestSQLiteBadFiles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("corrupt", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "corrupt.db")
		junk := []byte(strings.Repeat("this is not a database ", 200))
		os.WriteFile(path, junk, 0o600)
		_, err := store.Open(ctx, store.Config{DatabaseURL: path, EncryptionKey: storetest.Key}, store.Options{})
		if !errors.Is(err, store.ErrNotDatabase) || !strings.Contains(err.Error(), path) {
			t.Fatalf("open corrupt file: %v, want ErrNotDatabase naming the file", err)
		}
		after, _ := os.ReadFile(path)
		if string(after) != string(junk) {
			t.Fatal("corrupt file was modified")
		}
	})

	t.Run("foreign", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "foreign.db")
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		db.Exec("CREATE TABLE recipes (id INTEGER PRIMARY KEY, name TEXT)")
		db.Close()
		s, err := store.Open(ctx, store.Config{DatabaseURL: path, EncryptionKey: storetest.Key}, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := s.Migrate(ctx); !errors.Is(err, store.ErrForeignDatabase) {
			t.Fatalf("migrate foreign db: %v, want ErrForeignDatabase", err)
		}
		var n int
		store.DBOf(s).QueryRow("SELECT count(*) FROM sqlite_master WHERE name = 'accounts'").Scan(&n)
		if n != 0 {
			t.Fatal("foreign database was migrated")
		}
	})

	t.Run("newer and dirty", func(t *testing.T) {
		cfg := freshSQLite(t)
		s := storetest.Open(t, cfg, store.Options{})
		store.DBOf(s).Exec("UPDATE schema_migrations SET version = 999")
		if _, err := s.Migrate(ctx); !errors.Is(err, store.ErrNewerSchema) || !strings.Contains(err.Error(), "upgrade healthsync") {
			t.Fatalf("migrate newer: %v", err)
		}
		st, _ := s.Status(ctx)
		store.DBOf(s).Exec("UPDATE schema_migrations SET version = ?, dirty = 1", st.Latest)
		_, err := s.Migrate(ctx)
		if !errors.Is(err, store.ErrDirtySchema) || !strings.Contains(err.Error(), "--force") {
			t.Fatalf("migrate dirty: %v", err)
		}
		if err := s.ForceVersion(ctx, int(st.Latest)); err != nil {
			t.Fatal(err)
		}
		if st, err := s.Migrate(ctx); err != nil || st.Dirty {
			t.Fatalf("migrate after force: %+v, %v", st, err)
		}
	})

	t.Run("single process", func(t *testing.T) {
		cfg := freshSQLite(t)
		storetest.Open(t, cfg, store.Options{})
		_, err := store.Open(ctx, cfg, store.Options{})
		if !errors.Is(err, store.ErrLocked) || !strings.Contains(err.Error(), "Postgres") {
			t.Fatalf("second open: %v, want ErrLocked suggesting Postgres", err)
		}
		s, err := store.Open(ctx, cfg, store.Options{Shared: true})
		if err != nil {
			t.Fatalf("shared open beside a holder: %v", err)
		}
		s.Close()
	})

	t.Run("generated key file", func(t *testing.T) {
		dir := t.TempDir()
		cfg := store.Config{DatabaseURL: filepath.Join(dir, "hs.db")}
		s := storetest.Open(t, cfg, store.Options{})
		keyPath := filepath.Join(dir, "healthsync.key")
		if s.GeneratedKeyFile() != keyPath {
			t.Fatalf("generated key file = %q, want %q", s.GeneratedKeyFile(), keyPath)
		}
		fi, err := os.Stat(keyPath)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("key file mode = %v, %v; want 0600", fi, err)
		}
		if err := s.SaveToken(ctx, "c", []byte("tok")); err != nil {
			t.Fatal(err)
		}
		s.Close()
		s2 := storetest.Open(t, cfg, store.Options{})
		if s2.GeneratedKeyFile() != "" {
			t.Fatal("key regenerated on second open")
		}
		if got, err := s2.LoadToken(ctx, "c"); err != nil || string(got) != "tok" {
			t.Fatalf("token with the reused key file = %q, %v", got, err)
		}
	})
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cfg  store.Config
		want string
	}{
		{store.Config{DatabaseURL: "mysql://x"}, `unsupported scheme "mysql"`},
		{store.Config{DatabaseURL: "sqlite://"}, "names no file"},
		{store.Config{EncryptionKey: "c2hvcnQ="}, "decodes to 5 bytes, need 32"},
		{store.Config{EncryptionKey: "!!!"}, "not base64 or hex"},
		{store.Config{EncryptionKey: storetest.Key, EncryptionKeyFile: "/k"}, "set only one"},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate(%+v) = %v, want %q", tt.cfg, err, tt.want)
		}
	}
	if err := (store.Config{EncryptionKey: strings.Repeat("ab", 32)}).Validate(); err != nil {
		t.Errorf("hex key rejected: %v", err)
	}
}

func TestRedactDSN(t *testing.T) {
	t.Parallel()
	got := store.RedactDSN("postgres://bob:hunter2@db:5432/x?sslmode=disable")
	if strings.Contains(got, "hunter2") || !strings.Contains(got, "bob:xxxxx@db") {
		t.Fatalf("RedactDSN = %q", got)
	}
}
