package mapping

import (
	"strings"
	"time"

	"healthsync/crm"
)

// activityValues are the canonical activity fields classification rules
// test.
type activityValues map[string]string

func (m Match) matches(v activityValues) bool {
	s := v[m.Field]
	for _, e := range m.Equals {
		if strings.EqualFold(strings.TrimSpace(e), s) {
			return true
		}
	}
	return m.Matches.MatchString(s)
}

// Salesforce ID prefixes of the records an activity can point at.
const (
	sfContactPrefix     = "003"
	sfOpportunityPrefix = "006"
)

// HubSpot email statuses that mean the email did not reach the customer.
var hsEmailNotSent = map[string]bool{"SCHEDULED": true, "SENDING": true, "FAILED": true, "BOUNCED": true}

// HubSpot meeting outcomes that mean the meeting did not take place.
var hsMeetingNotHeld = map[string]bool{"NO_SHOW": true, "CANCELED": true, "CANCELLED": true, "RESCHEDULED": true}

func (m *Mapping) mapActivity(r *reader, info objectInfo, id string, modified time.Time) crm.Activity {
	f := m.cfg.Fields.Activity[info.name]
	vals := activityValues{
		"subject":   r.str(f.Subject),
		"type":      r.str(f.Type),
		"subtype":   r.str(f.Subtype),
		"status":    r.str(f.Status),
		"direction": r.str(f.Direction),
		"outcome":   r.str(f.Outcome),
	}
	a := crm.Activity{
		ID:         crm.ActivityID(id),
		Kind:       info.activity,
		Subject:    vals["subject"],
		Status:     vals["status"],
		AccountID:  crm.AccountID(r.id(f.AccountID)),
		OwnerID:    crm.UserID(r.id(f.OwnerID)),
		ModifiedAt: modified,
	}
	if a.Kind == "" {
		a.Kind = m.activityKind(vals)
	}
	occurred := r.instant(f.OccurredAt)
	completedAt := r.instant(f.CompletedAt)

	// Links: Salesforce WhoId/WhatId by ID prefix, HubSpot associations.
	switch m.sys {
	case crm.Salesforce:
		if who := r.id(f.ContactID); who != "" && (f.ContactID != "WhoId" || strings.HasPrefix(who, sfContactPrefix)) {
			a.ContactIDs = []crm.ContactID{crm.ContactID(who)}
		}
		if what := r.id(f.WhatID); strings.HasPrefix(what, sfOpportunityPrefix) {
			a.OpportunityID = crm.OpportunityID(what)
		}
	case crm.HubSpot:
		if a.AccountID == "" {
			if ids := r.associations(HSCompanies); len(ids) > 0 {
				a.AccountID = crm.AccountID(ids[0])
			}
		}
		if c := r.id(f.ContactID); c != "" {
			a.ContactIDs = []crm.ContactID{crm.ContactID(c)}
		} else {
			for _, c := range r.associations(HSContacts) {
				a.ContactIDs = append(a.ContactIDs, crm.ContactID(c))
			}
		}
		if ids := r.associations(HSDeals); len(ids) > 0 {
			a.OpportunityID = crm.OpportunityID(ids[0])
		}
	}

	// Direction.
	switch a.Kind {
	case crm.ActivityEmail:
		a.Direction = m.emailDirection(vals)
	case crm.ActivityCall:
		a.Direction = m.callDirection[strings.ToLower(vals["direction"])]
	}

	// Completion.
	now := m.clock.Now()
	completed, set := r.boolean(f.Completed)
	if !set {
		completed = m.inferCompleted(info, a.Kind, vals, occurred, now)
	}
	a.Completed = completed

	// When it happened: the completion time for completed work, else the
	// activity's own time (a task's due date), else the record's last
	// modification as a last resort so it never sorts as ancient.
	switch {
	case occurred != nil:
		a.OccurredAt = *occurred
	case completedAt != nil:
		a.OccurredAt = *completedAt
	default:
		a.OccurredAt = modified
	}
	if a.Completed {
		switch {
		case completedAt != nil:
			a.CompletedAt = completedAt
		case a.Kind != crm.ActivityTask:
			t := a.OccurredAt
			a.CompletedAt = &t
		}
		if a.Kind == crm.ActivityTask && a.CompletedAt != nil {
			a.OccurredAt = *a.CompletedAt
		}
	}
	a.EBR = m.isEBR(a.Kind, vals)
	return a
}

// inferCompleted decides completion when the record has no completed flag.
func (m *Mapping) inferCompleted(info objectInfo, kind crm.ActivityKind, vals activityValues, occurred *time.Time, now time.Time) bool {
	status := vals["status"]
	inPast := occurred != nil && !occurred.After(now)
	switch {
	case m.sys == crm.Salesforce && info.name == SFEvent:
		return inPast
	case m.sys == crm.Salesforce:
		return m.completedStatuses[strings.ToLower(status)]
	case info.name == HSMeetings:
		outcome := strings.ToUpper(vals["outcome"])
		if outcome == "COMPLETED" {
			return true
		}
		if hsMeetingNotHeld[outcome] {
			return false
		}
		return inPast
	case info.name == HSEmails:
		return !hsEmailNotSent[strings.ToUpper(status)]
	case info.name == HSCalls:
		return status == "" || m.completedStatuses[strings.ToLower(status)]
	case info.name == HSNotes:
		return true
	}
	// HubSpot tasks, and any other object: only an explicit status.
	return m.completedStatuses[strings.ToLower(status)]
}

func (m *Mapping) activityKind(vals activityValues) crm.ActivityKind {
	for _, rule := range m.cfg.Classify.Activities.Kinds {
		if rule.matches(vals) {
			return crm.ActivityKind(rule.Kind)
		}
	}
	return crm.ActivityTask
}

func (m *Mapping) emailDirection(vals activityValues) crm.Direction {
	rules := m.cfg.Classify.Activities
	for _, rule := range rules.EmailDirection {
		if rule.matches(vals) {
			return toDirection(rule.Direction)
		}
	}
	return toDirection(rules.DefaultEmailDirection)
}

func toDirection(s string) crm.Direction {
	switch s {
	case "inbound":
		return crm.DirectionInbound
	case "outbound":
		return crm.DirectionOutbound
	}
	return crm.DirectionUnknown
}

// isEBR recognises executive business reviews among meetings, events and
// calls, by type or subject.
func (m *Mapping) isEBR(kind crm.ActivityKind, vals activityValues) bool {
	switch kind {
	case crm.ActivityMeeting, crm.ActivityEvent, crm.ActivityCall:
	default:
		return false
	}
	if t := strings.ToLower(vals["type"]); t != "" && m.ebrTypes[t] {
		return true
	}
	return m.cfg.Classify.Activities.EBR.Subject.MatchString(vals["subject"])
}
