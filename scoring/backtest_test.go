package scoring

import (
	"testing"
	"time"

	"healthsync/crm"
)

var outcome = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)

func before(days int, score float64) ScorePoint {
	return ScorePoint{At: outcome.AddDate(0, 0, -days), Score: score}
}

// backtestExample: churners predict 30, 50, 10 and 90; renewers 40, 60, 80
// and 50; one account has no score before its outcome.
func backtestExample() []BacktestAccount {
	return []BacktestAccount{
		{AccountID: "c1", Churned: true, OutcomeAt: outcome, Scores: []ScorePoint{before(30, 30), before(90, 80), before(60, 55)}},
		{AccountID: "c2", Churned: true, OutcomeAt: outcome, Scores: []ScorePoint{before(30, 50)}},
		{AccountID: "c3", Churned: true, OutcomeAt: outcome, Scores: []ScorePoint{before(100, 20), before(50, 75), before(10, 10)}},
		{AccountID: "c4", Churned: true, OutcomeAt: outcome, Scores: []ScorePoint{before(5, 90), before(-5, 10)}},
		{AccountID: "r1", OutcomeAt: outcome, Scores: []ScorePoint{before(5, 40)}},
		{AccountID: "r2", OutcomeAt: outcome, Scores: []ScorePoint{before(5, 60)}},
		{AccountID: "r3", OutcomeAt: outcome, Scores: []ScorePoint{before(5, 80)}},
		{AccountID: "r4", OutcomeAt: outcome, Scores: []ScorePoint{before(5, 50)}},
		{AccountID: "r5", OutcomeAt: outcome, Scores: []ScorePoint{before(0, 50), before(-3, 50)}},
	}
}

func TestBacktestKnownAnswer(t *testing.T) {
	t.Parallel()
	res, err := Backtest(backtestExample(), BacktestOptions{Grades: DefaultConfig().Grades})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accounts != 9 || res.Churned != 4 || res.Renewed != 4 || res.Skipped != 1 {
		t.Errorf("counts %+v", res)
	}
	// Renewer beats churner: 40 beats 10, 30 (2); 60 beats 10, 30, 50 (3);
	// 80 the same (3); 50 beats 10, 30 and ties 50 (2.5). 10.5 of 16.
	if res.AUC == nil || !near(*res.AUC, 10.5/16) {
		t.Errorf("AUC = %v, want %v", deref(res.AUC), 10.5/16)
	}
	want := map[Grade][2]int{GradeGreen: {2, 1}, GradeYellow: {4, 1}, GradeRed: {2, 2}}
	for _, g := range res.PerGrade {
		if w := want[g.Grade]; g.Accounts != w[0] || g.Churned != w[1] {
			t.Errorf("%s: %d accounts %d churned, want %v", g.Grade, g.Accounts, g.Churned, w)
		}
	}
	// Warnings: c1 60 days (yellow 55 then red 30), c2 30, c3 10; c4 was green.
	if res.MedianWarningDays == nil || *res.MedianWarningDays != 30 || res.Warned != 3 || res.Unwarned != 1 {
		t.Errorf("median warning %v (warned %d, unwarned %d), want 30 (3, 1)", deref(res.MedianWarningDays), res.Warned, res.Unwarned)
	}
}

func TestBacktestAUCEdges(t *testing.T) {
	t.Parallel()
	mk := func(churn, renew []float64) []BacktestAccount {
		var out []BacktestAccount
		for i, s := range churn {
			out = append(out, BacktestAccount{AccountID: crm.AccountID(rune('a' + i)), Churned: true, OutcomeAt: outcome, Scores: []ScorePoint{before(10, s)}})
		}
		for i, s := range renew {
			out = append(out, BacktestAccount{AccountID: crm.AccountID(rune('n' + i)), OutcomeAt: outcome, Scores: []ScorePoint{before(10, s)}})
		}
		return out
	}
	tests := []struct {
		name          string
		churn, renew  []float64
		want          float64
		wantUndefined bool
	}{
		{"perfect", []float64{10, 20}, []float64{70, 80, 90}, 1, false},
		{"reversed", []float64{70, 80}, []float64{10, 20}, 0, false},
		{"all tied", []float64{50, 50}, []float64{50, 50, 50}, 0.5, false},
		{"no churners", nil, []float64{50}, 0, true},
	}
	for _, tt := range tests {
		res, err := Backtest(mk(tt.churn, tt.renew), BacktestOptions{Grades: DefaultConfig().Grades})
		if err != nil {
			t.Fatal(err)
		}
		if tt.wantUndefined != (res.AUC == nil) || (res.AUC != nil && !near(*res.AUC, tt.want)) {
			t.Errorf("%s: AUC = %v, want %v", tt.name, deref(res.AUC), tt.want)
		}
	}
}

func TestBacktestLeadDays(t *testing.T) {
	t.Parallel()
	acc := []BacktestAccount{{AccountID: "c", Churned: true, OutcomeAt: outcome, Scores: []ScorePoint{before(40, 80), before(10, 20)}}}
	res, err := Backtest(acc, BacktestOptions{LeadDays: 30, Grades: DefaultConfig().Grades})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 1 || res.Rows[0].Score != 80 {
		t.Errorf("with a 30-day lead the predicting score should be 80: %+v", res.Rows)
	}
	if _, err := Backtest(acc, BacktestOptions{LeadDays: -1, Grades: DefaultConfig().Grades}); err == nil {
		t.Error("want an error for negative lead days")
	}
	if _, err := Backtest(acc, BacktestOptions{}); err == nil {
		t.Error("want an error for missing grade bands")
	}
}
