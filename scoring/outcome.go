package scoring

import (
	"time"

	"healthsync/crm"
)

// OutcomeOf reads what happened to an account, for the backtest: churned
// when the churn field is set with a date, or when the latest closed
// renewal was lost; renewed when the latest closed renewal was won. ok is
// false when neither is known.
func OutcomeOf(a crm.Account, opps []crm.Opportunity) (churned bool, at time.Time, ok bool) {
	if a.Churned && a.ChurnedAt != nil && !a.ChurnedAt.IsZero() {
		return true, crm.Normalize(*a.ChurnedAt), true
	}
	var latest *crm.Opportunity
	for i := range opps {
		o := &opps[i]
		if o.Kind == crm.OpportunityRenewal && o.IsClosed && o.CloseDate != nil &&
			(latest == nil || o.CloseDate.After(*latest.CloseDate)) {
			latest = o
		}
	}
	if latest == nil {
		return false, time.Time{}, false
	}
	return !latest.IsWon, crm.Normalize(*latest.CloseDate), true
}

// Replay scores one account as of each date (in the order given), feeding
// each earlier score back as history so trends replay too, and returns the
// scores it produced. Dates without enough data produce no point.
func (s *Scorer) Replay(d AccountData, dates []time.Time) []ScorePoint {
	var points []ScorePoint
	for _, at := range dates {
		r := s.Score(d, at, points)
		if r.Score != nil {
			points = append(points, ScorePoint{At: r.At, Score: *r.Score})
		}
	}
	return points
}
