package storetest

import (
	"context"
	"fmt"
	"testing"

	"healthsync/store"
)

// testRawRecordsByID checks the lookup of stored raw JSON by IDs, in a
// transaction (Tx.RawRecords) and outside one (Store.RawRecords): more IDs
// than one chunk of the IN list, records of another object or connection
// with the same IDs left out, deleted ones flagged, unknown IDs absent,
// and the JSON as stored.
func testRawRecordsByID(t *testing.T, fresh Fresh) {
	ctx := context.Background()
	s := Open(t, fresh(t), store.Options{})
	mustTx(t, s, func(tx *store.Tx) error {
		b := tx.Batch(conn)
		for i := 0; i < 1200; i++ {
			id := fmt.Sprintf("%d", 9000+i)
			b.UpsertRaw(store.RawRecord{Object: "calls", ID: id, ModifiedAt: t0, Raw: []byte(fmt.Sprintf(`{"id":"%s","associations":{"companies":{"results":[{"id":"%d","type":"call_to_company"}]}}}`, id, i))})
			b.UpsertRaw(store.RawRecord{Object: "notes", ID: id, ModifiedAt: t0, Raw: []byte(`{"other":"object"}`)})
		}
		b.UpsertRaw(store.RawRecord{Object: "calls", ID: "9000", ModifiedAt: t0, Raw: []byte(`{"other":"connection"}`)})
		if err := b.Flush(ctx); err != nil {
			return err
		}
		if err := tx.UpsertRaw(ctx, "elsewhere", store.RawRecord{Object: "calls", ID: "9001", ModifiedAt: t0, Raw: []byte(`{"other":"connection"}`)}); err != nil {
			return err
		}
		return tx.MarkRawDeleted(ctx, conn, "calls", "9002")
	})
	ids := []string{"nope"}
	for i := 0; i < 1200; i++ {
		ids = append(ids, fmt.Sprintf("%d", 9000+i))
	}
	check := func(how string, got map[string]store.RawRecord) {
		t.Helper()
		if len(got) != 1200 {
			t.Errorf("%s: found %d records, want 1200", how, len(got))
		}
		if _, ok := got["nope"]; ok {
			t.Errorf("%s: an ID never stored was found", how)
		}
		r := got["9001"]
		if want := `{"id":"9001","associations":{"companies":{"results":[{"id":"1","type":"call_to_company"}]}}}`; string(r.Raw) != want || r.Deleted || r.Object != "calls" || !r.ModifiedAt.Equal(t0) {
			t.Errorf("%s: record 9001 = %+v (raw %s), want the calls record of this connection as stored", how, r, r.Raw)
		}
		if !got["9002"].Deleted {
			t.Errorf("%s: record 9002 is not flagged deleted", how)
		}
		if string(got["9000"].Raw) != `{"other":"connection"}` {
			t.Errorf("%s: record 9000 = %s, want the later write of it", how, got["9000"].Raw)
		}
	}
	got, err := s.RawRecords(ctx, conn, "calls", ids)
	if err != nil {
		t.Fatal(err)
	}
	check("Store.RawRecords", got)
	mustTx(t, s, func(tx *store.Tx) error {
		got, err := tx.RawRecords(ctx, conn, "calls", ids)
		if err != nil {
			return err
		}
		check("Tx.RawRecords", got)
		return nil
	})
	if got, err := s.RawRecords(ctx, conn, "calls", nil); err != nil || len(got) != 0 {
		t.Errorf("no IDs: %v, %v; want nothing", got, err)
	}
}
