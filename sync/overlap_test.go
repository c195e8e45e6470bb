package sync_test

import (
	"context"
	"errors"
	stdsync "sync"
	"testing"
	"time"

	"healthsync/connector/salesforce"
	"healthsync/crm"
	emusalesforce "healthsync/emulator/salesforce"
	"healthsync/mapping"
	"healthsync/store"
	"healthsync/store/storetest"
	hsync "healthsync/sync"
)

// overlapRig is an emulated Salesforce org large enough that an object
// (Task) takes several query pages of 2,000 records, and a store.
func overlapRig(t *testing.T, cfg store.Config) *rig {
	t.Helper()
	em := emusalesforce.New(emusalesforce.Options{})
	if err := em.LoadOrg(org(t, 200)); err != nil {
		t.Fatal(err)
	}
	sc := serveSalesforce(t, em)
	c, err := salesforce.Open(context.Background(), sc, salesforce.Deps{Connection: "default"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := mapping.New(crm.Salesforce, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &rig{name: "salesforce", sys: crm.Salesforce, src: c, m: m, st: storetest.Open(t, cfg, store.Options{}),
		liveIDs: func(obj string) []string { return em.IDs(obj, false) }}
}

// TestCrashDuringOverlapResumes crashes a sync while page 1 of a
// multi-page object is being stored and page 2 has already been fetched
// and mapped (the pipeline's overlap): inside page 1's transaction, and
// right after its commit. Page 2 must not be stored and the cursor must
// not pass page 1's end; a clean run then mirrors the CRM. The test fails
// if the pipeline does not overlap (page 2 never arrives while page 1 is
// stored).
func TestCrashDuringOverlapResumes(t *testing.T) {
	t.Parallel()
	const obj = "Task"
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			cfg := hsync.Config{Connection: "default", ReconcileEvery: time.Hour}
			for _, mode := range []string{"mid-transaction", "after-commit"} {
				t.Run(mode, func(t *testing.T) {
					r := overlapRig(t, be.fresh(t))
					var mu stdsync.Mutex
					queued := map[int]chan struct{}{}
					arrived := func(page int) chan struct{} {
						mu.Lock()
						defer mu.Unlock()
						if queued[page] == nil {
							queued[page] = make(chan struct{})
						}
						return queued[page]
					}
					var page1 int // records stored by page 1
					crash := func(o string, page int) error {
						if o != obj || page != 1 {
							return nil
						}
						select {
						case <-arrived(2):
						case <-time.After(20 * time.Second):
							t.Errorf("%s page 2 was not fetched while page 1 was being stored: the pull does not overlap", obj)
						}
						return errCrash
					}
					hooks := hsync.Hooks{Queued: func(o string, page int) {
						if o == obj {
							close(arrived(page))
						}
					}}
					if mode == "mid-transaction" {
						hooks.BeforeCommit = crash
					} else {
						hooks.AfterCommit = crash
						page1 = 2000
					}
					_, err := hsync.NewEngine(hsync.EngineOptions{Store: r.st, Source: r.src, Mapping: r.m, Config: cfg, Hooks: hooks}).Sync(ctx, hsync.SyncOptions{})
					if !errors.Is(err, errCrash) {
						t.Fatalf("sync error %v, want the crash", err)
					}
					stored := 0
					var last string
					if err := r.st.RawIDs(ctx, "default", obj, func(id string) error { stored++; last = id; return nil }); err != nil {
						t.Fatal(err)
					}
					if stored != page1 {
						t.Fatalf("%d %s records stored after the crash, want page 1's %d: page 2 must not be stored", stored, obj, page1)
					}
					cur, err := r.st.Cursor(ctx, "default", obj)
					if err != nil {
						t.Fatal(err)
					}
					if page1 == 0 && (!cur.ModifiedAt.IsZero() || cur.LastID != "") {
						t.Fatalf("cursor %+v after a crash inside page 1, want none", cur)
					}
					if page1 > 0 {
						// The cursor is page 1's end: no stored record lies
						// beyond it.
						var beyond int
						r.st.ForEachRaw(ctx, "default", obj, func(rr store.RawRecord) error {
							if rr.ModifiedAt.After(cur.ModifiedAt) {
								beyond++
							}
							return nil
						})
						if beyond > 0 || cur.LastID == "" {
							t.Fatalf("cursor %+v: %d stored records beyond it (last %s)", cur, beyond, last)
						}
					}
					if _, err := hsync.NewEngine(hsync.EngineOptions{Store: r.st, Source: r.src, Mapping: r.m, Config: cfg}).Sync(ctx, hsync.SyncOptions{}); err != nil {
						t.Fatalf("resume: %v", err)
					}
					assertMirrors(t, r)
				})
			}
		})
	}
}
