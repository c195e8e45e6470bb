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

// computeFlags evaluates the default flags and the custom rules.
func (s *Scorer) computeFlags(m *Metrics) []Flag {
	fc := &s.cfg.Flags
	var flags []Flag

	if f := fc.RenewalExecGap; !f.Disabled && m.DaysToRenewal != nil && *m.DaysToRenewal <= f.RenewalWithinDays &&
		(m.DaysSinceExecContact == nil || *m.DaysSinceExecContact >= f.NoExecContactDays) {
		renewal := fmt.Sprintf("renewal in %s", days(*m.DaysToRenewal))
		if *m.DaysToRenewal < 0 {
			renewal = fmt.Sprintf("renewal overdue by %s", days(-*m.DaysToRenewal))
		}
		exec := "no executive contact on record"
		if m.DaysSinceExecContact != nil {
			exec = fmt.Sprintf("no executive contact for %s", days(*m.DaysSinceExecContact))
		}
		flags = append(flags, Flag{
			Name:        FlagRenewalExecGap,
			Description: renewal + " and " + exec,
			Evidence: []Evidence{
				evidence(m, MetricDaysToRenewal, "<=", float64(f.RenewalWithinDays)),
				evidence(m, MetricDaysSinceExecContact, ">=", float64(f.NoExecContactDays)),
			},
			Task: f.Task,
		})
	}

	if f := fc.SingleThreaded; !f.Disabled {
		need := f.DefaultMinStrongExecs
		for seg, n := range f.MinStrongExecs {
			if strings.EqualFold(seg, m.Segment) {
				need = n
				break
			}
		}
		if m.StrongExecRelationships < need {
			seg := m.Segment
			if seg == "" {
				seg = "account"
			}
			flags = append(flags, Flag{
				Name: FlagSingleThreaded,
				Description: fmt.Sprintf("%s account with %s (needs %d)", seg,
					count(m.StrongExecRelationships, "strong executive relationship", "strong executive relationships"), need),
				Evidence: []Evidence{evidence(m, MetricStrongExecRelationships, "<", float64(need))},
				Task:     f.Task,
			})
		}
	}

	if f := fc.ChampionOpportunity; !f.Disabled && m.Adoption != nil && *m.Adoption >= f.StrongAdoption &&
		m.StrongUserRelationships <= f.MaxStrongUserRelationships {
		flags = append(flags, Flag{
			Name: FlagChampionOpportunity,
			Description: fmt.Sprintf("adoption %s but %s", adoptionText(*m.Adoption, &s.cfg.Measures),
				count(m.StrongUserRelationships, "strong user relationship", "strong user relationships")),
			Evidence: []Evidence{
				evidence(m, MetricAdoption, ">=", f.StrongAdoption),
				evidence(m, MetricStrongUserRelationships, "<=", float64(f.MaxStrongUserRelationships)),
			},
			Task: f.Task,
		})
	}

	if f := fc.AdoptionEmergency; !f.Disabled && m.AdoptionChange != nil && *m.AdoptionChange <= -f.MinDrop &&
		(m.DaysSinceUserContact == nil || *m.DaysSinceUserContact >= f.NoUserContactDays) {
		user := "no user contact on record"
		if m.DaysSinceUserContact != nil {
			user = fmt.Sprintf("no user contact for %s", days(*m.DaysSinceUserContact))
		}
		flags = append(flags, Flag{
			Name: FlagAdoptionEmergency,
			Description: fmt.Sprintf("adoption fell %.0f%% (from %s to %s) and %s", -*m.AdoptionChange*100,
				adoptionText(*m.AdoptionPrevious, &s.cfg.Measures), adoptionText(*m.Adoption, &s.cfg.Measures), user),
			Evidence: []Evidence{
				evidence(m, MetricAdoptionChange, "<=", -f.MinDrop),
				evidence(m, MetricDaysSinceUserContact, ">=", float64(f.NoUserContactDays)),
			},
			Task: f.Task,
		})
	}

	for _, rule := range s.cfg.CustomFlags {
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
