package hubspot_test

import (
	"strconv"
	"testing"

	"healthsync/crm"
	"healthsync/emulator/gen"
	"healthsync/emulator/hubspot"
)

func TestLoadOrg(t *testing.T) {
	t.Parallel()
	org, err := gen.Generate(gen.Options{Seed: 3, Accounts: 30})
	if err != nil {
		t.Fatal(err)
	}
	b := setup(t, hubspot.Options{Clock: crm.FixedClock(org.Now), RateLimits: hubspot.RateLimits{Disabled: true}})
	idmap, err := b.srv.LoadOrg(org)
	if err != nil {
		t.Fatal(err)
	}
	liveAccounts := 0
	for _, a := range org.Accounts {
		if !a.Deleted {
			liveAccounts++
		}
	}
	if got := b.srv.Count("companies"); got != liveAccounts {
		t.Fatalf("companies = %d, want %d", got, liveAccounts)
	}
	// Live customers are "customer", churned ones "other".
	for i, a := range org.Accounts {
		if a.Deleted {
			continue
		}
		rec, err := b.srv.Record("companies", strconv.FormatInt(idmap.Companies[i], 10))
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]string{false: "customer", true: "other"}[a.Churned]; rec.Properties["lifecyclestage"] != want {
			t.Errorf("company %d churned %v: lifecyclestage %q", i, a.Churned, rec.Properties["lifecyclestage"])
		}
	}
	// Every generated record landed, with its own dates and owner. Its
	// modified date is that of its last change: the generator's, or a
	// later change in its field history.
	a0 := org.Accounts[0]
	modified := a0.Modified
	for _, c := range org.History(0) {
		if c.Opportunity < 0 && c.At.After(modified) {
			modified = c.At
		}
	}
	c0, err := b.srv.Record("companies", strconv.FormatInt(idmap.Companies[0], 10))
	if err != nil || c0.Properties["name"] != a0.Name || !c0.UpdatedAt.Equal(modified) || c0.Properties["hubspot_owner_id"] != idmap.Owners[a0.Owner] {
		t.Fatalf("company 0 = %+v, %v; account %+v", c0, err, a0)
	}
	renewals, activities := 0, 0
	for i, o := range org.Opportunities {
		rec, err := b.srv.Record("deals", strconv.FormatInt(idmap.Deals[i], 10))
		if err != nil {
			t.Fatal(err)
		}
		if o.Type == gen.TypeRenewal {
			renewals++
			if rec.Properties["dealtype"] != "existingbusiness" || rec.Properties["deal_category"] != "renewal" {
				t.Fatalf("renewal deal = %v", rec.Properties)
			}
		}
		if o.Type == gen.TypeNewBusiness && rec.Properties["dealtype"] != "newbusiness" {
			t.Fatalf("new-business deal = %v", rec.Properties)
		}
		if o.Won && rec.Properties["hs_is_closed_won"] != "true" {
			t.Fatalf("won deal = %v", rec.Properties)
		}
	}
	if renewals == 0 {
		t.Fatal("the generated org has no renewals")
	}
	for i, a := range org.Activities {
		ref := idmap.Activities[i]
		rec, err := b.srv.Record(ref.Type, strconv.FormatInt(ref.ID, 10))
		if err != nil {
			t.Fatal(err)
		}
		if rec.Archived != a.Deleted {
			t.Fatalf("activity %d archived = %v, deleted = %v", i, rec.Archived, a.Deleted)
		}
		if a.Deleted {
			continue
		}
		activities++
		links, _ := b.srv.Associations(ref.Type, rec.ID, "companies")
		if len(links) != 1 || links[0].ToID != strconv.FormatInt(idmap.Companies[a.Account], 10) {
			t.Fatalf("activity %d company links = %+v", i, links)
		}
		if a.Kind == gen.KindEmail {
			want := map[gen.Direction]string{gen.DirectionInbound: "INCOMING_EMAIL", gen.DirectionOutbound: "EMAIL"}[a.Direction]
			if rec.Properties["hs_email_direction"] != want {
				t.Fatalf("email direction = %q, want %q", rec.Properties["hs_email_direction"], want)
			}
		}
		if a.Kind == gen.KindCall {
			want := map[gen.Direction]string{gen.DirectionInbound: "INBOUND", gen.DirectionOutbound: "OUTBOUND"}[a.Direction]
			if rec.Properties["hs_call_direction"] != want {
				t.Fatalf("call direction = %q, want %q", rec.Properties["hs_call_direction"], want)
			}
		}
	}
	if activities == 0 {
		t.Fatal("no live activities loaded")
	}
	// Served over HTTP: the custom customer-success properties are defined.
	r := b.call("GET", "/crm/v3/properties/companies/renewal_date", nil).must(t, 200)
	if r.str("type") != "date" {
		t.Fatalf("renewal_date = %s", r.raw)
	}
	s := b.call("POST", "/crm/v3/objects/meetings/search", map[string]any{"limit": 1}).must(t, 200)
	if s.body["total"].(float64) == 0 {
		t.Fatal("no meetings searchable")
	}
	if _, err := b.srv.LoadOrg(nil); err == nil {
		t.Fatal("LoadOrg(nil) succeeded")
	}
}
