package scoring

import (
	"strings"
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

// Outcome sources: what says an account churned.
const (
	OutcomeChurnField  = "churn field"
	OutcomeLostRenewal = "lost renewal"
	OutcomeStatusField = "status field"
)

// Outcome is what happened to an account by a date, for the backtest.
type Outcome struct {
	Churned bool
	// At is when it churned, or the date it was still a customer.
	At time.Time
	// By says what decided a churn: OutcomeChurnField (the mapped churn
	// field), OutcomeLostRenewal (the latest renewal was lost and no deal
	// was won after it, by order of events) or OutcomeStatusField.
	By string
}

// OutcomeAt decides what happened to an account by now with the same
// rules as StatusAt: former customers churned (when the churn date or
// lost renewal says, else now), live customers stayed. ok is false for a
// prospect, which never was a customer.
func OutcomeAt(a crm.Account, opps []crm.Opportunity, now time.Time) (Outcome, bool) {
	st := StatusAt(&a, opps, now)
	switch st.Status {
	case crm.StatusCustomer:
		return Outcome{At: now}, true
	case crm.StatusFormer:
		o := Outcome{Churned: true, At: now, By: OutcomeStatusField}
		if st.Since != nil {
			o.At = *st.Since
		}
		switch {
		case a.Churned:
			o.By = OutcomeChurnField
		case strings.HasPrefix(st.Why, "the latest renewal"):
			o.By = OutcomeLostRenewal
		}
		return o, true
	}
	return Outcome{}, false
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
