package render_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"healthsync/crm"
	"healthsync/scoring"
)

// The golden files pin what a CSM reads end to end, scoring's words
// included, so the renderers are fed scoring's own results for the
// accounts of scoring's tests (and docs/scoring.md's example), rebuilt
// here from scoring's exported API.

// now is the scoring instant of the tests: the day after a leap day.
var now = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

func ago(days float64) time.Time { return now.Add(-time.Duration(days * 24 * float64(time.Hour))) }

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func fp(v float64) *float64     { return &v }
func ip(v int) *int             { return &v }
func tp(t time.Time) *time.Time { return &t }

func newScorer(t testing.TB, cfg scoring.Config) *scoring.Scorer {
	t.Helper()
	s, err := scoring.NewScorer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func person(id, title string) crm.Contact {
	return crm.Contact{ID: crm.ContactID(id), AccountID: "A1", FirstName: "Pat", LastName: id, Title: title}
}

// actSeq numbers test activities; tests run in parallel, so it is atomic.
var actSeq atomic.Int64

func act(kind crm.ActivityKind, dir crm.Direction, at time.Time, contacts ...string) crm.Activity {
	a := crm.Activity{ID: crm.ActivityID(fmt.Sprintf("T%d", actSeq.Add(1))), Kind: kind, Direction: dir, OccurredAt: at, AccountID: "A1", Completed: kind != crm.ActivityTask}
	for _, c := range contacts {
		a.ContactIDs = append(a.ContactIDs, crm.ContactID(c))
	}
	return a
}

func renewal(id string, close time.Time, amount float64) crm.Opportunity {
	c := crm.Date(close)
	return crm.Opportunity{ID: crm.OpportunityID(id), AccountID: "A1", Kind: crm.OpportunityRenewal, Type: "Renewal", CloseDate: &c, Amount: &amount, CreatedAt: ago(200)}
}

// renewalGapAccount is the account of docs/scoring.md's example: an
// executive last seen 41 days ago, a renewal in 28 days.
func renewalGapAccount() scoring.AccountData {
	a := crm.Account{ID: "A1", Name: "Acme Health", OwnerID: "U1", ARR: fp(50000), Employees: ip(300)}
	a.Adoption, a.AdoptionPrevious = fp(0.62), fp(0.64)
	a.CSMSentiment = fp(50)
	return scoring.AccountData{
		Account:  a,
		Owner:    &crm.User{ID: "U1", Name: "Dana Whitfield", Active: true},
		Contacts: []crm.Contact{person("E1", "Chief Nursing Officer"), person("U1", "Charge Nurse"), person("U2", "Scheduler")},
		Activities: []crm.Activity{
			act(crm.ActivityMeeting, crm.DirectionUnknown, ago(41), "E1"),
			act(crm.ActivityMeeting, crm.DirectionUnknown, ago(2), "U1"),
			act(crm.ActivityEmail, crm.DirectionInbound, ago(3), "U1"),
			act(crm.ActivityEmail, crm.DirectionOutbound, ago(9), "U2"),
		},
		Opportunities: []crm.Opportunity{renewal("R1", now.AddDate(0, 0, 28), 60000)},
	}
}

// withNoEBRRule adds a custom flag with its own task subject.
func withNoEBRRule(cfg scoring.Config) scoring.Config {
	cfg.CustomFlags = append(cfg.CustomFlags, scoring.FlagRule{
		Name:        "no_ebr",
		Description: "no executive business review in six months",
		When:        []scoring.Condition{{Metric: scoring.MetricDaysSinceLastEBR, Op: ">", Value: 180, IfMissing: true}},
		Task:        scoring.TaskSpec{Subject: "Schedule an EBR", DueInDays: 14, Priority: crm.PriorityNormal},
	})
	return cfg
}

func closedOpp(id string, kind crm.OpportunityKind, close time.Time, amount float64, won bool) crm.Opportunity {
	return crm.Opportunity{ID: crm.OpportunityID(id), Kind: kind, CloseDate: &close, Amount: &amount, IsClosed: true, IsWon: won, CreatedAt: close.AddDate(0, -2, 0)}
}

// reportExample is six accounts over Q1 2024 whose KPIs scoring's
// TestPortfolioKPIs works out by hand.
func reportExample(t *testing.T) scoring.KPIs {
	t.Helper()
	cfg := scoring.DefaultConfig()
	cfg.Measures.NPSScale = "response"
	acct := func(id string, since time.Time, arr, nps float64) crm.Account {
		return crm.Account{ID: crm.AccountID(id), Name: id, CustomerSince: &since, ARR: &arr, NPS: &nps}
	}
	res := func(g scoring.Grade, stage string, days *int, amount float64) scoring.Result {
		return scoring.Result{Grade: g, Metrics: scoring.Metrics{LifecycleStage: stage, DaysToRenewal: days, RenewalAmount: &amount}}
	}
	a := acct("A", day(2022, 1, 1), 100000, 10)
	b := acct("B", day(2021, 1, 1), 50000, 7)
	c := acct("C", day(2023, 6, 1), 30000, 3)
	c.Churned, c.ChurnedAt = true, tp(day(2024, 2, 10))
	d := acct("D", day(2023, 1, 1), 20000, 8)
	e := acct("E", day(2024, 2, 1), 12000, 9)
	e.FirstValueAt = tp(day(2024, 3, 1))
	f := acct("F", day(2023, 5, 1), 8000, 6)
	f.FirstValueAt = tp(day(2024, 1, 11))
	accounts := []scoring.PortfolioAccount{
		{Account: a, Opportunities: []crm.Opportunity{
			closedOpp("A-R", crm.OpportunityRenewal, day(2024, 2, 15), 110000, true),
			closedOpp("A-X", crm.OpportunityExpansion, day(2024, 1, 20), 5000, true),
			closedOpp("A-X0", crm.OpportunityExpansion, day(2023, 12, 20), 7000, true), // before the period
		}, Result: res(scoring.GradeGreen, "Growth", nil, 0)},
		{Account: b, Opportunities: []crm.Opportunity{
			closedOpp("B-R", crm.OpportunityRenewal, day(2024, 3, 1), 40000, true),
		}, Result: res(scoring.GradeYellow, "Renewal", nil, 0)},
		{Account: c, Result: res(scoring.GradeRed, "Adoption", nil, 0)},
		{Account: d, Opportunities: []crm.Opportunity{
			closedOpp("D-R", crm.OpportunityRenewal, day(2024, 3, 5), 20000, false),
		}, Result: res(scoring.GradeRed, "Renewal", ip(4), 20000)},
		{Account: e, Result: res("", "Onboarding", ip(-3), 12000)},
		{Account: f, Result: res(scoring.GradeRed, "Adoption", ip(45), 8000)},
	}
	k, err := scoring.ComputeKPIs(cfg, scoring.Period{From: day(2024, 1, 1), To: day(2024, 4, 1)}, now, accounts)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// backtestExample: churners predict 30, 50, 10 and 90; renewers 40, 60, 80
// and 50; one account has no score before its outcome.
func backtestExample() []scoring.BacktestAccount {
	outcome := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	before := func(days int, score float64) scoring.ScorePoint {
		return scoring.ScorePoint{At: outcome.AddDate(0, 0, -days), Score: score}
	}
	return []scoring.BacktestAccount{
		{AccountID: "c1", Churned: true, OutcomeAt: outcome, Scores: []scoring.ScorePoint{before(30, 30), before(90, 80), before(60, 55)}},
		{AccountID: "c2", Churned: true, OutcomeAt: outcome, Scores: []scoring.ScorePoint{before(30, 50)}},
		{AccountID: "c3", Churned: true, OutcomeAt: outcome, Scores: []scoring.ScorePoint{before(100, 20), before(50, 75), before(10, 10)}},
		{AccountID: "c4", Churned: true, OutcomeAt: outcome, Scores: []scoring.ScorePoint{before(5, 90), before(-5, 10)}},
		{AccountID: "r1", OutcomeAt: outcome, Scores: []scoring.ScorePoint{before(5, 40)}},
		{AccountID: "r2", OutcomeAt: outcome, Scores: []scoring.ScorePoint{before(5, 60)}},
		{AccountID: "r3", OutcomeAt: outcome, Scores: []scoring.ScorePoint{before(5, 80)}},
		{AccountID: "r4", OutcomeAt: outcome, Scores: []scoring.ScorePoint{before(5, 50)}},
		{AccountID: "r5", OutcomeAt: outcome, Scores: []scoring.ScorePoint{before(0, 50), before(-3, 50)}},
	}
}
