package scoring

import (
	"fmt"
	"sort"
	"strings"
)

// Measure is one row of the scorecard.
type Measure struct {
	Name string `json:"name"`
	// Value is 0..100; meaningful only when HasData.
	Value   float64 `json:"value"`
	HasData bool    `json:"has_data"`
	// Weight is the configured weight; Share is its part of the score after
	// the weights of measures without data were spread over the rest (0..1).
	Weight float64 `json:"weight"`
	Share  float64 `json:"share"`
	// Impact is the points this measure adds to (or takes from) the score
	// compared with a neutral 50: Share × (Value − 50).
	Impact float64 `json:"impact"`
	// Reason is the measure in a CSM's words ("no executive contact for 41
	// days"); Explanation says how the value was reached.
	Reason      string `json:"reason"`
	Explanation string `json:"explanation"`
}

// linear maps x onto 100 at or below full and 0 at or above zero.
func linear(x, full, zero float64) float64 {
	if x <= full {
		return 100
	}
	if x >= zero {
		return 0
	}
	return 100 * (zero - x) / (zero - full)
}

// recencyValue scores a day count on the engagement-recency scale; nil
// (never) scores 0.
func recencyValue(d *int, mc *MeasureConfig) float64 {
	if d == nil {
		return 0
	}
	return linear(float64(*d), float64(mc.RecencyFullDays), float64(mc.RecencyZeroDays))
}

// computeMeasures builds the scorecard rows from the metrics.
func (s *Scorer) computeMeasures(m *Metrics, rels []ContactRelationship) []Measure {
	cfg := &s.cfg
	mc := &cfg.Measures
	out := make([]Measure, 0, len(measureOrder))
	for _, name := range measureOrder {
		me := Measure{Name: name, Weight: cfg.Weights.Get(name)}
		switch name {
		case MeasureRelationshipBreadth:
			breadth(&me, m, mc)
		case MeasureRelationshipDepth:
			depth(&me, m, rels, cfg)
		case MeasureEngagementRecency:
			recency(&me, m, mc)
		case MeasureExecutiveEngagement:
			execEngagement(&me, m, mc)
		case MeasureAdoption:
			adoption(&me, m, mc)
		case MeasureSentiment:
			sentiment(&me, m)
		case MeasureRenewalRisk:
			renewalRisk(&me, m, mc)
		}
		me.Value = clamp(me.Value, 0, 100)
		out = append(out, me)
	}
	return out
}

// noRelationshipData fills a relationship measure that has nothing to go
// on: without contacts, or without any logged activity, the CRM cannot
// show a relationship, and a missing record is not a missing relationship.
func noRelationshipData(me *Measure, m *Metrics) bool {
	switch {
	case m.Contacts == 0:
		me.Reason = "no contacts synced"
		me.Explanation = "no contacts in the CRM, so relationships cannot be measured (a data gap, not a score of 0)"
	case m.Activities == 0:
		me.Reason = "no activities logged"
		me.Explanation = "no activity is logged with the account, so relationships cannot be measured (a data gap, not a score of 0)"
	default:
		return false
	}
	return true
}

func breadth(me *Measure, m *Metrics, mc *MeasureConfig) {
	if noRelationshipData(me, m) {
		return
	}
	me.HasData = true
	strong := m.StrongUserRelationships + m.StrongExecRelationships
	weak := m.UserRelationships + m.ExecRelationships - strong
	goal := mc.BreadthTarget
	for seg, v := range mc.BreadthTargets {
		if strings.EqualFold(seg, m.Segment) {
			goal = v
			break
		}
	}
	me.Value = 100 * (float64(strong) + mc.WeakRelationshipCredit*float64(weak)) / goal
	target := formatNumber(goal)
	switch {
	case strong == 0:
		me.Reason = "no strong relationship at the account"
	case me.Value < 50:
		me.Reason = fmt.Sprintf("only %s (target %s)", count(strong, "strong relationship", "strong relationships"), target)
	default:
		me.Reason = count(strong, "strong relationship", "strong relationships")
	}
	me.Explanation = fmt.Sprintf("%s and %s among %s, target %s strong",
		count(strong, "strong relationship", "strong relationships"),
		count(weak, "weak one", "weak ones"),
		count(m.Contacts, "contact", "contacts"), target)
}

func depth(me *Measure, m *Metrics, rels []ContactRelationship, cfg *Config) {
	if noRelationshipData(me, m) {
		return
	}
	me.HasData = true
	rc := &cfg.Relationship
	// The strongest relationships, each against the strong mark; the
	// strongest counts most and each next one half as much as the one
	// before (so adding a relationship never lowers depth). A one-way
	// relationship counts no more than the strong threshold, like its
	// level.
	top := make([]float64, 0, len(rels))
	for _, r := range rels {
		v := r.Strength
		if r.OneWay {
			v = min(v, rc.StrongMin)
		}
		top = append(top, v)
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(top)))
	n := cfg.Measures.DepthTopContacts
	sum, weights, w := 0.0, 0.0, 1.0
	for i := 0; i < n; i++ {
		if i < len(top) {
			sum += w * min(top[i]/rc.StrongMin, 1)
		}
		weights += w
		w /= 2
	}
	me.Value = 100 * sum / weights
	best := rels[0]
	veryStrong := 0
	for _, r := range rels {
		if r.Level > best.Level {
			best = r
		}
		if r.Level == LevelVeryStrong {
			veryStrong++
		}
	}
	switch {
	case best.Level == LevelNone:
		me.Reason = "no relationship with anyone at the account"
	case best.Level == LevelWeak:
		me.Reason = "no relationship stronger than weak"
	case me.Value < 50 && best.Level == LevelStrong:
		me.Reason = fmt.Sprintf("no very strong relationship (strongest: %s)", best.Name)
	case me.Value < 50:
		me.Reason = fmt.Sprintf("only %s", count(veryStrong, "very strong relationship", "very strong relationships"))
	default:
		me.Reason = fmt.Sprintf("%s relationship with %s", strings.ReplaceAll(best.Level.String(), "_", " "), best.Name)
	}
	me.Explanation = fmt.Sprintf("the %s strongest relationships against the strong mark (%s points), each counting half as much as the one before",
		formatNumber(float64(n)), formatNumber(rc.StrongMin))
}

func recency(me *Measure, m *Metrics, mc *MeasureConfig) {
	if m.Activities == 0 {
		me.Reason = "no activities logged"
		me.Explanation = "no activity is logged with the account (a data gap, not a score of 0)"
		return
	}
	me.HasData = true
	me.Value = recencyValue(m.DaysSinceLastContact, mc)
	if me.Value >= 50 {
		me.Reason = "last contact on " + longDate(*m.LastContactDate)
	} else {
		me.Reason = "no contact since " + longDate(*m.LastContactDate)
	}
	me.Explanation = fmt.Sprintf("100 within %s of the last contact, 0 after %s", days(mc.RecencyFullDays), days(mc.RecencyZeroDays))
}

func execEngagement(me *Measure, m *Metrics, mc *MeasureConfig) {
	if m.DaysSinceLastEBR == nil && noRelationshipData(me, m) {
		return
	}
	me.HasData = true
	ebr := 0.0
	if m.DaysSinceLastEBR != nil {
		ebr = linear(float64(*m.DaysSinceLastEBR), float64(mc.EBRFullDays), float64(mc.EBRZeroDays))
	}
	exec := recencyValue(m.DaysSinceExecContact, mc)
	me.Value = (ebr + exec) / 2

	var execText, ebrText string
	switch {
	case m.Executives == 0:
		execText = "no executives among the contacts"
	case m.LastExecContactDate == nil:
		execText = "no executive contact on record"
	case exec >= 50:
		execText = "executive contact on " + longDate(*m.LastExecContactDate)
	default:
		execText = "no executive contact since " + longDate(*m.LastExecContactDate)
	}
	switch {
	case m.LastEBRDate == nil:
		ebrText = "no EBR on record"
	case ebr >= 50:
		ebrText = "EBR on " + longDate(*m.LastEBRDate)
	default:
		ebrText = "no EBR since " + longDate(*m.LastEBRDate)
	}
	// The reason matches the value: both halves when both are poor or both
	// good, else the half that sets the tone.
	switch {
	case (exec < 50) == (ebr < 50):
		me.Reason = execText + " and " + ebrText
	case (exec < ebr) == (me.Value < 50):
		me.Reason = execText
	default:
		me.Reason = ebrText
	}
	me.Explanation = fmt.Sprintf("mean of executive-contact recency (%s: %.0f) and EBR recency (%s: %.0f)", execText, exec, ebrText, ebr)
}

func adoption(me *Measure, m *Metrics, mc *MeasureConfig) {
	if m.Adoption == nil {
		me.Reason = "adoption not mapped"
		me.Explanation = "the CRM holds no adoption value for the account"
		return
	}
	me.HasData = true
	a := *m.Adoption
	me.Value = 100 * (a - mc.AdoptionZero) / (mc.AdoptionFull - mc.AdoptionZero)
	me.Reason = "adoption " + percent(a)
	if m.AdoptionPrevious != nil && percent(*m.AdoptionPrevious) != percent(a) {
		dir := "down"
		if a > *m.AdoptionPrevious {
			dir = "up"
		}
		me.Reason += fmt.Sprintf(", %s from %s", dir, percent(*m.AdoptionPrevious))
	}
	me.Explanation = fmt.Sprintf("0 at %s, 100 at %s", percent(mc.AdoptionZero), percent(mc.AdoptionFull))
}

func sentiment(me *Measure, m *Metrics) {
	var parts []string
	sum, n := 0.0, 0
	if m.CSMSentiment != nil {
		v := clamp(*m.CSMSentiment, 0, 100)
		sum += v
		n++
		parts = append(parts, "CSM rates the account "+sentimentWord(v))
	}
	if m.NPSNormalized != nil {
		sum += *m.NPSNormalized
		n++
		parts = append(parts, "NPS "+wholeNumber(*m.NPS))
	}
	if m.CSAT != nil {
		sum += clamp(*m.CSAT, 0, 100)
		n++
		parts = append(parts, "CSAT "+wholeNumber(*m.CSAT))
	}
	if n == 0 {
		me.Reason = "no sentiment, NPS or CSAT"
		me.Explanation = "none of CSM sentiment, NPS or CSAT is mapped or filled in"
		return
	}
	me.HasData = true
	me.Value = sum / float64(n)
	me.Reason = strings.Join(parts, ", ")
	me.Explanation = "mean of CSM sentiment, NPS and CSAT on a 0–100 scale, where present"
}

func renewalRisk(me *Measure, m *Metrics, mc *MeasureConfig) {
	if m.DaysToRenewal == nil {
		me.Reason = "no renewal date"
		me.Explanation = "no open renewal opportunity and no renewal date on the account"
		return
	}
	me.HasData = true
	d := *m.DaysToRenewal
	closeness := 1 - clamp(float64(d)/float64(mc.RenewalHorizonDays), 0, 1)
	prepared := 0.5 * min(float64(m.StrongExecRelationships), 2) / 2
	execRecent := m.DaysSinceExecContact != nil && *m.DaysSinceExecContact <= mc.RenewalExecRecentDays
	if execRecent {
		prepared += 0.5
	}
	me.Value = 100 * (1 - closeness*(1-prepared))
	date := longDate(*m.NextRenewalDate)
	switch {
	case d < 0:
		me.Reason = "renewal overdue since " + date
	case closeness == 0:
		me.Reason = "next renewal not before " + date
	default:
		me.Reason = "renewal on " + date
	}
	if closeness > 0 && prepared >= 1 {
		me.Reason += ", executives engaged"
	}
	me.Explanation = fmt.Sprintf("risk grows inside %s of the renewal; half of it is offset by executive contact within %s, half by strong executive relationships (%d of 2)",
		days(mc.RenewalHorizonDays), days(mc.RenewalExecRecentDays), min(m.StrongExecRelationships, 2))
}
