package scoring

import (
	"math"
	"time"

	"healthsync/crm"
)

// Level is a relationship's strength band.
type Level int

// Levels, weakest first.
const (
	LevelNone Level = iota
	LevelWeak
	LevelStrong
	LevelVeryStrong
)

// String returns the level's name: none, weak, strong, very_strong.
func (l Level) String() string {
	switch l {
	case LevelWeak:
		return "weak"
	case LevelStrong:
		return "strong"
	case LevelVeryStrong:
		return "very_strong"
	}
	return "none"
}

// MarshalText writes the level's name, for JSON.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// ContactRelationship is what the scorer knows about one contact: the
// details behind the account's relationship metrics.
type ContactRelationship struct {
	ContactID crm.ContactID `json:"contact_id"`
	Name      string        `json:"name"`
	Title     string        `json:"title,omitempty"`
	Role      Role          `json:"role"`
	// Strength is the recency-weighted points of the contact's activities.
	Strength float64 `json:"strength"`
	Level    Level   `json:"level"`
	// TwoWay: the contact met or spoke with us, or both wrote and answered.
	TwoWay bool `json:"two_way"`
	// OneWay: nothing shows the contact engaged (only our emails or tasks);
	// such a relationship is capped at weak.
	OneWay bool `json:"one_way"`
	// LastContact is the newest completed activity with the contact at or
	// before the scoring instant; nil when never.
	LastContact      *time.Time `json:"last_contact,omitempty"`
	DaysSinceContact *int       `json:"days_since_contact,omitempty"`
	// Counts of the activities that happened within the lookback window.
	Meetings       int `json:"meetings"`
	Calls          int `json:"calls"`
	EmailsInbound  int `json:"emails_inbound"`
	EmailsOutbound int `json:"emails_outbound"`
	Tasks          int `json:"tasks"`
}

// Strong reports whether the relationship is strong or very strong.
func (r ContactRelationship) Strong() bool { return r.Level >= LevelStrong }

// contactAcc accumulates one contact's activities.
type contactAcc struct {
	strength           float64
	inbound, outbound  bool
	conversation       bool // a meeting, event or call
	last               time.Time
	meetings, calls    int
	emailsIn, emailOut int
	tasks              int
}

// happenedAt returns when an activity took place and whether it counts as
// completed at now: open tasks, activities in the future and undated ones
// do not count, nor do the tasks healthsync itself created. A completed
// task counts from its completion time.
func happenedAt(a *crm.Activity, now time.Time) (time.Time, bool) {
	if a.Healthsync {
		return time.Time{}, false // our own follow-up task, not contact with the customer
	}
	when := a.OccurredAt
	switch a.Kind {
	case crm.ActivityTask:
		if !a.Completed {
			return time.Time{}, false
		}
		if a.CompletedAt != nil && !a.CompletedAt.IsZero() {
			when = *a.CompletedAt
		}
	case crm.ActivityNote:
		return time.Time{}, false
	}
	if when.IsZero() || when.After(now) {
		return time.Time{}, false
	}
	return when, true
}

// add counts one happened activity, age days old, into the accumulator.
func (acc *contactAcc) add(rc *RelationshipConfig, a *crm.Activity, when time.Time, ageDays float64) {
	if when.After(acc.last) {
		acc.last = when
	}
	if ageDays > float64(rc.LookbackDays) {
		return
	}
	var points float64
	switch a.Kind {
	case crm.ActivityMeeting, crm.ActivityEvent:
		points = rc.MeetingPoints
		acc.meetings++
		acc.conversation = true
	case crm.ActivityCall:
		points = rc.CallPoints
		acc.calls++
		acc.conversation = true
	case crm.ActivityEmail:
		points = rc.EmailPoints
		if a.Direction == crm.DirectionInbound {
			acc.emailsIn++
		} else {
			acc.emailOut++
		}
	case crm.ActivityTask:
		points = rc.TaskPoints
		acc.tasks++
	}
	switch a.Direction {
	case crm.DirectionInbound:
		acc.inbound = true
		points *= rc.InboundMultiplier
	case crm.DirectionOutbound:
		acc.outbound = true
	}
	if ageDays < 0 {
		ageDays = 0
	}
	acc.strength += points * math.Exp2(-ageDays/rc.HalfLifeDays)
}

// finish turns the accumulator into a relationship.
func (acc *contactAcc) finish(rc *RelationshipConfig, c *crm.Contact, role Role, now time.Time) ContactRelationship {
	r := ContactRelationship{
		ContactID: c.ID, Name: c.Name(), Title: c.Title, Role: role,
		Meetings: acc.meetings, Calls: acc.calls, EmailsInbound: acc.emailsIn,
		EmailsOutbound: acc.emailOut, Tasks: acc.tasks,
	}
	r.TwoWay = acc.conversation || (acc.inbound && acc.outbound)
	r.OneWay = !acc.conversation && !acc.inbound
	s := acc.strength
	if r.TwoWay {
		s *= rc.TwoWayMultiplier
	}
	r.Strength = math.Round(s*100) / 100
	switch {
	case s >= rc.VeryStrongMin:
		r.Level = LevelVeryStrong
	case s >= rc.StrongMin:
		r.Level = LevelStrong
	case s >= rc.WeakMin:
		r.Level = LevelWeak
	}
	if r.OneWay && r.Level > LevelWeak {
		r.Level = LevelWeak
	}
	if !acc.last.IsZero() {
		last := crm.Normalize(acc.last)
		d := crm.DaysBetween(last, now)
		r.LastContact, r.DaysSinceContact = &last, &d
	}
	return r
}
