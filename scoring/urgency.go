package scoring

import (
	"math"

	"healthsync/crm"
)

// Urgency ranks a flag's task against the others waiting for the same
// owner's daily budget: renewal proximity × ARR at risk × flag severity.
//
//   - Severity is the task's priority: high 3, normal 2, low 1.
//   - Proximity is 1 without a renewal date, rising linearly to 4 as the
//     renewal nears over the last 180 days (an overdue renewal is 4).
//   - ARR at risk is 1 + log10(ARR / 1,000), at least 1: each tenfold ARR
//     adds one, so a large account ranks higher without drowning the rest.
//
// daysToRenewal and arr may be nil (no renewal, ARR not mapped).
func Urgency(priority crm.Priority, daysToRenewal *int, arr *float64) float64 {
	severity := 2.0
	switch priority {
	case crm.PriorityHigh:
		severity = 3
	case crm.PriorityLow:
		severity = 1
	}
	proximity := 1.0
	if daysToRenewal != nil {
		proximity = 1 + 3*clamp(1-float64(*daysToRenewal)/urgencyHorizonDays, 0, 1)
	}
	atRisk := 1.0
	if a := copyFloat(arr); a != nil && *a > 1000 {
		atRisk = 1 + math.Log10(*a/1000)
	}
	return severity * proximity * atRisk
}

// urgencyHorizonDays is how far ahead a renewal starts to make a task
// more urgent.
const urgencyHorizonDays = 180

// RiskRank orders live customers for an at-risk list the same way tasks
// are ordered: the grade's severity (red 3, yellow 2, green 1) × renewal
// proximity × ARR at risk, then the lower score first.
func RiskRank(grade Grade, daysToRenewal *int, arr *float64) float64 {
	p := crm.PriorityNormal
	switch grade {
	case GradeRed:
		p = crm.PriorityHigh
	case GradeGreen:
		p = crm.PriorityLow
	}
	return Urgency(p, daysToRenewal, arr)
}
