package sync_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"healthsync/connector/hubspot"
	"healthsync/crm"
	"healthsync/emulator/gen"
	emuhubspot "healthsync/emulator/hubspot"
	"healthsync/mapping"
	"healthsync/store"
	"healthsync/store/storetest"
	hsync "healthsync/sync"
)

// TestHubSpotHistoryBackfill: the first sync of a HubSpot portal
// backfills the companies' field history from propertiesWithHistory on
// batch reads (50 records a call), and
//
//   - the stored changes of ARR and NPS of every company equal the
//     portal's own history read over the API (newest first there; stored
//     as "value V held until the next entry's timestamp", so reading the
//     list in the wrong order would swap values and times). The entries'
//     sourceType (CRM_UI, INTEGRATION, CALCULATED, IMPORT) is not kept:
//     a value counts whoever set it;
//   - an as-of lookup of ARR and NPS at monthly dates over the
//     generator's 18 months of history returns the generator's own value
//     then (gen.Org.History replayed), for every live company.
//
// On SQLite and Postgres.
func TestHubSpotHistoryBackfill(t *testing.T) {
	t.Parallel()
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			now := time.Now().UTC()
			o, err := gen.Generate(gen.Options{Seed: 9, Accounts: 60, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			em := emuhubspot.New(emuhubspot.Options{RateLimits: emuhubspot.RateLimits{Disabled: true}})
			ids, err := em.LoadOrg(o)
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(em)
			t.Cleanup(srv.Close)
			token := em.Credentials().PrivateAppToken
			hc := hubspot.DefaultConfig()
			hc.BaseURL, hc.Token, hc.SearchRate = srv.URL, token, 1000
			c, err := hubspot.Open(ctx, hc, hubspot.Deps{Connection: "default"})
			if err != nil {
				t.Fatal(err)
			}
			m := wbMapping(t, hubspotExample(t))
			st := storetest.Open(t, be.fresh(t), store.Options{})
			rep, err := hsync.NewEngine(hsync.EngineOptions{Store: st, Source: c, Mapping: m, Config: hsync.Config{Connection: "default", ReconcileEvery: time.Hour}}).Sync(ctx, hsync.SyncOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var hr *hsync.HistoryReport
			for _, or := range rep.Objects {
				if or.Object == "companies" {
					hr = or.History
				}
			}
			if hr == nil || hr.Changes == 0 {
				t.Fatalf("the first sync backfilled no company history: %+v", hr)
			}

			// 1. The stored changes equal the portal's history.
			props := map[string]string{"arr": crm.FieldARR, "nps_score": crm.FieldNPS}
			var compared int
			for i, a := range o.Accounts {
				if a.Deleted {
					continue
				}
				id := strconv.FormatInt(ids.Companies[i], 10)
				portal, created := portalHistory(t, srv.URL, token, id, "arr", "nps_score")
				stored, err := st.RecordHistory(ctx, "default", crm.HistoryAccount, id)
				if err != nil {
					t.Fatal(err)
				}
				for prop, field := range props {
					want := expectedChanges(portal[prop], created)
					var got []string
					for _, ch := range stored {
						if ch.Field == field {
							got = append(got, fmt.Sprintf("%s until %s", numText(ch.Value), ch.Until.UTC().Format(time.RFC3339Nano)))
						}
					}
					if strings.Join(got, "; ") != strings.Join(want, "; ") {
						t.Errorf("company %s %s: stored\n  %s\nthe portal's history says\n  %s", id, prop, strings.Join(got, "; "), strings.Join(want, "; "))
					}
					compared += len(want)
				}
			}
			if compared < 50 {
				t.Fatalf("only %d stored changes compared: the org has too little history to tell", compared)
			}

			// 2. As-of lookups give the generator's past values.
			bundles := map[string]store.Bundle{}
			if err := st.ForEachAccount(ctx, "default", func(b store.Bundle) error {
				bundles[string(b.Account.ID)] = b
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			var checked, moved int
			for i, a := range o.Accounts {
				if a.Deleted {
					continue
				}
				b, ok := bundles[strconv.FormatInt(ids.Companies[i], 10)]
				if !ok {
					t.Fatalf("company of account %d (%s) not stored", i, a.Name)
				}
				hist := o.History(i)
				for at := o.HistoryFrom.AddDate(0, 0, 15); at.Before(now); at = at.AddDate(0, 1, 0) {
					past := crm.AccountAsOf(b.Account, b.History, at)
					wantARR := genValueAt(hist, gen.FieldARR, a.ARR, at)
					wantNPS := genValueAt(hist, gen.FieldNPS, a.NPS, at)
					if fmt.Sprint(deref64(past.ARR)) != fmt.Sprint(wantARR) || fmt.Sprint(deref64(past.NPS)) != fmt.Sprint(wantNPS) {
						t.Errorf("%s as of %s: ARR %v, NPS %v; the generator says %v, %v", a.Name, at.Format(time.DateOnly), deref64(past.ARR), deref64(past.NPS), wantARR, wantNPS)
					}
					if fmt.Sprint(wantARR) != fmt.Sprint(anyFloat(a.ARR)) || fmt.Sprint(wantNPS) != fmt.Sprint(anyFloat(a.NPS)) {
						moved++ // a past value that differs from today's
					}
					checked++
				}
			}
			if moved < 20 {
				t.Fatalf("only %d of %d as-of lookups differ from today's value: too little history to tell", moved, checked)
			}
			t.Logf("%s: %d portal history entries compared; %d as-of lookups, %d of them differing from today; backfill %d records, %d changes, %d calls",
				be.name, compared, checked, moved, hr.Records, hr.Changes, hr.APICalls)
		})
	}
}

// hubspotExample is the example HubSpot mapping.
func hubspotExample(t *testing.T) string {
	t.Helper()
	m := string(mapping.Example(crm.HubSpot))
	if m == "" {
		t.Fatal("no HubSpot example mapping")
	}
	return m
}

// portalEntry is one entry of propertiesWithHistory.
type portalEntry struct {
	Value      string `json:"value"`
	Timestamp  string `json:"timestamp"`
	SourceType string `json:"sourceType"`
}

// portalHistory reads a company's property history straight from the
// portal's API (a single-record read).
func portalHistory(t *testing.T, base, token, id string, props ...string) (map[string][]portalEntry, time.Time) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/crm/v3/objects/companies/"+id+"?propertiesWithHistory="+strings.Join(props, ","), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		CreatedAt string                   `json:"createdAt"`
		History   map[string][]portalEntry `json:"propertiesWithHistory"`
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("read company %s: %s", id, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	for prop, es := range body.History {
		for k := 1; k < len(es); k++ {
			if es[k].Timestamp > es[k-1].Timestamp {
				t.Fatalf("company %s %s: the portal's history is not newest first: %v", id, prop, es)
			}
		}
	}
	created, err := crm.ParseTime(body.CreatedAt)
	if err != nil {
		t.Fatalf("company %s: createdAt %q: %v", id, body.CreatedAt, err)
	}
	return body.History, created
}

// expectedChanges turns a property's history (newest first) into the
// stored changes it means: oldest first, each value held until the next
// different value's timestamp; the newest is today's value (no change).
// HubSpot's history starts at the record's creation: a property whose
// oldest value came later (by more than a minute) was empty until then.
func expectedChanges(es []portalEntry, created time.Time) []string {
	old := append([]portalEntry(nil), es...)
	sort.SliceStable(old, func(i, j int) bool { return old[i].Timestamp < old[j].Timestamp })
	var out []string
	if len(old) > 0 {
		if first, err := crm.ParseTime(old[0].Timestamp); err == nil && first.After(created.Add(time.Minute)) && normNum(old[0].Value) != "null" {
			out = append(out, "null until "+first.UTC().Format(time.RFC3339Nano))
		}
	}
	for k := 0; k+1 < len(old); k++ {
		if normNum(old[k].Value) == normNum(old[k+1].Value) {
			old[k+1] = portalEntry{Value: old[k].Value, Timestamp: old[k+1].Timestamp}
			continue
		}
		at, err := crm.ParseTime(old[k+1].Timestamp)
		if err != nil {
			continue
		}
		out = append(out, fmt.Sprintf("%s until %s", normNum(old[k].Value), at.UTC().Format(time.RFC3339Nano)))
	}
	return out
}

// normNum is a property value as a number's text ("" when empty).
func normNum(v string) string {
	if v == "" {
		return "null"
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return strconv.Quote(v)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// numText is a stored canonical value as normNum renders it.
func numText(v json.RawMessage) string {
	var f *float64
	if err := json.Unmarshal(v, &f); err != nil {
		return string(v)
	}
	if f == nil {
		return "null"
	}
	return strconv.FormatFloat(*f, 'g', -1, 64)
}

// genValueAt is a generated account field as of at: today's value, or the
// old value of its first change after at.
func genValueAt(hist []gen.Change, f gen.Field, today any, at time.Time) any {
	for _, ch := range hist {
		if ch.Opportunity < 0 && ch.Field == f && crm.Normalize(ch.At).After(at) {
			return anyFloat(ch.Old)
		}
	}
	return anyFloat(today)
}

// anyFloat is a generator value as the store's number reads (nil when
// none).
func anyFloat(v any) any {
	switch x := v.(type) {
	case float64:
		return x
	case *float64:
		if x == nil {
			return nil
		}
		return *x
	case int8: // the generator's NPS: -1 is none
		if x < 0 {
			return nil
		}
		return float64(x)
	}
	return nil
}
