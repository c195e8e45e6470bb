package sync_test

import (
	"context"
	"errors"
	"testing"

	emusalesforce "healthsync/emulator/salesforce"
	hsync "healthsync/sync"
)

// TestReconcileFindsHardDeletes purges records (beyond any deleted/ window)
// and checks that only reconciliation removes them, and that a CRM that
// suddenly lists most records as gone is refused.
func TestReconcileFindsHardDeletes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := salesforceRig(t, backends[0].fresh(t))
	em := r.emulator.(*emusalesforce.Server)
	sync := func(reconcile bool) (*hsync.Report, error) {
		return hsync.NewEngine(hsync.EngineOptions{Store: r.st, Source: r.src, Mapping: r.m, Config: hsync.Config{Connection: "default", ReconcileEvery: 1 << 62}}).
			Sync(ctx, hsync.SyncOptions{Reconcile: reconcile})
	}
	if _, err := sync(false); err != nil {
		t.Fatal(err)
	}
	contacts := em.IDs("Contact", false)
	for _, id := range contacts[:3] {
		if err := em.Purge("Contact", id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sync(false); err != nil {
		t.Fatal(err)
	}
	if n, _ := r.st.RawCount(ctx, "default", "Contact", false); n != len(contacts) {
		t.Fatalf("an incremental sync saw the purge (%d live, want still %d): the test does not test reconciliation", n, len(contacts))
	}
	rep, err := sync(true)
	if err != nil {
		t.Fatal(err)
	}
	assertMirrors(t, r)
	for _, o := range rep.Objects {
		if o.Object == "Contact" && (!o.Reconciled || o.Counts.Deleted != 3) {
			t.Fatalf("Contact reconciliation: %+v", o)
		}
	}

	// Most contacts vanish at once: more likely lost access than a mass
	// delete; nothing is deleted.
	accounts := em.IDs("Contact", false)
	for _, id := range accounts[:len(accounts)*3/4] {
		em.Purge("Contact", id)
	}
	if _, err := sync(true); !errors.Is(err, hsync.ErrReconcileRefused) {
		t.Fatalf("reconcile after 75%% vanished: %v, want ErrReconcileRefused", err)
	}
	if n, _ := r.st.RawCount(ctx, "default", "Contact", false); n != len(accounts) {
		t.Fatalf("refused reconciliation still deleted: %d of %d contacts live", n, len(accounts))
	}
}
