package scoring

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"healthsync/crm"
)

// An account with adoption, sentiment and a renewal but no contacts: the
// relationship measures have no data and their weights spread over the rest.
func noContactAccount() AccountData {
	a := baseAccount()
	a.Adoption = fp(0.8)                       // adoption 100, weight 20
	a.CSMSentiment = fp(50)                    // sentiment 50, weight 10
	a.RenewalDate = tp(now.AddDate(0, 0, 200)) // renewal risk 100, weight 15
	return AccountData{Account: a}
}

func TestScoreRenormalisesMissingMeasures(t *testing.T) {
	t.Parallel()
	s := newScorer(t, DefaultConfig())
	r := s.Score(noContactAccount(), now, nil)
	if r.Score == nil {
		t.Fatalf("no score: %s", r.NoScoreReason)
	}
	want := math.Round((20*100 + 10*50 + 15*100) / 45.0) // 88.9 → 89: scores are whole numbers
	if *r.Score != want || r.Grade != GradeGreen {
		t.Errorf("score %v %s, want %v green", *r.Score, r.Grade, want)
	}
	shares := 0.0
	for _, me := range r.Measures {
		shares += me.Share
		if !me.HasData && me.Share != 0 {
			t.Errorf("%s has no data but share %v", me.Name, me.Share)
		}
	}
	if !near(shares, 1) {
		t.Errorf("shares sum to %v, want 1", shares)
	}
}

func TestScoreTooLittleData(t *testing.T) {
	t.Parallel()
	s := newScorer(t, DefaultConfig())
	a := baseAccount()
	a.Adoption = fp(0.5)
	r := s.Score(AccountData{Account: a}, now, []ScorePoint{{At: ago(30), Score: 50}})
	if r.Score != nil || r.Grade != "" || r.Trend != nil {
		t.Fatalf("score %v grade %q trend %v, want none", deref(r.Score), r.Grade, deref(r.Trend))
	}
	for _, want := range []string{"not enough data: 1 of 7 measures have data (need 3)", "no contacts synced", "no activities logged", "no renewal date"} {
		if !strings.Contains(r.NoScoreReason, want) {
			t.Errorf("reason %q lacks %q", r.NoScoreReason, want)
		}
	}
	if len(r.Reasons) != 1 || r.Reasons[0] != r.NoScoreReason {
		t.Errorf("reasons = %q", r.Reasons)
	}
	if _, ok := r.Value(OutputScore); ok {
		t.Error("Value(score) should be empty")
	}
}

func TestZeroWeightMeasureIgnored(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.Weights.Sentiment = 0
	cfg.MinMeasures = 2
	r := newScorer(t, cfg).Score(noContactAccount(), now, nil)
	if r.Score == nil || *r.Score != 100 {
		t.Fatalf("score %v, want 100 without sentiment", deref(r.Score))
	}
	cfg.MinMeasures = 3
	a := noContactAccount()
	a.Account.Adoption = nil
	if r := newScorer(t, cfg).Score(a, now, nil); r.Score != nil {
		t.Errorf("with one weighted measure left the score should be empty, got %v", *r.Score)
	}
}

func TestGradeBands(t *testing.T) {
	t.Parallel()
	b := DefaultConfig().Grades
	for _, tt := range []struct {
		score float64
		want  Grade
	}{{100, GradeGreen}, {70, GradeGreen}, {69.9, GradeYellow}, {40, GradeYellow}, {39.9, GradeRed}, {0, GradeRed}} {
		if got := b.Grade(tt.score); got != tt.want {
			t.Errorf("Grade(%v) = %s, want %s", tt.score, got, tt.want)
		}
	}
}

func TestTrend(t *testing.T) {
	t.Parallel()
	s := newScorer(t, DefaultConfig())
	tests := []struct {
		name    string
		history []ScorePoint
		want    *float64
	}{
		{"none", nil, nil},
		{"exactly 30 days", []ScorePoint{{ago(30), 70}, {ago(1), 10}}, fp(19)},
		{"nearest to 30 days wins", []ScorePoint{{ago(40), 10}, {ago(27), 60}, {ago(34), 20}}, fp(29)},
		{"outside tolerance", []ScorePoint{{ago(20), 60}, {ago(45), 60}}, nil},
		{"future points ignored", []ScorePoint{{now.Add(time.Hour), 0}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.Score(noContactAccount(), now, tt.history)
			if (tt.want == nil) != (r.Trend == nil) || (tt.want != nil && *tt.want != *r.Trend) {
				t.Errorf("trend = %v, want %v", deref(r.Trend), deref(tt.want))
			}
		})
	}
}

// The account of docs/scoring.md's example: an executive last seen 41 days ago,
// a renewal in 28 days.
func renewalGapAccount() AccountData {
	a := baseAccount()
	a.Adoption, a.AdoptionPrevious = fp(0.62), fp(0.64)
	a.CSMSentiment = fp(50)
	return AccountData{
		Account:  a,
		Owner:    &crm.User{ID: "U1", Name: "Dana Whitfield", Active: true},
		Contacts: []crm.Contact{person("E1", "Chief Nursing Officer"), person("U1", "Charge Nurse"), person("U2", "Scheduler")},
		Activities: []crm.Activity{
			meeting(ago(41), "E1"), meeting(ago(2), "U1"), emailIn(ago(3), "U1"), emailOut(ago(9), "U2"),
		},
		Opportunities: []crm.Opportunity{renewal("R1", now.AddDate(0, 0, 28), 60000)},
	}
}

func TestReasonsInCSMWords(t *testing.T) {
	t.Parallel()
	s := newScorer(t, DefaultConfig())
	r := s.Score(renewalGapAccount(), now, nil)
	if r.Score == nil || r.Grade == GradeGreen {
		t.Fatalf("score %v grade %s, want a non-green score", deref(r.Score), r.Grade)
	}
	if len(r.Reasons) < 2 || len(r.Reasons) > 3 {
		t.Fatalf("reasons = %q, want 2 or 3", r.Reasons)
	}
	// The renewal is near, so it comes first; no reason holds a day count
	// (it would change every day); a strength never reads as a problem.
	if r.Reasons[0] != "renewal on 29 Mar 2024" {
		t.Errorf("first reason %q, want the near renewal", r.Reasons[0])
	}
	for _, want := range []string{"no EBR on record"} {
		if !slices.ContainsFunc(r.Reasons, func(s string) bool { return strings.Contains(s, want) }) {
			t.Errorf("reasons %q lack %q", r.Reasons, want)
		}
	}
	for _, reason := range r.Reasons {
		if strings.Contains(reason, " days") {
			t.Errorf("reason %q holds a day count", reason)
		}
	}
	if !r.HasFlag(FlagRenewalExecGap) {
		t.Errorf("flags %v lack renewal_exec_gap", r.Flags)
	}
}

func TestReasonsGreenAccountNamesStrengths(t *testing.T) {
	t.Parallel()
	s := newScorer(t, DefaultConfig())
	r := s.Score(noContactAccount(), now, nil)
	if len(r.Reasons) != 2 || r.Reasons[0] != "strength: adoption 80%" || !strings.HasPrefix(r.Reasons[1], "strength: ") {
		t.Errorf("reasons = %q, want adoption first, both labelled as strengths", r.Reasons)
	}
}

func TestOverride(t *testing.T) {
	t.Parallel()
	s := newScorer(t, DefaultConfig())
	d := noContactAccount()
	d.Account.ScoreOverride = fp(35)
	d.Account.OverrideComment = "CFO said they are evaluating a competitor"
	d.Account.OverrideExpires = tp(now.AddDate(0, 0, 10))
	r := s.Score(d, now, nil)
	if r.Score == nil || *r.Score != 35 || r.Grade != GradeRed || r.ComputedScore == nil || *r.ComputedScore != 89 {
		t.Fatalf("override: score %v grade %s computed %v", deref(r.Score), r.Grade, deref(r.ComputedScore))
	}
	if !strings.Contains(r.Reasons[0], "evaluating a competitor") {
		t.Errorf("first reason %q should quote the CSM", r.Reasons[0])
	}
	d.Account.OverrideExpires = tp(ago(1))
	if r := s.Score(d, now, nil); *r.Score != 89 || r.Override != nil {
		t.Errorf("expired override still applied: %v", *r.Score)
	}
	d.Account.ScoreOverride, d.Account.OverrideExpires, d.Account.GradeOverride = nil, nil, "Yellow"
	if r := s.Score(d, now, nil); *r.Score != 89 || r.Grade != GradeYellow {
		t.Errorf("grade override: %v %s", *r.Score, r.Grade)
	}
	d.Account.GradeOverride = "Amber"
	if r := s.Score(d, now, nil); r.Override != nil || r.Grade != GradeGreen || strings.Contains(r.Reasons[0], "CSM") {
		t.Errorf("unreadable grade override applied: %+v %s %q", r.Override, r.Grade, r.Reasons)
	}
}

func TestScoreRejectsInvalidConfig(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.Relationship.HalfLifeDays = -1
	if _, err := Score(cfg, noContactAccount(), now, nil); err == nil || !strings.Contains(err.Error(), "half_life_days") {
		t.Errorf("Score with a bad config: %v", err)
	}
}

// Scoring as of an earlier instant ignores everything after it.
func TestReplayIgnoresLaterData(t *testing.T) {
	t.Parallel()
	s := newScorer(t, DefaultConfig())
	d := renewalGapAccount()
	earlier := now.AddDate(0, 0, -20)
	before := s.Score(d, earlier, nil)
	d.Activities = append(d.Activities, meeting(ago(5), "E1"), emailIn(ago(1), "U2"))
	d.Opportunities = append(d.Opportunities, crm.Opportunity{ID: "X9", Kind: crm.OpportunityExpansion, Amount: fp(1), CreatedAt: ago(10)})
	after := s.Score(d, earlier, nil)
	if *before.Score != *after.Score || before.Metrics.OpenExpansionPipeline != after.Metrics.OpenExpansionPipeline {
		t.Errorf("later data changed the replayed score: %v → %v", *before.Score, *after.Score)
	}
	if v := *after.Metrics.DaysSinceExecContact; v != 21 {
		t.Errorf("days_since_exec_contact as of 20 days ago = %d, want 21", v)
	}
}
