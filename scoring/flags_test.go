package scoring

import (
	"math"
	"slices"
	"strings"
	"testing"

	"healthsync/crm"
)

// withNoEBRRule adds a custom flag with its own task subject.
func withNoEBRRule(cfg Config) Config {
	cfg.CustomFlags = append(cfg.CustomFlags, FlagRule{
		Name:        "no_ebr",
		Description: "no executive business review in six months",
		When:        []Condition{{Metric: MetricDaysSinceLastEBR, Op: ">", Value: 180, IfMissing: true}},
		Task:        TaskSpec{Subject: "Schedule an EBR", DueInDays: 14, Priority: crm.PriorityNormal},
	})
	return cfg
}

func TestFlags(t *testing.T) {
	t.Parallel()
	cfg := withNoEBRRule(DefaultConfig())
	s := newScorer(t, cfg)
	disabled := cfg
	disabled.Flags.RenewalExecGap.Disabled = true
	disabled.Flags.SingleThreaded.Disabled = true
	sOff := newScorer(t, disabled)

	// base has nothing that raises a flag.
	base := func() Metrics {
		return Metrics{Segment: "SMB", Contacts: 3, Executives: 1, Activities: 12, StrongExecRelationships: 1, StrongUserRelationships: 1,
			ExecRelationships: 1, UserRelationships: 1,
			DaysSinceExecContact: ip(3), DaysSinceUserContact: ip(3), DaysSinceLastEBR: ip(30)}
	}
	// The days and the dates they stand for, as computeMetrics sets both.
	renewalIn := func(m *Metrics, d int) {
		m.DaysToRenewal, m.NextRenewalDate = ip(d), tp(day(2024, 3, 1).AddDate(0, 0, d))
	}
	execAgo := func(m *Metrics, d int) {
		m.DaysSinceExecContact, m.LastExecContactDate = ip(d), tp(day(2024, 3, 1).AddDate(0, 0, -d))
	}
	tests := []struct {
		name   string
		scorer *Scorer
		mutate func(m *Metrics)
		want   []string
		words  string // a phrase the first flag's description must hold
		action string // the first flag's action, when set
	}{
		{"nothing", s, func(*Metrics) {}, nil, "", ""},
		{"renewal 28 days, exec 41 days", s, func(m *Metrics) { renewalIn(m, 28); execAgo(m, 41) },
			[]string{FlagRenewalExecGap}, "renewal on 29 Mar 2024 and no executive contact since 20 Jan 2024", "Reach an executive before the renewal"},
		{"renewal at the edge: 90 days, exec 15 days", s, func(m *Metrics) { renewalIn(m, 90); execAgo(m, 15) },
			[]string{FlagRenewalExecGap}, "", ""},
		{"renewal 91 days", s, func(m *Metrics) { renewalIn(m, 91); execAgo(m, 41) }, nil, "", ""},
		{"exec contact 14 days", s, func(m *Metrics) { renewalIn(m, 28); execAgo(m, 14) }, nil, "", ""},
		{"never any exec contact", s, func(m *Metrics) { renewalIn(m, 60); m.DaysSinceExecContact = nil },
			[]string{FlagRenewalExecGap}, "no executive contact on record", ""},
		{"no executive among the contacts", s, func(m *Metrics) { renewalIn(m, 60); m.Executives, m.DaysSinceExecContact = 0, nil },
			[]string{FlagRenewalExecGap}, "no executive among the contacts", ""},
		{"overdue renewal", s, func(m *Metrics) { renewalIn(m, -5); execAgo(m, 20) },
			[]string{FlagRenewalExecGap}, "renewal overdue since 25 Feb 2024", ""},
		{"renewal gap without contacts synced: a data gap, no flag", s, func(m *Metrics) { renewalIn(m, 28); execAgo(m, 41); m.Contacts = 0 }, nil, "", ""},
		{"renewal gap without activities logged: a data gap, no flag", s, func(m *Metrics) { renewalIn(m, 28); m.DaysSinceExecContact, m.Activities = nil, 0 }, nil, "", ""},
		{"enterprise with one strong exec", s, func(m *Metrics) { m.Segment = "Enterprise" },
			[]string{FlagSingleThreaded}, "Enterprise account with one strong executive relationship (needs 2)", "Build a second executive relationship"},
		{"enterprise with none", s, func(m *Metrics) { m.Segment, m.StrongExecRelationships, m.ExecRelationships = "Enterprise", 0, 0 },
			[]string{FlagSingleThreaded}, "", "Build executive relationships (2 needed)"},
		{"enterprise with two", s, func(m *Metrics) { m.Segment, m.StrongExecRelationships, m.ExecRelationships = "Enterprise", 2, 2 }, nil, "", ""},
		{"SMB with a weak executive relationship", s, func(m *Metrics) { m.StrongExecRelationships = 0 }, nil, "", ""},
		{"SMB with none", s, func(m *Metrics) { m.StrongExecRelationships, m.ExecRelationships = 0, 0 }, []string{FlagSingleThreaded},
			"SMB account with no executive relationships (needs 1)", "Build an executive relationship"},
		{"SMB with none and no contacts synced", s, func(m *Metrics) { m.StrongExecRelationships, m.ExecRelationships, m.Contacts = 0, 0, 0 }, nil, "", ""},
		{"unknown segment uses the default", s, func(m *Metrics) { m.Segment, m.StrongExecRelationships, m.ExecRelationships = "Public sector", 0, 0 }, []string{FlagSingleThreaded}, "", ""},
		{"strong adoption, no user relationship", s, func(m *Metrics) { m.Adoption, m.StrongUserRelationships, m.UserRelationships = fp(0.75), 0, 0 },
			[]string{FlagChampionOpportunity}, "adoption 75% but no user relationships", "Turn active users into champions"},
		{"strong adoption, a weak user relationship", s, func(m *Metrics) { m.Adoption, m.StrongUserRelationships = fp(0.75), 0 }, nil, "", ""},
		{"strong adoption with a champion", s, func(m *Metrics) { m.Adoption = fp(0.75) }, nil, "", ""},
		{"weak adoption, no user relationship", s, func(m *Metrics) { m.Adoption, m.StrongUserRelationships, m.UserRelationships = fp(0.5), 0, 0 }, nil, "", ""},
		{"adoption fell, no user contact for 35 days", s, func(m *Metrics) {
			m.Adoption, m.AdoptionPrevious, m.AdoptionChange, m.DaysSinceUserContact = fp(0.4), fp(0.6), fp(-1.0/3), ip(35)
			m.LastUserContactDate = tp(day(2024, 1, 26))
		}, []string{FlagAdoptionEmergency}, "adoption fell 33% (from 60% to 40%) and no user contact since 26 Jan 2024", "Emergency outreach"},
		{"adoption fell, recent user contact", s, func(m *Metrics) {
			m.Adoption, m.AdoptionPrevious, m.AdoptionChange, m.DaysSinceUserContact = fp(0.4), fp(0.6), fp(-1.0/3), ip(10)
		}, nil, "", ""},
		{"adoption dipped 5%", s, func(m *Metrics) {
			m.Adoption, m.AdoptionPrevious, m.AdoptionChange, m.DaysSinceUserContact = fp(0.57), fp(0.6), fp(-0.05), nil
		}, nil, "", ""},
		{"custom: no EBR ever", s, func(m *Metrics) { m.DaysSinceLastEBR = nil }, []string{"no_ebr"}, "no executive business review in six months", ""},
		{"custom: EBR 200 days ago", s, func(m *Metrics) { m.DaysSinceLastEBR = ip(200) }, []string{"no_ebr"}, "", ""},
		{"custom rule on a non-relationship metric fires without contacts", s, func(m *Metrics) { m.DaysSinceLastEBR, m.Contacts = nil, 0 }, []string{"no_ebr"}, "", ""},
		{"disabled defaults", sOff, func(m *Metrics) {
			renewalIn(m, 28)
			execAgo(m, 41)
			m.StrongExecRelationships = 0
		}, nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := base()
			tt.mutate(&m)
			flags := tt.scorer.computeFlags(&m)
			var names []string
			for _, f := range flags {
				names = append(names, f.Name)
				if len(f.Evidence) == 0 || f.Task.Subject == "" || f.Description == "" {
					t.Errorf("flag %s lacks evidence, task or description: %+v", f.Name, f)
				}
			}
			if !slices.Equal(names, tt.want) {
				t.Fatalf("flags = %v, want %v", names, tt.want)
			}
			if tt.words != "" && !strings.Contains(flags[0].Description, tt.words) {
				t.Errorf("description %q lacks %q", flags[0].Description, tt.words)
			}
			if tt.action != "" && flags[0].Action != tt.action {
				t.Errorf("action %q, want %q", flags[0].Action, tt.action)
			}
		})
	}
}

func TestFlagEvidenceNumbers(t *testing.T) {
	t.Parallel()
	s := newScorer(t, DefaultConfig())
	r := s.Score(renewalGapAccount(), now, nil)
	var gap *Flag
	for i := range r.Flags {
		if r.Flags[i].Name == FlagRenewalExecGap {
			gap = &r.Flags[i]
		}
	}
	if gap == nil {
		t.Fatalf("no renewal_exec_gap in %+v", r.Flags)
	}
	got := []string{gap.Evidence[0].String(), gap.Evidence[1].String()}
	want := []string{"days_to_renewal = 28 (<= 90)", "days_since_exec_contact = 41 (>= 15)"}
	if !slices.Equal(got, want) {
		t.Errorf("evidence = %q, want %q", got, want)
	}
	if gap.Task.DueInDays != 2 || gap.Task.Priority != "high" {
		t.Errorf("task = %+v", gap.Task)
	}
}

func TestBrokenNumbersCountAsMissing(t *testing.T) {
	t.Parallel()
	d := noContactAccount()
	nan := math.NaN()
	d.Account.Adoption = &nan
	r := newScorer(t, DefaultConfig()).Score(d, now, nil)
	if r.Metrics.Adoption != nil {
		t.Errorf("NaN adoption kept: %v", *r.Metrics.Adoption)
	}
	if r.Score != nil {
		t.Errorf("score %v from two measures; want none", *r.Score)
	}
}
