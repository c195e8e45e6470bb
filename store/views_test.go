package store_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"healthsync/crm"
	"healthsync/store"
	"healthsync/store/storetest"
)

// The BI views (migration 0003) are a documented contract with analysts:
// the same names, columns and values on both backends.

func TestSQLiteBIViews(t *testing.T) {
	t.Parallel()
	testBIViews(t, freshSQLite(t))
}

func TestPostgresBIViews(t *testing.T) {
	t.Parallel()
	testBIViews(t, freshPostgres(t))
}

var viewT0 = time.Date(2025, 6, 2, 9, 30, 0, 0, time.UTC)

func ptr(f float64) *float64 { return &f }

// fillForViews writes two accounts (one scored twice, one never scored), a
// task and two runs.
func fillForViews(t *testing.T, s *store.Store) {
	t.Helper()
	ctx := context.Background()
	err := s.InTx(ctx, func(tx *store.Tx) error {
		for _, a := range []crm.Account{
			{ID: "001A", Name: "Acme Corp", OwnerID: "005X", ModifiedAt: viewT0},
			{ID: "001B", Name: "Globex", OwnerID: "005Y", ModifiedAt: viewT0},
		} {
			if err := tx.UpsertAccount(ctx, "sf", a); err != nil {
				return err
			}
		}
		// An older score of 001A, then the latest one with flags.
		if err := tx.PutScore(ctx, "sf", store.Score{AccountID: "001A", ScoredAt: viewT0.AddDate(0, 0, -30), Score: ptr(71.5), Grade: "green",
			Reasons: []byte(`["good"]`), Flags: []byte(`[]`), Outputs: []byte(`{"arr":90000}`)}); err != nil {
			return err
		}
		if err := tx.PutScore(ctx, "sf", store.Score{AccountID: "001A", ScoredAt: viewT0, Score: ptr(35.25), Grade: "red", Trend: ptr(-36.25),
			Reasons: []byte(`["no executive contact for 41 days","renewal in 28 days"]`),
			Flags: []byte(`[{"name":"renewal_exec_gap","description":"renewal in 28 days and no executive contact for 41 days","evidence":[]},
				{"name":"single_threaded","description":"fewer than 2 strong executive relationships","evidence":[]}]`),
			Outputs: []byte(`{"score":35.25,"grade":"red","days_since_exec_contact":41,"days_to_renewal":28,"renewal_amount":120000.5,
				"arr":100000,"lifecycle_stage":"Renewal","segment":"Enterprise","next_renewal_date":"2025-06-30"}`)}); err != nil {
			return err
		}
		closed := viewT0.Add(48 * time.Hour)
		if err := tx.PutTask(ctx, "sf", store.TaskRecord{Key: "001A|renewal_exec_gap|1", TaskID: "00T1", AccountID: "001A",
			Flag: "renewal_exec_gap", Status: "closed", CreatedAt: viewT0, ClosedAt: &closed}); err != nil {
			return err
		}
		return tx.PutTask(ctx, "sf", store.TaskRecord{Key: "001A|single_threaded|1", AccountID: "001A",
			Flag: "single_threaded", Status: "pending", CreatedAt: viewT0})
	})
	if err != nil {
		t.Fatalf("fill: %v", err)
	}
	id, err := s.StartRun(ctx, "sf", "sync", viewT0)
	if err != nil {
		t.Fatal(err)
	}
	fin := viewT0.Add(90500 * time.Millisecond)
	if err := s.FinishRun(ctx, store.Run{ID: id, FinishedAt: &fin, Status: store.RunStopped, StopReason: "api budget", APICalls: 42,
		Counts: map[string]store.ObjectCounts{"Account": {New: 10, Changed: 2, Pages: 1}, "Contact": {New: 5, Deleted: 1, Problems: 3}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.StartRun(ctx, "sf", "apply", viewT0.Add(time.Hour)); err != nil { // still running
		t.Fatal(err)
	}
}

func testBIViews(t *testing.T, cfg store.Config) {
	s := storetest.Open(t, cfg, store.Options{})
	fillForViews(t, s)
	ts := func(d time.Time) string { return d.UTC().Format("2006-01-02T15:04:05.000Z") }

	t.Run("bi_accounts", func(t *testing.T) {
		rows := queryView(t, s, `SELECT * FROM bi_accounts ORDER BY account_id`)
		wantColumns(t, rows, "connection", "account_id", "name", "owner_id", "score", "grade", "trend", "reasons", "scored_at",
			"days_since_exec_contact", "days_to_renewal", "renewal_amount", "arr", "lifecycle_stage", "segment")
		if len(rows.data) != 2 {
			t.Fatalf("rows = %d, want 2 (every account, scored or not)", len(rows.data))
		}
		a := rows.data[0]
		want := map[string]string{"connection": "sf", "account_id": "001A", "name": "Acme Corp", "owner_id": "005X",
			"score": "35.25", "grade": "red", "trend": "-36.25",
			"reasons": "no executive contact for 41 days; renewal in 28 days", "scored_at": ts(viewT0),
			"days_since_exec_contact": "41", "days_to_renewal": "28", "renewal_amount": "120000.5", "arr": "100000",
			"lifecycle_stage": "Renewal", "segment": "Enterprise"}
		checkRow(t, a, want)
		b := rows.data[1]
		checkRow(t, b, map[string]string{"account_id": "001B", "name": "Globex", "score": "NULL", "grade": "NULL",
			"reasons": "NULL", "scored_at": "NULL", "arr": "NULL"})
	})

	t.Run("bi_score_history", func(t *testing.T) {
		rows := queryView(t, s, `SELECT * FROM bi_score_history ORDER BY account_id, scored_at`)
		wantColumns(t, rows, "connection", "account_id", "scored_at", "score", "grade", "trend")
		if len(rows.data) != 2 {
			t.Fatalf("rows = %d, want 2", len(rows.data))
		}
		checkRow(t, rows.data[0], map[string]string{"account_id": "001A", "scored_at": ts(viewT0.AddDate(0, 0, -30)), "score": "71.5", "grade": "green", "trend": "NULL"})
		checkRow(t, rows.data[1], map[string]string{"account_id": "001A", "scored_at": ts(viewT0), "score": "35.25", "grade": "red", "trend": "-36.25"})
	})

	t.Run("bi_flags", func(t *testing.T) {
		rows := queryView(t, s, `SELECT * FROM bi_flags ORDER BY flag`)
		wantColumns(t, rows, "connection", "account_id", "flag", "description", "scored_at")
		if len(rows.data) != 2 {
			t.Fatalf("rows = %d, want 2 (the latest score's flags only)", len(rows.data))
		}
		checkRow(t, rows.data[0], map[string]string{"connection": "sf", "account_id": "001A", "flag": "renewal_exec_gap",
			"description": "renewal in 28 days and no executive contact for 41 days", "scored_at": ts(viewT0)})
		checkRow(t, rows.data[1], map[string]string{"flag": "single_threaded"})
	})

	t.Run("bi_tasks", func(t *testing.T) {
		rows := queryView(t, s, `SELECT * FROM bi_tasks ORDER BY task_key`)
		wantColumns(t, rows, "connection", "task_key", "task_id", "account_id", "flag", "status", "created_at", "closed_at")
		if len(rows.data) != 2 {
			t.Fatalf("rows = %d, want 2", len(rows.data))
		}
		checkRow(t, rows.data[0], map[string]string{"task_key": "001A|renewal_exec_gap|1", "task_id": "00T1", "status": "closed",
			"created_at": ts(viewT0), "closed_at": ts(viewT0.Add(48 * time.Hour))})
		checkRow(t, rows.data[1], map[string]string{"task_id": "NULL", "status": "pending", "closed_at": "NULL"})
	})

	t.Run("bi_sync_runs", func(t *testing.T) {
		rows := queryView(t, s, `SELECT * FROM bi_sync_runs ORDER BY started_at`)
		wantColumns(t, rows, "run_id", "connection", "kind", "started_at", "finished_at", "duration_seconds", "api_calls",
			"status", "stop_reason", "records_new", "records_changed", "records_deleted", "record_problems", "last_seen_at")
		if len(rows.data) != 2 {
			t.Fatalf("rows = %d, want 2", len(rows.data))
		}
		checkRow(t, rows.data[0], map[string]string{"connection": "sf", "kind": "sync", "started_at": ts(viewT0),
			"finished_at": ts(viewT0.Add(90500 * time.Millisecond)), "duration_seconds": "90.5", "api_calls": "42",
			"status": "stopped", "stop_reason": "api budget", "records_new": "15", "records_changed": "2",
			"records_deleted": "1", "record_problems": "3", "last_seen_at": ts(viewT0.Add(90500 * time.Millisecond))})
		checkRow(t, rows.data[1], map[string]string{"kind": "apply", "status": "running", "finished_at": "NULL",
			"duration_seconds": "NULL", "stop_reason": "NULL", "records_new": "0", "last_seen_at": ts(viewT0.Add(time.Hour))})
	})

	// The running apply's process died after one committed step; the next
	// run that holds the connection finds it.
	t.Run("bi_sync_runs interrupted", func(t *testing.T) {
		ctx := context.Background()
		runs, err := s.Runs(ctx, "sf", 1)
		if err != nil || len(runs) != 1 || runs[0].Status != store.RunRunning {
			t.Fatalf("latest run = %+v, %v; want the running apply", runs, err)
		}
		seen := viewT0.Add(time.Hour + 2500*time.Millisecond)
		if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.TouchRun(ctx, runs[0].ID, seen) }); err != nil {
			t.Fatal(err)
		}
		if _, err := s.InterruptRuns(ctx, "sf", viewT0.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		rows := queryView(t, s, `SELECT * FROM bi_sync_runs WHERE kind = 'apply'`)
		if len(rows.data) != 1 {
			t.Fatalf("rows = %d, want 1", len(rows.data))
		}
		checkRow(t, rows.data[0], map[string]string{"status": "interrupted", "finished_at": ts(seen), "last_seen_at": ts(seen),
			"duration_seconds": "2.5"})
		if r := rows.data[0]["stop_reason"]; !strings.Contains(r, "process ended without recording how the run ended") {
			t.Errorf("stop_reason = %q, want it to say the process ended", r)
		}
	})
}

// viewRows is a query result with every value rendered as text, so one
// set of expectations holds for both backends' column types.
type viewRows struct {
	columns []string
	data    []map[string]string
}

func queryView(t *testing.T, s *store.Store, q string) viewRows {
	t.Helper()
	rows, err := store.DBOf(s).QueryContext(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	out := viewRows{columns: cols}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for i, c := range cols {
			m[c] = render(vals[i])
		}
		out.data = append(out.data, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// render prints a scanned value: NULL, timestamps as ISO 8601 UTC with
// milliseconds, numbers without needless decimals.
func render(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case time.Time:
		return x.UTC().Format("2006-01-02T15:04:05.000Z")
	case []byte:
		return string(x)
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return fmt.Sprintf("%d", int64(x))
		}
		return fmt.Sprintf("%g", x)
	case float32:
		return render(float64(x))
	}
	return fmt.Sprint(v)
}

func wantColumns(t *testing.T, rows viewRows, want ...string) {
	t.Helper()
	if !slices.Equal(rows.columns, want) {
		t.Fatalf("columns:\n got %s\nwant %s", strings.Join(rows.columns, ", "), strings.Join(want, ", "))
	}
}

func checkRow(t *testing.T, got map[string]string, want map[string]string) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("column %s missing", k)
			continue
		}
		if g != w {
			t.Errorf("%s = %q, want %q", k, g, w)
		}
	}
}

// TestSQLiteBIViewsDownUp runs migration 0003's down file, checks the views are
// gone and the tables untouched, then runs the up file again.
func TestSQLiteBIViewsDownUp(t *testing.T) {
	t.Parallel()
	testBIViewsDownUp(t, freshSQLite(t), "sqlite")
}

func TestPostgresBIViewsDownUp(t *testing.T) {
	t.Parallel()
	testBIViewsDownUp(t, freshPostgres(t), "postgres")
}

var biViews = []string{"bi_accounts", "bi_score_history", "bi_flags", "bi_tasks", "bi_sync_runs"}

func testBIViewsDownUp(t *testing.T, cfg store.Config, backend string) {
	s := storetest.Open(t, cfg, store.Options{})
	fillForViews(t, s)
	ctx := context.Background()
	run := func(file string) {
		t.Helper()
		sqlText, err := os.ReadFile(filepath.Join("migrations", backend, file))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.DBOf(s).ExecContext(ctx, string(sqlText)); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
	}
	run("0003_bi_views.down.sql")
	for _, v := range biViews {
		if _, err := store.DBOf(s).ExecContext(ctx, "SELECT 1 FROM "+v); err == nil {
			t.Errorf("view %s still exists after the down migration", v)
		}
	}
	if n, err := s.Counts(ctx, "sf"); err != nil || n[store.Accounts] != 2 {
		t.Fatalf("tables after the down migration: %v %v", n, err)
	}
	run("0003_bi_views.up.sql")
	for _, v := range biViews {
		if _, err := store.DBOf(s).ExecContext(ctx, "SELECT 1 FROM "+v); err != nil {
			t.Errorf("view %s after the up migration: %v", v, err)
		}
	}
}

// TestSQLiteRunHeartbeatDownUp runs migration 0004's down file, checks that
// the last-seen column, the pulls table and the view's new column are gone
// and the runs kept, then runs the up file again.
func TestSQLiteRunHeartbeatDownUp(t *testing.T) {
	t.Parallel()
	testRunHeartbeatDownUp(t, freshSQLite(t), "sqlite")
}

func TestPostgresRunHeartbeatDownUp(t *testing.T) {
	t.Parallel()
	testRunHeartbeatDownUp(t, freshPostgres(t), "postgres")
}

func testRunHeartbeatDownUp(t *testing.T, cfg store.Config, backend string) {
	s := storetest.Open(t, cfg, store.Options{})
	fillForViews(t, s)
	ctx := context.Background()
	if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.MarkPulled(ctx, "sf", "Account", viewT0) }); err != nil {
		t.Fatal(err)
	}
	run := func(file string) {
		t.Helper()
		sqlText, err := os.ReadFile(filepath.Join("migrations", backend, file))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.DBOf(s).ExecContext(ctx, string(sqlText)); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
	}
	run("0004_run_heartbeat.down.sql")
	for _, q := range []string{"SELECT seen_at FROM sync_runs", "SELECT 1 FROM object_pulls", "SELECT last_seen_at FROM bi_sync_runs"} {
		if _, err := store.DBOf(s).ExecContext(ctx, q); err == nil {
			t.Errorf("%s works after the down migration", q)
		}
	}
	rows := queryView(t, s, `SELECT * FROM bi_sync_runs ORDER BY started_at`)
	wantColumns(t, rows, "run_id", "connection", "kind", "started_at", "finished_at", "duration_seconds", "api_calls",
		"status", "stop_reason", "records_new", "records_changed", "records_deleted", "record_problems")
	if len(rows.data) != 2 {
		t.Fatalf("runs after the down migration = %d, want 2", len(rows.data))
	}
	run("0004_run_heartbeat.up.sql")
	// Another query text: pgx caches the statement above with the old
	// view's columns.
	rows = queryView(t, s, `SELECT * FROM bi_sync_runs ORDER BY started_at, run_id`)
	ts := func(d time.Time) string { return d.UTC().Format("2006-01-02T15:04:05.000Z") }
	// Runs from before the migration are last seen when they ended, or
	// when they started if they did not.
	checkRow(t, rows.data[0], map[string]string{"last_seen_at": ts(viewT0.Add(90500 * time.Millisecond))})
	checkRow(t, rows.data[1], map[string]string{"last_seen_at": ts(viewT0.Add(time.Hour))})
	if pulls, err := s.LastPulls(ctx, "sf"); err != nil || len(pulls) != 0 {
		t.Errorf("pulls after down and up = %v, %v; want an empty table", pulls, err)
	}
}
