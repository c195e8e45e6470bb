package sync_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
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

// TestStageHistoryBackfillCalls: Salesforce keeps no history of
// Opportunity IsClosed and IsWon; the backfill derives it from StageName's
// through the org's OpportunityStage records, and the run report counts
// that call with the backfill's others: the history object's describe,
// the stages, and one REST page of history, 3 calls for Opportunity (2
// for Account, which derives nothing). IsClosed and IsWon are backfilled,
// not left to start at the first sync; their stored history agrees with
// the stages: a change of is_won only where the stage's won flag moved.
// On SQLite and Postgres.
func TestStageHistoryBackfillCalls(t *testing.T) {
	t.Parallel()
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			r := salesforceRig(t, be.fresh(t))
			rep, err := hsync.NewEngine(hsync.EngineOptions{Store: r.st, Source: r.src, Mapping: r.m, Config: hsync.Config{Connection: "default", ReconcileEvery: time.Hour}}).Sync(ctx, hsync.SyncOptions{})
			if err != nil {
				t.Fatal(err)
			}
			calls := map[string]int64{}
			for _, o := range rep.Objects {
				if o.History == nil {
					continue
				}
				calls[o.Object] = o.History.APICalls
				if o.Object == "Opportunity" {
					for _, f := range []string{crm.FieldIsClosed, crm.FieldIsWon, crm.FieldStage} {
						if !slices.Contains(o.History.Backfilled, f) {
							t.Errorf("Opportunity %s not backfilled: backfilled %v, untracked %v", f, o.History.Backfilled, o.History.Untracked)
						}
					}
				}
			}
			if calls["Opportunity"] != 3 || calls["Account"] != 2 {
				t.Errorf("backfill calls: Opportunity %d, Account %d; want 3 (describe, OpportunityStage, one page) and 2", calls["Opportunity"], calls["Account"])
			}
			// As of every stored change of an opportunity's stage (just
			// before and at it), its closed and won flags are its stage's
			// then (the generated org uses the standard stages).
			var checked int
			if err := r.st.ForEachAccount(ctx, "default", func(b store.Bundle) error {
				for _, c := range b.History.Changes {
					if c.Entity != crm.HistoryOpportunity || c.Field != crm.FieldStage {
						continue
					}
					for _, o := range b.Opportunities {
						if string(o.ID) != c.RecordID {
							continue
						}
						for _, at := range []time.Time{c.Until.Add(-time.Millisecond), c.Until} {
							x := crm.OpportunityAsOf(o, b.History, at)
							closed, isWon := x.Stage == "Closed Won" || x.Stage == "Closed Lost", x.Stage == "Closed Won"
							if x.IsClosed != closed || x.IsWon != isWon {
								t.Errorf("opportunity %s as of %s: stage %q, closed %v, won %v", o.ID, at.Format(time.RFC3339Nano), x.Stage, x.IsClosed, x.IsWon)
							}
							checked++
						}
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if checked < 10 {
				t.Fatalf("only %d stage changes checked: the generated org's stage history is too thin", checked)
			}
		})
	}
}

// TestStagesUnreadable: an integration user who cannot read the org's
// OpportunityStage records (Salesforce answers INSUFFICIENT_ACCESS) still
// syncs: StageName's history is backfilled, IsClosed and IsWon are
// reported untracked (their history starts at the first sync) rather than
// read at today's value for every past date.
func TestStagesUnreadable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	em := emusalesforce.New(emusalesforce.Options{})
	if err := em.LoadOrg(org(t, 8)); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.RawQuery, "OpportunityStage") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`[{"message":"insufficient access rights on object id","errorCode":"INSUFFICIENT_ACCESS"}]`))
			return
		}
		em.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	sc := salesforceConfig(t, em, srv.URL)
	c, err := salesforce.Open(ctx, sc, salesforce.Deps{Connection: "default"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := mapping.New(crm.Salesforce, nil)
	if err != nil {
		t.Fatal(err)
	}
	st := storetest.Open(t, store.Config{DatabaseURL: filepath.Join(t.TempDir(), "hs.db"), EncryptionKey: storetest.Key}, store.Options{})
	rep, err := hsync.NewEngine(hsync.EngineOptions{Store: st, Source: c, Mapping: m, Config: hsync.Config{Connection: "default", ReconcileEvery: time.Hour}}).Sync(ctx, hsync.SyncOptions{})
	if err != nil {
		t.Fatalf("sync with OpportunityStage unreadable: %v", err)
	}
	for _, o := range rep.Objects {
		if o.Object != "Opportunity" {
			continue
		}
		h := o.History
		if h == nil || !slices.Contains(h.Backfilled, crm.FieldStage) || !slices.Contains(h.Untracked, crm.FieldIsClosed) ||
			!slices.Contains(h.Untracked, crm.FieldIsWon) || slices.Contains(h.Backfilled, crm.FieldIsWon) {
			t.Errorf("Opportunity history: %+v; want stage backfilled, is_closed and is_won untracked", h)
		}
	}
}
