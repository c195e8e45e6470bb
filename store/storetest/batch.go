package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"healthsync/crm"
	"healthsync/store"
)

// rawOf returns the stored raw records of object by ID.
func rawOf(t *testing.T, s *store.Store, object string) map[string]store.RawRecord {
	t.Helper()
	out := map[string]store.RawRecord{}
	err := s.ForEachRaw(context.Background(), conn, object, func(r store.RawRecord) error {
		out[r.ID] = r
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// contactsOf returns the stored contacts of account by ID.
func contactsOf(t *testing.T, s *store.Store, account crm.AccountID) map[crm.ContactID]crm.Contact {
	t.Helper()
	b, err := s.LoadBundle(context.Background(), conn, string(account))
	if err != nil {
		t.Fatal(err)
	}
	out := map[crm.ContactID]crm.Contact{}
	for _, c := range b.Contacts {
		out[c.ID] = c
	}
	return out
}

// testBatchLastWins writes keys several times in one batch: one row per
// key remains, holding the last write, on both backends (Postgres refuses
// one statement that updates a row twice, so the batch must collapse them).
func testBatchLastWins(t *testing.T, fresh Fresh) {
	ctx := context.Background()
	s := Open(t, fresh(t), store.Options{})
	mustTx(t, s, func(tx *store.Tx) error {
		b := tx.Batch(conn)
		b.UpsertAccount(crm.Account{ID: "001A", Name: "first", ModifiedAt: t0})
		for i := 1; i <= 3; i++ {
			mod := t0.Add(time.Duration(i) * time.Minute)
			raw := fmt.Sprintf(`{"Id":"003A","Title":"v%d"}`, i)
			b.UpsertRaw(store.RawRecord{Object: "Contact", ID: "003A", ModifiedAt: mod, Raw: []byte(raw)})
			b.UpsertContact(crm.Contact{ID: "003A", AccountID: "001A", Title: fmt.Sprintf("v%d", i), ModifiedAt: mod})
			b.UpsertRaw(store.RawRecord{Object: "Contact", ID: "003B", ModifiedAt: mod, Raw: []byte(`{}`)})
			b.UpsertContact(crm.Contact{ID: "003B", AccountID: "001A", Title: fmt.Sprintf("b%d", i), ModifiedAt: mod})
		}
		b.UpsertAccount(crm.Account{ID: "001A", Name: "last", ModifiedAt: t0.Add(time.Hour)})
		// The same ID under another object is another raw record.
		b.UpsertRaw(store.RawRecord{Object: "Lead", ID: "003A", ModifiedAt: t0, Raw: []byte(`{"lead":true}`)})
		if n := b.Len(); n != 6 {
			t.Errorf("batch Len = %d after repeated writes, want 6 (3 raw, 2 contacts, 1 account)", n)
		}
		return b.Flush(ctx)
	})
	raw := rawOf(t, s, "Contact")
	if len(raw) != 2 || string(raw["003A"].Raw) != `{"Id":"003A","Title":"v3"}` || !raw["003A"].ModifiedAt.Equal(t0.Add(3*time.Minute)) {
		t.Fatalf("raw contacts = %v, want 2 with 003A at its last write", raw)
	}
	if lead := rawOf(t, s, "Lead"); len(lead) != 1 || string(lead["003A"].Raw) != `{"lead":true}` {
		t.Fatalf("raw leads = %v", lead)
	}
	b, err := s.LoadBundle(ctx, conn, "001A")
	if err != nil {
		t.Fatal(err)
	}
	if b.Account.Name != "last" || !b.Account.ModifiedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("account = %+v, want the last upsert", b.Account)
	}
	cs := contactsOf(t, s, "001A")
	if len(cs) != 2 || cs["003A"].Title != "v3" || cs["003B"].Title != "b3" {
		t.Fatalf("contacts = %+v, want 003A v3 and 003B b3", cs)
	}
	// A second batch over the stored rows updates them in place.
	mustTx(t, s, func(tx *store.Tx) error {
		b := tx.Batch(conn)
		b.UpsertContact(crm.Contact{ID: "003A", AccountID: "001A", Title: "v4"})
		b.UpsertContact(crm.Contact{ID: "003A", AccountID: "001A", Title: "v5"})
		return b.Flush(ctx)
	})
	if cs := contactsOf(t, s, "001A"); len(cs) != 2 || cs["003A"].Title != "v5" {
		t.Fatalf("contacts after an update batch = %+v, want 003A v5", cs)
	}
}

// testBatchMixedOrder interleaves upserts and deletes of the same IDs in
// one batch, as a page that holds a record and its deletion does: the
// outcome is that of running them one at a time in order.
func testBatchMixedOrder(t *testing.T, fresh Fresh) {
	ctx := context.Background()
	s := Open(t, fresh(t), store.Options{})
	act := func(id, subject string) crm.Activity {
		return crm.Activity{ID: crm.ActivityID(id), AccountID: "001A", Subject: subject, OccurredAt: t0}
	}
	// Stored before the batch: "kept" and "gone".
	mustTx(t, s, func(tx *store.Tx) error {
		b := tx.Batch(conn)
		b.UpsertAccount(crm.Account{ID: "001A"})
		b.UpsertActivity("Task", act("kept", "old"))
		b.UpsertActivity("Task", act("gone", "old"))
		return b.Flush(ctx)
	})
	mustTx(t, s, func(tx *store.Tx) error {
		b := tx.Batch(conn)
		rawRec := func(id string, deleted bool) {
			b.UpsertRaw(store.RawRecord{Object: "Task", ID: id, Deleted: deleted, Raw: []byte(fmt.Sprintf(`{"Id":%q,"IsDeleted":%v}`, id, deleted))})
		}
		// upsert then delete: no row.
		rawRec("up-del", false)
		b.UpsertActivity("Task", act("up-del", "x"))
		rawRec("up-del", true)
		b.Delete(store.Activities, "up-del")
		// delete then upsert: the upserted row.
		rawRec("del-up", true)
		b.Delete(store.Activities, "del-up")
		rawRec("del-up", false)
		b.UpsertActivity("Task", act("del-up", "back"))
		// upsert, delete, upsert again: the second upsert.
		b.UpsertActivity("Task", act("kept", "v1"))
		b.Delete(store.Activities, "kept")
		b.UpsertActivity("Event", act("kept", "v2"))
		// a stored row deleted, then deleted again; a never stored one deleted.
		b.Delete(store.Activities, "gone")
		b.Delete(store.Activities, "gone")
		b.Delete(store.Activities, "never")
		return b.Flush(ctx)
	})
	bundle, err := s.LoadBundle(ctx, conn, "001A")
	if err != nil {
		t.Fatal(err)
	}
	got := map[crm.ActivityID]string{}
	for _, a := range bundle.Activities {
		got[a.ID] = a.Subject
	}
	want := map[crm.ActivityID]string{"del-up": "back", "kept": "v2"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("activities = %v, want %v", got, want)
	}
	raw := rawOf(t, s, "Task")
	if len(raw) != 2 || !raw["up-del"].Deleted || raw["del-up"].Deleted {
		t.Fatalf("raw = %+v, want up-del deleted and del-up live", raw)
	}
}

// testBatchEmpty flushes batches with nothing in them, and flushes one
// batch twice: neither writes anything nor fails.
func testBatchEmpty(t *testing.T, fresh Fresh) {
	ctx := context.Background()
	s := Open(t, fresh(t), store.Options{})
	mustTx(t, s, func(tx *store.Tx) error {
		b := tx.Batch(conn)
		if err := b.Flush(ctx); err != nil {
			return fmt.Errorf("empty flush: %w", err)
		}
		b.UpsertAccount(crm.Account{ID: "001A", Name: "once"})
		if err := b.Flush(ctx); err != nil {
			return err
		}
		if b.Len() != 0 {
			t.Errorf("batch Len after Flush = %d, want 0", b.Len())
		}
		if err := b.Flush(ctx); err != nil {
			return fmt.Errorf("second flush: %w", err)
		}
		return tx.Delete(ctx, conn, store.Accounts) // no IDs
	})
	counts, err := s.Counts(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	if counts[store.Accounts] != 1 {
		t.Fatalf("accounts = %d, want 1", counts[store.Accounts])
	}
}

// testBatchLarge writes, updates and deletes more rows than one statement
// holds, so every table is written in several chunks of different sizes.
func testBatchLarge(t *testing.T, fresh Fresh) {
	ctx := context.Background()
	s := Open(t, fresh(t), store.Options{})
	n := 2*store.BatchRows + 3
	id := func(i int) string { return fmt.Sprintf("003%06d", i) }
	write := func(title string) {
		mustTx(t, s, func(tx *store.Tx) error {
			b := tx.Batch(conn)
			b.UpsertAccount(crm.Account{ID: "001A"})
			for i := 0; i < n; i++ {
				b.UpsertRaw(store.RawRecord{Object: "Contact", ID: id(i), Raw: []byte(`{"Title":"` + title + `"}`)})
				b.UpsertContact(crm.Contact{ID: crm.ContactID(id(i)), AccountID: "001A", Title: title})
			}
			return b.Flush(ctx)
		})
	}
	write("first")
	write("second")
	cs := contactsOf(t, s, "001A")
	if len(cs) != n {
		t.Fatalf("contacts = %d, want %d", len(cs), n)
	}
	for _, c := range cs {
		if c.Title != "second" {
			t.Fatalf("contact %s = %q, want the second write", c.ID, c.Title)
		}
	}
	if raw := rawOf(t, s, "Contact"); len(raw) != n || string(raw[id(n-1)].Raw) != `{"Title":"second"}` {
		t.Fatalf("raw contacts = %d (last %s), want %d from the second write", len(raw), raw[id(n-1)].Raw, n)
	}
	// Delete all but the first, and mark their raw records deleted.
	gone := make([]string, 0, n-1)
	for i := 1; i < n; i++ {
		gone = append(gone, id(i))
	}
	mustTx(t, s, func(tx *store.Tx) error {
		if err := tx.Delete(ctx, conn, store.Contacts, gone...); err != nil {
			return err
		}
		return tx.MarkRawDeleted(ctx, conn, "Contact", gone...)
	})
	if cs := contactsOf(t, s, "001A"); len(cs) != 1 || cs[crm.ContactID(id(0))].Title != "second" {
		t.Fatalf("contacts after deleting %d = %v, want only %s", len(gone), cs, id(0))
	}
	var live []string
	if err := s.RawIDs(ctx, conn, "Contact", func(id string) error { live = append(live, id); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(live, []string{id(0)}) {
		t.Fatalf("live raw contacts = %d, want only %s", len(live), id(0))
	}
	if raw := rawOf(t, s, "Contact"); len(raw) != n || string(raw[id(1)].Raw) != `{"Title":"second"}` {
		t.Fatalf("raw contacts after marking = %d, want %d with their JSON kept", len(raw), n)
	}
}

// testBatchInvalidRaw adds a raw record that is not JSON in the middle of a
// batch: Flush names it and writes nothing of the batch, even when the
// transaction goes on to commit.
func testBatchInvalidRaw(t *testing.T, fresh Fresh) {
	ctx := context.Background()
	s := Open(t, fresh(t), store.Options{})
	var flushErr error
	mustTx(t, s, func(tx *store.Tx) error {
		b := tx.Batch(conn)
		for i := 0; i < 10; i++ {
			id := fmt.Sprintf("001%03d", i)
			raw := `{"Id":"` + id + `"}`
			if i == 6 {
				raw = `{"Id":"` + id + `",` // truncated
			}
			b.UpsertRaw(store.RawRecord{Object: "Account", ID: id, Raw: []byte(raw)})
			b.UpsertAccount(crm.Account{ID: crm.AccountID(id)})
		}
		flushErr = b.Flush(ctx)
		// Written after the failed flush, through the same transaction.
		return tx.SetCursor(ctx, conn, "Account", store.Cursor{LastID: "after"})
	})
	if !errors.Is(flushErr, store.ErrInvalidRaw) || !strings.Contains(flushErr.Error(), "Account 001006") {
		t.Fatalf("flush error = %v, want ErrInvalidRaw naming Account 001006", flushErr)
	}
	counts, err := s.Counts(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := s.RawCount(ctx, conn, "Account", true); n != 0 || counts[store.Accounts] != 0 {
		t.Fatalf("after the rejected batch: %d raw, %d accounts; want none", n, counts[store.Accounts])
	}
	if c, _ := s.Cursor(ctx, conn, "Account"); c.LastID != "after" {
		t.Fatalf("cursor = %+v: the transaction should have stayed usable", c)
	}
	// The single-record method rejects it the same way.
	err = s.InTx(ctx, func(tx *store.Tx) error {
		return tx.UpsertRaw(ctx, conn, store.RawRecord{Object: "Account", ID: "x", Raw: []byte("{not json")})
	})
	if !errors.Is(err, store.ErrInvalidRaw) {
		t.Fatalf("UpsertRaw of invalid JSON = %v, want ErrInvalidRaw", err)
	}
}
