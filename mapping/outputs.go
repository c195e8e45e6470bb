package mapping

import (
	"strings"

	"healthsync/connector"
	"healthsync/crm"
	"healthsync/scoring"
)

// Output names: the results healthsync writes back. Metric outputs use the
// metric's name (e.g. days_since_exec_contact).
const (
	OutputScore     = "score"
	OutputGrade     = "grade"
	OutputReasons   = "reasons"
	OutputTrend     = "trend"
	OutputFlags     = "flags"
	OutputUpdatedAt = "updated_at"
	// OutputTaskKey is the field on the task object holding healthsync's
	// task key; it is written only when a task is created.
	OutputTaskKey = "task_key"
)

// Output is one result written back and the CRM field it goes to.
type Output struct {
	Name   string // OutputScore, ..., or a metric name
	Object string // the CRM object written (Account/companies, Task/tasks)
	Field  string // the CRM field
	path   string // where the file sets it
	metric bool
}

// outputList lists every output of f, fixed ones first, metrics sorted.
func outputList(f *File) []Output {
	sys := crm.System(f.CRM.System)
	acct, task := accountObject(sys), taskObject(sys)
	o := f.Outputs
	out := []Output{
		{Name: OutputScore, Object: acct, Field: o.Score, path: "outputs.score"},
		{Name: OutputGrade, Object: acct, Field: o.Grade, path: "outputs.grade"},
		{Name: OutputReasons, Object: acct, Field: o.Reasons, path: "outputs.reasons"},
		{Name: OutputTrend, Object: acct, Field: o.Trend, path: "outputs.trend"},
		{Name: OutputFlags, Object: acct, Field: o.Flags, path: "outputs.flags"},
		{Name: OutputUpdatedAt, Object: acct, Field: o.UpdatedAt, path: "outputs.updated_at"},
	}
	for _, name := range sortedKeys(o.Metrics) {
		out = append(out, Output{Name: name, Object: acct, Field: o.Metrics[name], path: "outputs.metrics." + name, metric: true})
	}
	out = append(out, Output{Name: OutputTaskKey, Object: task, Field: o.TaskKey, path: "outputs.task_key"})
	return out
}

// Counter is a day count the CRM computes from a date healthsync writes:
// a Salesforce formula field that install creates and healthsync never
// writes, so it costs no write as days pass.
type Counter struct {
	Name   string // the metric it shows: days_to_renewal
	Object string
	Field  string // the formula field: Days_To_Renewal__c
	// From is the date metric it counts from (next_renewal_date) and
	// FromField the output field that date is written to.
	From, FromField string
	// Until: the count runs from today to the date (days to renewal);
	// otherwise from the date to today (days since).
	Until bool
	path  string
}

// Formula is the counter's Salesforce formula.
func (c Counter) Formula() string {
	if c.Until {
		return c.FromField + " - TODAY()"
	}
	return "TODAY() - " + c.FromField
}

// dayCounters are the metrics that change every day by themselves, with
// the date each counts from; written as fields they would rewrite every
// account daily.
var dayCounters = map[string]struct {
	from  string
	until bool
}{
	scoring.MetricDaysToRenewal:        {scoring.MetricNextRenewalDate, true},
	scoring.MetricDaysSinceExecContact: {scoring.MetricLastExecContactDate, false},
	scoring.MetricDaysSinceUserContact: {scoring.MetricLastUserContactDate, false},
	scoring.MetricDaysSinceLastContact: {scoring.MetricLastContactDate, false},
	scoring.MetricDaysSinceLastEBR:     {scoring.MetricLastEBRDate, false},
}

// movingMetrics change as days pass without any change in the CRM and have
// no date to count from: they are never written.
var movingMetrics = map[string]string{
	scoring.MetricDaysAsCustomer:       "it grows by one every day",
	scoring.MetricActivitiesLast30Days: "its 30-day window moves every day",
}

// counterList lists the counters of f, sorted by name.
func counterList(f *File) []Counter {
	var out []Counter
	for _, name := range sortedKeys(f.Outputs.Counters) {
		c := Counter{Name: name, Object: accountObject(crm.System(f.CRM.System)), Field: f.Outputs.Counters[name], path: "outputs.counters." + name}
		if dc, ok := dayCounters[name]; ok {
			c.From, c.Until = dc.from, dc.until
			c.FromField = f.Outputs.Metrics[dc.from]
		}
		out = append(out, c)
	}
	return out
}

// Counters returns the day counters the CRM computes (Salesforce formula
// fields), sorted by name.
func (m *Mapping) Counters() []Counter {
	var out []Counter
	for _, c := range counterList(&m.cfg) {
		if c.Field != "" {
			out = append(out, c)
		}
	}
	return out
}

func accountObject(sys crm.System) string {
	if sys == crm.HubSpot {
		return HSCompanies
	}
	return SFAccount
}

func taskObject(sys crm.System) string {
	if sys == crm.HubSpot {
		return HSTasks
	}
	return SFTask
}

// AccountObject is the CRM object accounts live in (Account or companies).
func (m *Mapping) AccountObject() string { return accountObject(m.sys) }

// TaskObject is the CRM object follow-up tasks are created in (Task or tasks).
func (m *Mapping) TaskObject() string { return taskObject(m.sys) }

// Outputs returns every enabled output (an output set to "" in the file
// is disabled), fixed ones first, then metrics by name, then the task key.
func (m *Mapping) Outputs() []Output {
	var out []Output
	for _, o := range outputList(&m.cfg) {
		if o.Field != "" {
			out = append(out, o)
		}
	}
	return out
}

// OutputField resolves an output name (OutputScore, ..., a metric name,
// OutputTaskKey) to the CRM object and field it is written to; ok is false
// when the mapping does not write that output.
func (m *Mapping) OutputField(name string) (object, field string, ok bool) {
	for _, o := range m.Outputs() {
		if o.Name == name {
			return o.Object, o.Field, true
		}
	}
	return "", "", false
}

// AllowedOutputs returns the fields of object that healthsync may write:
// exactly the outputs the mapping names. The writeback refuses any other
// field. Keys are the CRM field names as spelled in the mapping.
func (m *Mapping) AllowedOutputs(object string) map[string]bool {
	out := map[string]bool{}
	for _, o := range m.Outputs() {
		if o.Object == object {
			out[o.Field] = true
		}
	}
	return out
}

// IsAllowedOutput reports whether field of object may be written. It
// compares Salesforce names case-insensitively, as Salesforce does.
func (m *Mapping) IsAllowedOutput(object, field string) bool {
	for _, o := range m.Outputs() {
		if o.Object != object {
			continue
		}
		if o.Field == field || (m.sys == crm.Salesforce && strings.EqualFold(o.Field, field)) {
			return true
		}
	}
	return false
}

// FieldSpecs returns the custom fields (Salesforce) or properties
// (HubSpot) healthsync writes to, for `healthsync install`: every enabled
// output, the day counters as formula fields, plus the task snooze field
// when one is named.
func (m *Mapping) FieldSpecs() []connector.FieldSpec {
	var out []connector.FieldSpec
	for _, o := range m.Outputs() {
		out = append(out, outputSpec(o))
	}
	for _, c := range m.Counters() {
		out = append(out, connector.FieldSpec{
			Object: c.Object, Name: c.Field, Label: metricLabel(c.Name), Type: connector.FieldNumber, Precision: 18, Scale: 0,
			Formula: c.Formula(),
			Help:    "Counted by Salesforce from " + c.FromField + ", which healthsync writes (metric " + c.Name + ").",
		})
	}
	if s := m.cfg.Tasks.Snooze.Field; s != "" {
		out = append(out, connector.FieldSpec{
			Object: m.TaskObject(), Name: s, Label: "Snoozed Until", Type: connector.FieldDate,
			Help: "A CSM sets this to stop healthsync re-raising the task before the date.",
		})
	}
	return out
}

func outputSpec(o Output) connector.FieldSpec {
	s := connector.FieldSpec{Object: o.Object, Name: o.Field}
	switch o.Name {
	case OutputScore:
		// A whole number: the score's own precision, so the field keeps
		// exactly what healthsync computed and the grade agrees with it.
		s.Label, s.Type, s.Precision, s.Scale = "Health Score", connector.FieldNumber, 3, 0
		s.Help = "Customer health 0-100 computed by healthsync."
	case OutputGrade:
		s.Label, s.Type, s.Length = "Health Grade", connector.FieldText, 10
		s.Help = "green (70+), yellow (40-69) or red (below 40), computed by healthsync."
	case OutputReasons:
		s.Label, s.Type, s.Length = "Health Reasons", connector.FieldLongText, 32768
		s.Help = "What moved the health score most, written by healthsync."
	case OutputTrend:
		s.Label, s.Type, s.Precision, s.Scale = "Health Trend", connector.FieldNumber, 4, 0
		s.Help = "Health score now minus 30 days ago, computed by healthsync."
	case OutputFlags:
		s.Label, s.Type, s.Length = "Health Flags", connector.FieldText, 255
		s.Help = "The risk flags healthsync raised on the account; only some make tasks."
	case OutputUpdatedAt:
		s.Label, s.Type = "Healthsync Updated", connector.FieldDateTime
		s.Help = "When healthsync last changed its fields on this record."
	case OutputTaskKey:
		s.Label, s.Type, s.Length = "Healthsync Key", connector.FieldText, 120
		s.Help = "Identifies the healthsync risk-flag episode this task was created for; do not edit."
	default:
		s.Label = metricLabel(o.Name)
		s.Help = "Written by healthsync (metric " + o.Name + ")."
		kind, _ := metricKind(o.Name)
		switch kind {
		case metricDate:
			s.Type = connector.FieldDate
		case metricText:
			s.Type, s.Length = connector.FieldText, 255
		default:
			s.Type, s.Precision, s.Scale = connector.FieldNumber, 18, 2
			if strings.HasPrefix(o.Name, "days_") || strings.HasSuffix(o.Name, "_relationships") {
				s.Precision, s.Scale = 6, 0
			}
		}
	}
	return s
}

// metricLabel turns days_since_exec_contact into "Days Since Exec Contact".
func metricLabel(name string) string {
	words := strings.FieldsFunc(name, func(r rune) bool { return r == '_' || r == '.' })
	for i, w := range words {
		switch w {
		case "arr", "nps", "csat", "csm", "ebr":
			words[i] = strings.ToUpper(w)
		default:
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return strings.Join(words, " ")
}
