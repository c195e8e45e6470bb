package scoring

import (
	"fmt"
	"time"

	"healthsync/crm"
)

// Status is an account's customer status at one instant and the fact that
// decided it, in words ("latest renewal "Acme renewal 2025" lost on
// 2025-11-02").
type Status struct {
	Status crm.CustomerStatus `json:"status"`
	Why    string             `json:"why"`
	// Since is when a former customer left (churn date or the lost
	// renewal's close date), when known.
	Since *time.Time `json:"since,omitempty"`
}

// Live reports whether the account is a live customer.
func (s Status) Live() bool { return s.Status == crm.StatusCustomer }

// StatusAt decides whether the account was a prospect, a live customer or
// a former customer at t. The same rules serve scoring, the portfolio
// KPIs, the backtest and every command, so they all agree:
//
//  0. Before the account existed (its creation in the CRM, or an earlier
//     customer-since date or deal close date, for records imported from
//     an older system) it is not a customer of any kind: a prospect, in
//     no cohort and not scored.
//  1. A churn field set (with a churn date at or before t, or none) makes
//     a former customer.
//  2. The mapped status field (account type, lifecycle stage) holds its
//     value since the record's last modification, so it decides only from
//     then on: "former" makes a former customer, unless a deal was won
//     after the field was last changed.
//  3. The order of events: when the latest renewal closed by t was lost
//     and no deal was won after it, the customer left.
//  4. The status field saying "customer", a customer-since date at or
//     before t, a won deal by t or an open renewal make a live customer
//     (a customer-since date after t makes a prospect).
//  5. The status field saying "prospect" makes a prospect; otherwise an
//     account with ARR and no deal won after t is a paying customer, and
//     anything else is a prospect.
func StatusAt(a *crm.Account, opps []crm.Opportunity, t time.Time) Status {
	if from := ExistsFrom(a, opps); !from.IsZero() && t.Before(from) {
		return Status{Status: crm.StatusProspect, Why: "it did not exist yet: created in the CRM on " + longDate(from)}
	}
	if a.Churned && (a.ChurnedAt == nil || !a.ChurnedAt.After(t)) {
		s := Status{Status: crm.StatusFormer, Why: "marked as churned"}
		if a.ChurnedAt != nil && !a.ChurnedAt.IsZero() {
			d := crm.Date(*a.ChurnedAt)
			s.Since, s.Why = &d, "churned on "+longDate(d)
		}
		return s
	}
	var lastRenewal, lastWon *crm.Opportunity
	for i := range opps {
		o := &opps[i]
		if !o.IsClosed || o.CloseDate == nil || o.CloseDate.After(t) {
			continue
		}
		if o.Kind == crm.OpportunityRenewal && (lastRenewal == nil || o.CloseDate.After(*lastRenewal.CloseDate)) {
			lastRenewal = o
		}
		if o.IsWon && (lastWon == nil || o.CloseDate.After(*lastWon.CloseDate)) {
			lastWon = o
		}
	}
	fieldHolds := a.StatusValue != "" && (a.ModifiedAt.IsZero() || !t.Before(a.ModifiedAt))
	wonSinceField := lastWon != nil && !a.ModifiedAt.IsZero() && lastWon.CloseDate.After(a.ModifiedAt)
	if fieldHolds && a.Status == crm.StatusFormer && !wonSinceField {
		return Status{Status: crm.StatusFormer, Why: fmt.Sprintf("account status %q", a.StatusValue)}
	}
	if lastRenewal != nil && !lastRenewal.IsWon && (lastWon == nil || !lastWon.CloseDate.After(*lastRenewal.CloseDate)) {
		d := crm.Date(*lastRenewal.CloseDate)
		name := lastRenewal.Name
		if name == "" {
			name = string(lastRenewal.ID)
		}
		return Status{Status: crm.StatusFormer, Why: fmt.Sprintf("the latest renewal (%s) was lost on %s", name, longDate(d)), Since: &d}
	}
	if fieldHolds && a.Status == crm.StatusCustomer {
		return Status{Status: crm.StatusCustomer, Why: fmt.Sprintf("account status %q", a.StatusValue)}
	}
	if since := a.CustomerSince; since != nil && !since.IsZero() {
		if since.After(t) {
			return Status{Status: crm.StatusProspect, Why: "a customer only from " + longDate(crm.Date(*since))}
		}
		return Status{Status: crm.StatusCustomer, Why: "customer since " + longDate(crm.Date(*since))}
	}
	if lastWon != nil {
		return Status{Status: crm.StatusCustomer, Why: "a deal was won on " + longDate(crm.Date(*lastWon.CloseDate))}
	}
	wonLater := false
	for i := range opps {
		o := &opps[i]
		if o.Kind == crm.OpportunityRenewal && openAt(o, t) {
			return Status{Status: crm.StatusCustomer, Why: "a renewal is open"}
		}
		if o.IsWon {
			wonLater = true // closed after t: not a customer yet at t
		}
	}
	if fieldHolds && a.Status == crm.StatusProspect {
		return Status{Status: crm.StatusProspect, Why: fmt.Sprintf("account status %q", a.StatusValue)}
	}
	// No deal history by t: a customer only if it pays and no later won
	// deal says it signed after t.
	if !wonLater && a.ARR != nil && *a.ARR > 0 {
		return Status{Status: crm.StatusCustomer, Why: "it has ARR on record"}
	}
	return Status{Status: crm.StatusProspect, Why: "no won deal, no open renewal, no customer-since date and no ARR"}
}

// ExistsFrom is when the account began to exist for healthsync: its
// creation in the CRM, or earlier when the CRM itself dates it earlier (a
// customer-since date, or a deal closed before the creation: records
// migrated from an older system keep their own dates). Zero when the
// creation date is unknown: the account then counts as always existing.
func ExistsFrom(a *crm.Account, opps []crm.Opportunity) time.Time {
	from := a.CreatedAt
	if from.IsZero() {
		return time.Time{}
	}
	if s := a.CustomerSince; s != nil && !s.IsZero() && s.Before(from) {
		from = *s
	}
	for i := range opps {
		if c := opps[i].CloseDate; opps[i].IsClosed && c != nil && c.Before(from) {
			from = *c
		}
	}
	return from
}

// StatusWords is the status as a CSM reads it.
func StatusWords(s crm.CustomerStatus) string {
	switch s {
	case crm.StatusCustomer:
		return "live customer"
	case crm.StatusFormer:
		return "former customer"
	case crm.StatusProspect:
		return "prospect"
	}
	return "unknown"
}

// longDate renders a date as a CSM reads it: "2 Sep 2026".
func longDate(t time.Time) string { return t.UTC().Format("2 Jan 2006") }
