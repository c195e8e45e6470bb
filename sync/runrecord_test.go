package sync_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"healthsync/internal/testkit"
	"healthsync/store"
	hsync "healthsync/sync"
)

// TestRunRecording: a sync run records that it is alive in each page's
// transaction (so a run whose process dies shows when it was last seen),
// and each object's complete pull, so the sync lag of an object nobody
// edits restarts at every sync while its cursor stays put; a pull that
// fails leaves its object's last pull where it was.
func TestRunRecording(t *testing.T) {
	t.Parallel()
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			r := salesforceRig(t, be.fresh(t))
			clock := testkit.NewClock(time.Date(2025, 5, 1, 8, 0, 0, 0, time.UTC))
			cfg := hsync.Config{Connection: "default", ReconcileEvery: time.Hour}
			var failOn string
			pages := 0
			hooks := hsync.Hooks{AfterCommit: func(obj string, page int) error {
				pages++
				runs, err := r.st.Runs(ctx, "default", 1)
				if err != nil {
					return err
				}
				if got := runs[0].SeenAt; !got.Equal(clock.Now()) {
					t.Errorf("%s page %d committed at %v, the run was last seen %v", obj, page, clock.Now(), got)
				}
				clock.Add(time.Minute)
				if obj == failOn {
					return errCrash
				}
				return nil
			}}
			sync := func() (time.Time, error) {
				t.Helper()
				started := clock.Now()
				_, err := hsync.NewEngine(hsync.EngineOptions{Store: r.st, Source: r.src, Mapping: r.m, Config: cfg, Clock: clock, Hooks: hooks}).Sync(ctx, hsync.SyncOptions{})
				return started, err
			}

			first, err := sync()
			if err != nil {
				t.Fatal(err)
			}
			if pages < 3 {
				t.Fatalf("the first sync committed %d pages; the test needs several", pages)
			}
			pulls1 := lastPulls(t, r.st)
			cursors1, err := r.st.Cursors(ctx, "default")
			if err != nil {
				t.Fatal(err)
			}
			for _, obj := range r.m.Objects() {
				if at, ok := pulls1[obj]; !ok || at.Before(first) {
					t.Errorf("%s after the first sync: last pull %v (recorded %v), want one at or after %v", obj, at, ok, first)
				}
			}

			// Nothing changed in the CRM: every object is pulled again, its
			// cursor stays, and its last pull moves on.
			clock.Add(time.Hour)
			second, err := sync()
			if err != nil {
				t.Fatal(err)
			}
			pulls2 := lastPulls(t, r.st)
			cursors2, _ := r.st.Cursors(ctx, "default")
			for _, obj := range r.m.Objects() {
				if !pulls2[obj].After(pulls1[obj]) || pulls2[obj].Before(second) {
					t.Errorf("%s after an idle sync at %v: last pull %v (before: %v), want it moved to this sync", obj, second, pulls2[obj], pulls1[obj])
				}
				if !cursors2[obj].ModifiedAt.Equal(cursors1[obj].ModifiedAt) {
					t.Errorf("%s cursor moved on an idle sync: %v -> %v", obj, cursors1[obj].ModifiedAt, cursors2[obj].ModifiedAt)
				}
			}

			// A pull that fails does not count as one.
			r.change(t)
			failOn = "Contact"
			clock.Add(time.Hour)
			if _, err := sync(); !errors.Is(err, errCrash) {
				t.Fatalf("sync failing on Contact: %v", err)
			}
			pulls3 := lastPulls(t, r.st)
			if !pulls3["Contact"].Equal(pulls2["Contact"]) {
				t.Errorf("Contact's last pull moved to %v though its pull failed", pulls3["Contact"])
			}
			if runs, _ := r.st.Runs(ctx, "default", 1); runs[0].Status != store.RunFailed {
				t.Errorf("the failed sync was recorded %s", runs[0].Status)
			}
		})
	}
}

func lastPulls(t *testing.T, st *store.Store) map[string]time.Time {
	t.Helper()
	p, err := st.LastPulls(context.Background(), "default")
	if err != nil {
		t.Fatal(err)
	}
	return p
}
