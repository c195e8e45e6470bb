package scoring

import (
	"encoding/json"
	"testing"
	"time"

	"healthsync/crm"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func closedOpp(id string, kind crm.OpportunityKind, close time.Time, amount float64, won bool) crm.Opportunity {
	return crm.Opportunity{ID: crm.OpportunityID(id), Kind: kind, CloseDate: &close, Amount: &amount, IsClosed: true, IsWon: won, CreatedAt: close.AddDate(0, -2, 0)}
}

// reportExample is six accounts over Q1 2024 whose KPIs are worked out by
// hand in TestPortfolioKPIs.
func reportExample(t *testing.T) KPIs {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Measures.NPSScale = "response"
	acct := func(id string, since time.Time, arr, nps float64) crm.Account {
		return crm.Account{ID: crm.AccountID(id), Name: id, CustomerSince: &since, ARR: &arr, NPS: &nps}
	}
	res := func(g Grade, stage string, days *int, amount float64) Result {
		return Result{Grade: g, Metrics: Metrics{LifecycleStage: stage, DaysToRenewal: days, RenewalAmount: &amount}}
	}
	// A's ARR went from 100k to 115k at its renewal on 15 Feb, B's from
	// 50k to 40k on 1 Mar: the field history says so.
	a := acct("A", day(2022, 1, 1), 115000, 10)
	b := acct("B", day(2021, 1, 1), 40000, 7)
	hist := func(id string, until time.Time, arr string) crm.History {
		return crm.History{Changes: []crm.FieldChange{{Entity: crm.HistoryAccount, RecordID: id, Field: crm.FieldARR, Until: until, Value: json.RawMessage(arr)}}}
	}
	c := acct("C", day(2023, 6, 1), 30000, 3)
	c.Churned, c.ChurnedAt = true, tp(day(2024, 2, 10))
	d := acct("D", day(2023, 1, 1), 20000, 8)
	e := acct("E", day(2024, 2, 1), 12000, 9)
	e.FirstValueAt = tp(day(2024, 3, 1))
	f := acct("F", day(2023, 5, 1), 8000, 6)
	f.FirstValueAt = tp(day(2024, 1, 11))
	accounts := []PortfolioAccount{
		{Account: a, Opportunities: []crm.Opportunity{
			closedOpp("A-R", crm.OpportunityRenewal, day(2024, 2, 15), 110000, true),
			closedOpp("A-X", crm.OpportunityExpansion, day(2024, 1, 20), 5000, true),
			closedOpp("A-X0", crm.OpportunityExpansion, day(2023, 12, 20), 7000, true), // before the period
		}, History: hist("A", day(2024, 2, 15), "100000"), Result: res(GradeGreen, "Growth", nil, 0)},
		{Account: b, Opportunities: []crm.Opportunity{
			closedOpp("B-R", crm.OpportunityRenewal, day(2024, 3, 1), 40000, true),
		}, History: hist("B", day(2024, 3, 1), "50000"), Result: res(GradeYellow, "Renewal", nil, 0)},
		{Account: c, Result: res(GradeRed, "Adoption", nil, 0)},
		{Account: d, Opportunities: []crm.Opportunity{
			closedOpp("D-R", crm.OpportunityRenewal, day(2024, 3, 5), 20000, false),
		}, Result: res(GradeRed, "Renewal", ip(4), 20000)},
		{Account: e, Result: res("", "Onboarding", ip(-3), 12000)},
		{Account: f, Result: res(GradeRed, "Adoption", ip(45), 8000)},
	}
	k, err := ComputeKPIs(cfg, Period{From: day(2024, 1, 1), To: day(2024, 4, 1)}, now, accounts)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestPortfolioKPIs(t *testing.T) {
	t.Parallel()
	k := reportExample(t)
	eqi := func(name string, got, want int) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
	eqf := func(name string, got *float64, want float64) {
		t.Helper()
		if got == nil || !near(*got, want) {
			t.Errorf("%s = %v, want %v", name, deref(got), want)
		}
	}
	eqi("customers_at_start", k.CustomersAtStart, 5) // A B C D F
	eqi("renewals_due", k.RenewalsDue, 3)            // A B D
	eqi("renewals_won", k.RenewalsWon, 2)
	eqf("renewal_rate", k.RenewalRate, 2.0/3)
	eqi("churned_logos", k.ChurnedLogos, 2) // C by the churn field, D by its lost renewal
	eqf("logo_churn_rate", k.LogoChurnRate, 2.0/5)
	eqf("start_arr", k.StartARR, 208000)
	eqf("churned_arr", k.ChurnedARR, 50000)
	eqf("contraction_arr", k.ContractionARR, 10000) // B: ARR 50k at the start, 40k at the end
	eqf("expansion_arr", k.ExpansionARR, 15000)     // A: ARR 100k at the start, 115k at the end
	eqf("grr", k.GRR, (208000.0-50000-10000)/208000)
	eqf("nrr", k.NRR, (208000.0-50000-10000+15000)/208000)
	eqf("expansion_revenue", &k.ExpansionRevenue, 15000)
	eqi("customers_at_end", k.CustomersAtEnd, 4) // A B E F
	eqf("end_arr", k.EndARR, 175000)             // A 115k + B 40k + E 12k + F 8k, as of the end
	eqf("arpa", k.ARPA, 43750)
	eqf("time_to_first_value_days", k.TimeToFirstValueDays, (29.0+255)/2)
	eqi("time_to_first_value_count", k.TimeToFirstValueCount, 2)
	// Responses at the end: A 10, B 7, E 9, F 6 → 2 promoters, 1 detractor.
	eqi("promoters", k.Promoters, 2)
	eqi("passives", k.Passives, 1)
	eqi("detractors", k.Detractors, 1)
	eqf("nps", k.NPS, 25)
	eqi("at_risk_accounts", k.AtRiskAccounts, 2) // D and F; C had left by as-of
	eqf("at_risk_arr", &k.AtRiskARR, 28000)
	eqi("no_score", k.NoScore, 1)
	wantWin := []RenewalWindow{{30, 1, 20000}, {60, 2, 28000}, {90, 2, 28000}}
	for i, w := range wantWin {
		if k.RenewalsDueIn[i] != w {
			t.Errorf("renewals within %d days = %+v, want %+v", w.Days, k.RenewalsDueIn[i], w)
		}
	}
	if k.Overdue != (RenewalWindow{0, 1, 12000}) {
		t.Errorf("overdue = %+v", k.Overdue)
	}
	wantStages := []StageRow{
		{Stage: "Onboarding", NoScore: 1, Total: 1},
		{Stage: "Adoption", Red: 1, Total: 1},
		{Stage: "Growth", Green: 1, Total: 1},
		{Stage: "Renewal", Yellow: 1, Red: 1, Total: 2},
	}
	if len(k.Pipeline) != len(wantStages) {
		t.Fatalf("pipeline = %+v", k.Pipeline)
	}
	for i, w := range wantStages {
		if k.Pipeline[i] != w {
			t.Errorf("pipeline[%d] = %+v, want %+v", i, k.Pipeline[i], w)
		}
	}
}

func TestPortfolioScoreScaleNPSAndEmpty(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig() // nps_scale: score
	p := Period{From: day(2024, 1, 1), To: day(2024, 4, 1)}
	b, err := NewPortfolioBuilder(cfg, p, now)
	if err != nil {
		t.Fatal(err)
	}
	k := b.KPIs()
	if k.RenewalRate != nil || k.GRR != nil || k.NRR != nil || k.ARPA != nil || k.NPS != nil || k.TimeToFirstValueDays != nil {
		t.Errorf("empty portfolio has ratios: %+v", k)
	}
	for _, n := range []float64{40, -10} {
		b.Add(crm.Account{ID: "X", CustomerSince: tp(day(2020, 1, 1)), NPS: fp(n), ARR: fp(1)}, nil, Result{})
	}
	if k := b.KPIs(); k.NPS == nil || *k.NPS != 15 || k.Promoters != 0 {
		t.Errorf("score-scale NPS = %v (promoters %d), want the mean 15", deref(k.NPS), k.Promoters)
	}
	if _, err := NewPortfolioBuilder(cfg, Period{From: p.To, To: p.From}, now); err == nil {
		t.Error("want an error for a period that ends before it starts")
	}
}

// TestPortfolioEmptyARRIsUnknown: an ARR that is empty at the start or
// the end of the period (entered late, or cleared) moves no ARR, and a
// renewal won by an account whose ARR was empty before it is no uplift:
// an empty ARR is unknown, not 0 (issue 20: counted as 0, every such won
// renewal became "expansion").
func TestPortfolioEmptyARRIsUnknown(t *testing.T) {
	t.Parallel()
	since := day(2022, 1, 1)
	arr := 12000.0
	// L: ARR entered on 1 Jun 2024 (empty before); N: never entered,
	// renewed at 8,000; K: 30,000 throughout, renewed at 30,000.
	l := crm.Account{ID: "L", Name: "L", CustomerSince: &since, ARR: &arr}
	n := crm.Account{ID: "N", Name: "N", CustomerSince: &since}
	k30 := 30000.0
	k := crm.Account{ID: "K", Name: "K", CustomerSince: &since, ARR: &k30}
	accounts := []PortfolioAccount{
		{Account: l, History: crm.History{Changes: []crm.FieldChange{{Entity: crm.HistoryAccount, RecordID: "L", Field: crm.FieldARR, Until: day(2024, 6, 1), Value: json.RawMessage("null")}}}},
		{Account: n, Opportunities: []crm.Opportunity{closedOpp("N-R", crm.OpportunityRenewal, day(2024, 9, 1), 8000, true)}},
		{Account: k, Opportunities: []crm.Opportunity{closedOpp("K-R", crm.OpportunityRenewal, day(2024, 5, 1), 30000, true)}},
	}
	got, err := ComputeKPIs(DefaultConfig(), Period{From: day(2024, 1, 1), To: day(2025, 1, 1)}, day(2025, 1, 2), accounts)
	if err != nil {
		t.Fatal(err)
	}
	if got.CustomersAtStart != 3 || *got.StartARR != 30000 || *got.ExpansionARR != 0 || *got.ContractionARR != 0 || *got.NRR != 1 || got.ExpansionRevenue != 0 {
		t.Errorf("customers %d, start ARR %v, expansion %v, contraction %v, NRR %v, expansion revenue %v; want 3, 30000, 0, 0, 1, 0",
			got.CustomersAtStart, *got.StartARR, *got.ExpansionARR, *got.ContractionARR, *got.NRR, got.ExpansionRevenue)
	}
	// ARPA still counts an account without ARR as 0 (documented).
	if *got.EndARR != 42000 || *got.ARPA != 14000 {
		t.Errorf("ARR at end %v, ARPA %v; want 42000, 14000", *got.EndARR, *got.ARPA)
	}
}
