package render_test

import (
	"os"
	"time"

	"healthsync/render"
	"healthsync/scoring"
)

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
	if err := render.Backtest(os.Stdout, res); err != nil {
		panic(err)
	}
	// Output:
	// Accounts        2        1 churned, 1 renewed, 0 without a score before the outcome
	// ROC AUC         1.000    0.5 is chance, 1.0 ranks every churner below every renewer
	// Median warning  60 days  1 churner warned (red or yellow before leaving), 0 green just before leaving
	//
	// Churn by grade
	//   GRADE   ACCOUNTS  CHURNED  CHURN RATE
	//   green          1        0        0.0%
	//   yellow         0        0           —
	//   red            1        1      100.0%
}
