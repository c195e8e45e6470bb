package sync_test

import (
	"context"
	"math"
	"path/filepath"
	"testing"
	"time"

	"healthsync/connector/salesforce"
	"healthsync/crm"
	"healthsync/emulator/gen"
	emusalesforce "healthsync/emulator/salesforce"
	"healthsync/scoring"
	"healthsync/store"
	"healthsync/store/storetest"
	hsync "healthsync/sync"
)

// TestPastYearReportMatchesTheGeneratorsHistory: the ARR KPIs of a past
// year, computed by the report's path (a synced store whose field history
// was backfilled from the emulated org's AccountHistory), equal the same
// figures computed independently from the generator's own history
// (gen.Org.History): each cohort account's ARR as of the period's start
// and end, churn by the generator's churn date, accounts deleted in the
// CRM left out.
func TestPastYearReportMatchesTheGeneratorsHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Now().UTC()
	o, err := gen.Generate(gen.Options{Seed: 5, Accounts: 120, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	em := emusalesforce.New(emusalesforce.Options{})
	if err := em.LoadOrg(o); err != nil {
		t.Fatal(err)
	}
	sc := serveSalesforce(t, em)
	c, err := salesforce.Open(ctx, sc, salesforce.Deps{Connection: "default"})
	if err != nil {
		t.Fatal(err)
	}
	m := wbMapping(t, "")
	st := storetest.Open(t, store.Config{DatabaseURL: filepath.Join(t.TempDir(), "hs.db"), EncryptionKey: storetest.Key}, store.Options{})
	if _, err := hsync.NewEngine(hsync.EngineOptions{Store: st, Source: c, Mapping: m, Config: hsync.Config{Connection: "default", ReconcileEvery: time.Hour}}).Sync(ctx, hsync.SyncOptions{}); err != nil {
		t.Fatal(err)
	}

	// A past year inside the generator's 18 months of history.
	from := time.Date(now.Year()-1, now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -3, 0)
	p := scoring.Period{From: from, To: from.AddDate(1, 0, 0)}
	b, err := scoring.NewPortfolioBuilder(m.Config().Scoring, p, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.ForEachAccount(ctx, "default", func(bd store.Bundle) error {
		b.AddAsOf(bd.Account, bd.History, bd.Opportunities, scoring.Result{})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	k := b.KPIs()

	// Independently, from the generator's history.
	endAt := p.To.Add(-time.Millisecond)
	arrAt := func(i int, t time.Time) float64 {
		v := o.Accounts[i].ARR
		for _, ch := range o.History(i) {
			if ch.Opportunity < 0 && ch.Field == gen.FieldARR && crm.Normalize(ch.At).After(t) {
				if old, ok := ch.Old.(float64); ok {
					return old
				}
				return 0
			}
		}
		return v
	}
	customerAt := func(a gen.Account, t time.Time) bool {
		return !a.CustomerSince.IsZero() && !a.CustomerSince.After(t) && !(a.Churned && !a.ChurnedAt.After(t))
	}
	var cohort, churned, atEnd int
	var start, churnedARR, contraction, expansion, end float64
	for i, a := range o.Accounts {
		if a.Deleted {
			continue // gone from the CRM: no report counts it
		}
		if customerAt(a, p.From) {
			cohort++
			s := arrAt(i, p.From)
			start += s
			if a.Churned && !a.ChurnedAt.After(endAt) {
				churned++
				churnedARR += s
			} else if e := arrAt(i, endAt); e < s {
				contraction += s - e
			} else {
				expansion += e - s
			}
		}
		if customerAt(a, endAt) {
			atEnd++
			end += arrAt(i, endAt)
		}
	}
	if cohort < 30 || churned == 0 {
		t.Fatalf("the generated year has %d customers at the start and %d churned: too few to tell", cohort, churned)
	}
	near := func(name string, got *float64, want float64) {
		t.Helper()
		if got == nil || math.Abs(*got-want) > 1e-6*math.Max(1, math.Abs(want)) {
			t.Errorf("%s: report %v, generator %v", name, deref64(got), want)
		}
	}
	if k.CustomersAtStart != cohort || k.ChurnedLogos != churned || k.CustomersAtEnd != atEnd {
		t.Errorf("customers at start %d, churned %d, at end %d; the generator says %d, %d, %d", k.CustomersAtStart, k.ChurnedLogos, k.CustomersAtEnd, cohort, churned, atEnd)
	}
	near("start ARR", k.StartARR, start)
	near("churned ARR", k.ChurnedARR, churnedARR)
	near("contraction ARR", k.ContractionARR, contraction)
	near("expansion ARR", k.ExpansionARR, expansion)
	near("ARR at end", k.EndARR, end)
	near("GRR", k.GRR, (start-churnedARR-contraction)/start)
	near("NRR", k.NRR, (start-churnedARR-contraction+expansion)/start)
	near("ARPA", k.ARPA, end/float64(atEnd))
	if k.ExactFrom != nil && k.ExactFrom.After(p.From) && len(k.NotMapped) == 0 {
		t.Logf("exact from %s (fields the emulated org does not track)", k.ExactFrom.Format(time.DateOnly))
	}
}

func deref64(v *float64) any {
	if v == nil {
		return nil
	}
	return *v
}
