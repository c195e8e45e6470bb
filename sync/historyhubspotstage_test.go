package sync_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"healthsync/connector/hubspot"
	"healthsync/crm"
	"healthsync/emulator/gen"
	emuhubspot "healthsync/emulator/hubspot"
	"healthsync/store"
	"healthsync/store/storetest"
	hsync "healthsync/sync"
)

// TestHubSpotStageHistoryGivesClosedAndWon: HubSpot derives a deal's
// hs_is_closed and hs_is_closed_won from its dealstage, and their own
// property history need not say what they were before HubSpot first
// calculated them (the emulated portal's history, like an import, records
// dealstage only). The backfill reads them from dealstage's history
// through the portal's pipelines (one more call, counted with the batch
// reads), so as of every stage change of every deal, just before and at
// it, the deal is closed and won as its stage was then. On SQLite and
// Postgres.
func TestHubSpotStageHistoryGivesClosedAndWon(t *testing.T) {
	t.Parallel()
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			o, err := gen.Generate(gen.Options{Seed: 9, Accounts: 40, Now: time.Now().UTC()})
			if err != nil {
				t.Fatal(err)
			}
			em := emuhubspot.New(emuhubspot.Options{RateLimits: emuhubspot.RateLimits{Disabled: true}})
			if _, err := em.LoadOrg(o); err != nil {
				t.Fatal(err)
			}
			c, err := hubspot.Open(ctx, serveHubSpot(t, em), hubspot.Deps{Connection: "default"})
			if err != nil {
				t.Fatal(err)
			}
			m := wbMapping(t, hubspotExample(t))
			st := storetest.Open(t, be.fresh(t), store.Options{})
			rep, err := hsync.NewEngine(hsync.EngineOptions{Store: st, Source: c, Mapping: m, Config: hsync.Config{Connection: "default", ReconcileEvery: time.Hour}}).Sync(ctx, hsync.SyncOptions{})
			if err != nil {
				t.Fatal(err)
			}
			recs, err := em.Records("deals")
			if err != nil {
				t.Fatal(err)
			}
			live := 0
			for _, r := range recs {
				if !r.Archived {
					live++
				}
			}
			for _, or := range rep.Objects {
				if or.Object != "deals" {
					continue
				}
				hr := or.History
				if hr == nil || !slices.Contains(hr.Backfilled, crm.FieldIsClosed) || !slices.Contains(hr.Backfilled, crm.FieldIsWon) {
					t.Fatalf("deals history: %+v", hr)
				}
				if want := int64((live+49)/50 + 1); hr.APICalls != want {
					t.Errorf("deals history calls %d, want %d (%d batch reads of 50 and the pipelines)", hr.APICalls, want, (live+49)/50)
				}
			}
			// As of every stage change of every live deal, just before and
			// at it, the stored closed and won values are its stage's then
			// (deals carry no company link in this mapping, so they are
			// read by record, not through account bundles). A value holds
			// until its change's time; after the last change, the deal's
			// current value.
			asOf := func(h []crm.FieldChange, field string, t time.Time, current string) string {
				for _, c := range h { // ordered by field, then time
					if c.Field == field && c.Until.After(t) {
						var v any
						_ = json.Unmarshal(c.Value, &v)
						return fmt.Sprint(v)
					}
				}
				return current
			}
			checked := 0
			for _, r := range recs {
				if r.Archived {
					continue
				}
				h, err := st.RecordHistory(ctx, "default", crm.HistoryOpportunity, r.ID)
				if err != nil {
					t.Fatal(err)
				}
				sort.SliceStable(h, func(i, j int) bool { return h[i].Until.Before(h[j].Until) })
				p := r.Properties
				for _, c := range h {
					if c.Field != crm.FieldStage {
						continue
					}
					for _, at := range []time.Time{c.Until.Add(-time.Millisecond), c.Until} {
						stage := asOf(h, crm.FieldStage, at, p["dealstage"])
						closed, won := asOf(h, crm.FieldIsClosed, at, p["hs_is_closed"]), asOf(h, crm.FieldIsWon, at, p["hs_is_closed_won"])
						wantClosed, wantWon := fmt.Sprint(stage == "closedwon" || stage == "closedlost"), fmt.Sprint(stage == "closedwon")
						if closed != wantClosed || won != wantWon {
							t.Errorf("deal %s as of %s: stage %q, closed %s, won %s", r.ID, at.Format(time.RFC3339Nano), stage, closed, won)
						}
						checked++
					}
				}
			}
			if checked < 10 {
				t.Fatalf("only %d stage changes checked", checked)
			}
		})
	}
}
