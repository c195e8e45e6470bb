package scoring

import (
	"fmt"
	"strings"
)

// Flag is a raised risk flag with the numbers that triggered it.
type Flag struct {
	Name string `json:"name"`
	// Description says in words why the flag is up: "renewal in 28 days and
	// no executive contact for 41 days".
	Description string     `json:"description"`
	Evidence    []Evidence `json:"evidence"`
	// Action is what the CSM should do, worded for this account ("Build an
	// executive relationship" where one is needed, "Build a second
	// executive relationship" where one exists); task subjects use it.
	Action string `json:"action"`
	// Task is the CRM task the writeback creates for this flag's episode.
	Task   TaskSpec `json:"task"`
	Custom bool     `json:"custom,omitempty"`
}

// Evidence is one number behind a flag and the threshold it crossed. A nil
// Value means the metric has none ("never").
type Evidence struct {
	Metric    string   `json:"metric"`
	Value     *float64 `json:"value"`
	Op        string   `json:"op"`
	Threshold float64  `json:"threshold"`
}

// String renders the evidence as "days_since_exec_contact = 41 (> 15)".
func (e Evidence) String() string {
	v := "empty"
	if e.Value != nil {
		v = formatNumber(*e.Value)
	}
	return fmt.Sprintf("%s = %s (%s %s)", e.Metric, v, e.Op, formatNumber(e.Threshold))
}

func evidence(m *Metrics, metric, op string, threshold float64) Evidence {
	e := Evidence{Metric: metric, Op: op, Threshold: threshold}
	if v, ok := m.number(metric); ok {
		e.Value = &v
	}
	return e
}

// relationshipMetrics are the metrics that only mean something when the
// CRM holds the account's contacts and logged activities; activityMetrics
// those that need logged activities only.
var (
	relationshipMetrics = map[string]bool{
		MetricContacts: true, MetricExecutives: true, MetricUsers: true,
		MetricUserRelationships: true, MetricStrongUserRelationships: true,
		MetricExecRelationships: true, MetricStrongExecRelationships: true, MetricStrongRelationships: true,
		MetricDaysSinceUserContact: true, MetricDaysSinceExecContact: true,
	}
	activityMetrics = map[string]bool{
		MetricDaysSinceLastContact: true, MetricActivitiesLast30Days: true, MetricActivities: true,
		MetricDaysSinceLastEBR: true,
	}
)

// computeFlags evaluates the default flags and the custom rules. A flag
// that reads relationships is not raised when the CRM holds no contacts or
// no logged activity for the account: that is a data gap for RevOps, not a
// risk for a CSM to act on.
func (s *Scorer) computeFlags(m *Metrics) []Flag {
	fc := &s.cfg.Flags
	var flags []Flag
	relData := m.Contacts > 0 && m.Activities > 0

	if f := fc.RenewalExecGap; !f.Disabled && relData && m.DaysToRenewal != nil && *m.DaysToRenewal <= f.RenewalWithinDays &&
		(m.DaysSinceExecContact == nil || *m.DaysSinceExecContact >= f.NoExecContactDays) {
		renewal := "renewal on " + longDate(*m.NextRenewalDate)
		if *m.DaysToRenewal < 0 {
			renewal = "renewal overdue since " + longDate(*m.NextRenewalDate)
		}
		exec := "no executive contact on record"
		switch {
		case m.Executives == 0:
			exec = "no executive among the contacts"
		case m.LastExecContactDate != nil:
			exec = "no executive contact since " + longDate(*m.LastExecContactDate)
		}
		flags = append(flags, Flag{
			Name:        FlagRenewalExecGap,
			Description: renewal + " and " + exec,
			Evidence: []Evidence{
				evidence(m, MetricDaysToRenewal, "<=", float64(f.RenewalWithinDays)),
				evidence(m, MetricDaysSinceExecContact, ">=", float64(f.NoExecContactDays)),
			},
			Action: "Reach an executive before the renewal",
			Task:   f.Task,
		})
	}

	if f := fc.SingleThreaded; !f.Disabled && relData {
		needStrong := segmentValue(f.MinStrongExecs, m.Segment, f.DefaultMinStrongExecs)
		needAny := segmentValue(f.MinExecRelationships, m.Segment, f.DefaultMinExecRelationships)
		strong, any := m.StrongExecRelationships, m.ExecRelationships
		if strong < needStrong || any < needAny {
			seg := m.Segment
			if seg == "" {
				seg = "account"
			}
			var desc string
			var ev []Evidence
			have, need := any, needAny
			if strong < needStrong {
				have, need = strong, needStrong
				desc = fmt.Sprintf("%s account with %s (needs %d)", seg,
					count(strong, "strong executive relationship", "strong executive relationships"), needStrong)
				ev = append(ev, evidence(m, MetricStrongExecRelationships, "<", float64(needStrong)))
			} else {
				desc = fmt.Sprintf("%s account with %s (needs %d)", seg,
					count(any, "executive relationship", "executive relationships"), needAny)
				ev = append(ev, evidence(m, MetricExecRelationships, "<", float64(needAny)))
			}
			action := "Build an executive relationship"
			switch {
			case have == 1 && need == 2:
				action = "Build a second executive relationship"
			case have > 0:
				action = fmt.Sprintf("Build %d more executive relationships", need-have)
			case need > 1:
				action = fmt.Sprintf("Build executive relationships (%d needed)", need)
			}
			flags = append(flags, Flag{Name: FlagSingleThreaded, Description: desc, Evidence: ev, Action: action, Task: f.Task})
		}
	}

	if f := fc.ChampionOpportunity; !f.Disabled && relData && m.Adoption != nil && *m.Adoption >= f.StrongAdoption &&
		m.UserRelationships <= f.MaxUserRelationships && m.StrongUserRelationships <= f.MaxStrongUserRelationships {
		users := count(m.UserRelationships, "user relationship", "user relationships")
		if m.UserRelationships > 0 {
			users += fmt.Sprintf(", %s", count(m.StrongUserRelationships, "strong one", "strong ones"))
		}
		flags = append(flags, Flag{
			Name:        FlagChampionOpportunity,
			Description: fmt.Sprintf("adoption %s but %s", percent(*m.Adoption), users),
			Evidence: []Evidence{
				evidence(m, MetricAdoption, ">=", f.StrongAdoption),
				evidence(m, MetricUserRelationships, "<=", float64(f.MaxUserRelationships)),
			},
			Action: "Turn active users into champions",
			Task:   f.Task,
		})
	}

	if f := fc.AdoptionEmergency; !f.Disabled && relData && m.AdoptionChange != nil && *m.AdoptionChange <= -f.MinDrop &&
		(m.DaysSinceUserContact == nil || *m.DaysSinceUserContact >= f.NoUserContactDays) {
		user := "no user contact on record"
		if m.LastUserContactDate != nil {
			user = "no user contact since " + longDate(*m.LastUserContactDate)
		}
		flags = append(flags, Flag{
			Name: FlagAdoptionEmergency,
			Description: fmt.Sprintf("adoption fell %.0f%% (from %s to %s) and %s", -*m.AdoptionChange*100,
				percent(*m.AdoptionPrevious), percent(*m.Adoption), user),
			Evidence: []Evidence{
				evidence(m, MetricAdoptionChange, "<=", -f.MinDrop),
				evidence(m, MetricDaysSinceUserContact, ">=", float64(f.NoUserContactDays)),
			},
			Action: "Emergency outreach",
			Task:   f.Task,
		})
	}

	for _, rule := range s.cfg.CustomFlags {
		if (!relData && rule.reads(relationshipMetrics)) || (m.Activities == 0 && rule.reads(activityMetrics)) {
			continue
		}
		if !allHold(rule.When, m) {
			continue
		}
		f := Flag{Name: rule.Name, Task: rule.Task, Custom: true}
		parts := make([]string, 0, len(rule.When))
		for _, c := range rule.When {
			e := evidence(m, c.Metric, c.Op, c.Value)
			f.Evidence = append(f.Evidence, e)
			parts = append(parts, e.String())
		}
		f.Description = rule.Description
		if f.Description == "" {
			f.Description = strings.Join(parts, " and ")
		}
		flags = append(flags, f)
	}
	return flags
}

// reads reports whether any condition of the rule reads one of metrics.
func (r FlagRule) reads(metrics map[string]bool) bool {
	for _, c := range r.When {
		if metrics[c.Metric] {
			return true
		}
	}
	return false
}

// segmentValue is the value a segment is given in byName (matched
// case-insensitively), else def.
func segmentValue(byName map[string]int, segment string, def int) int {
	for seg, n := range byName {
		if strings.EqualFold(seg, segment) {
			return n
		}
	}
	return def
}
