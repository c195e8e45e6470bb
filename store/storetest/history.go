package storetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"healthsync/crm"
	"healthsync/store"
)

func fp(v float64) *float64 { return &v }

// testFieldHistory: successive versions of an account and an opportunity
// leave one row per changed field (the old value, until the new version's
// modification time), nothing for a version read again or out of order;
// a value as of a time is one lookup; history starts per field; the
// history streams beside its account, orphans skipped, in byte order.
func testFieldHistory(t *testing.T, fresh Fresh) {
	ctx := context.Background()
	s := Open(t, fresh(t), store.Options{})
	fields := map[crm.HistoryEntity][]string{
		crm.HistoryAccount:     {crm.FieldARR, crm.FieldAdoption, crm.FieldRenewalDate, crm.FieldStatus},
		crm.HistoryOpportunity: {crm.FieldStage, crm.FieldAmount},
	}
	t1, t2, t3 := t0, t0.Add(24*time.Hour), t0.Add(48*time.Hour)
	renew := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	put := func(accs []crm.Account, opps []crm.Opportunity, now time.Time) {
		t.Helper()
		mustTx(t, s, func(tx *store.Tx) error {
			if err := tx.TrackChanges(ctx, conn, accs, opps, fields, now); err != nil {
				return err
			}
			b := tx.Batch(conn)
			for _, a := range accs {
				b.UpsertAccount(a)
			}
			for _, o := range opps {
				b.UpsertOpportunity(o)
			}
			return b.Flush(ctx)
		})
	}
	v1 := crm.Account{ID: "001B", ARR: fp(100), Adoption: fp(0.5), RenewalDate: &renew, StatusValue: "Customer", Status: crm.StatusCustomer, NPS: fp(9), ModifiedAt: t1}
	o1 := crm.Opportunity{ID: "006x", AccountID: "001B", Stage: "Prospecting", Amount: fp(10), ModifiedAt: t1}
	put([]crm.Account{v1, {ID: "001a", ARR: fp(5), ModifiedAt: t1}}, []crm.Opportunity{o1}, t1)
	if st, err := s.HistoryStats(ctx, conn); err != nil || st.Changes != 0 {
		t.Fatalf("after a first version: %+v, %v; want no history rows (the current value is in the canonical row)", st, err)
	}
	v2 := v1
	v2.ARR, v2.Adoption, v2.NPS, v2.ModifiedAt = fp(200), nil, fp(3), t2 // NPS is not a history field here
	o2 := o1
	o2.Stage, o2.ModifiedAt = "Closed Won", t2
	put([]crm.Account{v2}, []crm.Opportunity{o2}, t2)
	// Read again (look-back) and out of order: no change recorded.
	put([]crm.Account{v2}, []crm.Opportunity{o2}, t3)
	put([]crm.Account{v1}, nil, t3)

	got, err := s.RecordHistory(ctx, conn, crm.HistoryAccount, "001B")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{crm.FieldARR: "100", crm.FieldAdoption: "0.5"}
	if len(got) != len(want) {
		t.Fatalf("history of 001B: %+v, want changes of %v only", got, want)
	}
	for _, c := range got {
		if string(c.Value) != want[c.Field] || !c.Until.Equal(t2) {
			t.Errorf("change %+v: want value %s until %s", c, want[c.Field], t2)
		}
	}
	if v, found, err := s.ValueAsOf(ctx, conn, crm.HistoryAccount, "001B", crm.FieldARR, t1.Add(time.Hour)); err != nil || !found || string(v) != "100" {
		t.Errorf("ARR as of between the versions: %s %v %v, want 100 found", v, found, err)
	}
	if _, found, err := s.ValueAsOf(ctx, conn, crm.HistoryAccount, "001B", crm.FieldARR, t2); err != nil || found {
		t.Errorf("ARR as of the change: found %v (%v); want the current value to hold", found, err)
	}
	from, err := s.HistoryFrom(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := from.Since(crm.HistoryAccount, crm.FieldARR); !ok || !f.Equal(t1) {
		t.Errorf("ARR history start %v %v, want %v (the first sync that stored it)", f, ok, t1)
	}
	if _, ok := from.Since(crm.HistoryAccount, crm.FieldNPS); ok {
		t.Errorf("NPS has a history start, but it is not a history field of this mapping")
	}
	// A backfill moves a start earlier, never later.
	early := t1.AddDate(-1, 0, 0)
	mustTx(t, s, func(tx *store.Tx) error {
		if err := tx.SetHistoryFrom(ctx, conn, crm.HistoryAccount, []string{crm.FieldARR}, early, store.HistoryFromCRM); err != nil {
			return err
		}
		return tx.SetHistoryFrom(ctx, conn, crm.HistoryAccount, []string{crm.FieldAdoption}, t3, store.HistoryFromCRM)
	})
	starts, err := s.HistoryStarts(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range starts {
		switch {
		case h.Entity == crm.HistoryAccount && h.Field == crm.FieldARR && (!h.From.Equal(early) || h.Source != store.HistoryFromCRM):
			t.Errorf("ARR start %+v, want %v from the CRM", h, early)
		case h.Entity == crm.HistoryAccount && h.Field == crm.FieldAdoption && (!h.From.Equal(t1) || h.Source != store.HistoryFromSync):
			t.Errorf("adoption start %+v, want %v from the sync (a later start is ignored)", h, t1)
		}
	}

	// Backfilled changes, an orphan (its account is gone) and byte order.
	mustTx(t, s, func(tx *store.Tx) error {
		return tx.PutHistory(ctx, conn, []store.HistoryChange{
			{AccountID: "001B", FieldChange: crm.FieldChange{Entity: crm.HistoryAccount, RecordID: "001B", Field: crm.FieldARR, Until: t1.Add(-time.Hour), Value: json.RawMessage("50")}},
			{AccountID: "001Ab", FieldChange: crm.FieldChange{Entity: crm.HistoryAccount, RecordID: "001Ab", Field: crm.FieldARR, Until: t1, Value: json.RawMessage("1")}},
			{AccountID: "001a", FieldChange: crm.FieldChange{Entity: crm.HistoryAccount, RecordID: "001a", Field: crm.FieldARR, Until: t1, Value: json.RawMessage("null")}},
		})
	})
	seen := map[crm.AccountID][]crm.FieldChange{}
	if err := s.ForEachAccount(ctx, conn, func(b store.Bundle) error {
		seen[b.Account.ID] = b.History.Changes
		if _, ok := b.History.From.Since(crm.HistoryAccount, crm.FieldARR); !ok {
			t.Errorf("bundle %s: no history start", b.Account.ID)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n := len(seen["001B"]); n != 4 {
		t.Errorf("001B streamed %d changes, want 4 (3 of the account, 1 of its opportunity): %+v", n, seen["001B"])
	}
	if n := len(seen["001a"]); n != 1 {
		t.Errorf("001a streamed %d changes, want 1: %+v", n, seen["001a"])
	}
	b, err := s.LoadBundle(ctx, conn, "001B")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.History.Changes) != 4 {
		t.Errorf("LoadBundle history: %+v, want 4 changes", b.History.Changes)
	}
	// As of a day before the backfilled change: the account as it was.
	asOf := crm.AccountAsOf(b.Account, b.History, t1.Add(-2*time.Hour))
	if asOf.ARR == nil || *asOf.ARR != 50 || asOf.Adoption != nil {
		t.Errorf("as of before t1: ARR %v adoption %v; want ARR 50 and adoption unknown (its history starts at %v)", asOf.ARR, asOf.Adoption, t1)
	}
	mustTx(t, s, func(tx *store.Tx) error { return tx.ForgetHistory(ctx, conn, crm.HistoryAccount, crm.FieldARR) })
	if v, _ := s.RecordHistory(ctx, conn, crm.HistoryAccount, "001B"); len(v) != 1 {
		t.Errorf("after forgetting ARR: %+v, want the adoption change only", v)
	}
}
