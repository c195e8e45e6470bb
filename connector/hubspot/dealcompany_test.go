package hubspot_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"healthsync/connector/hubspot"
)

// primaryCompany is the company a deal is associated with under
// HubSpot's primary type (5), as the portal holds it.
func primaryCompany(t *testing.T, b *bundle, deal string) string {
	t.Helper()
	as, err := b.srv.Associations("deals", deal, "companies")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		if slices.Contains(a.TypeIDs, 5) {
			return a.ToID
		}
	}
	return ""
}

// TestDealsCarryTheirPrimaryCompany: HubSpot's search returns no
// associations, so the connector reads each deal's companies with the v4
// batch read (one call per 1,000 deals) and the mapping takes the primary
// one as the opportunity's account, also when the deal is linked to
// another company with a lower ID. A deal moved to another company
// without a modification is invisible to the pull and found by the
// association sweep, which hands on that deal alone.
func TestDealsCarryTheirPrimaryCompany(t *testing.T) {
	t.Parallel()
	b := setup(t, noLimits())
	ids := loadOrg(t, b, 10)
	d := loadDefaults(t)
	c := b.open(b.config(), hubspot.Deps{})
	r := newReplica()
	// accountOf is the company the record names as the deal's primary one
	// (type deal_to_company; the others are deal_to_company_unlabeled),
	// which the mapping takes as the opportunity's account.
	accountOf := func(id string) string {
		t.Helper()
		rec, ok := r.live["deals"][id]
		if !ok {
			t.Fatalf("deal %s missing from the replica", id)
		}
		var raw struct {
			Associations map[string]struct {
				Results []struct{ ID, Type string }
			}
		}
		if err := json.Unmarshal(rec.Raw, &raw); err != nil {
			t.Fatal(err)
		}
		primary := ""
		for _, ref := range raw.Associations["companies"].Results {
			if ref.Type == "deal_to_company" {
				if primary != "" {
					t.Fatalf("deal %s names two primary companies, %s and %s", id, primary, ref.ID)
				}
				primary = ref.ID
			}
		}
		return primary
	}
	if err := r.pull(t, c, "deals", d.Fields("deals")); err != nil {
		t.Fatal(err)
	}
	deals, err := b.srv.Records("deals")
	if err != nil {
		t.Fatal(err)
	}
	live := 0
	for _, deal := range deals {
		if deal.Archived {
			continue
		}
		live++
		want := primaryCompany(t, b, deal.ID)
		if want == "" {
			t.Fatalf("generated deal %s has no primary company", deal.ID)
		}
		if got := accountOf(deal.ID); got != want {
			t.Errorf("deal %s maps to account %q, want its primary company %s", deal.ID, got, want)
		}
	}
	if live == 0 {
		t.Fatal("the generated portal has no live deals")
	}

	// A deal gains a second, unlabelled company with a lower ID than its
	// primary one: the primary one stays the account.
	lowest := strconv.FormatInt(slices.Min(ids.Companies), 10)
	var deal, primary string
	for _, dl := range deals {
		if p := primaryCompany(t, b, dl.ID); !dl.Archived && p != lowest {
			deal, primary = dl.ID, p
			break
		}
	}
	if deal == "" {
		t.Fatal("every live deal belongs to the lowest company")
	}
	b.api(http.MethodPut, "/crm/v4/objects/deals/"+deal+"/associations/companies/"+lowest,
		`[{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":341}]`)
	b.clock.Add(time.Hour)
	calls0 := c.APICalls()
	if err := r.sweep(t, c, "deals", d.Fields("deals")); err != nil {
		t.Fatal(err)
	}
	if got := c.APICalls() - calls0; got != int64(max(1, ceilDiv(live, 200))+ceilDiv(live, 1000)) {
		t.Errorf("the sweep of %d deals made %d calls, want %d (search pages of 200, one association read per 1,000)",
			live, got, max(1, ceilDiv(live, 200))+ceilDiv(live, 1000))
	}
	if r.emitted["deals"] != 1 {
		t.Errorf("the sweep handed on %d deals, want only the one linked to a second company", r.emitted["deals"])
	}
	if got := assocIDs(t, r.live["deals"][deal], "companies"); !slices.Contains(got, lowest) || !slices.Contains(got, primary) {
		t.Errorf("deal %s is stored linked to companies %v, want both %s and %s", deal, got, primary, lowest)
	}
	if got := accountOf(deal); got != primary {
		t.Errorf("deal %s linked to %s (primary) and %s maps to account %q, want the primary one", deal, primary, lowest, got)
	}

	// The deal moves to the lowest company alone, as its primary one,
	// without a modification: the pull does not see it, the sweep does.
	b.api(http.MethodDelete, "/crm/v4/objects/deals/"+deal+"/associations/companies/"+primary, "")
	b.api(http.MethodPut, "/crm/v4/objects/deals/"+deal+"/associations/companies/"+lowest,
		`[{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":5}]`)
	b.clock.Add(time.Hour)
	if err := r.pull(t, c, "deals", d.Fields("deals")); err != nil {
		t.Fatal(err)
	}
	if got := accountOf(deal); got == lowest {
		t.Fatal("the pull saw the move by itself: the test needs a re-link that does not modify the deal")
	}
	if err := r.sweep(t, c, "deals", d.Fields("deals")); err != nil {
		t.Fatal(err)
	}
	if got := accountOf(deal); got != lowest {
		t.Errorf("after the sweep deal %s maps to account %q, want %s", deal, got, lowest)
	}
	if r.emitted["deals"] != 1 {
		t.Errorf("the sweep handed on %d deals, want only the moved one", r.emitted["deals"])
	}
	if every, ok := c.AssociationSweep("deals"); !ok || every != 24*time.Hour {
		t.Errorf("AssociationSweep(deals) = %v, %v; want a daily sweep", every, ok)
	}
	if _, ok := c.AssociationSweep("companies"); ok {
		t.Error("companies have no associations read, yet AssociationSweep says they are swept")
	}
}
