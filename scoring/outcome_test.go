package scoring

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"healthsync/crm"
)

func TestOutcomeOf(t *testing.T) {
	t.Parallel()
	won := closedOpp("R1", crm.OpportunityRenewal, day(2024, 2, 1), 1, true)
	lost := closedOpp("R2", crm.OpportunityRenewal, day(2025, 2, 1), 1, false)
	open := renewal("R3", day(2026, 2, 1), 1)
	tests := []struct {
		name    string
		acct    crm.Account
		opps    []crm.Opportunity
		churned bool
		at      time.Time
		ok      bool
	}{
		{"nothing known", crm.Account{}, []crm.Opportunity{open}, false, time.Time{}, false},
		{"won renewal", crm.Account{}, []crm.Opportunity{won, open}, false, day(2024, 2, 1), true},
		{"latest renewal lost", crm.Account{}, []crm.Opportunity{won, lost}, true, day(2025, 2, 1), true},
		{"churn field wins", crm.Account{Churned: true, ChurnedAt: tp(day(2024, 6, 1))}, []crm.Opportunity{won}, true, day(2024, 6, 1), true},
	}
	for _, tt := range tests {
		churned, at, ok := OutcomeOf(tt.acct, tt.opps)
		if churned != tt.churned || !at.Equal(tt.at) || ok != tt.ok {
			t.Errorf("%s: OutcomeOf = %v %v %v, want %v %v %v", tt.name, churned, at, ok, tt.churned, tt.at, tt.ok)
		}
	}
}

// The whole backtest path on a known churn pattern: churners went quiet
// (no contact in their last months, adoption not mapped), renewers kept
// meeting. Replayed scores must rank the churners clearly above chance.
func TestBacktestRanksKnownChurnPattern(t *testing.T) {
	t.Parallel()
	s := newScorer(t, DefaultConfig())
	rng := rand.New(rand.NewPCG(9, 9))
	end := day(2024, 6, 1)
	var accounts []BacktestAccount
	for i := range 80 {
		churner := i%4 == 0
		d := AccountData{Account: crm.Account{ID: crm.AccountID(fmt.Sprintf("B%d", i)), ARR: fp(20000), CSMSentiment: fp(50)}}
		d.Contacts = []crm.Contact{person("E", "VP Operations"), person("U", "Nurse"), person("V", "Scheduler")}
		// Noise: one renewer in ten goes quiet too, one churner in five
		// (every twentieth account) stays engaged to the end.
		quiet := (churner && i%20 != 0) || (!churner && i%10 == 1)
		quietFrom := end.AddDate(0, 0, 1)
		if quiet {
			quietFrom = end.AddDate(0, 0, -60-rng.IntN(60))
		}
		for day := end.AddDate(-1, 0, 0); day.Before(end); day = day.AddDate(0, 0, 3+rng.IntN(6)) {
			if day.After(quietFrom) {
				break
			}
			c := []string{"E", "U", "V"}[rng.IntN(3)]
			d.Activities = append(d.Activities, meeting(day, c), emailIn(day.Add(time.Hour), c))
		}
		close := end
		r := renewal("R", close, 20000)
		r.IsClosed, r.IsWon = true, !churner
		d.Opportunities = []crm.Opportunity{r}
		var dates []time.Time
		for at := end.AddDate(0, -6, 0); at.Before(end); at = at.AddDate(0, 0, 14) {
			dates = append(dates, at)
		}
		churned, at, ok := OutcomeOf(d.Account, d.Opportunities)
		if !ok || churned != churner {
			t.Fatalf("outcome of %d = %v %v", i, churned, ok)
		}
		accounts = append(accounts, BacktestAccount{AccountID: d.Account.ID, Scores: s.Replay(d, dates), Churned: churned, OutcomeAt: at})
	}
	res, err := Backtest(accounts, BacktestOptions{LeadDays: 14, Grades: DefaultConfig().Grades})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("AUC %.3f, median warning %v days", deref(res.AUC), deref(res.MedianWarningDays))
	if res.Churned != 20 || res.Renewed != 60 || res.AUC == nil || *res.AUC < 0.7 || *res.AUC == 1 {
		t.Errorf("churned %d renewed %d AUC %v: want 20, 60 and an AUC of at least 0.7 (below 1 with the noise)", res.Churned, res.Renewed, deref(res.AUC))
	}
	if res.MedianWarningDays == nil || *res.MedianWarningDays < 14 {
		t.Errorf("median warning %v days, want at least the 14-day lead", deref(res.MedianWarningDays))
	}
}
