package store_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"healthsync/store"
	"healthsync/store/storetest"
)

// A path holding the characters a SQLite URI gives a meaning ('#' starts a
// fragment, '?' a query, '%' an escape) names exactly that file: before the
// fix "dir/a#1/hs.db" opened "dir/a", so every Go subtest named "x#01"
// shared one database.
func TestSQLitePathWithURICharacters(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, name := range []string{"a#1", "b?x=1", "c%41"} {
		path := filepath.Join(dir, name, "hs.db")
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		s := storetest.Open(t, store.Config{DatabaseURL: path, EncryptionKey: storetest.Key}, store.Options{})
		if _, err := s.Cursors(context.Background(), "c"); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("database for %q not at its path: %v", name, err)
		}
	}
	for _, stray := range []string{"a", "b", "cA"} {
		if _, err := os.Stat(filepath.Join(dir, stray)); err == nil {
			t.Fatalf("stray database %s created", stray)
		}
	}
}
