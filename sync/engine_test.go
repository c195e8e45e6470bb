package sync_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"healthsync/connector/hubspot"
	"healthsync/connector/salesforce"
	"healthsync/crm"
	"healthsync/emulator/gen"
	emuhubspot "healthsync/emulator/hubspot"
	emusalesforce "healthsync/emulator/salesforce"
	"healthsync/mapping"
	"healthsync/store"
	"healthsync/store/storetest"
	hsync "healthsync/sync"
)

// rig is an emulated CRM, a connector to it over real HTTP, and a store.
type rig struct {
	name    string
	sys     crm.System
	src     hsync.Source
	m       *mapping.Mapping
	st      *store.Store
	liveIDs func(object string) []string
	// change mutates the CRM: updates one record and deletes another.
	change func(t *testing.T)
	// emulator is the emulated CRM server, for tests that need more of it.
	emulator any
	debug    func(obj string, got, want []string)
}

var backends = []struct {
	name  string
	fresh func(t *testing.T) store.Config
}{
	{"sqlite", func(t *testing.T) store.Config {
		return store.Config{DatabaseURL: filepath.Join(t.TempDir(), "hs.db"), EncryptionKey: storetest.Key}
	}},
	{"postgres", storetest.FreshPostgres},
}

func org(t *testing.T, accounts int) *gen.Org {
	t.Helper()
	o, err := gen.Generate(gen.Options{Seed: 3, Accounts: accounts, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func salesforceRig(t *testing.T, cfg store.Config) *rig {
	t.Helper()
	em := emusalesforce.New(emusalesforce.Options{})
	if err := em.LoadOrg(org(t, 12)); err != nil {
		t.Fatal(err)
	}
	c, err := salesforce.Open(context.Background(), serveSalesforce(t, em), salesforce.Deps{Connection: "default"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := mapping.New(crm.Salesforce, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &rig{name: "salesforce", sys: crm.Salesforce, src: c, m: m, st: storetest.Open(t, cfg, store.Options{}), emulator: em,
		liveIDs: func(obj string) []string { return em.IDs(obj, false) },
		change: func(t *testing.T) {
			ids := em.IDs("Contact", false)
			if err := em.SetField("Contact", ids[0], "Title", "Chief Customer Officer"); err != nil {
				t.Fatal(err)
			}
			if err := em.Delete("Task", em.IDs("Task", false)[0]); err != nil {
				t.Fatal(err)
			}
		}}
}

func hubspotRig(t *testing.T, cfg store.Config) *rig {
	t.Helper()
	em := emuhubspot.New(emuhubspot.Options{RateLimits: emuhubspot.RateLimits{Disabled: true}})
	if _, err := em.LoadOrg(org(t, 12)); err != nil {
		t.Fatal(err)
	}
	c, err := hubspot.Open(context.Background(), serveHubSpot(t, em), hubspot.Deps{Connection: "default"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := mapping.New(crm.HubSpot, nil)
	if err != nil {
		t.Fatal(err)
	}
	live := func(obj string) []string {
		recs, err := em.Records(obj)
		if err != nil {
			return nil
		}
		var ids []string
		for _, r := range recs {
			if !r.Archived {
				ids = append(ids, r.ID)
			}
		}
		return ids
	}
	st := storetest.Open(t, cfg, store.Options{})
	return &rig{name: "hubspot", sys: crm.HubSpot, src: c, m: m, st: st, liveIDs: live, emulator: em,
		debug: func(obj string, got, want []string) {
			for _, id := range want {
				if !slices.Contains(got, id) {
					rec, _ := em.Record(obj, id)
					t.Logf("missing %s %s: emulator %+v", obj, id, rec)
					st.ForEachRaw(context.Background(), "default", obj, func(rr store.RawRecord) error {
						if rr.ID == id {
							t.Logf("store raw: deleted=%v modified=%v %s", rr.Deleted, rr.ModifiedAt, rr.Raw[:min(200, len(rr.Raw))])
						}
						return nil
					})
				}
			}
		},
		change: func(t *testing.T) {
			contacts := live("contacts")
			if err := em.Update("contacts", contacts[0], map[string]string{"jobtitle": "Chief Customer Officer"}); err != nil {
				t.Fatal(err)
			}
			if err := em.Archive("calls", live("calls")[0]); err != nil {
				t.Fatal(err)
			}
		}}
}

// rigs are the CRMs the crash test runs on.
var rigs = []func(*testing.T, store.Config) *rig{salesforceRig, hubspotRig}

// assertMirrors checks that the store holds exactly the CRM's live records.
func assertMirrors(t *testing.T, r *rig) {
	t.Helper()
	ctx := context.Background()
	for _, obj := range r.m.Objects() {
		if obj == mapping.HSOwners || obj == mapping.SFUser {
			continue // users are listed whole, not reconciled here
		}
		want := r.liveIDs(obj)
		slices.Sort(want)
		var got []string
		if err := r.st.RawIDs(ctx, "default", obj, func(id string) error { got = append(got, id); return nil }); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) && r.debug != nil {
			r.debug(obj, got, want)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%s %s: store has %d live records, CRM %d (first diff: %v)\nstore %v\ncrm   %v", r.name, obj, len(got), len(want), firstDiff(got, want), got, want)
		}
	}
}

func firstDiff(a, b []string) string {
	for i := 0; i < min(len(a), len(b)); i++ {
		if a[i] != b[i] {
			return a[i] + " vs " + b[i]
		}
	}
	return "lengths differ"
}

var errCrash = errors.New("simulated crash")

// TestCrashAtEveryPageResumes kills the sync after each committed page in
// turn, and inside each page's transaction before the commit, then lets a
// clean run finish: the store must equal the CRM every time.
func TestCrashAtEveryPageResumes(t *testing.T) {
	t.Parallel()
	for _, be := range backends {
		for _, mk := range rigs {
			t.Run(be.name, func(t *testing.T) {
				ctx := context.Background()
				probe := mk(t, be.fresh(t))
				t.Run(probe.name, func(t *testing.T) {
					// Count the pages of a full sync.
					pages := 0
					full, err := hsync.NewEngine(hsync.EngineOptions{Store: probe.st, Source: probe.src, Mapping: probe.m, Config: hsync.Config{Connection: "default", ReconcileEvery: time.Hour},
						Hooks: hsync.Hooks{AfterCommit: func(string, int) error { pages++; return nil }}}).Sync(ctx, hsync.SyncOptions{})
					if err != nil {
						t.Fatal(err)
					}
					if pages < 3 {
						t.Fatalf("full sync had %d pages; the test needs several", pages)
					}
					assertMirrors(t, probe)
					_ = full
					for _, mode := range []string{"after-commit", "mid-transaction"} {
						for crashAt := 1; crashAt <= pages; crashAt++ {
							r := mk(t, be.fresh(t))
							seen := 0
							hook := func(string, int) error {
								seen++
								if seen == crashAt {
									return errCrash
								}
								return nil
							}
							var hooks hsync.Hooks
							if mode == "after-commit" {
								hooks.AfterCommit = hook
							} else {
								hooks.BeforeCommit = hook
							}
							cfg := hsync.Config{Connection: "default", ReconcileEvery: time.Hour}
							_, err := hsync.NewEngine(hsync.EngineOptions{Store: r.st, Source: r.src, Mapping: r.m, Config: cfg, Hooks: hooks}).Sync(ctx, hsync.SyncOptions{})
							if !errors.Is(err, errCrash) {
								t.Fatalf("%s crash at page %d: sync error %v, want the crash", mode, crashAt, err)
							}
							r.change(t)
							if _, err := hsync.NewEngine(hsync.EngineOptions{Store: r.st, Source: r.src, Mapping: r.m, Config: cfg}).Sync(ctx, hsync.SyncOptions{}); err != nil {
								t.Fatalf("%s crash at page %d: resume: %v", mode, crashAt, err)
							}
							assertMirrors(t, r)
							runs, _ := r.st.Runs(ctx, "default", 5)
							if len(runs) != 2 || runs[1].Status != store.RunFailed || runs[0].Status != store.RunOK {
								t.Fatalf("runs recorded: %+v", runs)
							}
						}
					}
				})
			})
		}
	}
}

// TestRemapWithoutDownload changes the mapping and checks that stored raw
// records are mapped again with no extra API calls, and that a mapping
// needing a field never downloaded pulls only that object again.
func TestRemapWithoutDownload(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	if os.Getenv(storetest.PostgresURLVar) == "" {
		t.Log("remap runs on SQLite only without " + storetest.PostgresURLVar)
	}
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			r := salesforceRig(t, be.fresh(t))
			cfg := hsync.Config{Connection: "default", ReconcileEvery: time.Hour}
			if _, err := hsync.NewEngine(hsync.EngineOptions{Store: r.st, Source: r.src, Mapping: r.m, Config: cfg}).Sync(ctx, hsync.SyncOptions{}); err != nil {
				t.Fatal(err)
			}
			before := r.src.APICalls()
			if _, err := hsync.NewEngine(hsync.EngineOptions{Store: r.st, Source: r.src, Mapping: r.m, Config: cfg}).Sync(ctx, hsync.SyncOptions{}); err != nil {
				t.Fatal(err)
			}
			idle := r.src.APICalls() - before

			// Every opportunity type now counts as a renewal.
			m2, err := mapping.Parse("remap.yaml", []byte("crm: {system: salesforce}\nclassify:\n  opportunities:\n    renewal: {types: [\"New Business\", \"Renewal\", \"Upsell\", \"Cross-sell\"]}\n"), mapping.Options{})
			if err != nil {
				t.Fatal(err)
			}
			before = r.src.APICalls()
			rep, err := hsync.NewEngine(hsync.EngineOptions{Store: r.st, Source: r.src, Mapping: m2, Config: cfg}).Sync(ctx, hsync.SyncOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := r.src.APICalls() - before; got != idle {
				t.Fatalf("remap run made %d API calls, an idle sync makes %d: it downloaded again", got, idle)
			}
			remapped := false
			for _, o := range rep.Objects {
				remapped = remapped || (o.Object == "Opportunity" && o.Remapped)
			}
			if !remapped {
				t.Fatalf("Opportunity not re-mapped: %+v", rep.Objects)
			}
			kinds := map[crm.OpportunityKind]int{}
			err = r.st.ForEachAccount(ctx, "default", func(b store.Bundle) error {
				for _, o := range b.Opportunities {
					kinds[o.Kind]++
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if kinds[crm.OpportunityRenewal] == 0 || kinds[crm.OpportunityNew] != 0 {
				t.Fatalf("opportunity kinds after remap = %v, want all renewals", kinds)
			}

			// A mapping that reads a field never downloaded pulls that object again.
			m3, err := mapping.Parse("newfield.yaml", []byte("crm: {system: salesforce}\nfields:\n  account:\n    arr: ARR__c\n"), mapping.Options{})
			if err != nil {
				t.Fatal(err)
			}
			rep, err = hsync.NewEngine(hsync.EngineOptions{Store: r.st, Source: r.src, Mapping: m3, Config: cfg}).Sync(ctx, hsync.SyncOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range rep.Objects {
				switch {
				case o.Object == "Account" && (len(o.Repulled) == 0 || o.Counts.Changed == 0):
					t.Fatalf("Account not pulled again for ARR__c: %+v", o)
				case o.Object != "Account" && len(o.Repulled) > 0:
					t.Fatalf("%s pulled again though its fields did not change", o.Object)
				}
			}
			b, err := r.st.LoadBundle(ctx, "default", r.liveIDs("Account")[0])
			if err != nil {
				t.Fatal(err)
			}
			if b.Account.ARR == nil {
				t.Fatal("ARR still empty after the re-pull")
			}
		})
	}
}
