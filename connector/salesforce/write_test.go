package salesforce

import (
	"context"
	"fmt"
	"testing"

	"healthsync/connector"
	emu "healthsync/emulator/salesforce"
)

func accountUpdates(b *bundle, n int, field string, val func(i int) any) []connector.Update {
	ids := b.srv.IDs("Account", false)
	ups := make([]connector.Update, n)
	for i := range ups {
		ups[i] = connector.Update{ID: ids[i%len(ids)], Fields: map[string]any{field: val(i)}}
	}
	return ups
}

func TestUpdate450InThreeCompositeCalls(t *testing.T) {
	t.Parallel()
	b := setup(t, 0, emu.Options{})
	insertAccounts(t, b, 450, "Upd")
	ups := accountUpdates(b, 450, "NumberOfEmployees", func(i int) any { return i + 1 })
	before := b.c.APICalls()
	res, err := b.c.Update(context.Background(), "Account", ups)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.c.APICalls() - before; got != 3 {
		t.Errorf("450 updates took %d API calls, want 3", got)
	}
	for i, r := range res {
		if !r.OK() || r.ID != ups[i].ID {
			t.Fatalf("result %d = %+v", i, r)
		}
		rec, _ := b.srv.Record("Account", ups[i].ID)
		if rec["NumberOfEmployees"] != float64(i+1) {
			t.Fatalf("account %s NumberOfEmployees = %v, want %d", ups[i].ID, rec["NumberOfEmployees"], i+1)
		}
	}
}

func TestUpdatePartialFailuresMappedPerRecord(t *testing.T) {
	t.Parallel()
	b := setup(t, 0, emu.Options{})
	ids := insertAccounts(t, b, 5, "Partial")
	if err := b.srv.Delete("Account", ids[3]); err != nil {
		t.Fatal(err)
	}
	ups := []connector.Update{
		{ID: ids[0], Fields: map[string]any{"Industry": "Energy"}},
		{ID: ids[1], Fields: map[string]any{"NumberOfEmployees": "many"}},
		{ID: ids[2], Fields: map[string]any{"Industry": "Retail"}},
		{ID: ids[3], Fields: map[string]any{"Industry": "Retail"}},
		{ID: ids[4], Fields: map[string]any{"No_Such_Field__c": 1}},
	}
	res, err := b.c.Update(context.Background(), "Account", ups)
	if err != nil {
		t.Fatal(err)
	}
	for i, wantOK := range []bool{true, false, true, false, false} {
		r := res[i]
		t.Logf("result %d: ok=%v err=%v retryable=%v", i, r.OK(), r.Err, r.Retryable)
		if r.OK() != wantOK || r.ID != ids[i] || r.Retryable {
			t.Errorf("result %d = %+v, want ok=%v, not retryable", i, r, wantOK)
		}
	}
}

func TestLockedRowsRetried(t *testing.T) {
	t.Parallel()
	b := setup(t, 0, emu.Options{Faults: emu.Faults{Seed: 5, LockRow: 0.3}})
	// Inserts fail on locks too: retry until all exist.
	ids := insertAccounts(t, b, 300, "Locked")
	ups := make([]connector.Update, len(ids))
	for i, id := range ids {
		ups[i] = connector.Update{ID: id, Fields: map[string]any{"Industry": fmt.Sprintf("I%d", i)}}
	}
	before := b.c.APICalls()
	res, err := b.c.Update(context.Background(), "Account", ups)
	if err != nil {
		t.Fatal(err)
	}
	calls := b.c.APICalls() - before
	for i, r := range res {
		if !r.OK() {
			t.Fatalf("record %d not written after retries: %v", i, r.Err)
		}
	}
	if calls <= 2 {
		t.Errorf("%d calls: the locked records were not retried", calls)
	}
	t.Logf("300 updates with 30%% locked rows: %d composite calls", calls)
}

func TestBulkIngestForLargeUpdates(t *testing.T) {
	t.Parallel()
	b := setup(t, 0, emu.Options{})
	ids := insertAccounts(t, b, 2100, "Bulk")
	ups := make([]connector.Update, len(ids))
	for i, id := range ids {
		ups[i] = connector.Update{ID: id, Fields: map[string]any{"NumberOfEmployees": i, "Industry": nil}}
	}
	ups[7].Fields["NumberOfEmployees"] = "not a number"
	before := b.c.APICalls()
	res, err := b.c.Update(context.Background(), "Account", ups)
	if err != nil {
		t.Fatal(err)
	}
	calls := b.c.APICalls() - before
	t.Logf("2,100 updates through Bulk API 2.0: %d API calls", calls)
	if calls > 10 {
		t.Errorf("bulk update took %d calls, want a handful", calls)
	}
	for i, r := range res {
		if i == 7 {
			if r.OK() || r.Retryable {
				t.Errorf("record 7: %+v, want a non-retryable failure", r)
			}
			continue
		}
		if !r.OK() {
			t.Fatalf("record %d: %v", i, r.Err)
		}
	}
	rec, _ := b.srv.Record("Account", ids[42])
	if rec["NumberOfEmployees"] != float64(42) {
		t.Errorf("NumberOfEmployees = %v, want 42", rec["NumberOfEmployees"])
	}
}
