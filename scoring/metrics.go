package scoring

import (
	"math"
	"sort"
	"time"

	"healthsync/crm"
)

// Metrics are the per-account metrics of docs/scoring.md as of one instant. A nil
// pointer means "no value" (never happened, or not mapped).
type Metrics struct {
	Contacts                int `json:"contacts"`
	Executives              int `json:"executives"`
	Users                   int `json:"users"`
	UserRelationships       int `json:"user_relationships"`
	StrongUserRelationships int `json:"strong_user_relationships"`
	ExecRelationships       int `json:"exec_relationships"`
	StrongExecRelationships int `json:"strong_exec_relationships"`

	DaysSinceUserContact *int       `json:"days_since_user_contact"`
	DaysSinceExecContact *int       `json:"days_since_exec_contact"`
	DaysSinceLastContact *int       `json:"days_since_last_contact"`
	LastContactDate      *time.Time `json:"last_contact_date"`
	LastExecContactDate  *time.Time `json:"last_exec_contact_date"`
	LastUserContactDate  *time.Time `json:"last_user_contact_date"`
	ActivitiesLast30Days int        `json:"activities_last_30_days"`
	// Activities counts every completed activity with the account up to
	// now (healthsync's own tasks excluded); none means the relationship
	// measures and flags have no data to go on.
	Activities int `json:"activities"`

	NextRenewalDate *time.Time `json:"next_renewal_date"`
	DaysToRenewal   *int       `json:"days_to_renewal"`
	RenewalAmount   *float64   `json:"renewal_amount"`
	// RenewalOpportunity is the open renewal the dates come from; empty when
	// they come from the account's renewal date field.
	RenewalOpportunity    crm.OpportunityID `json:"renewal_opportunity,omitempty"`
	OpenExpansionPipeline float64           `json:"open_expansion_pipeline"`

	Adoption         *float64 `json:"adoption"`
	AdoptionPrevious *float64 `json:"adoption_previous"`
	// AdoptionTrend is adoption minus its previous value, in mapped units.
	AdoptionTrend *float64 `json:"adoption_trend"`
	// AdoptionChange is AdoptionTrend as a fraction of the previous value.
	AdoptionChange *float64 `json:"adoption_change"`
	CSMSentiment   *float64 `json:"csm_sentiment"`
	NPS            *float64 `json:"nps"`
	// NPSNormalized maps NPS onto 0..100 according to measures.nps_scale.
	NPSNormalized *float64 `json:"nps_normalized"`
	CSAT          *float64 `json:"csat"`

	LastEBRDate      *time.Time `json:"last_ebr_date"`
	DaysSinceLastEBR *int       `json:"days_since_last_ebr"`

	ARR            *float64 `json:"arr"`
	Employees      *int     `json:"employees"`
	DaysAsCustomer *int     `json:"days_as_customer"`
	LifecycleStage string   `json:"lifecycle_stage"`
	Segment        string   `json:"segment"`
	// CustomerStatus is prospect, customer or former_customer.
	CustomerStatus string `json:"customer_status"`
}

// Value returns the named metric; ok is false when the name is unknown or
// the metric has no value.
func (m *Metrics) Value(name string) (Value, bool) {
	i := func(v int) (Value, bool) { return NumberValue(float64(v)), true }
	ip := func(v *int) (Value, bool) {
		if v == nil {
			return Value{}, false
		}
		return NumberValue(float64(*v)), true
	}
	fp := func(v *float64) (Value, bool) {
		if v == nil {
			return Value{}, false
		}
		return NumberValue(*v), true
	}
	tp := func(v *time.Time) (Value, bool) {
		if v == nil {
			return Value{}, false
		}
		return DateValue(crm.Date(*v)), true
	}
	s := func(v string) (Value, bool) {
		if v == "" {
			return Value{}, false
		}
		return TextValue(v), true
	}
	switch name {
	case MetricContacts:
		return i(m.Contacts)
	case MetricExecutives:
		return i(m.Executives)
	case MetricUsers:
		return i(m.Users)
	case MetricUserRelationships:
		return i(m.UserRelationships)
	case MetricStrongUserRelationships:
		return i(m.StrongUserRelationships)
	case MetricExecRelationships:
		return i(m.ExecRelationships)
	case MetricStrongExecRelationships:
		return i(m.StrongExecRelationships)
	case MetricStrongRelationships:
		return i(m.StrongUserRelationships + m.StrongExecRelationships)
	case MetricDaysSinceUserContact:
		return ip(m.DaysSinceUserContact)
	case MetricDaysSinceExecContact:
		return ip(m.DaysSinceExecContact)
	case MetricDaysSinceLastContact:
		return ip(m.DaysSinceLastContact)
	case MetricLastContactDate:
		return tp(m.LastContactDate)
	case MetricLastExecContactDate:
		return tp(m.LastExecContactDate)
	case MetricLastUserContactDate:
		return tp(m.LastUserContactDate)
	case MetricActivities:
		return i(m.Activities)
	case MetricActivitiesLast30Days:
		return i(m.ActivitiesLast30Days)
	case MetricNextRenewalDate:
		return tp(m.NextRenewalDate)
	case MetricDaysToRenewal:
		return ip(m.DaysToRenewal)
	case MetricRenewalAmount:
		return fp(m.RenewalAmount)
	case MetricOpenExpansionPipeline:
		return NumberValue(m.OpenExpansionPipeline), true
	case MetricAdoption:
		return fp(m.Adoption)
	case MetricAdoptionPrevious:
		return fp(m.AdoptionPrevious)
	case MetricAdoptionTrend:
		return fp(m.AdoptionTrend)
	case MetricAdoptionChange:
		return fp(m.AdoptionChange)
	case MetricCSMSentiment:
		return fp(m.CSMSentiment)
	case MetricNPS:
		return fp(m.NPS)
	case MetricNPSNormalized:
		return fp(m.NPSNormalized)
	case MetricCSAT:
		return fp(m.CSAT)
	case MetricLastEBRDate:
		return tp(m.LastEBRDate)
	case MetricDaysSinceLastEBR:
		return ip(m.DaysSinceLastEBR)
	case MetricARR:
		return fp(m.ARR)
	case MetricEmployees:
		return ip(m.Employees)
	case MetricDaysAsCustomer:
		return ip(m.DaysAsCustomer)
	case MetricLifecycleStage:
		return s(m.LifecycleStage)
	case MetricSegment:
		return s(m.Segment)
	case MetricCustomerStatus:
		return s(m.CustomerStatus)
	}
	return Value{}, false
}

// number returns a numeric metric for rule conditions.
func (m *Metrics) number(name string) (float64, bool) {
	v, ok := m.Value(name)
	if !ok || v.Kind != KindNumber {
		return 0, false
	}
	return v.Number, true
}

// computeMetrics derives the metrics and the per-contact relationships of
// one account as of now. Only data at or before now counts.
func (s *Scorer) computeMetrics(d *AccountData, now time.Time) (Metrics, []ContactRelationship) {
	cfg := &s.cfg
	rc := &cfg.Relationship
	acct := &d.Account
	var m Metrics

	index := make(map[crm.ContactID]int, len(d.Contacts))
	for i := range d.Contacts {
		index[d.Contacts[i].ID] = i
	}
	accs := make([]contactAcc, len(d.Contacts))

	var lastAny, lastEBR time.Time
	for i := range d.Activities {
		a := &d.Activities[i]
		when, ok := happenedAt(a, now)
		if !ok {
			continue
		}
		m.Activities++
		if when.After(lastAny) {
			lastAny = when
		}
		if a.EBR && when.After(lastEBR) {
			lastEBR = when
		}
		ageDays := now.Sub(when).Hours() / 24
		if ageDays <= 30 {
			m.ActivitiesLast30Days++
		}
		for j, id := range a.ContactIDs {
			if duplicateBefore(a.ContactIDs, j) {
				continue
			}
			if ci, ok := index[id]; ok {
				accs[ci].add(rc, a, when, ageDays)
			}
		}
	}

	rels := make([]ContactRelationship, len(d.Contacts))
	var lastUser, lastExec time.Time
	for i := range d.Contacts {
		c := &d.Contacts[i]
		role := s.roles.role(*c)
		r := accs[i].finish(rc, c, role, now)
		rels[i] = r
		m.Contacts++
		if role == RoleExecutive {
			m.Executives++
			if r.Level >= LevelWeak {
				m.ExecRelationships++
			}
			if r.Strong() {
				m.StrongExecRelationships++
			}
			if accs[i].last.After(lastExec) {
				lastExec = accs[i].last
			}
		} else {
			m.Users++
			if r.Level >= LevelWeak {
				m.UserRelationships++
			}
			if r.Strong() {
				m.StrongUserRelationships++
			}
			if accs[i].last.After(lastUser) {
				lastUser = accs[i].last
			}
		}
	}
	sort.SliceStable(rels, func(i, j int) bool {
		if rels[i].Strength != rels[j].Strength {
			return rels[i].Strength > rels[j].Strength
		}
		return rels[i].Name < rels[j].Name
	})

	m.DaysSinceUserContact = daysSince(lastUser, now)
	m.DaysSinceExecContact = daysSince(lastExec, now)
	m.DaysSinceLastContact = daysSince(lastAny, now)
	m.LastContactDate = datePtr(lastAny)
	m.LastExecContactDate = datePtr(lastExec)
	m.LastUserContactDate = datePtr(lastUser)
	m.LastEBRDate = datePtr(lastEBR)
	m.DaysSinceLastEBR = daysSince(lastEBR, now)

	s.renewalMetrics(d, now, &m)

	m.Adoption = copyFloat(acct.Adoption)
	m.AdoptionPrevious = copyFloat(acct.AdoptionPrevious)
	if m.Adoption != nil && m.AdoptionPrevious != nil {
		t := *m.Adoption - *m.AdoptionPrevious
		m.AdoptionTrend = &t
		if *m.AdoptionPrevious > 0 {
			c := t / *m.AdoptionPrevious
			m.AdoptionChange = &c
		}
	}
	m.CSMSentiment = copyFloat(acct.CSMSentiment)
	m.NPS = copyFloat(acct.NPS)
	if m.NPS != nil {
		n := normalizeNPS(*m.NPS, cfg.Measures.NPSScale)
		m.NPSNormalized = &n
	}
	m.CSAT = copyFloat(acct.CSAT)
	m.ARR = copyFloat(acct.ARR)
	if acct.Employees != nil {
		e := *acct.Employees
		m.Employees = &e
	}
	if since := customerSince(d, now); since != nil {
		m.DaysAsCustomer = daysSince(*since, now)
	}

	m.Segment = acct.Segment
	if m.Segment == "" {
		m.Segment = segmentOf(&cfg.Segments, acct)
	}
	m.LifecycleStage = acct.LifecycleStage
	if m.LifecycleStage == "" {
		m.LifecycleStage = lifecycleOf(&cfg.Lifecycle, &m)
	}
	return m, rels
}

// renewalMetrics fills the renewal and expansion metrics. An opportunity is
// open as of now when it was created by then and is either still open or
// closed after now; so replaying history sees renewals as they were.
func (s *Scorer) renewalMetrics(d *AccountData, now time.Time, m *Metrics) {
	var next *crm.Opportunity
	for i := range d.Opportunities {
		o := &d.Opportunities[i]
		if !openAt(o, now) {
			continue
		}
		switch o.Kind {
		case crm.OpportunityRenewal:
			if o.CloseDate == nil {
				continue
			}
			if next == nil || o.CloseDate.Before(*next.CloseDate) ||
				(o.CloseDate.Equal(*next.CloseDate) && o.ID < next.ID) {
				next = o
			}
		case crm.OpportunityExpansion:
			if a := copyFloat(o.Amount); a != nil {
				m.OpenExpansionPipeline += *a
			}
		}
	}
	today := crm.Date(now)
	switch {
	case next != nil:
		date := crm.Date(*next.CloseDate)
		m.NextRenewalDate = &date
		m.RenewalAmount = copyFloat(next.Amount)
		m.RenewalOpportunity = next.ID
	case d.Account.RenewalDate != nil && !d.Account.RenewalDate.IsZero():
		date := crm.Date(*d.Account.RenewalDate)
		// A contract date in the past rolls forward a year at a time: the
		// field holds the anniversary, the next renewal is the coming one.
		for i := 0; date.Before(today) && i < 100; i++ {
			date = addYear(date)
		}
		m.NextRenewalDate = &date
		m.RenewalAmount = copyFloat(d.Account.ARR)
	default:
		return
	}
	if m.RenewalAmount == nil && d.Account.ARR != nil {
		m.RenewalAmount = copyFloat(d.Account.ARR)
	}
	days := crm.DaysBetween(today, *m.NextRenewalDate)
	m.DaysToRenewal = &days
}

// addYear moves a date one year on; 29 February becomes 28 February.
func addYear(d time.Time) time.Time {
	y, mo, day := d.Date()
	if mo == time.February && day == 29 {
		day = 28
	}
	return time.Date(y+1, mo, day, 0, 0, 0, 0, time.UTC)
}

// openAt reports whether the opportunity was open at now.
func openAt(o *crm.Opportunity, now time.Time) bool {
	if !o.CreatedAt.IsZero() && o.CreatedAt.After(now) {
		return false
	}
	if !o.IsClosed {
		return true
	}
	return o.CloseDate != nil && crm.Date(*o.CloseDate).After(crm.Date(now))
}

// customerSince is the account's customer-since date, else the close of its
// first won deal, as of now.
func customerSince(d *AccountData, now time.Time) *time.Time {
	if d.Account.CustomerSince != nil && !d.Account.CustomerSince.IsZero() {
		if d.Account.CustomerSince.After(now) {
			return nil
		}
		t := *d.Account.CustomerSince
		return &t
	}
	var first *time.Time
	for i := range d.Opportunities {
		o := &d.Opportunities[i]
		if o.IsWon && o.CloseDate != nil && !o.CloseDate.After(now) && (first == nil || o.CloseDate.Before(*first)) {
			t := *o.CloseDate
			first = &t
		}
	}
	return first
}

func normalizeNPS(v float64, scale string) float64 {
	if scale == "response" {
		return clamp(v*10, 0, 100)
	}
	return clamp((v+100)/2, 0, 100)
}

func duplicateBefore(ids []crm.ContactID, j int) bool {
	for k := 0; k < j; k++ {
		if ids[k] == ids[j] {
			return true
		}
	}
	return false
}

func daysSince(t, now time.Time) *int {
	if t.IsZero() {
		return nil
	}
	d := crm.DaysBetween(t, now)
	return &d
}

func datePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	d := crm.Date(t)
	return &d
}

// copyFloat copies a value, dropping NaN and infinities: a broken number
// from the CRM counts as missing rather than poisoning the score.
func copyFloat(p *float64) *float64 {
	if p == nil || math.IsNaN(*p) || math.IsInf(*p, 0) {
		return nil
	}
	v := *p
	return &v
}

func clamp(v, lo, hi float64) float64 {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}
