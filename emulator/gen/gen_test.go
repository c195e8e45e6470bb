package gen

import (
	"reflect"
	"testing"
	"time"
)

func TestGenerateDeterministic(t *testing.T) {
	t.Parallel()
	opts := Options{Seed: 42, Accounts: 300}
	a, err := Generate(opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate(opts)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same options gave different orgs")
	}
	c, err := Generate(Options{Seed: 43, Accounts: 300})
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(a.Accounts, c.Accounts) {
		t.Fatal("different seeds gave the same accounts")
	}
	// Stream yields exactly what Generate collects.
	var i, ci, ai int
	err = Stream(opts, func(bd *Bundle) error {
		if !reflect.DeepEqual(bd.Account, a.Accounts[i]) {
			t.Fatalf("stream account %d differs", i)
		}
		for _, x := range bd.Contacts {
			if !reflect.DeepEqual(x, a.Contacts[ci]) {
				t.Fatalf("stream contact %d differs", ci)
			}
			ci++
		}
		for _, x := range bd.Activities {
			if !reflect.DeepEqual(x, a.Activities[ai]) {
				t.Fatalf("stream activity %d differs", ai)
			}
			ai++
		}
		i++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if i != len(a.Accounts) || ai != len(a.Activities) || ci != len(a.Contacts) {
		t.Fatalf("stream gave %d accounts %d contacts %d activities, want %d %d %d", i, ci, ai, len(a.Accounts), len(a.Contacts), len(a.Activities))
	}
}

func TestGenerateSizesAndIntegrity(t *testing.T) {
	t.Parallel()
	org, err := Generate(Options{Seed: 1, Accounts: 2000})
	if err != nil {
		t.Fatal(err)
	}
	if len(org.Accounts) != 2000 {
		t.Fatalf("accounts = %d", len(org.Accounts))
	}
	perAcct := float64(len(org.Activities)) / 2000
	if perAcct < 12 || perAcct > 35 {
		t.Errorf("activities per account = %.1f, want about 20", perAcct)
	}
	if len(org.Users) != 33 {
		t.Errorf("users = %d, want 2000/60", len(org.Users))
	}
	segs := map[string]int{}
	var deleted, renewals, expansions, ebr, inbound, open int
	for i, a := range org.Accounts {
		if int(a.Index) != i || a.Name == "" || a.Licenses <= 0 || a.ActiveUsers > a.Licenses {
			t.Fatalf("bad account %+v", a)
		}
		segs[a.Segment]++
		if a.Modified.Before(a.Created) || a.Modified.After(org.Now) {
			t.Fatalf("account %d modified %v outside [%v, now]", i, a.Modified, a.Created)
		}
	}
	for _, s := range []string{SegmentEnterprise, SegmentMidMarket, SegmentSMB} {
		if segs[s] < 100 {
			t.Errorf("segment %s has %d accounts", s, segs[s])
		}
	}
	for i, c := range org.Contacts {
		if int(c.Index) != i || c.Account < 0 || int(c.Account) >= len(org.Accounts) {
			t.Fatalf("bad contact %+v", c)
		}
	}
	for i, o := range org.Opportunities {
		if int(o.Index) != i || o.Stage == "" || o.Modified.Before(o.Created) || o.Modified.After(org.Now) {
			t.Fatalf("bad opportunity %+v", o)
		}
		switch o.Type {
		case TypeRenewal:
			renewals++
		case TypeUpsell, TypeCrossSell:
			expansions++
		}
		if !o.Closed {
			open++
		}
	}
	for i, x := range org.Activities {
		if int(x.Index) != i || x.Modified.Before(x.Created) || x.Modified.After(org.Now) {
			t.Fatalf("bad activity %d: %+v (now %v)", i, x, org.Now)
		}
		if x.Contact >= 0 && org.Contacts[x.Contact].Account != x.Account {
			t.Fatalf("activity %d links a contact of another account", i)
		}
		if x.Opportunity >= 0 && org.Opportunities[x.Opportunity].Account != x.Account {
			t.Fatalf("activity %d links an opportunity of another account", i)
		}
		if x.Deleted {
			deleted++
		}
		if x.EBR {
			ebr++
		}
		if x.Direction == DirectionInbound {
			inbound++
		}
		if x.At.Before(org.Now.AddDate(0, -18, 0).Add(-24 * time.Hour)) {
			t.Fatalf("activity %d at %v is older than 18 months", i, x.At)
		}
	}
	if deleted == 0 || renewals < 1000 || expansions == 0 || ebr == 0 || inbound == 0 || open == 0 {
		t.Errorf("deleted=%d renewals=%d expansions=%d ebr=%d inbound=%d open=%d", deleted, renewals, expansions, ebr, inbound, open)
	}
}

// TestDecliningAccountsDiffer checks that churn is predictable from the
// signals a health score uses: activity in the last 90 days, inbound share,
// executive contact, adoption and churn rate differ clearly.
func TestDecliningAccountsDiffer(t *testing.T) {
	t.Parallel()
	org, err := Generate(Options{Seed: 7, Accounts: 3000})
	if err != nil {
		t.Fatal(err)
	}
	type stat struct {
		n, recent, execRecent, churned, lostRenewal int
		adoption                                    float64
	}
	var st [2]stat // 0 healthy, 1 declining
	k := func(a Account) int {
		if a.Declining {
			return 1
		}
		return 0
	}
	for _, a := range org.Accounts {
		s := &st[k(a)]
		s.n++
		s.adoption += a.AdoptionPrev - a.Adoption()
		if a.Churned {
			s.churned++
		}
	}
	cut := org.Now.Add(-90 * 24 * time.Hour)
	for _, x := range org.Activities {
		if x.At.Before(cut) || !x.Completed {
			continue
		}
		s := &st[k(org.Accounts[x.Account])]
		s.recent++
		if x.Contact >= 0 && org.Contacts[x.Contact].Executive {
			s.execRecent++
		}
	}
	for _, o := range org.Opportunities {
		if o.Type == TypeRenewal && o.Closed && !o.Won {
			st[k(org.Accounts[o.Account])].lostRenewal++
		}
	}
	h, d := st[0], st[1]
	if d.n < 300 || h.n < 1500 {
		t.Fatalf("healthy %d declining %d: want about 20%% declining", h.n, d.n)
	}
	rate := func(x, n int) float64 { return float64(x) / float64(n) }
	if rate(d.recent, d.n) > 0.5*rate(h.recent, h.n) {
		t.Errorf("recent activities per account: declining %.2f vs healthy %.2f", rate(d.recent, d.n), rate(h.recent, h.n))
	}
	if rate(d.execRecent, d.n) > 0.25*rate(h.execRecent, h.n) {
		t.Errorf("recent exec activities per account: declining %.2f vs healthy %.2f", rate(d.execRecent, d.n), rate(h.execRecent, h.n))
	}
	if rate(d.churned, d.n) < 4*rate(h.churned, h.n) {
		t.Errorf("churn rate: declining %.3f vs healthy %.3f", rate(d.churned, d.n), rate(h.churned, h.n))
	}
	if d.adoption/float64(d.n) < 0.2 || h.adoption/float64(h.n) > 0.05 {
		t.Errorf("adoption drop: declining %.2f healthy %.2f", d.adoption/float64(d.n), h.adoption/float64(h.n))
	}
	if d.lostRenewal == 0 || d.lostRenewal != d.churned || h.lostRenewal != h.churned {
		t.Errorf("lost renewals %d/%d vs churned %d/%d", h.lostRenewal, d.lostRenewal, h.churned, d.churned)
	}
	for _, a := range org.Accounts {
		if a.Churned && (a.Type != "Former Customer" || a.ChurnedAt.After(org.Now)) {
			t.Fatalf("churned account %+v", a)
		}
	}
}

func TestOptionsRejected(t *testing.T) {
	t.Parallel()
	for _, o := range []Options{{Accounts: -1}, {Accounts: 1, DeclineRate: 2}, {Accounts: 1, Months: -3}, {Accounts: 1, ActivityScale: -1}} {
		if _, err := Generate(o); err == nil {
			t.Errorf("Generate(%+v) gave no error", o)
		}
	}
}

func BenchmarkStream(b *testing.B) {
	for b.Loop() {
		n := 0
		_ = Stream(Options{Seed: 1, Accounts: 1000}, func(bd *Bundle) error { n += len(bd.Activities); return nil })
	}
}
