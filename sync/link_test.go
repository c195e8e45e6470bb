package sync_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"healthsync/crm"
	emuhubspot "healthsync/emulator/hubspot"
	hsync "healthsync/sync"
)

// An activity with no company of its own counts for the company of its
// contact: the sync looks the contact up in the store while it writes the
// page, after the page was mapped and encoded, and the activity is stored
// with that account.
func TestActivityWithoutAccountTakesItsContacts(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			r := hubspotRig(t, b.fresh(t))
			ctx := context.Background()
			sync := func() {
				t.Helper()
				eng := hsync.NewEngine(hsync.EngineOptions{Store: r.st, Source: r.src, Mapping: r.m, Config: hsync.Config{Connection: "default", ReconcileEvery: time.Hour}})
				if _, err := eng.Sync(ctx, hsync.SyncOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			sync()
			em := r.emulator.(*emuhubspot.Server)
			contacts, err := em.Records("contacts")
			if err != nil {
				t.Fatal(err)
			}
			var contact, company string
			for _, c := range contacts {
				if v := c.Properties["associatedcompanyid"]; v != "" {
					contact, company = c.ID, v
					break
				}
			}
			if contact == "" {
				t.Fatal("no generated contact with a company")
			}
			call, err := em.Create("calls", map[string]string{"hs_call_title": "Renewal check-in", "hs_timestamp": time.Now().UTC().Format(time.RFC3339)})
			if err != nil {
				t.Fatal(err)
			}
			if err := em.Associate("calls", call, "contacts", contact); err != nil {
				t.Fatal(err)
			}
			sync()
			bundle, err := r.st.LoadBundle(ctx, "default", company)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(bundle.Activities, func(a crm.Activity) bool {
				return a.ID == crm.ActivityID(call) && a.AccountID == crm.AccountID(company)
			}) {
				t.Errorf("call %s (no company, a contact of company %s) is not among that company's %d activities with it as their account",
					call, company, len(bundle.Activities))
			}
		})
	}
}
