package sync_test

import (
	"context"
	"testing"

	hsync "healthsync/sync"
)

// TestReportAccountsForEveryRecord: a first sync receives the records in
// the CRM's recycle bin (Salesforce queryAll) or archive (HubSpot) as
// well as the live ones. The live ones are stored and counted new; the
// deleted ones have nothing to store and are counted as already deleted,
// so the report adds up to what was received instead of silently
// showing fewer records than the CRM sent (937 of 966 contacts). A
// record deleted after it was stored is counted deleted.
func TestReportAccountsForEveryRecord(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sqlite := backends[0]
	for _, mk := range rigs {
		r := mk(t, sqlite.fresh(t))
		t.Run(r.name, func(t *testing.T) {
			// Every record received is kept raw, deleted ones as such.
			received := func(obj string, withDeleted bool) int {
				n, err := r.st.RawCount(ctx, "default", obj, withDeleted)
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
			sync := func() *hsync.Report {
				rep, err := hsync.NewEngine(hsync.EngineOptions{Store: r.st, Source: r.src, Mapping: r.m, Config: hsync.Config{Connection: "default"}}).Sync(ctx, hsync.SyncOptions{})
				if err != nil {
					t.Fatalf("sync: %v", err)
				}
				return rep
			}
			rep := sync()
			deletedSeen := 0
			for _, o := range rep.Objects {
				live, all := received(o.Object, false), received(o.Object, true)
				if ids := r.liveIDs(o.Object); ids != nil && len(ids) != live {
					t.Errorf("%s: %d live records stored, the CRM has %d", o.Object, live, len(ids))
				}
				if o.Counts.New != live || o.Counts.New+o.AlreadyDeleted != all {
					t.Errorf("%s: new %d, already deleted %d; received %d (%d live)",
						o.Object, o.Counts.New, o.AlreadyDeleted, all, live)
				}
				deletedSeen += o.AlreadyDeleted
			}
			if deletedSeen == 0 {
				t.Fatal("the generated org has no deleted records: the test proves nothing")
			}
			r.change(t) // updates a contact, deletes an activity
			rep = sync()
			deleted := 0
			for _, o := range rep.Objects {
				deleted += o.Counts.Deleted
			}
			if deleted != 1 {
				t.Errorf("after one deletion of a stored record: %d counted deleted, want 1", deleted)
			}
		})
	}
}
