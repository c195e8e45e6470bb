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

// Config returns the configuration the scorer was built with.
func (s *Scorer) Config() Config { return s.cfg }

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
// the account's earlier stored scores (any order) for the trend.
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
	r.Metrics, r.Contacts = s.computeMetrics(&d, now)
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
	score := round1(clamp(sum, 0, 100))
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
		v := round1(clamp(*score, 0, 100))
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
	t := round1(score - earlier)
	return &t
}

// reasons picks the measures that moved the score most: for an account that
// is not green, those that pulled it down; for a green one, those that
// held it up; topped up from the other side to at least two.
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
	var neg, pos []*Measure
	for i := range r.Measures {
		me := &r.Measures[i]
		// A measure near neutral did not move the score.
		if !me.HasData || me.Share == 0 || math.Abs(me.Impact) < 0.5 {
			continue
		}
		if me.Impact < 0 {
			neg = append(neg, me)
		} else {
			pos = append(pos, me)
		}
	}
	byImpact := func(ms []*Measure) {
		sort.SliceStable(ms, func(i, j int) bool { return math.Abs(ms[i].Impact) > math.Abs(ms[j].Impact) })
	}
	byImpact(neg)
	byImpact(pos)
	first, second := neg, pos
	if r.Grade == GradeGreen {
		first, second = pos, neg
	}
	limit := s.cfg.MaxReasons
	for _, me := range first {
		if len(out) >= limit {
			break
		}
		out = append(out, me.Reason)
	}
	for _, me := range second {
		if len(out) >= min(2, limit) {
			break
		}
		out = append(out, me.Reason)
	}
	return out
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }
