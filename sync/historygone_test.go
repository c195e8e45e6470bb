package sync_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"healthsync/connector/hubspot"
	"healthsync/connector/salesforce"
	"healthsync/crm"
	emuhubspot "healthsync/emulator/hubspot"
	emusalesforce "healthsync/emulator/salesforce"
	"healthsync/mapping"
	"healthsync/store"
	"healthsync/store/storetest"
	hsync "healthsync/sync"
)

// TestHistoryOfRecordsGoneMidSync: records deleted, or created, in the CRM
// between the sync's read of the accounts and its backfill of their field
// history (issue 20's "history for deleted records") never fail the
// sync. On Salesforce, an account deleted then takes its history to the
// recycle bin (nothing read), and the history of an account created then
// names a record healthsync does not hold: a problem line, nothing
// stored. On HubSpot, the batch read with history of a company archived
// then (between the pull and the backfill) answers without it. The next
// sync stores the deletion and the new account, and the first sync's
// history of everyone else is intact.
func TestHistoryOfRecordsGoneMidSync(t *testing.T) {
	t.Parallel()
	t.Run("salesforce", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		em := emusalesforce.New(emusalesforce.Options{})
		if err := em.LoadOrg(org(t, 20)); err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(em)
		t.Cleanup(srv.Close)
		sc := salesforceConfig(t, em, srv.URL)
		c, err := salesforce.Open(ctx, sc, salesforce.Deps{Connection: "default"})
		if err != nil {
			t.Fatal(err)
		}
		// An account (with ARR history) that appears after the accounts
		// were read.
		late := "0015g0000000077AAA"
		dir := t.TempDir()
		for name, body := range map[string]string{
			"Account.csv": "Id,Name,Type,ARR__c,LastModifiedDate\n" + late + ",Latecomer Ltd,Customer,2000,2025-06-01T00:00:00.000Z\n",
			"AccountHistory.csv": "AccountId,Field,DataType,OldValue,NewValue,CreatedDate\n" +
				late + ",ARR__c,Currency,1000,2000,2025-05-01T00:00:00.000Z\n",
		} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		ids := em.IDs("Account", false)
		gone := ids[3]
		if len(em.HistoryRows("Account", gone)) == 0 {
			t.Fatalf("account %s has no history to lose", gone)
		}
		hooks := hsync.Hooks{AfterCommit: func(obj string, _ int) error {
			if obj != "Account" || em.Count("Account") > len(ids) {
				return nil
			}
			if err := em.Delete("Account", gone); err != nil {
				return err
			}
			return em.LoadExport(dir, io.Discard)
		}}
		m := wbMapping(t, "")
		st := storetest.Open(t, store.Config{DatabaseURL: filepath.Join(t.TempDir(), "hs.db"), EncryptionKey: storetest.Key}, store.Options{})
		cfg := hsync.Config{Connection: "default", ReconcileEvery: time.Hour}
		rep, err := hsync.NewEngine(hsync.EngineOptions{Store: st, Source: c, Mapping: m, Config: cfg, Hooks: hooks}).Sync(ctx, hsync.SyncOptions{})
		if err != nil {
			t.Fatalf("a record gone or new during the backfill failed the sync: %v", err)
		}
		var saw bool
		for _, p := range rep.Problems {
			if p.ID == late && strings.Contains(p.Error, "field history of a record healthsync does not hold") {
				saw = true
			}
		}
		if !saw {
			t.Errorf("no problem line for the history of %s, created during the sync: %+v", late, rep.Problems)
		}
		if h, _ := st.RecordHistory(ctx, "default", crm.HistoryAccount, late); len(h) != 0 {
			t.Errorf("history stored for an account healthsync does not hold: %+v", h)
		}
		var kept int
		for _, id := range ids {
			if h, _ := st.RecordHistory(ctx, "default", crm.HistoryAccount, id); len(h) > 0 {
				kept++
			}
		}
		if kept < len(ids)/2 {
			t.Errorf("only %d of %d accounts have history after the backfill", kept, len(ids))
		}
		rep2, err := hsync.NewEngine(hsync.EngineOptions{Store: st, Source: c, Mapping: m, Config: cfg}).Sync(ctx, hsync.SyncOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range rep2.Objects {
			if o.Object == "Account" && (o.Counts.New != 1 || o.Counts.Deleted != 1) {
				t.Errorf("second sync: %+v, want the new account and the deletion", o.Counts)
			}
		}
	})

	t.Run("hubspot", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		em := emuhubspot.New(emuhubspot.Options{RateLimits: emuhubspot.RateLimits{Disabled: true}})
		ids, err := em.LoadOrg(org(t, 20))
		if err != nil {
			t.Fatal(err)
		}
		// The company is archived just before the backfill's first
		// batch read with history (after the pull stored it live).
		var gone string
		var archived atomic.Bool
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && r.URL.Path == "/crm/v3/objects/companies/batch/read" && !archived.Load() {
				body, _ := io.ReadAll(r.Body)
				r.Body = io.NopCloser(bytes.NewReader(body))
				if bytes.Contains(body, []byte("propertiesWithHistory")) {
					archived.Store(true)
					if err := em.Archive("companies", gone); err != nil {
						t.Error(err)
					}
				}
			}
			em.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		c, err := hubspot.Open(ctx, hubspotConfig(em, srv.URL), hubspot.Deps{Connection: "default"})
		if err != nil {
			t.Fatal(err)
		}
		m := wbMapping(t, string(mapping.Example(crm.HubSpot)))
		for _, id := range ids.Companies {
			if r, err := em.Record("companies", strconv.FormatInt(id, 10)); err == nil && !r.Archived {
				gone = r.ID
				break
			}
		}
		st := storetest.Open(t, store.Config{DatabaseURL: filepath.Join(t.TempDir(), "hs.db"), EncryptionKey: storetest.Key}, store.Options{})
		cfg := hsync.Config{Connection: "default", ReconcileEvery: time.Hour}
		rep, err := hsync.NewEngine(hsync.EngineOptions{Store: st, Source: c, Mapping: m, Config: cfg}).Sync(ctx, hsync.SyncOptions{})
		if err != nil {
			t.Fatalf("a company archived during the backfill failed the sync: %v", err)
		}
		if !archived.Load() {
			t.Fatal("the backfill made no batch read with history")
		}
		var changes int
		for _, o := range rep.Objects {
			if o.Object == "companies" && o.History != nil {
				changes = o.History.Changes
			}
		}
		if changes == 0 {
			t.Errorf("no company history backfilled: %+v", rep.Objects)
		}
		rep2, err := hsync.NewEngine(hsync.EngineOptions{Store: st, Source: c, Mapping: m, Config: cfg}).Sync(ctx, hsync.SyncOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range rep2.Objects {
			if o.Object == "companies" && o.Counts.Deleted != 1 {
				t.Errorf("second sync: %+v, want the archived company deleted", o.Counts)
			}
		}
	})
}
