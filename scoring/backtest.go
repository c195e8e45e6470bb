package scoring

import (
	"fmt"
	"sort"
	"time"

	"healthsync/crm"
)

// BacktestAccount is one account's score history and what happened to it.
type BacktestAccount struct {
	AccountID crm.AccountID `json:"account_id"`
	// Scores are the account's scores over time, in any order.
	Scores []ScorePoint `json:"scores"`
	// Churned says the account left at OutcomeAt; otherwise it renewed (or
	// stayed) at OutcomeAt.
	Churned   bool      `json:"churned"`
	OutcomeAt time.Time `json:"outcome_at"`
	// OutcomeBy says what decided a churn (OutcomeChurnField,
	// OutcomeLostRenewal, OutcomeStatusField).
	OutcomeBy string `json:"outcome_by,omitempty"`
}

// BacktestOptions tune which score predicts the outcome.
type BacktestOptions struct {
	// LeadDays: the predicting score is the newest at least this many days
	// before the outcome (0: the newest strictly before it).
	LeadDays int
	Grades   GradeBands
}

// BacktestResult says how well past scores ranked later churn.
type BacktestResult struct {
	Accounts int `json:"accounts"`
	Churned  int `json:"churned"`
	Renewed  int `json:"renewed"`
	// Skipped accounts had no score before their outcome.
	Skipped int `json:"skipped"`
	// ChurnedBy counts the churners by what decided their churn.
	ChurnedBy map[string]int `json:"churned_by"`
	// AUC is the probability that a random churner had a lower predicting
	// score than a random renewer (ties count half); 0.5 is chance. Nil
	// without both churners and renewers.
	AUC      *float64   `json:"auc"`
	PerGrade []GradeRow `json:"per_grade"`
	// MedianWarningDays is the median, over churners warned, of the days
	// from the first red or yellow score of the run that led into churn to
	// the churn; Unwarned churners were green just before they left.
	MedianWarningDays *float64      `json:"median_warning_days"`
	Warned            int           `json:"warned"`
	Unwarned          int           `json:"unwarned"`
	Rows              []BacktestRow `json:"rows"`
}

// GradeRow is the churn rate among accounts whose predicting score had a grade.
type GradeRow struct {
	Grade     Grade    `json:"grade"`
	Accounts  int      `json:"accounts"`
	Churned   int      `json:"churned"`
	ChurnRate *float64 `json:"churn_rate"`
}

// BacktestRow is one account's predicting score and outcome, for the CSV.
type BacktestRow struct {
	AccountID   crm.AccountID `json:"account_id"`
	ScoredAt    time.Time     `json:"scored_at"`
	Score       float64       `json:"score"`
	Grade       Grade         `json:"grade"`
	Churned     bool          `json:"churned"`
	OutcomeAt   time.Time     `json:"outcome_at"`
	WarningDays *int          `json:"warning_days"`
}

// Backtest scores the ranking of past scores against outcomes.
func Backtest(accounts []BacktestAccount, opt BacktestOptions) (BacktestResult, error) {
	if !(opt.Grades.Yellow > 0 && opt.Grades.Yellow < opt.Grades.Green) {
		return BacktestResult{}, fmt.Errorf("backtest: grade bands green %g, yellow %g: need 0 < yellow < green", opt.Grades.Green, opt.Grades.Yellow)
	}
	if opt.LeadDays < 0 {
		return BacktestResult{}, fmt.Errorf("backtest: lead days %d: must be >= 0", opt.LeadDays)
	}
	var res BacktestResult
	perGrade := map[Grade]*GradeRow{}
	for _, g := range []Grade{GradeGreen, GradeYellow, GradeRed} {
		perGrade[g] = &GradeRow{Grade: g}
	}
	var warnings []float64
	for _, a := range accounts {
		res.Accounts++
		pts := append([]ScorePoint(nil), a.Scores...)
		sort.Slice(pts, func(i, j int) bool { return pts[i].At.Before(pts[j].At) })
		cutoff := a.OutcomeAt.AddDate(0, 0, -opt.LeadDays)
		idx := -1
		for i, p := range pts {
			if p.At.Before(a.OutcomeAt) && !p.At.After(cutoff) {
				idx = i
			}
		}
		if idx < 0 {
			res.Skipped++
			continue
		}
		pred := pts[idx]
		g := opt.Grades.Grade(pred.Score)
		row := BacktestRow{AccountID: a.AccountID, ScoredAt: pred.At, Score: pred.Score, Grade: g, Churned: a.Churned, OutcomeAt: a.OutcomeAt}
		perGrade[g].Accounts++
		if a.Churned {
			if res.ChurnedBy == nil {
				res.ChurnedBy = map[string]int{}
			}
			res.ChurnedBy[a.OutcomeBy]++
			res.Churned++
			perGrade[g].Churned++
			if w, ok := warningDays(pts, a.OutcomeAt, opt.Grades); ok {
				res.Warned++
				row.WarningDays = &w
				warnings = append(warnings, float64(w))
			} else {
				res.Unwarned++
			}
		} else {
			res.Renewed++
		}
		res.Rows = append(res.Rows, row)
	}
	res.AUC = auc(res.Rows)
	for _, g := range []Grade{GradeGreen, GradeYellow, GradeRed} {
		row := *perGrade[g]
		row.ChurnRate = ratio(float64(row.Churned), float64(row.Accounts))
		res.PerGrade = append(res.PerGrade, row)
	}
	if len(warnings) > 0 {
		m := median(warnings)
		res.MedianWarningDays = &m
	}
	return res, nil
}

// warningDays finds the run of red or yellow scores that ends with the last
// score before churn and returns the days from its first score to churn.
func warningDays(sorted []ScorePoint, churn time.Time, bands GradeBands) (int, bool) {
	last := -1
	for i, p := range sorted {
		if p.At.Before(churn) {
			last = i
		}
	}
	if last < 0 || bands.Grade(sorted[last].Score) == GradeGreen {
		return 0, false
	}
	first := last
	for first > 0 && bands.Grade(sorted[first-1].Score) != GradeGreen {
		first--
	}
	return crm.DaysBetween(sorted[first].At, churn), true
}

// auc is the Mann–Whitney statistic: the rank-sum of renewers among all
// predicting scores ranked ascending, ties sharing their average rank.
func auc(rows []BacktestRow) *float64 {
	n := len(rows)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(i, j int) bool { return rows[idx[i]].Score < rows[idx[j]].Score })
	ranks := make([]float64, n)
	for i := 0; i < n; {
		j := i
		for j+1 < n && rows[idx[j+1]].Score == rows[idx[i]].Score {
			j++
		}
		avg := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			ranks[idx[k]] = avg
		}
		i = j + 1
	}
	var renewed, churned, rankSum float64
	for i, r := range rows {
		if r.Churned {
			churned++
		} else {
			renewed++
			rankSum += ranks[i]
		}
	}
	if renewed == 0 || churned == 0 {
		return nil
	}
	v := (rankSum - renewed*(renewed+1)/2) / (renewed * churned)
	return &v
}
