package sync_test

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"testing"
	"time"

	"healthsync/crm"
	"healthsync/emulator/gen"
	emuhubspot "healthsync/emulator/hubspot"
	"healthsync/internal/testkit"
	"healthsync/mapping"
	"healthsync/store"
	"healthsync/store/storetest"
	hsync "healthsync/sync"
)

// TestHubSpotReLinkCaughtByTheAssociationSweep: an activity re-linked to
// another company without its modified date moving is invisible to the
// incremental pull; the association sweep, due once a day and recorded in
// the store (so a new process does not start over), finds it and stores
// that activity alone, comparing with the stored records. Between sweeps
// an unchanged sync makes one search per object and the owner lists,
// within twice the call minimum.
func TestHubSpotReLinkCaughtByTheAssociationSweep(t *testing.T) {
	t.Parallel()
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			o, err := gen.Generate(gen.Options{Seed: 3, Accounts: 12, Now: time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)})
			if err != nil {
				t.Fatal(err)
			}
			clock := testkit.NewClock(o.Now)
			em := emuhubspot.New(emuhubspot.Options{Clock: clock, RateLimits: emuhubspot.RateLimits{Disabled: true}})
			ids, err := em.LoadOrg(o)
			if err != nil {
				t.Fatal(err)
			}
			hc := serveHubSpot(t, em)
			m, err := mapping.New(crm.HubSpot, nil)
			if err != nil {
				t.Fatal(err)
			}
			st := storetest.Open(t, be.fresh(t), store.Options{})
			// Each sync in a new process: a new client and engine.
			syncOnce := func() *hsync.Report { return syncHubSpot(t, ctx, hc, st, m, clock) }
			companyOf := func(obj, id string) []string {
				t.Helper()
				recs, err := st.RawRecords(ctx, "default", obj, []string{id})
				if err != nil {
					t.Fatal(err)
				}
				var raw struct {
					Associations map[string]struct {
						Results []struct {
							ID string `json:"id"`
						} `json:"results"`
					} `json:"associations"`
				}
				if err := json.Unmarshal(recs[id].Raw, &raw); err != nil {
					t.Fatalf("stored %s %s: %v", obj, id, err)
				}
				var out []string
				for _, r := range raw.Associations["companies"].Results {
					out = append(out, r.ID)
				}
				return out
			}
			changed := func(rep *hsync.Report, obj string) int {
				for _, or := range rep.Objects {
					if or.Object == obj {
						return or.Counts.Changed + or.Counts.New
					}
				}
				return 0
			}

			syncOnce()
			// A recent activity moves to another company.
			var call, kind string
			for _, a := range ids.Activities {
				rec, err := em.Record(a.Type, strconv.FormatInt(a.ID, 10))
				if err != nil || rec.Archived {
					continue
				}
				if ts, err := crm.ParseTime(rec.Properties["hs_timestamp"]); err == nil && ts.After(clock.Now().Add(-25*24*time.Hour)) && ts.Before(clock.Now()) {
					call, kind = rec.ID, a.Type
					break
				}
			}
			if call == "" {
				t.Fatal("no recent activity in the generated portal")
			}
			old := companyOf(kind, call)
			var target string
			for _, cid := range ids.Companies {
				if s := strconv.FormatInt(cid, 10); !slices.Contains(old, s) {
					target = s
					break
				}
			}
			before, _ := em.Record(kind, call)
			for _, c := range old {
				if err := em.Unassociate(kind, call, "companies", c); err != nil {
					t.Fatal(err)
				}
			}
			if err := em.Associate(kind, call, "companies", target); err != nil {
				t.Fatal(err)
			}
			if after, _ := em.Record(kind, call); !after.UpdatedAt.Equal(before.UpdatedAt) {
				t.Fatal("the emulator moved the call's modified date; the test needs it unchanged")
			}

			// An hour later: no sweep due; the sync is at its call minimum.
			clock.Add(time.Hour)
			rep := syncOnce()
			if got := companyOf(kind, call); slices.Equal(got, []string{target}) {
				t.Fatal("the re-link was stored before any sweep: the test needs one the pull cannot see")
			}
			objects := len(m.Objects())
			if minimum := int64(objects); rep.APICalls > 2*minimum {
				t.Errorf("unchanged sync made %d API calls, over twice the minimum of %d (a search per object, one owner list)", rep.APICalls, minimum)
			}
			// A day later the sweep is due: the re-linked call alone is stored.
			clock.Add(24 * time.Hour)
			rep = syncOnce()
			if got := companyOf(kind, call); !slices.Equal(got, []string{target}) {
				t.Errorf("after the sweep the stored call links to companies %v, want [%s]", got, target)
			}
			for _, obj := range []string{"calls", "emails", "meetings", "notes", "tasks"} {
				want := 0
				if obj == kind {
					want = 1
				}
				if got := changed(rep, obj); got != want {
					t.Errorf("the sweep stored %d %s, want %d (only the re-linked activity)", got, obj, want)
				}
			}
			// And the next sync does not sweep again.
			clock.Add(time.Hour)
			if rep = syncOnce(); rep.APICalls > 2*int64(objects) {
				t.Errorf("the sync after a sweep made %d API calls, want at most %d", rep.APICalls, 2*objects)
			}
		})
	}
}
