package scoring

import (
	"testing"
	"time"

	"healthsync/crm"
)

func TestAccountMetrics(t *testing.T) {
	t.Parallel()
	s := newScorer(t, DefaultConfig())
	exec := person("E1", "VP Operations")
	exec2 := person("E2", "Chief Nursing Officer")
	user := person("U1", "Charge Nurse")
	user2 := person("U2", "Scheduler")

	type check func(t *testing.T, m Metrics)
	intIs := func(name string, got *int, want *int) func(t *testing.T) {
		return func(t *testing.T) {
			t.Helper()
			switch {
			case want == nil && got != nil:
				t.Errorf("%s = %d, want empty", name, *got)
			case want != nil && (got == nil || *got != *want):
				t.Errorf("%s = %v, want %d", name, deref(got), *want)
			}
		}
	}
	tests := []struct {
		name string
		data AccountData
		chk  check
	}{
		{"no contacts", AccountData{Account: baseAccount()}, func(t *testing.T, m Metrics) {
			if m.Contacts != 0 || m.StrongUserRelationships != 0 || m.ExecRelationships != 0 {
				t.Errorf("counts = %+v", m)
			}
			intIs("days_since_user_contact", m.DaysSinceUserContact, nil)(t)
			intIs("days_since_exec_contact", m.DaysSinceExecContact, nil)(t)
			intIs("days_since_last_contact", m.DaysSinceLastContact, nil)(t)
		}},
		{"users and executives", AccountData{
			Account:  baseAccount(),
			Contacts: []crm.Contact{exec, exec2, user, user2},
			Activities: []crm.Activity{
				meeting(ago(41), "E1"), meeting(ago(2), "U1"), emailIn(ago(3), "U1"), emailOut(ago(5), "E2"),
				meeting(ago(1), "U2", "E2"),
			},
		}, func(t *testing.T, m Metrics) {
			if m.Contacts != 4 || m.Executives != 2 || m.Users != 2 {
				t.Errorf("contacts %d executives %d users %d", m.Contacts, m.Executives, m.Users)
			}
			// U1: meeting 2 days + inbound email: strong. U2: meeting: strong.
			if m.StrongUserRelationships != 2 || m.UserRelationships != 2 {
				t.Errorf("user relationships strong %d any %d, want 2 2", m.StrongUserRelationships, m.UserRelationships)
			}
			// E1: a meeting 41 days ago is weak; E2: meeting + email, strong.
			if m.ExecRelationships != 2 || m.StrongExecRelationships != 1 {
				t.Errorf("exec relationships %d strong %d, want 2 1", m.ExecRelationships, m.StrongExecRelationships)
			}
			intIs("days_since_exec_contact", m.DaysSinceExecContact, ip(1))(t)
			intIs("days_since_user_contact", m.DaysSinceUserContact, ip(1))(t)
			if m.ActivitiesLast30Days != 4 {
				t.Errorf("activities_last_30_days = %d, want 4", m.ActivitiesLast30Days)
			}
		}},
		{"executive contact only long ago", AccountData{
			Account:    baseAccount(),
			Contacts:   []crm.Contact{exec, user},
			Activities: []crm.Activity{meeting(ago(41), "E1"), emailIn(ago(2), "U1")},
		}, func(t *testing.T, m Metrics) {
			intIs("days_since_exec_contact", m.DaysSinceExecContact, ip(41))(t)
			intIs("days_since_user_contact", m.DaysSinceUserContact, ip(2))(t)
		}},
		{"deleted contact: absent, its activity counts only for the account", AccountData{
			Account:    baseAccount(),
			Contacts:   []crm.Contact{user},
			Activities: []crm.Activity{meeting(ago(3), "GONE")},
		}, func(t *testing.T, m Metrics) {
			intIs("days_since_user_contact", m.DaysSinceUserContact, nil)(t)
			intIs("days_since_last_contact", m.DaysSinceLastContact, ip(3))(t)
			if m.UserRelationships != 0 {
				t.Errorf("user relationships = %d, want 0", m.UserRelationships)
			}
		}},
		{"only future activities", AccountData{
			Account:    baseAccount(),
			Contacts:   []crm.Contact{exec},
			Activities: []crm.Activity{meeting(now.Add(48*time.Hour), "E1")},
		}, func(t *testing.T, m Metrics) {
			intIs("days_since_exec_contact", m.DaysSinceExecContact, nil)(t)
			intIs("days_since_last_contact", m.DaysSinceLastContact, nil)(t)
			if m.ActivitiesLast30Days != 0 {
				t.Errorf("activities_last_30_days = %d", m.ActivitiesLast30Days)
			}
		}},
		{"renewal from the earliest open renewal opportunity", AccountData{
			Account: baseAccount(),
			Opportunities: []crm.Opportunity{
				renewal("R2", now.AddDate(1, 0, 0), 70000),
				renewal("R1", now.AddDate(0, 0, 28), 60000),
				{ID: "X1", Kind: crm.OpportunityExpansion, Amount: fp(12000), CreatedAt: ago(10)},
				{ID: "X2", Kind: crm.OpportunityExpansion, Amount: fp(3000), CreatedAt: ago(10)},
				{ID: "X3", Kind: crm.OpportunityExpansion, Amount: fp(9999), CreatedAt: ago(10), IsClosed: true, IsWon: true, CloseDate: tp(crm.Date(ago(5)))},
				{ID: "X4", Kind: crm.OpportunityExpansion, Amount: fp(5555), CreatedAt: now.Add(time.Hour)},
			},
		}, func(t *testing.T, m Metrics) {
			intIs("days_to_renewal", m.DaysToRenewal, ip(28))(t)
			if m.RenewalAmount == nil || *m.RenewalAmount != 60000 || m.RenewalOpportunity != "R1" {
				t.Errorf("renewal amount %v from %q, want 60000 from R1", deref(m.RenewalAmount), m.RenewalOpportunity)
			}
			if got := m.NextRenewalDate.Format(time.DateOnly); got != "2024-03-29" {
				t.Errorf("next_renewal_date = %s", got)
			}
			if m.OpenExpansionPipeline != 15000 {
				t.Errorf("open_expansion_pipeline = %v, want 15000", m.OpenExpansionPipeline)
			}
		}},
		{"replay: a renewal closed after now was open then", AccountData{
			Account: baseAccount(),
			Opportunities: func() []crm.Opportunity {
				o := renewal("R1", now.AddDate(0, 0, 10), 60000)
				o.IsClosed, o.IsWon = true, true
				late := renewal("R9", now.AddDate(0, 0, 5), 1)
				late.CreatedAt = now.Add(time.Hour) // did not exist yet
				done := renewal("R0", now.AddDate(0, 0, -20), 1)
				done.IsClosed = true
				return []crm.Opportunity{o, late, done}
			}(),
		}, func(t *testing.T, m Metrics) {
			intIs("days_to_renewal", m.DaysToRenewal, ip(10))(t)
		}},
		{"renewal date field rolls forward from a leap day", AccountData{
			Account: func() crm.Account {
				a := baseAccount()
				a.RenewalDate = tp(time.Date(2020, 2, 29, 0, 0, 0, 0, time.UTC))
				return a
			}(),
		}, func(t *testing.T, m Metrics) {
			if got := m.NextRenewalDate.Format(time.DateOnly); got != "2025-02-28" {
				t.Errorf("next_renewal_date = %s, want 2025-02-28", got)
			}
			intIs("days_to_renewal", m.DaysToRenewal, ip(364))(t)
			if m.RenewalAmount == nil || *m.RenewalAmount != 50000 {
				t.Errorf("renewal_amount = %v, want the ARR 50000", deref(m.RenewalAmount))
			}
		}},
		{"renewal date today", AccountData{
			Account: func() crm.Account {
				a := baseAccount()
				a.RenewalDate = tp(time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC))
				return a
			}(),
		}, func(t *testing.T, m Metrics) {
			intIs("days_to_renewal", m.DaysToRenewal, ip(0))(t)
		}},
		{"adoption, sentiment, NPS, EBR", AccountData{
			Account: func() crm.Account {
				a := baseAccount()
				a.Adoption, a.AdoptionPrevious = fp(0.45), fp(0.6)
				a.CSMSentiment, a.NPS, a.CSAT = fp(50), fp(20), fp(80)
				return a
			}(),
			Contacts: []crm.Contact{exec},
			Activities: func() []crm.Activity {
				old := meeting(ago(200), "E1")
				old.EBR = true
				recent := meeting(ago(45), "E1")
				recent.EBR = true
				future := meeting(now.Add(72*time.Hour), "E1")
				future.EBR = true
				return []crm.Activity{old, recent, future}
			}(),
		}, func(t *testing.T, m Metrics) {
			if m.AdoptionTrend == nil || !near(*m.AdoptionTrend, -0.15) || m.AdoptionChange == nil || !near(*m.AdoptionChange, -0.25) {
				t.Errorf("adoption trend %v change %v, want -0.15 -0.25", deref(m.AdoptionTrend), deref(m.AdoptionChange))
			}
			if m.NPSNormalized == nil || *m.NPSNormalized != 60 {
				t.Errorf("nps_normalized = %v, want 60", deref(m.NPSNormalized))
			}
			intIs("days_since_last_ebr", m.DaysSinceLastEBR, ip(45))(t)
		}},
		{"segment and lifecycle from rules", AccountData{
			Account: func() crm.Account {
				a := baseAccount()
				a.Employees, a.ARR = ip(20), fp(150000)
				a.CustomerSince = tp(ago(40))
				return a
			}(),
		}, func(t *testing.T, m Metrics) {
			if m.Segment != "Enterprise" || m.LifecycleStage != "Onboarding" {
				t.Errorf("segment %q stage %q, want Enterprise Onboarding", m.Segment, m.LifecycleStage)
			}
			intIs("days_as_customer", m.DaysAsCustomer, ip(40))(t)
		}},
		{"mapped segment and stage win over rules", AccountData{
			Account: func() crm.Account {
				a := baseAccount()
				a.Segment, a.LifecycleStage = "Strategic", "Advocacy"
				return a
			}(),
		}, func(t *testing.T, m Metrics) {
			if m.Segment != "Strategic" || m.LifecycleStage != "Advocacy" {
				t.Errorf("segment %q stage %q", m.Segment, m.LifecycleStage)
			}
		}},
		{"small account, renewal stage", AccountData{
			Account: func() crm.Account {
				a := baseAccount()
				a.Employees, a.ARR = ip(12), fp(8000)
				return a
			}(),
			Opportunities: []crm.Opportunity{renewal("R1", now.AddDate(0, 0, 60), 8000)},
		}, func(t *testing.T, m Metrics) {
			if m.Segment != "SMB" || m.LifecycleStage != "Renewal" {
				t.Errorf("segment %q stage %q, want SMB Renewal", m.Segment, m.LifecycleStage)
			}
		}},
		{"customer since from the first won deal", AccountData{
			Account: baseAccount(),
			Opportunities: []crm.Opportunity{
				{ID: "N1", Kind: crm.OpportunityNew, IsClosed: true, IsWon: true, CloseDate: tp(crm.Date(ago(400)))},
				{ID: "N0", Kind: crm.OpportunityNew, IsClosed: true, IsWon: false, CloseDate: tp(crm.Date(ago(900)))},
			},
		}, func(t *testing.T, m Metrics) {
			intIs("days_as_customer", m.DaysAsCustomer, ip(400))(t)
			if m.LifecycleStage != "Adoption" {
				t.Errorf("stage %q, want the default Adoption", m.LifecycleStage)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := s.computeMetrics(&tt.data, now)
			tt.chk(t, m)
		})
	}
}

func TestMetricValueByName(t *testing.T) {
	t.Parallel()
	s := newScorer(t, DefaultConfig())
	a := baseAccount()
	a.Adoption = fp(0.5)
	r := s.Score(AccountData{
		Account:       a,
		Contacts:      []crm.Contact{person("E1", "CEO")},
		Activities:    []crm.Activity{meeting(ago(41), "E1")},
		Opportunities: []crm.Opportunity{renewal("R1", now.AddDate(0, 0, 28), 60000)},
	}, now, nil)
	for _, name := range OutputNames() {
		if _, known := MetricKind(name); !known {
			t.Errorf("OutputNames lists %q but MetricKind does not know it", name)
		}
		v, ok := r.Value(name)
		if ok {
			if k, _ := MetricKind(name); k != v.Kind {
				t.Errorf("Value(%q) kind %d, MetricKind says %d", name, v.Kind, k)
			}
		}
	}
	if v, ok := r.Value(MetricDaysSinceExecContact); !ok || v.Number != 41 || v.String() != "41" {
		t.Errorf("Value(days_since_exec_contact) = %+v %v", v, ok)
	}
	if v, ok := r.Value(MetricNextRenewalDate); !ok || v.String() != "2024-03-29" {
		t.Errorf("Value(next_renewal_date) = %v %v", v, ok)
	}
	if _, ok := r.Value(MetricCSAT); ok {
		t.Error("Value(csat) should be empty when not mapped")
	}
	if _, ok := r.Value("no_such_metric"); ok {
		t.Error("Value of an unknown name should not be ok")
	}
	if v, ok := r.Value(OutputFlags); !ok || v.Text == "" {
		t.Errorf("Value(flags) = %v %v", v, ok)
	}
	if v, ok := r.Value("measure.adoption"); !ok || v.Number != 57.1 {
		t.Errorf("Value(measure.adoption) = %v %v, want 57.1", v, ok)
	}
}

func deref[T any](p *T) any {
	if p == nil {
		return "empty"
	}
	return *p
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }
