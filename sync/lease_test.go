package sync_test

import (
	"context"
	"errors"
	"os"
	stdsync "sync"
	"sync/atomic"
	"testing"
	"time"

	"healthsync/store"
	"healthsync/store/storetest"
	hsync "healthsync/sync"
)

// settableClock is a clock tests move by hand.
type settableClock struct {
	mu  stdsync.Mutex
	now time.Time
}

func (c *settableClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *settableClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func leaseStore(t *testing.T) *store.Store {
	t.Helper()
	if os.Getenv(storetest.PostgresURLVar) != "" {
		return storetest.Open(t, storetest.FreshPostgres(t), store.Options{})
	}
	t.Log("HEALTHSYNC_TEST_DATABASE_URL not set: lease test runs on SQLite only")
	return storetest.Open(t, store.Config{DatabaseURL: t.TempDir() + "/hs.db", EncryptionKey: storetest.Key}, store.Options{})
}

func TestLeaseNeverHeldTwice(t *testing.T) {
	t.Parallel()
	st := leaseStore(t)
	ctx := context.Background()
	var inside, maxInside, runs atomic.Int32
	var wg stdsync.WaitGroup
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			l := hsync.Lease{Store: st, Connection: "c", Holder: string(rune('A' + i)), TTL: 5 * time.Second}
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

func TestDeadHolderIsReplaced(t *testing.T) {
	t.Parallel()
	st := leaseStore(t)
	ctx := context.Background()
	clock := &settableClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	// Replica A takes the lease and dies without releasing it.
	if ok, err := st.AcquireLease(ctx, "c", "A", clock.Now(), 30*time.Second); err != nil || !ok {
		t.Fatalf("A acquire: %v %v", ok, err)
	}
	b := hsync.Lease{Store: st, Connection: "c", Holder: "B", TTL: 30 * time.Second, Clock: clock}
	ran := false
	err := b.Do(ctx, func(context.Context) error { ran = true; return nil })
	var held *hsync.LeaseHeldError
	if !errors.As(err, &held) || held.Holder != "A" || ran {
		t.Fatalf("B while A's lease lives: %v (ran %v), want LeaseHeldError naming A", err, ran)
	}
	clock.Add(31 * time.Second)
	if err := b.Do(ctx, func(context.Context) error { ran = true; return nil }); err != nil || !ran {
		t.Fatalf("B after A's lease expired: %v (ran %v)", err, ran)
	}
}

func TestLostLeaseStopsTheWork(t *testing.T) {
	t.Parallel()
	st := leaseStore(t)
	ctx := context.Background()
	clock := &settableClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	a := hsync.Lease{Store: st, Connection: "c", Holder: "A", TTL: 300 * time.Millisecond, Clock: clock}
	err := a.Do(ctx, func(ctx context.Context) error {
		// Another replica takes over (as if A had stalled past its TTL).
		clock.Add(time.Second)
		if ok, err := st.AcquireLease(context.Background(), "c", "B", clock.Now(), time.Hour); err != nil || !ok {
			t.Errorf("B take over: %v %v", ok, err)
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
