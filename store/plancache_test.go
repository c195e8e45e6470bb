package store

import (
	"context"
	"os"
	"strings"
	"testing"
)

// TestPostgresPlansEachExecution: the Postgres connections force a custom
// plan per execution (see openPostgres), unless the URL sets
// plan_cache_mode itself.
func TestPostgresPlansEachExecution(t *testing.T) {
	base := os.Getenv("HEALTHSYNC_TEST_DATABASE_URL")
	if base == "" {
		t.Skip("Postgres test SKIPPED: set HEALTHSYNC_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run it")
	}
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	for url, want := range map[string]string{base: "force_custom_plan", base + sep + "plan_cache_mode=auto": "auto"} {
		s := &Store{loc: Location{DSN: url}}
		if err := s.openPostgres(context.Background()); err != nil {
			t.Fatal(err)
		}
		var got string
		err := s.db.QueryRow("SHOW plan_cache_mode").Scan(&got)
		s.db.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("plan_cache_mode = %q, want %q", got, want)
		}
	}
}
