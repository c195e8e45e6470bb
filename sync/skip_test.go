package sync_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"healthsync/connector/hubspot"
	"healthsync/crm"
	emuhubspot "healthsync/emulator/hubspot"
	"healthsync/internal/testkit"
	"healthsync/mapping"
	"healthsync/store"
	"healthsync/store/storetest"
	hsync "healthsync/sync"
)

// dropID removes the id of one company from search answers while on.
type dropID struct {
	next http.Handler
	mu   stdsync.Mutex
	id   string
}

func (d *dropID) set(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.id = id
}

func (d *dropID) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	id := d.id
	d.mu.Unlock()
	if id == "" || r.URL.Path != "/crm/v3/objects/companies/search" {
		d.next.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	d.next.ServeHTTP(rec, r)
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.UseNumber()
	body := rec.Body.Bytes()
	if dec.Decode(&doc) == nil {
		results, _ := doc["results"].([]any)
		for _, x := range results {
			if m, ok := x.(map[string]any); ok && m["id"] == id {
				delete(m, "id")
			}
		}
		body, _ = json.Marshal(doc)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rec.Code)
	w.Write(body)
}

// TestUnreadableRecordIsAProblemNotAFailure: a changed company the
// connector cannot read does not fail the sync: the run finishes OK with
// the record listed as a problem (in the report and on the stored run),
// the companies changed beside it are stored, and the next run, once the
// answer is whole, stores it too.
func TestUnreadableRecordIsAProblemNotAFailure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			clock := testkit.NewClock(time.Now().UTC())
			em := emuhubspot.New(emuhubspot.Options{RateLimits: emuhubspot.RateLimits{Disabled: true}, Clock: clock})
			if _, err := em.LoadOrg(org(t, 12)); err != nil {
				t.Fatal(err)
			}
			proxy := &dropID{next: em}
			srv := httptest.NewServer(proxy)
			t.Cleanup(srv.Close)
			hc := hubspotConfig(em, srv.URL)
			hc.Lookback = 0
			src, err := hubspot.Open(ctx, hc, hubspot.Deps{Connection: "default"})
			if err != nil {
				t.Fatal(err)
			}
			m, err := mapping.New(crm.HubSpot, nil)
			if err != nil {
				t.Fatal(err)
			}
			st := storetest.Open(t, be.fresh(t), store.Options{})
			cfg := hsync.Config{Connection: "default", ReconcileEvery: time.Hour}
			sync := func() *hsync.Report {
				t.Helper()
				rep, err := hsync.NewEngine(hsync.EngineOptions{Store: st, Source: src, Mapping: m, Config: cfg}).Sync(ctx, hsync.SyncOptions{Objects: []string{"companies"}})
				if err != nil {
					t.Fatalf("sync: %v", err)
				}
				return rep
			}
			sync()

			recs, err := em.Records("companies")
			if err != nil {
				t.Fatal(err)
			}
			ids := []string{recs[0].ID, recs[1].ID, recs[2].ID}
			for _, id := range ids { // changed in turn: the bad one between two good ones
				clock.Add(time.Second)
				if err := em.Update("companies", id, map[string]string{"name": "Renamed " + id}); err != nil {
					t.Fatal(err)
				}
			}
			bad := ids[1]
			proxy.set(bad)
			rep := sync()
			if rep.Status != store.RunOK || rep.Problem != 1 || len(rep.Problems) != 1 {
				t.Fatalf("report: status %s, %d problems %+v; want OK with the bad record", rep.Status, rep.Problem, rep.Problems)
			}
			p := rep.Problems[0]
			if p.Object != "companies" || p.ID != "" || !strings.Contains(p.Error, "it has no id") || !strings.Contains(p.Error, `hs_object_id "`+bad+`"`) ||
				!strings.HasSuffix(p.Error, "; not stored, read again next run") {
				t.Errorf("problem %+v", p)
			}
			if rep.Objects[0].Counts.Problems != 1 {
				t.Errorf("companies counts %+v, want 1 problem", rep.Objects[0].Counts)
			}
			runs, err := st.Runs(ctx, "default", 1)
			if err != nil {
				t.Fatal(err)
			}
			if len(runs) != 1 || runs[0].Status != store.RunOK || len(runs[0].Problems) != 1 || runs[0].Problems[0] != p {
				t.Errorf("stored run %+v, want OK with problem %+v", runs, p)
			}
			names := storedNames(t, st)
			for _, id := range ids {
				if renamed := names[id] == "Renamed "+id; renamed == (id == bad) {
					t.Errorf("company %s stored as %q", id, names[id])
				}
			}

			proxy.set("")
			rep = sync()
			if rep.Problem != 0 {
				t.Errorf("whole answer: problems %+v", rep.Problems)
			}
			if names := storedNames(t, st); names[bad] != "Renamed "+bad {
				t.Errorf("company %s stored as %q after the whole answer", bad, names[bad])
			}
		})
	}
}

// storedNames returns the name of every stored company's raw record.
func storedNames(t *testing.T, st *store.Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := st.ForEachRaw(context.Background(), "default", "companies", func(r store.RawRecord) error {
		var w struct {
			Properties map[string]string `json:"properties"`
		}
		if err := json.Unmarshal(r.Raw, &w); err != nil {
			return err
		}
		out[r.ID] = w.Properties["name"]
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
