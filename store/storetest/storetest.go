// Package storetest is the store conformance suite: one set of tests that
// runs unchanged against every backend. A backend's test calls Run with a
// function that returns the configuration of a fresh, empty database.
package storetest

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	stdsync "sync"
	"testing"
	"time"

	"healthsync/crm"
	"healthsync/store"
)

// Fresh returns the configuration of a new, empty, isolated database for
// one test, and registers its cleanup with t.
type Fresh func(t *testing.T) store.Config

// Key is a valid encryption key for tests.
var Key = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))

// Open opens and migrates a store for cfg, closing it when t ends.
func Open(t testing.TB, cfg store.Config, opts store.Options) *store.Store {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, cfg, opts)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return s
}

// Run runs the conformance suite.
func Run(t *testing.T, fresh Fresh) {
	tests := map[string]func(*testing.T, Fresh){
		"MigrateIdempotent":     testMigrateIdempotent,
		"UpsertIdempotent":      testUpsertIdempotent,
		"CursorSameTransaction": testCursorSameTransaction,
		"DeleteAndRaw":          testDeleteAndRaw,
		"ForEachAccount":        testForEachAccount,
		"LoadBundle":            testLoadBundle,
		"ScoreHistoryOrder":     testScoreHistoryOrder,
		"Ledger":                testLedger,
		"Tasks":                 testTasks,
		"LedgerBatch":           testLedgerBatch,
		"TasksBatch":            testTasksBatch,
		"TokenEncryption":       testTokenEncryption,
		"Runs":                  testRuns,
		"RunsInterrupted":       testRunsInterrupted,
		"LastPulls":             testLastPulls,
		"ConcurrentWriters":     testConcurrentWriters,
		"Lease":                 testLease,
		"LookupsInTx":           testLookupsInTx,
		"StatusReads":           testStatusReads,
		"BatchLastWins":         testBatchLastWins,
		"BatchMixedOrder":       testBatchMixedOrder,
		"BatchEmpty":            testBatchEmpty,
		"BatchLarge":            testBatchLarge,
		"BatchInvalidRaw":       testBatchInvalidRaw,
		"FieldHistory":          testFieldHistory,
		"RawRecordsByID":        testRawRecordsByID,
	}
	names := make([]string, 0, len(tests))
	for n := range tests {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		fn := tests[name]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, fresh)
		})
	}
}

const conn = "test"

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func mustTx(t *testing.T, s *store.Store, fn func(tx *store.Tx) error) {
	t.Helper()
	if err := s.InTx(context.Background(), fn); err != nil {
		t.Fatalf("transaction: %v", err)
	}
}

func testMigrateIdempotent(t *testing.T, fresh Fresh) {
	s := Open(t, fresh(t), store.Options{})
	st, err := s.Migrate(context.Background())
	if err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	if st.Current != st.Latest || st.Current == 0 || st.Dirty {
		t.Fatalf("status after migrate = %+v, want current = latest > 0, clean", st)
	}
}

func testUpsertIdempotent(t *testing.T, fresh Fresh) {
	ctx := context.Background()
	s := Open(t, fresh(t), store.Options{})
	acc := crm.Account{ID: "001A", Name: "Acme", ModifiedAt: t0}
	for i := 0; i < 3; i++ {
		mustTx(t, s, func(tx *store.Tx) error {
			if err := tx.UpsertRaw(ctx, conn, store.RawRecord{Object: "Account", ID: "001A", ModifiedAt: t0, Raw: []byte(`{"Id":"001A"}`)}); err != nil {
				return err
			}
			return tx.UpsertAccount(ctx, conn, acc)
		})
	}
	acc.Name = "Acme Corp"
	mustTx(t, s, func(tx *store.Tx) error { return tx.UpsertAccount(ctx, conn, acc) })
	counts, err := s.Counts(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	if counts[store.Accounts] != 1 {
		t.Fatalf("accounts = %d after repeated upserts, want 1", counts[store.Accounts])
	}
	if n, _ := s.RawCount(ctx, conn, "Account", true); n != 1 {
		t.Fatalf("raw records = %d, want 1", n)
	}
	b, err := s.LoadBundle(ctx, conn, "001A")
	if err != nil {
		t.Fatal(err)
	}
	if b.Account.Name != "Acme Corp" || !b.Account.ModifiedAt.Equal(t0) {
		t.Fatalf("account = %+v, want the last upsert", b.Account)
	}
}

// testStatusReads covers the reads the status page and readiness check make
// that no other test does: the store answers a ping, every account's name
// and owner by ID, and every object's cursor; each only for the connection
// asked.
func testStatusReads(t *testing.T, fresh Fresh) {
	ctx := context.Background()
	s := Open(t, fresh(t), store.Options{})
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
	if h, err := s.AccountHeaders(ctx, conn); err != nil || len(h) != 0 {
		t.Fatalf("headers of an empty store = %v, %v; want none", h, err)
	}
	if c, err := s.Cursors(ctx, conn); err != nil || len(c) != 0 {
		t.Fatalf("cursors of an empty store = %v, %v; want none", c, err)
	}
	mustTx(t, s, func(tx *store.Tx) error {
		for _, a := range []crm.Account{
			{ID: "001A", Name: "Acme", OwnerID: "005X", ModifiedAt: t0},
			{ID: "001B", Name: "Globex", ModifiedAt: t0},
		} {
			if err := tx.UpsertAccount(ctx, conn, a); err != nil {
				return err
			}
		}
		if err := tx.UpsertAccount(ctx, "other", crm.Account{ID: "001C", Name: "Initech", ModifiedAt: t0}); err != nil {
			return err
		}
		if err := tx.SetCursor(ctx, conn, "Account", store.Cursor{ModifiedAt: t0, LastID: "001B", FieldsHash: "h1"}); err != nil {
			return err
		}
		if err := tx.SetCursor(ctx, conn, "Contact", store.Cursor{ModifiedAt: t0.Add(-time.Hour), LastID: "003A"}); err != nil {
			return err
		}
		return tx.SetCursor(ctx, "other", "Account", store.Cursor{ModifiedAt: t0, LastID: "001C"})
	})
	headers, err := s.AccountHeaders(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	want := map[crm.AccountID]store.AccountHeader{"001A": {Name: "Acme", OwnerID: "005X"}, "001B": {Name: "Globex"}}
	if len(headers) != len(want) || headers["001A"] != want["001A"] || headers["001B"] != want["001B"] {
		t.Fatalf("headers = %v, want %v", headers, want)
	}
	var streamed []string
	if err := s.ForEachAccountHeader(ctx, conn, func(id crm.AccountID, h store.AccountHeader) error {
		if h != want[id] {
			t.Errorf("streamed header of %s = %v, want %v", id, h, want[id])
		}
		streamed = append(streamed, string(id))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(streamed) != "[001A 001B]" {
		t.Fatalf("streamed headers = %v, want 001A then 001B", streamed)
	}
	cursors, err := s.Cursors(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	acc, con := cursors["Account"], cursors["Contact"]
	if len(cursors) != 2 || !acc.ModifiedAt.Equal(t0) || acc.LastID != "001B" || acc.FieldsHash != "h1" || acc.UpdatedAt.IsZero() ||
		!con.ModifiedAt.Equal(t0.Add(-time.Hour)) || con.LastID != "003A" {
		t.Fatalf("cursors = %+v, want Account at 001B and Contact at 003A", cursors)
	}
	if one, err := s.Cursor(ctx, conn, "Account"); err != nil || one != acc {
		t.Fatalf("Cursor(Account) = %+v, %v; want what Cursors gives, %+v", one, err, acc)
	}
}

func testCursorSameTransaction(t *testing.T, fresh Fresh) {
	ctx := context.Background()
	s := Open(t, fresh(t), store.Options{})
	c1 := store.Cursor{ModifiedAt: t0, LastID: "001A", FieldsHash: "h1"}
	mustTx(t, s, func(tx *store.Tx) error {
		if err := tx.UpsertAccount(ctx, conn, crm.Account{ID: "001A", ModifiedAt: t0}); err != nil {
			return err
		}
		return tx.SetCursor(ctx, conn, "Account", c1)
	})
	boom := errors.New("crash before commit")
	err := s.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.UpsertAccount(ctx, conn, crm.Account{ID: "001B", ModifiedAt: t0.Add(time.Second)}); err != nil {
			return err
		}
		if err := tx.SetCursor(ctx, conn, "Account", store.Cursor{ModifiedAt: t0.Add(time.Second), LastID: "001B"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx error = %v, want the callback's", err)
	}
	got, err := s.Cursor(ctx, conn, "Account")
	if err != nil {
		t.Fatal(err)
	}
	if !got.ModifiedAt.Equal(c1.ModifiedAt) || got.LastID != c1.LastID || got.FieldsHash != "h1" {
		t.Fatalf("cursor after failed tx = %+v, want %+v", got, c1)
	}
	counts, _ := s.Counts(ctx, conn)
	if counts[store.Accounts] != 1 {
		t.Fatalf("accounts after failed tx = %d, want 1", counts[store.Accounts])
	}
	// A panic inside the transaction rolls back too.
	func() {
		defer func() { recover() }()
		s.InTx(ctx, func(tx *store.Tx) error {
			tx.SetCursor(ctx, conn, "Account", store.Cursor{LastID: "zzz"})
			panic("boom")
		})
	}()
	if got, _ := s.Cursor(ctx, conn, "Account"); got.LastID != "001A" {
		t.Fatalf("cursor after panic = %+v", got)
	}
	if c, _ := s.Cursor(ctx, conn, "Contact"); c != (store.Cursor{}) {
		t.Fatalf("unknown object cursor = %+v, want zero", c)
	}
}

func testDeleteAndRaw(t *testing.T, fresh Fresh) {
	ctx := context.Background()
	s := Open(t, fresh(t), store.Options{})
	mustTx(t, s, func(tx *store.Tx) error {
		for _, id := range []string{"003B", "003A", "003C"} {
			if err := tx.UpsertRaw(ctx, conn, store.RawRecord{Object: "Contact", ID: id, ModifiedAt: t0, Raw: []byte(`{"Id":"` + id + `"}`)}); err != nil {
				return err
			}
			if err := tx.UpsertContact(ctx, conn, crm.Contact{ID: crm.ContactID(id), AccountID: "001A"}); err != nil {
				return err
			}
		}
		return nil
	})
	mustTx(t, s, func(tx *store.Tx) error {
		if err := tx.UpsertRaw(ctx, conn, store.RawRecord{Object: "Contact", ID: "003B", ModifiedAt: t0, Deleted: true, Raw: []byte(`{"Id":"003B","IsDeleted":true}`)}); err != nil {
			return err
		}
		if err := tx.Delete(ctx, conn, store.Contacts, "003B"); err != nil {
			return err
		}
		return tx.Delete(ctx, conn, store.Contacts, "never-existed")
	})
	var live []string
	if err := s.RawIDs(ctx, conn, "Contact", func(id string) error { live = append(live, id); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(live, []string{"003A", "003C"}) {
		t.Fatalf("live raw ids = %v", live)
	}
	var all []string
	err := s.ForEachRaw(ctx, conn, "Contact", func(r store.RawRecord) error {
		all = append(all, fmt.Sprintf("%s:%v", r.ID, r.Deleted))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(all, []string{"003A:false", "003B:true", "003C:false"}) {
		t.Fatalf("raw = %v", all)
	}
	counts, _ := s.Counts(ctx, conn)
	if counts[store.Contacts] != 2 {
		t.Fatalf("contacts = %d, want 2", counts[store.Contacts])
	}
	if err := s.InTx(ctx, func(tx *store.Tx) error {
		return tx.UpsertRaw(ctx, conn, store.RawRecord{Object: "Contact", ID: "x", Raw: []byte("{not json")})
	}); err == nil {
		t.Fatal("want an error for invalid raw JSON")
	}
}

func testForEachAccount(t *testing.T, fresh Fresh) {
	ctx := context.Background()
	s := Open(t, fresh(t), store.Options{})
	// IDs chosen so that byte order differs from a case-insensitive locale order.
	accounts := []string{"001a", "001B", "001C"}
	mustTx(t, s, func(tx *store.Tx) error {
		for _, id := range accounts {
			if err := tx.UpsertAccount(ctx, conn, crm.Account{ID: crm.AccountID(id), Name: "n" + id}); err != nil {
				return err
			}
			for j := 0; j < 2; j++ {
				cid := fmt.Sprintf("003-%s-%d", id, j)
				if err := tx.UpsertContact(ctx, conn, crm.Contact{ID: crm.ContactID(cid), AccountID: crm.AccountID(id)}); err != nil {
					return err
				}
			}
			if err := tx.UpsertOpportunity(ctx, conn, crm.Opportunity{ID: crm.OpportunityID("006-" + id), AccountID: crm.AccountID(id)}); err != nil {
				return err
			}
			for j := 3; j > 0; j-- {
				a := crm.Activity{ID: crm.ActivityID(fmt.Sprintf("00T-%s-%d", id, j)), AccountID: crm.AccountID(id), OccurredAt: t0.Add(time.Duration(j) * time.Hour)}
				if err := tx.UpsertActivity(ctx, conn, "Task", a); err != nil {
					return err
				}
			}
		}
		// Orphans: rows whose account is unknown must be skipped, before, between and after.
		for _, orphan := range []string{"000", "001Ab", "zzz"} {
			if err := tx.UpsertContact(ctx, conn, crm.Contact{ID: crm.ContactID("orphan-" + orphan), AccountID: crm.AccountID(orphan)}); err != nil {
				return err
			}
			if err := tx.UpsertActivity(ctx, conn, "Task", crm.Activity{ID: crm.ActivityID("orphan-" + orphan), AccountID: crm.AccountID(orphan)}); err != nil {
				return err
			}
		}
		// One task is healthsync's own follow-up: it comes marked.
		if err := tx.PutTask(ctx, conn, store.TaskRecord{Key: "hs:001B:x:1", TaskID: "00T-001B-2", AccountID: "001B", Flag: "x", Status: store.TaskOpen, CreatedAt: t0}); err != nil {
			return err
		}
		return tx.UpsertContact(ctx, conn, crm.Contact{ID: "other-conn"})
	})
	var seen []string
	err := s.ForEachAccount(ctx, conn, func(b store.Bundle) error {
		id := string(b.Account.ID)
		seen = append(seen, id)
		if len(b.Contacts) != 2 || len(b.Opportunities) != 1 || len(b.Activities) != 3 {
			t.Errorf("%s: contacts=%d opps=%d activities=%d, want 2/1/3", id, len(b.Contacts), len(b.Opportunities), len(b.Activities))
		}
		for _, a := range b.Activities {
			if a.Healthsync != (a.ID == "00T-001B-2") {
				t.Errorf("%s: activity %s marked healthsync's own: %v", id, a.ID, a.Healthsync)
			}
		}
		for _, c := range b.Contacts {
			if string(c.AccountID) != id {
				t.Errorf("%s got contact of %s", id, c.AccountID)
			}
		}
		for i := 1; i < len(b.Activities); i++ {
			if b.Activities[i].OccurredAt.Before(b.Activities[i-1].OccurredAt) {
				t.Errorf("%s activities not in time order", id)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(accounts)
	slices.Sort(want)
	if !slices.Equal(seen, want) {
		t.Fatalf("accounts visited %v, want %v", seen, want)
	}
	stop := errors.New("stop")
	if err := s.ForEachAccount(ctx, conn, func(store.Bundle) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("callback error not returned: %v", err)
	}
}

func testLoadBundle(t *testing.T, fresh Fresh) {
	ctx := context.Background()
	s := Open(t, fresh(t), store.Options{})
	mustTx(t, s, func(tx *store.Tx) error {
		for _, a := range []crm.Account{{ID: "1", Name: "Acme"}, {ID: "2", Name: "Twin"}, {ID: "3", Name: "twin"}} {
			if err := tx.UpsertAccount(ctx, conn, a); err != nil {
				return err
			}
		}
		for _, a := range []crm.Activity{{ID: "t1", AccountID: "1"}, {ID: "t2", AccountID: "1"}} {
			if err := tx.UpsertActivity(ctx, conn, "Task", a); err != nil {
				return err
			}
		}
		if err := tx.PutTask(ctx, conn, store.TaskRecord{Key: "hs:1:x:1", TaskID: "t2", AccountID: "1", Flag: "x", Status: store.TaskClosed, CreatedAt: t0}); err != nil {
			return err
		}
		return tx.UpsertContact(ctx, conn, crm.Contact{ID: "c1", AccountID: "1", Title: "CEO"})
	})
	b, err := s.LoadBundle(ctx, conn, "acme")
	if err != nil || b.Account.ID != "1" || len(b.Contacts) != 1 || b.Contacts[0].Title != "CEO" || len(b.Activities) != 2 {
		t.Fatalf("LoadBundle by name = %+v, %v", b, err)
	}
	if b.Activities[0].Healthsync == b.Activities[1].Healthsync {
		t.Errorf("healthsync's own task t2 not told apart: %+v", b.Activities)
	}
	if _, err := s.LoadBundle(ctx, conn, "Twin"); err == nil {
		t.Fatal("want an error for an ambiguous name")
	}
	if _, err := s.LoadBundle(ctx, conn, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing account error = %v, want ErrNotFound", err)
	}
}

func testScoreHistoryOrder(t *testing.T, fresh Fresh) {
	ctx := context.Background()
	s := Open(t, fresh(t), store.Options{})
	f := func(v float64) *float64 { return &v }
	mustTx(t, s, func(tx *store.Tx) error {
		for _, d := range []int{3, 1, 2} {
			sc := store.Score{AccountID: "A", ScoredAt: t0.AddDate(0, 0, d), Score: f(float64(d * 10)), Grade: "red", Reasons: []byte(`["r"]`)}
			if err := tx.PutScore(ctx, conn, sc); err != nil {
				return err
			}
		}
		// Replacing the same instant keeps one row.
		if err := tx.PutScore(ctx, conn, store.Score{AccountID: "A", ScoredAt: t0.AddDate(0, 0, 2), Score: f(25)}); err != nil {
			return err
		}
		return tx.PutScore(ctx, conn, store.Score{AccountID: "B", ScoredAt: t0, Score: nil, Grade: ""})
	})
	h, err := s.ScoreHistory(ctx, conn, "A")
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 3 {
		t.Fatalf("history length = %d, want 3", len(h))
	}
	for i, want := range []float64{10, 25, 30} {
		if h[i].Score == nil || *h[i].Score != want || (i > 0 && !h[i].ScoredAt.After(h[i-1].ScoredAt)) {
			t.Fatalf("history[%d] = %+v, want score %v in time order", i, h[i], want)
		}
	}
	latest := map[string]*float64{}
	if err := s.ForEachLatestScore(ctx, conn, func(sc store.Score) error { latest[sc.AccountID] = sc.Score; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(latest) != 2 || latest["A"] == nil || *latest["A"] != 30 || latest["B"] != nil {
		t.Fatalf("latest scores = %v", latest)
	}
}

func testLedger(t *testing.T, fresh Fresh) {
	ctx := context.Background()
	s := Open(t, fresh(t), store.Options{})
	mustTx(t, s, func(tx *store.Tx) error {
		if err := tx.RecordWrite(ctx, conn, store.LedgerEntry{Object: "Account", RecordID: "1", Field: "Health_Score__c", Value: "70", WrittenAt: t0}); err != nil {
			return err
		}
		if err := tx.RecordWrite(ctx, conn, store.LedgerEntry{Object: "Account", RecordID: "1", Field: "Health_Grade__c", Value: "green", WrittenAt: t0}); err != nil {
			return err
		}
		return tx.RecordWrite(ctx, conn, store.LedgerEntry{Object: "Account", RecordID: "1", Field: "Health_Score__c", Value: "71", WrittenAt: t0.Add(time.Hour)})
	})
	got, err := s.Ledger(ctx, conn, "Account", "1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["Health_Score__c"].Value != "71" || !got["Health_Score__c"].WrittenAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("ledger = %+v", got)
	}
	var n int
	if err := s.ForEachLedger(ctx, conn, "Account", func(store.LedgerEntry) error { n++; return nil }); err != nil || n != 2 {
		t.Fatalf("ForEachLedger = %d entries, %v", n, err)
	}
}

// testLedgerBatch writes more entries than one statement takes, with a
// field written twice in the same call (the later wins) and an entry that
// updates an earlier call's.
func testLedgerBatch(t *testing.T, fresh Fresh) {
	ctx := context.Background()
	s := Open(t, fresh(t), store.Options{})
	const records = 1500 // × 2 fields: several statements on both backends
	var es []store.LedgerEntry
	for i := range records {
		id := fmt.Sprintf("%05d", i)
		es = append(es, store.LedgerEntry{Object: "Account", RecordID: id, Field: "Health_Score__c", Value: "50", WrittenAt: t0},
			store.LedgerEntry{Object: "Account", RecordID: id, Field: "Health_Grade__c", Value: "yellow", WrittenAt: t0})
	}
	es = append(es, store.LedgerEntry{Object: "Account", RecordID: "00007", Field: "Health_Score__c", Value: "51", WrittenAt: t0.Add(time.Minute)})
	mustTx(t, s, func(tx *store.Tx) error { return tx.RecordWrites(ctx, conn, es) })
	mustTx(t, s, func(tx *store.Tx) error {
		return tx.RecordWrites(ctx, conn, []store.LedgerEntry{{Object: "Account", RecordID: "01499", Field: "Health_Grade__c", Value: "red", WrittenAt: t0.Add(time.Hour)}})
	})
	mustTx(t, s, func(tx *store.Tx) error { return tx.RecordWrites(ctx, conn, nil) })
	n := 0
	byKey := map[string]string{}
	if err := s.ForEachLedger(ctx, conn, "Account", func(e store.LedgerEntry) error {
		n++
		byKey[e.RecordID+"/"+e.Field] = e.Value
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != 2*records || byKey["00007/Health_Score__c"] != "51" || byKey["00008/Health_Score__c"] != "50" || byKey["01499/Health_Grade__c"] != "red" {
		t.Fatalf("ledger: %d entries, 00007 score %q, 00008 score %q, 01499 grade %q", n, byKey["00007/Health_Score__c"], byKey["00008/Health_Score__c"], byKey["01499/Health_Grade__c"])
	}
}

// testTasksBatch writes many task records at once; an update keeps
// created_at and, when it names no owner, the owner.
func testTasksBatch(t *testing.T, fresh Fresh) {
	ctx := context.Background()
	s := Open(t, fresh(t), store.Options{})
	const n = 1200
	var rs []store.TaskRecord
	for i := range n {
		rs = append(rs, store.TaskRecord{Key: fmt.Sprintf("A%04d/x/1", i), AccountID: fmt.Sprintf("A%04d", i), OwnerID: "005A", Flag: "x", Status: store.TaskPending, CreatedAt: t0})
	}
	mustTx(t, s, func(tx *store.Tx) error { return tx.PutTasks(ctx, conn, rs) })
	for i := range rs {
		rs[i].TaskID, rs[i].Status, rs[i].OwnerID, rs[i].CreatedAt = "00T"+rs[i].AccountID, store.TaskOpen, "", t0.Add(time.Hour)
	}
	mustTx(t, s, func(tx *store.Tx) error { return tx.PutTasks(ctx, conn, rs) })
	open, err := s.Tasks(ctx, conn, store.TaskOpen)
	if err != nil || len(open) != n {
		t.Fatalf("open tasks = %d, %v", len(open), err)
	}
	for _, r := range open {
		if r.TaskID != "00T"+r.AccountID || !r.CreatedAt.Equal(t0) || r.OwnerID != "005A" {
			t.Fatalf("task = %+v", r)
		}
	}
}

func testTasks(t *testing.T, fresh Fresh) {
	ctx := context.Background()
	s := Open(t, fresh(t), store.Options{})
	r := store.TaskRecord{Key: "A/single_threaded/1", AccountID: "A", OwnerID: "005A", Flag: "single_threaded", Status: store.TaskPending, CreatedAt: t0}
	mustTx(t, s, func(tx *store.Tx) error { return tx.PutTask(ctx, conn, r) })
	// An update keeps created_at, and the owner when it names none.
	r.TaskID, r.Status, r.OwnerID, r.CreatedAt = "00T1", store.TaskOpen, "", t0.Add(time.Hour)
	mustTx(t, s, func(tx *store.Tx) error { return tx.PutTask(ctx, conn, r) })
	got, err := s.Task(ctx, conn, r.Key)
	if err != nil || got.TaskID != "00T1" || got.Status != store.TaskOpen || !got.CreatedAt.Equal(t0) || got.OwnerID != "005A" {
		t.Fatalf("task = %+v, %v", got, err)
	}
	if _, err := s.Task(ctx, conn, "missing"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing task error = %v", err)
	}
	open, err := s.Tasks(ctx, conn, store.TaskOpen)
	if err != nil || len(open) != 1 {
		t.Fatalf("open tasks = %v, %v", open, err)
	}
}

func testTokenEncryption(t *testing.T, fresh Fresh) {
	ctx := context.Background()
	cfg := fresh(t)
	cfg.EncryptionKey = Key
	s := Open(t, cfg, store.Options{Shared: true})
	if blob, err := s.LoadToken(ctx, "sf"); err != nil || blob != nil {
		t.Fatalf("LoadToken before save = %q, %v; want nil, nil", blob, err)
	}
	secret := []byte(`{"access_token":"00Dxx!SECRET-ACCESS","refresh_token":"SECRET-REFRESH"}`)
	if err := s.SaveToken(ctx, "sf", secret); err != nil {
		t.Fatal(err)
	}
	got, err := s.LoadToken(ctx, "sf")
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("round trip = %q, %v", got, err)
	}
	// Nothing in the database holds the secret in clear.
	var sealed []byte
	if err := RawDB(t, cfg).QueryRowContext(ctx, "SELECT sealed FROM oauth_tokens").Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("SECRET")) {
		t.Fatal("token stored in clear text")
	}
	// Another key cannot decrypt it, and says what to do.
	other := cfg
	other.EncryptionKey = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32))
	s2 := Open(t, other, store.Options{Shared: true})
	_, err = s2.LoadToken(ctx, "sf")
	if !errors.Is(err, store.ErrDecrypt) || !bytes.Contains([]byte(err.Error()), []byte("HEALTHSYNC_ENCRYPTION_KEY")) {
		t.Fatalf("load with another key: %v, want ErrDecrypt naming the variable", err)
	}
	// The failed read did not touch the stored token.
	if got, err := s.LoadToken(ctx, "sf"); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("token after a failed read = %q, %v", got, err)
	}
}

func testRuns(t *testing.T, fresh Fresh) {
	ctx := context.Background()
	s := Open(t, fresh(t), store.Options{})
	id, err := s.StartRun(ctx, conn, "sync", t0)
	if err != nil {
		t.Fatal(err)
	}
	id2, err := s.StartRun(ctx, conn, "sync", t0.Add(time.Minute))
	if err != nil || id2 == id {
		t.Fatalf("second run id %d (first %d), %v", id2, id, err)
	}
	fin := t0.Add(30 * time.Second)
	err = s.FinishRun(ctx, store.Run{ID: id, Status: store.RunStopped, StopReason: "budget", FinishedAt: &fin, APICalls: 12,
		Counts:   map[string]store.ObjectCounts{"Account": {New: 3, Changed: 1, Deleted: 1, Pages: 2}},
		Problems: []store.Problem{{Object: "Contact", ID: "003", Error: "bad date"}}})
	if err != nil {
		t.Fatal(err)
	}
	runs, err := s.Runs(ctx, conn, 10)
	if err != nil || len(runs) != 2 {
		t.Fatalf("runs = %v, %v", runs, err)
	}
	r := runs[1]
	if r.ID != id || r.Status != store.RunStopped || r.APICalls != 12 || r.Counts["Account"].New != 3 || len(r.Problems) != 1 || r.FinishedAt == nil || !r.FinishedAt.Equal(fin) {
		t.Fatalf("finished run = %+v", r)
	}
	if runs[0].Status != store.RunRunning || runs[0].FinishedAt != nil || !runs[0].SeenAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("running run = %+v, want running, last seen when it started", runs[0])
	}
	if !r.SeenAt.Equal(fin) {
		t.Fatalf("finished run last seen %v, want when it finished (%v)", r.SeenAt, fin)
	}
}

func testConcurrentWriters(t *testing.T, fresh Fresh) {
	ctx := context.Background()
	cfg := fresh(t)
	s := Open(t, cfg, store.Options{})
	const writers, pages, perPage = 4, 10, 20
	var wg stdsync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			object := fmt.Sprintf("Object%d", w)
			for p := 0; p < pages; p++ {
				err := s.InTx(ctx, func(tx *store.Tx) error {
					var last string
					for i := 0; i < perPage; i++ {
						last = fmt.Sprintf("%d-%03d-%03d", w, p, i)
						if err := tx.UpsertRaw(ctx, conn, store.RawRecord{Object: object, ID: last, ModifiedAt: t0, Raw: []byte(`{}`)}); err != nil {
							return err
						}
						// All writers also touch one shared row.
						if err := tx.UpsertAccount(ctx, conn, crm.Account{ID: "shared", Name: last}); err != nil {
							return err
						}
					}
					return tx.SetCursor(ctx, conn, object, store.Cursor{ModifiedAt: t0, LastID: last})
				})
				if err != nil {
					errs <- fmt.Errorf("writer %d page %d: %w", w, p, err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for w := 0; w < writers; w++ {
		object := fmt.Sprintf("Object%d", w)
		n, err := s.RawCount(ctx, conn, object, true)
		if err != nil || n != pages*perPage {
			t.Fatalf("%s rows = %d, %v; want %d", object, n, err, pages*perPage)
		}
		c, _ := s.Cursor(ctx, conn, object)
		if c.LastID != fmt.Sprintf("%d-%03d-%03d", w, pages-1, perPage-1) {
			t.Fatalf("%s cursor = %+v", object, c)
		}
	}
}

func testLease(t *testing.T, fresh Fresh) {
	ctx := context.Background()
	cfg := fresh(t)
	s := Open(t, cfg, store.Options{Shared: true})
	raw := RawDB(t, cfg)
	ttl := time.Minute
	acquire := func(holder string) bool {
		t.Helper()
		ok, err := s.AcquireLease(ctx, conn, holder, ttl)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	// expire moves the lease's expiry two TTLs back, as if its holder had
	// stopped renewing it that long ago: expiry is the database's clock,
	// which a test cannot move.
	expire := func() {
		t.Helper()
		if _, err := raw.ExecContext(ctx, "UPDATE leases SET expires_at = expires_at - 120000 WHERE connection = '"+conn+"'"); err != nil {
			t.Fatal(err)
		}
	}
	if !acquire("A") {
		t.Fatal("A could not take a free lease")
	}
	if acquire("B") {
		t.Fatal("B took A's live lease")
	}
	if !acquire("A") {
		t.Fatal("A could not renew its lease")
	}
	if acquire("B") {
		t.Fatal("B took the renewed lease before it expired")
	}
	expire()
	if !acquire("B") {
		t.Fatal("B could not take over an expired lease")
	}
	if acquire("A") {
		t.Fatal("A took B's lease back")
	}
	l, err := s.LeaseOf(ctx, conn)
	if err != nil || l.Holder != "B" {
		t.Fatalf("lease = %+v, %v", l, err)
	}
	if err := s.ReleaseLease(ctx, conn, "A"); err != nil {
		t.Fatal(err)
	}
	if l, _ := s.LeaseOf(ctx, conn); l.Holder != "B" {
		t.Fatal("a non-holder released the lease")
	}
	if err := s.ReleaseLease(ctx, conn, "B"); err != nil {
		t.Fatal(err)
	}
	if !acquire("A") {
		t.Fatal("A could not take a released lease")
	}

	// Many contenders at once: exactly one wins.
	const n = 8
	var (
		wg   stdsync.WaitGroup
		mu   stdsync.Mutex
		wins []string
	)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			holder := fmt.Sprintf("R%d", i)
			ok, err := s.AcquireLease(ctx, "contended", holder, ttl)
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				mu.Lock()
				wins = append(wins, holder)
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	if len(wins) != 1 {
		t.Fatalf("winners of a contended lease = %v, want exactly one", wins)
	}
}

func testLookupsInTx(t *testing.T, fresh Fresh) {
	ctx := context.Background()
	s := Open(t, fresh(t), store.Options{})
	mustTx(t, s, func(tx *store.Tx) error {
		for i := 0; i < 1200; i++ {
			id := fmt.Sprintf("003%05d", i)
			if err := tx.UpsertRaw(ctx, conn, store.RawRecord{Object: "Contact", ID: id, Raw: []byte("{}")}); err != nil {
				return err
			}
			if err := tx.UpsertContact(ctx, conn, crm.Contact{ID: crm.ContactID(id), AccountID: crm.AccountID("001" + id[3:])}); err != nil {
				return err
			}
		}
		return nil
	})
	mustTx(t, s, func(tx *store.Tx) error {
		ids := []string{"00300000", "00301199", "nope"}
		for i := 0; i < 1000; i++ {
			ids = append(ids, fmt.Sprintf("003%05d", i))
		}
		got, err := tx.ExistingRaw(ctx, conn, "Contact", ids)
		if err != nil {
			return err
		}
		if _, stored := got["nope"]; len(got) != 1001 || stored || !got["00301199"] {
			t.Errorf("ExistingRaw found %d (nope=%v), want 1001", len(got), got["nope"])
		}
		accs, err := tx.ContactAccounts(ctx, conn, []crm.ContactID{"00300007", "missing"})
		if err != nil {
			return err
		}
		if len(accs) != 1 || accs["00300007"] != "00100007" {
			t.Errorf("ContactAccounts = %v", accs)
		}
		return nil
	})
}
