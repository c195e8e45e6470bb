package sync_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	stdsync "sync"
	"sync/atomic"
	"testing"
	"time"

	"healthsync/internal/testkit"
	"healthsync/store"
	"healthsync/store/storetest"
	hsync "healthsync/sync"
)

// The replicas of these tests run on clocks the tests move by hand
// (testkit.Clock): a lease renews and gives up by its holder's clock,
// while its expiry is the database's, which only SQL can move.

// leaseStore opens a store for a lease test, and a raw connection to its
// database for moving a lease's expiry.
func leaseStore(t *testing.T) (*store.Store, *sql.DB) {
	t.Helper()
	cfg := store.Config{DatabaseURL: t.TempDir() + "/hs.db", EncryptionKey: storetest.Key}
	if os.Getenv(storetest.PostgresURLVar) != "" {
		cfg = storetest.FreshPostgres(t)
	} else {
		t.Log("HEALTHSYNC_TEST_DATABASE_URL not set: lease test runs on SQLite only")
	}
	return storetest.Open(t, cfg, store.Options{}), storetest.RawDB(t, cfg)
}

func TestLeaseNeverHeldTwice(t *testing.T) {
	t.Parallel()
	st, _ := leaseStore(t)
	ctx := context.Background()
	var inside, maxInside, runs atomic.Int32
	var wg stdsync.WaitGroup
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			l := hsync.NewLease(hsync.LeaseOptions{Store: st, Connection: "c", Holder: string(rune('A' + i)), TTL: 5 * time.Second})
			for attempt := 0; attempt < 40; attempt++ {
				err := l.Do(ctx, func(ctx context.Context) error {
					n := inside.Add(1)
					for {
						m := maxInside.Load()
						if n <= m || maxInside.CompareAndSwap(m, n) {
							break
						}
					}
					time.Sleep(5 * time.Millisecond)
					inside.Add(-1)
					runs.Add(1)
					return nil
				})
				var held *hsync.LeaseHeldError
				if err != nil && !errors.As(err, &held) {
					t.Error(err)
					return
				}
				time.Sleep(time.Millisecond)
			}
		}(i)
	}
	wg.Wait()
	if maxInside.Load() != 1 {
		t.Fatalf("at most %d holders ran at once, want 1", maxInside.Load())
	}
	if runs.Load() == 0 {
		t.Fatal("no replica ever got the lease")
	}
}

// expireLease moves a lease's expiry back by an hour, as if its holder had
// stopped renewing it that long ago: expiry is the database's clock, which
// a test cannot move.
func expireLease(t *testing.T, raw *sql.DB, connection string) {
	t.Helper()
	if _, err := raw.Exec("UPDATE leases SET expires_at = expires_at - 3600000 WHERE connection = '" + connection + "'"); err != nil {
		t.Fatal(err)
	}
}

func TestDeadHolderIsReplaced(t *testing.T) {
	t.Parallel()
	st, raw := leaseStore(t)
	ctx := context.Background()
	clock := testkit.NewClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	// Replica A takes the lease, starts a sync, commits a page and dies
	// without releasing the lease or finishing the run.
	if ok, err := st.AcquireLease(ctx, "c", "A", 30*time.Second); err != nil || !ok {
		t.Fatalf("A acquire: %v %v", ok, err)
	}
	runID, err := st.StartRun(ctx, "c", "sync", clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	lastSeen := clock.Now().Add(20 * time.Second)
	if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.TouchRun(ctx, runID, lastSeen) }); err != nil {
		t.Fatal(err)
	}
	b := hsync.NewLease(hsync.LeaseOptions{Store: st, Connection: "c", Holder: "B", TTL: 30 * time.Second, Clock: clock})
	ran := false
	err = b.Do(ctx, func(context.Context) error { ran = true; return nil })
	var held *hsync.LeaseHeldError
	if !errors.As(err, &held) || held.Holder != "A" || ran {
		t.Fatalf("B while A's lease lives: %v (ran %v), want LeaseHeldError naming A", err, ran)
	}
	if runs, _ := st.Runs(ctx, "c", 1); runs[0].Status != store.RunRunning {
		t.Fatalf("B without the lease changed A's run to %s", runs[0].Status)
	}
	expireLease(t, raw, "c")
	clock.Add(time.Minute)
	if err := b.Do(ctx, func(context.Context) error { ran = true; return nil }); err != nil || !ran {
		t.Fatalf("B after A's lease expired: %v (ran %v)", err, ran)
	}
	runs, err := st.Runs(ctx, "c", 1)
	if err != nil {
		t.Fatal(err)
	}
	if r := runs[0]; r.ID != runID || r.Status != store.RunInterrupted || r.FinishedAt == nil || !r.FinishedAt.Equal(lastSeen) {
		t.Fatalf("A's run after B took over = %+v, want interrupted, ended when last seen (%v)", r, lastSeen)
	}
}

// TestSkewedClocksCannotTakeALiveLease: expiry is the database's clock, so
// neither a replica whose clock runs behind (and so would write a lease
// the others see as long expired) nor one whose clock runs ahead (and so
// would see a live lease as expired) breaks a live lease.
func TestSkewedClocksCannotTakeALiveLease(t *testing.T) {
	t.Parallel()
	st, _ := leaseStore(t)
	ctx := context.Background()
	now := time.Now()
	behind := testkit.NewClock(now.Add(-time.Hour))
	ahead := testkit.NewClock(now.Add(time.Hour))
	correct := testkit.NewClock(now)
	try := func(holder string, clock *testkit.Clock) error {
		l := hsync.NewLease(hsync.LeaseOptions{Store: st, Connection: "c", Holder: holder, TTL: 30 * time.Second, Clock: clock})
		return l.Do(ctx, func(context.Context) error { return nil })
	}
	for _, c := range []struct {
		name          string
		holder, other *testkit.Clock
	}{
		{"holder's clock an hour behind", behind, correct},
		{"taker's clock an hour ahead", correct, ahead},
	} {
		a := hsync.NewLease(hsync.LeaseOptions{Store: st, Connection: "c", Holder: "A", TTL: 30 * time.Second, Clock: c.holder})
		err := a.Do(ctx, func(context.Context) error {
			var held *hsync.LeaseHeldError
			if err := try("B", c.other); !errors.As(err, &held) || held.Holder != "A" {
				t.Errorf("%s: B's Do beside A's live lease = %v, want LeaseHeldError naming A", c.name, err)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s: A's Do: %v", c.name, err)
		}
		// Released: B gets it at once, whatever its clock says.
		if err := try("B", c.other); err != nil {
			t.Fatalf("%s: B after A released: %v", c.name, err)
		}
	}
}

func TestLostLeaseStopsTheWork(t *testing.T) {
	t.Parallel()
	st, raw := leaseStore(t)
	ctx := context.Background()
	clock := testkit.NewClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	a := hsync.NewLease(hsync.LeaseOptions{Store: st, Connection: "c", Holder: "A", TTL: 300 * time.Millisecond, Clock: clock})
	err := a.Do(ctx, func(ctx context.Context) error {
		// Another replica takes over (as if A had stalled past its TTL).
		if _, err := raw.Exec("UPDATE leases SET holder = 'B', expires_at = expires_at + 3600000 WHERE connection = 'c'"); err != nil {
			t.Errorf("B take over: %v", err)
		}
		<-ctx.Done() // A's renewal fails and cancels the work
		return ctx.Err()
	})
	if err == nil || !errors.Is(err, context.Canceled) && !contains(err.Error(), "lease lost") {
		t.Fatalf("A's Do = %v, want an error saying the lease was lost", err)
	}
	if l, _ := st.LeaseOf(ctx, "c"); l.Holder != "B" {
		t.Fatalf("lease holder after loss = %q, want B (A must not release B's lease)", l.Holder)
	}
}

func contains(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && (s[:len(sub)] == sub || contains(s[1:], sub)))
}
