package scoring

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"healthsync/crm"
)

// Scorer scores accounts with one validated Config. It holds only the
// compiled configuration, never per-account or per-org state, and is safe
// for concurrent use.
type Scorer struct {
	cfg   Config
	roles roleMatcher
}

// NewScorer validates cfg and compiles its patterns.
func NewScorer(cfg Config) (*Scorer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	roles, err := newRoleMatcher(cfg.Roles)
	if err != nil {
		return nil, fmt.Errorf("compile role patterns: %w", err)
	}
	return &Scorer{cfg: cfg, roles: roles}, nil
}

// Score is the one-shot form of NewScorer(cfg) and Scorer.Score. Scoring
// many accounts, build the Scorer once.
func Score(cfg Config, d AccountData, now time.Time, history []ScorePoint) (Result, error) {
	s, err := NewScorer(cfg)
	if err != nil {
		return Result{}, err
	}
	return s.Score(d, now, history), nil
}

// Score computes one account's metrics, scorecard, grade, trend, reasons
// and flags as of now; only records at or before now count. history holds
// the account's earlier stored scores (any order) for the trend. Only a
// live customer is scored and flagged: a prospect or former customer gets
// its status and metrics, no score, no flags, and one reason saying why.
func (s *Scorer) Score(d AccountData, now time.Time, history []ScorePoint) Result {
	now = crm.Normalize(now)
	r := Result{
		AccountID:   d.Account.ID,
		AccountName: d.Account.Name,
		OwnerID:     d.Account.OwnerID,
		At:          now,
	}
	if d.Owner != nil {
		r.OwnerName = d.Owner.Name
	}
	r.Status = StatusAt(&d.Account, d.Opportunities, now)
	r.Metrics, r.Contacts = s.computeMetrics(&d, now)
	r.Metrics.CustomerStatus = string(r.Status.Status)
	if !r.Status.Live() {
		r.NoScoreReason = fmt.Sprintf("%s (%s): only live customers are scored", StatusWords(r.Status.Status), r.Status.Why)
		r.Reasons = []string{r.NoScoreReason}
		return r
	}
	r.DataGaps = dataGaps(&r.Metrics)
	r.Measures = s.computeMeasures(&r.Metrics, r.Contacts)
	s.scoreMeasures(&r)
	s.applyOverride(&d.Account, now, &r)
	if r.Score != nil {
		r.Grade = s.cfg.Grades.Grade(*r.Score)
		if r.Override != nil && r.Override.Grade != "" {
			r.Grade = r.Override.Grade
		}
		r.Trend = trend(*r.Score, history, now, s.cfg.TrendLookbackDays, s.cfg.TrendToleranceDays)
	}
	r.Reasons = s.reasons(&r)
	r.Flags = s.computeFlags(&r.Metrics)
	return r
}

// dataGaps lists what is missing for the relationship measures and flags:
// findings for RevOps (the CRM holds no contacts or no logged activity for
// the account), never tasks for a CSM.
func dataGaps(m *Metrics) []string {
	var gaps []string
	if m.Contacts == 0 {
		gaps = append(gaps, "no contacts synced")
	}
	if m.Activities == 0 {
		gaps = append(gaps, "no activities logged")
	}
	return gaps
}

// scoreMeasures fills the shares and the computed score, or the reason
// there is none.
func (s *Scorer) scoreMeasures(r *Result) {
	total := 0.0
	withData := 0
	var missing []string
	for _, me := range r.Measures {
		if me.HasData && me.Weight > 0 {
			total += me.Weight
			withData++
		} else if me.Weight > 0 && !slices.Contains(missing, me.Reason) {
			missing = append(missing, me.Reason)
		}
	}
	if withData < s.cfg.MinMeasures || total <= 0 {
		r.NoScoreReason = fmt.Sprintf("not enough data: %d of %d measures have data (need %d): %s",
			withData, len(r.Measures), s.cfg.MinMeasures, strings.Join(missing, "; "))
		return
	}
	sum := 0.0
	for i := range r.Measures {
		me := &r.Measures[i]
		if !me.HasData || me.Weight <= 0 {
			continue
		}
		me.Share = me.Weight / total
		me.Impact = me.Share * (me.Value - 50)
		sum += me.Share * me.Value
	}
	// Scores are whole numbers: the precision of the field install
	// creates, so the written score, its grade and explain all agree.
	score := math.Round(clamp(sum, 0, 100))
	r.Score = &score
	computed := score
	r.ComputedScore = &computed
}

// applyOverride replaces the score with a CSM's unexpired override.
func (s *Scorer) applyOverride(a *crm.Account, now time.Time, r *Result) {
	score := copyFloat(a.ScoreOverride)
	grade, gradeOK := ParseGrade(a.GradeOverride)
	if score == nil && !gradeOK {
		return // no override, or one we cannot read ("Amber")
	}
	if a.OverrideExpires != nil && !a.OverrideExpires.After(now) {
		return
	}
	o := &Override{Comment: a.OverrideComment, Expires: a.OverrideExpires, Grade: grade}
	if score != nil {
		v := math.Round(clamp(*score, 0, 100))
		o.Score = &v
		r.Score = &v
	}
	r.Override = o
}

// trend is score minus the stored score nearest lookback days before now,
// among those within tolerance days of that instant and before now.
func trend(score float64, history []ScorePoint, now time.Time, lookback, tolerance int) *float64 {
	target := now.AddDate(0, 0, -lookback)
	tol := time.Duration(tolerance) * 24 * time.Hour
	best, found := time.Duration(math.MaxInt64), false
	var earlier float64
	for _, p := range history {
		if !p.At.Before(now) {
			continue
		}
		diff := p.At.Sub(target)
		if diff < 0 {
			diff = -diff
		}
		if diff <= tol && (diff < best || (diff == best && p.At.Before(target))) {
			best, earlier, found = diff, p.Score, true
		}
	}
	if !found {
		return nil
	}
	t := math.Round(score - earlier)
	return &t
}

// reasons says in a CSM's words why the score is what it is. It leads
// with the most urgent fact (a renewal inside the renewal_exec_gap window
// is always named), then what lowers the score, most first; strengths come
// only to top the list up to two, labelled as strengths. The relationship
// breadth and depth measures describe one fact, so only the larger of them
// is named. No reason holds a day count: dates hold still from day to day,
// so an unchanged account's reasons are not rewritten daily.
func (s *Scorer) reasons(r *Result) []string {
	var out []string
	if r.Override != nil {
		msg := "score set by the CSM"
		if r.Override.Comment != "" {
			msg += ": " + r.Override.Comment
		}
		out = append(out, msg)
	}
	if r.Score == nil {
		return append(out, r.NoScoreReason)
	}
	limit := s.cfg.MaxReasons
	used := map[string]bool{}
	add := func(me *Measure, text string) {
		if len(out) < limit && !used[me.Name] {
			out = append(out, text)
			used[me.Name] = true
		}
	}
	var neg, pos []*Measure
	for i := range r.Measures {
		me := &r.Measures[i]
		if !me.HasData || me.Share == 0 {
			continue
		}
		if me.Name == MeasureRenewalRisk && r.Metrics.DaysToRenewal != nil && *r.Metrics.DaysToRenewal <= s.renewalNear() {
			add(me, me.Reason) // near: always named, first
			continue
		}
		// A measure near neutral did not move the score.
		switch {
		case me.Impact <= -0.5:
			neg = append(neg, me)
		case me.Impact >= 0.5:
			pos = append(pos, me)
		}
	}
	byImpact := func(ms []*Measure) {
		sort.SliceStable(ms, func(i, j int) bool { return math.Abs(ms[i].Impact) > math.Abs(ms[j].Impact) })
	}
	byImpact(neg)
	byImpact(pos)
	// Breadth and depth describe one fact, the account's relationships:
	// it is named once, in breadth's words when breadth is on the same
	// side (so the wording does not flip as the two impacts cross).
	relNamed := false
	name := func(side []*Measure, me *Measure, prefix string) {
		if isRelationship(me) {
			breadthToo := me.Name == MeasureRelationshipDepth &&
				slices.ContainsFunc(side, func(o *Measure) bool { return o.Name == MeasureRelationshipBreadth })
			if relNamed || breadthToo {
				return
			}
			relNamed = true
		}
		add(me, prefix+me.Reason)
	}
	for _, me := range neg {
		name(neg, me, "")
	}
	for _, me := range pos {
		if len(out) >= min(2, limit) {
			break
		}
		name(pos, me, "strength: ")
	}
	return out
}

func isRelationship(me *Measure) bool {
	return me.Name == MeasureRelationshipBreadth || me.Name == MeasureRelationshipDepth
}

// renewalNear is how close a renewal must be to be named first among the
// reasons: the renewal_exec_gap window (90 days by default).
func (s *Scorer) renewalNear() int {
	if d := s.cfg.Flags.RenewalExecGap.RenewalWithinDays; d > 0 {
		return d
	}
	return 90
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }
