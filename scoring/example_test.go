package scoring_test

import (
	"fmt"
	"time"

	"healthsync/crm"
	"healthsync/scoring"
)

func ExampleScorer_Score() {
	s, err := scoring.NewScorer(scoring.DefaultConfig())
	if err != nil {
		panic(err)
	}
	now := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	arr, adoption, sentiment := 60000.0, 0.62, 50.0
	renewal := crm.Date(now.AddDate(0, 0, 28))
	d := scoring.AccountData{
		Account: crm.Account{ID: "001A", Name: "Acme Health", ARR: &arr, Adoption: &adoption, CSMSentiment: &sentiment},
		Contacts: []crm.Contact{
			{ID: "003E", FirstName: "Maria", LastName: "Lopez", Title: "Chief Nursing Officer"},
			{ID: "003U", FirstName: "Sam", LastName: "Okafor", Title: "Charge Nurse"},
		},
		Activities: []crm.Activity{
			{ID: "00T1", Kind: crm.ActivityMeeting, Completed: true, OccurredAt: now.AddDate(0, 0, -41), ContactIDs: []crm.ContactID{"003E"}},
			{ID: "00T2", Kind: crm.ActivityMeeting, Completed: true, OccurredAt: now.AddDate(0, 0, -2), ContactIDs: []crm.ContactID{"003U"}},
		},
		Opportunities: []crm.Opportunity{
			{ID: "006R", Kind: crm.OpportunityRenewal, CloseDate: &renewal, Amount: &arr},
		},
	}
	r := s.Score(d, now, []scoring.ScorePoint{{At: now.AddDate(0, 0, -30), Score: 70}})
	fmt.Printf("score %.0f %s, trend %+.0f\n", *r.Score, r.Grade, *r.Trend)
	for _, reason := range r.Reasons {
		fmt.Println("-", reason)
	}
	for _, f := range r.Flags {
		fmt.Println("flag", f.Name+":", f.Description)
	}
	v, _ := r.Value("days_since_exec_contact")
	fmt.Println("days_since_exec_contact", v)
	// Output:
	// score 59 yellow, trend -11
	// - renewal on 29 Mar 2024
	// - no EBR on record
	// flag renewal_exec_gap: renewal on 29 Mar 2024 and no executive contact since 20 Jan 2024
	// days_since_exec_contact 41
}

func ExampleBacktest() {
	at := func(d int) time.Time { return time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, d) }
	accounts := []scoring.BacktestAccount{
		{AccountID: "churner", Churned: true, OutcomeAt: at(0), Scores: []scoring.ScorePoint{{At: at(-60), Score: 55}, {At: at(-30), Score: 30}}},
		{AccountID: "renewer", OutcomeAt: at(0), Scores: []scoring.ScorePoint{{At: at(-30), Score: 80}}},
	}
	res, err := scoring.Backtest(accounts, scoring.BacktestOptions{Grades: scoring.DefaultConfig().Grades})
	if err != nil {
		panic(err)
	}
	fmt.Printf("AUC %.3f; %d of %d churners warned, %.0f days ahead\n", *res.AUC, res.Warned, res.Churned, *res.MedianWarningDays)
	for _, g := range res.PerGrade {
		fmt.Printf("%s: %d accounts, %d churned\n", g.Grade, g.Accounts, g.Churned)
	}
	// Output:
	// AUC 1.000; 1 of 1 churners warned, 60 days ahead
	// green: 1 accounts, 0 churned
	// yellow: 0 accounts, 0 churned
	// red: 1 accounts, 1 churned
}
