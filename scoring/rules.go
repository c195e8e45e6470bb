package scoring

import (
	"fmt"

	"healthsync/crm"
)

// holds evaluates the condition on the metrics; a metric with no value
// makes it hold only when IfMissing is set.
func (c Condition) holds(m *Metrics) bool {
	v, ok := m.number(c.Metric)
	if !ok {
		return c.IfMissing
	}
	return compare(v, c.Op, c.Value)
}

func compare(v float64, op string, t float64) bool {
	switch op {
	case "<":
		return v < t
	case "<=":
		return v <= t
	case ">":
		return v > t
	case ">=":
		return v >= t
	case "==":
		return v == t
	case "!=":
		return v != t
	}
	return false
}

// String renders the condition as the mapping file would read it.
func (c Condition) String() string {
	s := fmt.Sprintf("%s %s %s", c.Metric, c.Op, formatNumber(c.Value))
	if c.IfMissing {
		s += " (or empty)"
	}
	return s
}

func allHold(conds []Condition, m *Metrics) bool {
	for _, c := range conds {
		if !c.holds(m) {
			return false
		}
	}
	return true
}

// lifecycleOf applies the lifecycle rules: the first rule that holds wins.
func lifecycleOf(lc *LifecycleConfig, m *Metrics) string {
	for _, r := range lc.Rules {
		if allHold(r.When, m) {
			return r.Stage
		}
	}
	return lc.DefaultStage
}

// segmentOf applies the segment rules: the first the account meets wins.
func segmentOf(sc *SegmentConfig, a *crm.Account) string {
	for _, r := range sc.Rules {
		if r.MinEmployees != nil && a.Employees != nil && *a.Employees >= *r.MinEmployees {
			return r.Segment
		}
		if r.MinARR != nil && a.ARR != nil && *a.ARR >= *r.MinARR {
			return r.Segment
		}
	}
	return sc.DefaultSegment
}
