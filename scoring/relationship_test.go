package scoring

import (
	"testing"
	"time"

	"healthsync/crm"
)

func TestRole(t *testing.T) {
	t.Parallel()
	m, err := newRoleMatcher(DefaultConfig().Roles)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		title, seniority string
		want             Role
	}{
		{"Director of Nursing", "", RoleExecutive},
		{"Head of Clinical Operations", "", RoleExecutive},
		{"VP Engineering", "", RoleExecutive},
		{"Vice President, Sales", "", RoleExecutive},
		{"SVP Finance", "", RoleExecutive},
		{"Chief Medical Officer", "", RoleExecutive},
		{"CFO", "", RoleExecutive},
		{"cto", "", RoleExecutive},
		{"President", "", RoleExecutive},
		{"Co-Founder", "", RoleExecutive},
		{"Owner", "", RoleExecutive},
		{"Managing Partner", "", RoleExecutive},
		{"Nurse", "", RoleUser},
		{"Billing Specialist", "", RoleUser},
		{"Executive Assistant to the CEO", "", RoleUser},
		{"Product Owner", "", RoleUser},
		{"Partner Manager", "", RoleUser},
		{"Account Manager", "Director", RoleExecutive},
		{"", "C-Level", RoleExecutive},
		{"", "", RoleUser},
		{"Directory Admin", "", RoleUser},
		{"Cook", "", RoleUser}, // "co" inside a word is not a CxO
	}
	for _, tt := range tests {
		got := m.role(crm.Contact{Title: tt.title, Seniority: tt.seniority})
		if got != tt.want {
			t.Errorf("role(%q, %q) = %s, want %s", tt.title, tt.seniority, got, tt.want)
		}
	}
}

func TestContactRelationship(t *testing.T) {
	t.Parallel()
	s := newScorer(t, DefaultConfig())
	inTZ := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name       string
		acts       []crm.Activity
		wantLevel  Level
		wantStr    float64
		wantOneWay bool
		wantTwoWay bool
		wantDays   *int // nil: never contacted
	}{
		{"no activities", nil, LevelNone, 0, true, false, nil},
		{"one outbound email today", []crm.Activity{emailOut(now, "C1")}, LevelWeak, 1, true, false, ip(0)},
		{"only outbound email is never strong", []crm.Activity{
			emailOut(ago(0), "C1"), emailOut(ago(1), "C1"), emailOut(ago(2), "C1"), emailOut(ago(3), "C1"),
			emailOut(ago(4), "C1"), emailOut(ago(5), "C1"), emailOut(ago(6), "C1"), emailOut(ago(7), "C1"),
		}, LevelWeak, 7.39, true, false, ip(0)},
		{"inbound counts double", []crm.Activity{emailIn(now, "C1")}, LevelWeak, 2, false, false, ip(0)},
		{"two-way email", []crm.Activity{emailIn(now, "C1"), emailOut(now, "C1")}, LevelStrong, 4.5, false, true, ip(0)},
		{"meeting today", []crm.Activity{meeting(now, "C1")}, LevelStrong, 4.5, false, true, ip(0)},
		{"meeting one half-life ago", []crm.Activity{meeting(ago(30), "C1")}, LevelWeak, 2.25, false, true, ip(30)},
		{"three meetings", []crm.Activity{meeting(ago(1), "C1"), meeting(ago(2), "C1"), meeting(ago(3), "C1")}, LevelVeryStrong, 12.89, false, true, ip(1)},
		{"future meeting ignored", []crm.Activity{meeting(now.Add(time.Hour), "C1")}, LevelNone, 0, true, false, nil},
		{"open task ignored", []crm.Activity{task(false, ago(1), "C1")}, LevelNone, 0, true, false, nil},
		{"completed task", []crm.Activity{task(true, ago(0), "C1")}, LevelWeak, 0.5, true, false, ip(0)},
		{"completed later than now does not count", func() []crm.Activity {
			a := task(true, ago(5), "C1")
			a.CompletedAt = tp(now.Add(24 * time.Hour))
			return []crm.Activity{a}
		}(), LevelNone, 0, true, false, nil},
		{"note ignored", []crm.Activity{act(crm.ActivityNote, "", now, "C1")}, LevelNone, 0, true, false, nil},
		{"older than lookback: last contact only", []crm.Activity{meeting(ago(400), "C1")}, LevelNone, 0, true, false, ip(400)},
		{"duplicate contact id counted once", []crm.Activity{meeting(now, "C1", "C1")}, LevelStrong, 4.5, false, true, ip(0)},
		{"other contact's activity", []crm.Activity{meeting(now, "C2")}, LevelNone, 0, true, false, nil},
		// 06:00 at UTC−8 is 14:00 UTC, after now (12:00 UTC): in the future.
		{"time zone: future in UTC", []crm.Activity{meeting(inTZ("2024-03-01T06:00:00-08:00"), "C1")}, LevelNone, 0, true, false, nil},
		// 03:00 at UTC+5 on 1 March is 22:00 UTC on the leap day: one day ago.
		{"time zone and leap day", []crm.Activity{meeting(inTZ("2024-03-01T03:00:00+05:00"), "C1")}, LevelStrong, 4.44, false, true, ip(1)},
		{"inbound call", []crm.Activity{act(crm.ActivityCall, crm.DirectionInbound, now, "C1")}, LevelStrong, 6, false, true, ip(0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := AccountData{Account: baseAccount(), Contacts: []crm.Contact{person("C1", "Nurse")}, Activities: tt.acts}
			_, rels := s.computeMetrics(&d, now)
			r := rels[0]
			if r.Level != tt.wantLevel || r.Strength != tt.wantStr || r.OneWay != tt.wantOneWay || r.TwoWay != tt.wantTwoWay {
				t.Errorf("got level %s strength %v one-way %v two-way %v; want %s %v %v %v",
					r.Level, r.Strength, r.OneWay, r.TwoWay, tt.wantLevel, tt.wantStr, tt.wantOneWay, tt.wantTwoWay)
			}
			switch {
			case tt.wantDays == nil && r.DaysSinceContact != nil:
				t.Errorf("days since contact = %d, want never", *r.DaysSinceContact)
			case tt.wantDays != nil && (r.DaysSinceContact == nil || *r.DaysSinceContact != *tt.wantDays):
				t.Errorf("days since contact = %v, want %d", r.DaysSinceContact, *tt.wantDays)
			}
			if r.LastContact != nil && r.LastContact.After(now) {
				t.Errorf("last contact %v is after now", r.LastContact)
			}
		})
	}
}
