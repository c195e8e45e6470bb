package mapping

import "slices"

// metricType is the kind of value a metric output holds, which decides
// the type of the field it is written to.
type metricType int

const (
	metricNumber metricType = iota + 1
	metricDate
	metricText
)

// localMetrics is a stand-in for scoring's metric list until it lands.
var localMetrics = map[string]metricType{
	"strong_user_relationships": metricNumber, "exec_relationships": metricNumber,
	"strong_exec_relationships": metricNumber, "days_since_user_contact": metricNumber,
	"days_since_exec_contact": metricNumber, "next_renewal_date": metricDate,
	"days_to_renewal": metricNumber, "renewal_amount": metricNumber,
	"open_expansion_pipeline": metricNumber, "adoption": metricNumber,
	"csm_sentiment": metricNumber, "nps": metricNumber, "csat": metricNumber,
	"last_ebr_date": metricDate, "lifecycle_stage": metricText, "segment": metricText,
}

func metricKind(name string) (metricType, bool) {
	k, ok := localMetrics[name]
	return k, ok
}

func metricNames() []string {
	out := sortedKeys(localMetrics)
	slices.Sort(out)
	return out
}
