package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"healthsync/store"
)

// testRunsInterrupted: the holder of a connection marks the runs a dead
// process left running as interrupted, ended when they were last seen,
// and leaves finished runs and other connections' runs alone.
func testRunsInterrupted(t *testing.T, fresh Fresh) {
	ctx := context.Background()
	cfg := fresh(t)
	s := Open(t, cfg, store.Options{})
	start := func(c, kind string, at time.Time) int64 {
		t.Helper()
		id, err := s.StartRun(ctx, c, kind, at)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	// A sync that committed pages until t0+5m, then its process died.
	dead := start(conn, "sync", t0)
	for _, m := range []time.Duration{2, 5} {
		mustTx(t, s, func(tx *store.Tx) error { return tx.TouchRun(ctx, dead, t0.Add(m*time.Minute)) })
	}
	// An apply killed before its first step: last seen when it started.
	deadEarly := start(conn, "apply", t0.Add(10*time.Minute))
	// A run that ended normally, and a running run of another connection.
	done := start(conn, "sync", t0.Add(time.Minute))
	fin := t0.Add(3 * time.Minute)
	if err := s.FinishRun(ctx, store.Run{ID: done, FinishedAt: &fin, Status: store.RunOK}); err != nil {
		t.Fatal(err)
	}
	other := start("other", "sync", t0)

	found := t0.Add(time.Hour)
	marked, err := s.InterruptRuns(ctx, conn, found)
	if err != nil {
		t.Fatal(err)
	}
	if len(marked) != 2 || marked[0].ID != dead || marked[1].ID != deadEarly {
		t.Fatalf("InterruptRuns marked %+v, want runs %d and %d", marked, dead, deadEarly)
	}
	runs := runsByID(t, s, conn)
	for _, c := range []struct {
		id       int64
		lastSeen time.Time
	}{{dead, t0.Add(5 * time.Minute)}, {deadEarly, t0.Add(10 * time.Minute)}} {
		r := runs[c.id]
		if r.Status != store.RunInterrupted || r.FinishedAt == nil || !r.FinishedAt.Equal(c.lastSeen) || !r.SeenAt.Equal(c.lastSeen) {
			t.Errorf("run %d after InterruptRuns = %+v, want interrupted, finished when last seen (%v)", c.id, r, c.lastSeen)
		}
		for _, w := range []string{"process ended without recording how the run ended", "last seen " + c.lastSeen.Format(time.RFC3339), found.Format(time.RFC3339)} {
			if !strings.Contains(r.StopReason, w) {
				t.Errorf("run %d stop reason %q lacks %q", c.id, r.StopReason, w)
			}
		}
	}
	if r := runs[done]; r.Status != store.RunOK || !r.FinishedAt.Equal(fin) || !r.SeenAt.Equal(fin) {
		t.Errorf("finished run after InterruptRuns = %+v, want it untouched", r)
	}
	if r := runsByID(t, s, "other")[other]; r.Status != store.RunRunning || r.FinishedAt != nil {
		t.Errorf("another connection's run after InterruptRuns = %+v, want it still running", r)
	}

	// A touch of an interrupted run changes nothing, and nothing is left
	// to interrupt.
	mustTx(t, s, func(tx *store.Tx) error { return tx.TouchRun(ctx, dead, t0.Add(2*time.Hour)) })
	if r := runsByID(t, s, conn)[dead]; !r.SeenAt.Equal(t0.Add(5 * time.Minute)) {
		t.Errorf("touch of an interrupted run moved its last-seen time to %v", r.SeenAt)
	}
	if again, err := s.InterruptRuns(ctx, conn, found); err != nil || len(again) != 0 {
		t.Errorf("second InterruptRuns = %+v, %v; want nothing", again, err)
	}

	// A SQLite store opened shared does not hold the file, so it may not
	// decide that a run's process is dead.
	if s.Backend() == store.SQLite {
		shared := Open(t, cfg, store.Options{Shared: true})
		if _, err := shared.InterruptRuns(ctx, "other", found); err == nil || !strings.Contains(err.Error(), "shared") {
			t.Errorf("InterruptRuns on a shared SQLite store = %v, want it refused", err)
		}
		if r := runsByID(t, s, "other")[other]; r.Status != store.RunRunning {
			t.Errorf("a refused InterruptRuns changed run %d to %s", other, r.Status)
		}
	}
}

func runsByID(t *testing.T, s *store.Store, c string) map[int64]store.Run {
	t.Helper()
	runs, err := s.Runs(context.Background(), c, 100)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]store.Run{}
	for _, r := range runs {
		out[r.ID] = r
	}
	return out
}

// testLastPulls: the newest complete pull of each object is kept, per
// connection.
func testLastPulls(t *testing.T, fresh Fresh) {
	ctx := context.Background()
	s := Open(t, fresh(t), store.Options{})
	if got, err := s.LastPulls(ctx, conn); err != nil || len(got) != 0 {
		t.Fatalf("LastPulls of a new store = %v, %v; want none", got, err)
	}
	mustTx(t, s, func(tx *store.Tx) error {
		if err := tx.MarkPulled(ctx, conn, "Account", t0); err != nil {
			return err
		}
		return tx.MarkPulled(ctx, conn, "Contact", t0.Add(time.Minute))
	})
	mustTx(t, s, func(tx *store.Tx) error { return tx.MarkPulled(ctx, conn, "Account", t0.Add(2*time.Minute)) })
	got, err := s.LastPulls(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got["Account"].Equal(t0.Add(2*time.Minute)) || !got["Contact"].Equal(t0.Add(time.Minute)) {
		t.Fatalf("LastPulls = %v, want Account at t0+2m and Contact at t0+1m", got)
	}
	if other, err := s.LastPulls(ctx, "other"); err != nil || len(other) != 0 {
		t.Fatalf("LastPulls of another connection = %v, %v; want none", other, err)
	}
}
