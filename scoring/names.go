package scoring

import (
	"slices"
	"sort"
)

// Metric names: the vocabulary shared by custom flag rules, lifecycle rules,
// Result.Value and the mapping file's writeback outputs.
const (
	MetricContacts                = "contacts"
	MetricExecutives              = "executives"
	MetricUsers                   = "users"
	MetricUserRelationships       = "user_relationships"
	MetricStrongUserRelationships = "strong_user_relationships"
	MetricExecRelationships       = "exec_relationships"
	MetricStrongExecRelationships = "strong_exec_relationships"
	MetricStrongRelationships     = "strong_relationships"
	MetricDaysSinceUserContact    = "days_since_user_contact"
	MetricDaysSinceExecContact    = "days_since_exec_contact"
	MetricDaysSinceLastContact    = "days_since_last_contact"
	MetricLastContactDate         = "last_contact_date"
	MetricLastExecContactDate     = "last_exec_contact_date"
	MetricLastUserContactDate     = "last_user_contact_date"
	MetricActivities              = "activities"
	MetricCustomerStatus          = "customer_status"
	MetricActivitiesLast30Days    = "activities_last_30_days"
	MetricNextRenewalDate         = "next_renewal_date"
	MetricDaysToRenewal           = "days_to_renewal"
	MetricRenewalAmount           = "renewal_amount"
	MetricOpenExpansionPipeline   = "open_expansion_pipeline"
	MetricAdoption                = "adoption"
	MetricAdoptionPrevious        = "adoption_previous"
	MetricAdoptionTrend           = "adoption_trend"
	MetricAdoptionChange          = "adoption_change"
	MetricCSMSentiment            = "csm_sentiment"
	MetricNPS                     = "nps"
	MetricNPSNormalized           = "nps_normalized"
	MetricCSAT                    = "csat"
	MetricLastEBRDate             = "last_ebr_date"
	MetricDaysSinceLastEBR        = "days_since_last_ebr"
	MetricARR                     = "arr"
	MetricEmployees               = "employees"
	MetricDaysAsCustomer          = "days_as_customer"
	MetricLifecycleStage          = "lifecycle_stage"
	MetricSegment                 = "segment"
)

// Output names: the scorecard values Result.Value also answers, for writeback.
const (
	OutputScore   = "score"
	OutputGrade   = "grade"
	OutputTrend   = "trend"
	OutputReasons = "reasons"
	OutputFlags   = "flags"
)

// Measure names: the scorecard rows and the keys of Weights.
const (
	MeasureRelationshipBreadth = "relationship_breadth"
	MeasureRelationshipDepth   = "relationship_depth"
	MeasureEngagementRecency   = "engagement_recency"
	MeasureExecutiveEngagement = "executive_engagement"
	MeasureAdoption            = "adoption"
	MeasureSentiment           = "sentiment"
	MeasureRenewalRisk         = "renewal_risk"
)

// measureOrder is the scorecard's row order.
var measureOrder = [...]string{
	MeasureRelationshipBreadth,
	MeasureRelationshipDepth,
	MeasureEngagementRecency,
	MeasureExecutiveEngagement,
	MeasureAdoption,
	MeasureSentiment,
	MeasureRenewalRisk,
}

// ValueKind says which field of a Value is set.
type ValueKind int

// Value kinds.
const (
	KindNumber ValueKind = iota + 1
	KindDate
	KindText
)

// metricKinds lists every metric with its kind; numeric metrics can be used
// in rule conditions.
var metricKinds = map[string]ValueKind{
	MetricContacts:                KindNumber,
	MetricExecutives:              KindNumber,
	MetricUsers:                   KindNumber,
	MetricUserRelationships:       KindNumber,
	MetricStrongUserRelationships: KindNumber,
	MetricExecRelationships:       KindNumber,
	MetricStrongExecRelationships: KindNumber,
	MetricStrongRelationships:     KindNumber,
	MetricDaysSinceUserContact:    KindNumber,
	MetricDaysSinceExecContact:    KindNumber,
	MetricDaysSinceLastContact:    KindNumber,
	MetricLastContactDate:         KindDate,
	MetricLastExecContactDate:     KindDate,
	MetricLastUserContactDate:     KindDate,
	MetricActivities:              KindNumber,
	MetricCustomerStatus:          KindText,
	MetricActivitiesLast30Days:    KindNumber,
	MetricNextRenewalDate:         KindDate,
	MetricDaysToRenewal:           KindNumber,
	MetricRenewalAmount:           KindNumber,
	MetricOpenExpansionPipeline:   KindNumber,
	MetricAdoption:                KindNumber,
	MetricAdoptionPrevious:        KindNumber,
	MetricAdoptionTrend:           KindNumber,
	MetricAdoptionChange:          KindNumber,
	MetricCSMSentiment:            KindNumber,
	MetricNPS:                     KindNumber,
	MetricNPSNormalized:           KindNumber,
	MetricCSAT:                    KindNumber,
	MetricLastEBRDate:             KindDate,
	MetricDaysSinceLastEBR:        KindNumber,
	MetricARR:                     KindNumber,
	MetricEmployees:               KindNumber,
	MetricDaysAsCustomer:          KindNumber,
	MetricLifecycleStage:          KindText,
	MetricSegment:                 KindText,
}

// outputKinds lists the scorecard outputs Result.Value answers besides metrics.
var outputKinds = map[string]ValueKind{
	OutputScore:   KindNumber,
	OutputGrade:   KindText,
	OutputTrend:   KindNumber,
	OutputReasons: KindText,
	OutputFlags:   KindText,
}

// MetricNames returns every metric name, sorted.
func MetricNames() []string { return sortedKeys(metricKinds) }

// OutputNames returns every name Result.Value answers (metrics, measures
// as "measure.<name>", and scorecard outputs), sorted. The mapping file
// validates its writeback outputs against this list.
func OutputNames() []string { return slices.Clone(outputNames) }

// outputNames is OutputNames' fixed answer, built once.
var outputNames = func() []string {
	names := make([]string, 0, len(metricKinds)+len(outputKinds)+len(measureOrder))
	names = append(names, sortedKeys(metricKinds)...)
	names = append(names, sortedKeys(outputKinds)...)
	for _, m := range measureOrder {
		names = append(names, "measure."+m)
	}
	sort.Strings(names)
	return names
}()

// MetricKind returns the kind of the named metric or output, and whether the
// name is known.
func MetricKind(name string) (ValueKind, bool) {
	if k, ok := metricKinds[name]; ok {
		return k, true
	}
	if k, ok := outputKinds[name]; ok {
		return k, true
	}
	for _, m := range measureOrder {
		if name == "measure."+m {
			return KindNumber, true
		}
	}
	return 0, false
}

// IsNumericMetric reports whether name is a metric usable in a rule condition.
func IsNumericMetric(name string) bool { return metricKinds[name] == KindNumber }

func sortedKeys(m map[string]ValueKind) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
