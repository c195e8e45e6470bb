package mapping

import (
	"fmt"
	"strings"
	"time"

	"healthsync/connector"
	"healthsync/crm"
)

// Entity is one raw record mapped onto the canonical model. Exactly one
// of the pointers is set, matching Kind, unless the record is a deletion,
// which carries only its identity.
type Entity struct {
	Kind    EntityKind
	Object  string
	ID      string
	Deleted bool

	Account     *crm.Account
	Contact     *crm.Contact
	Opportunity *crm.Opportunity
	Activity    *crm.Activity
	User        *crm.User
}

// Map turns a raw record into its canonical entity. Bad values (a wrong
// type, an unparseable date) give a *RecordError naming the record, each
// field and its value; the entity is still returned with those fields left
// empty, so the caller can keep it and record the problem. Any other error
// (an object the mapping does not sync, a raw record that is not a JSON
// object) comes without an entity.
func (m *Mapping) Map(rec connector.Record) (Entity, error) {
	info, ok := m.objectInfo(rec.Object)
	if !ok {
		return Entity{}, fmt.Errorf("map %s %s: object %q is not synced by this mapping (objects: %s)",
			rec.Object, rec.ID, rec.Object, strings.Join(m.Objects(), ", "))
	}
	e := Entity{Kind: info.entity, Object: rec.Object, ID: rec.ID, Deleted: rec.Deleted}
	if rec.Deleted && len(rec.Raw) == 0 {
		return e, nil
	}
	r, err := readerOf(m.sys, rec)
	if err != nil {
		return Entity{}, fmt.Errorf("map %s %s: %w", rec.Object, rec.ID, err)
	}
	if e.ID == "" {
		e.ID = idText(r.top["Id"])
		if e.ID == "" {
			e.ID = idText(r.top["id"])
		}
	}
	if e.ID == "" {
		return Entity{}, fmt.Errorf("map %s: record has no id", rec.Object)
	}
	modified := crm.Normalize(rec.ModifiedAt)
	switch info.entity {
	case KindAccount:
		a := m.mapAccount(r, e.ID, modified)
		e.Account = &a
	case KindContact:
		c := m.mapContact(r, e.ID, modified)
		e.Contact = &c
	case KindOpportunity:
		o := m.mapOpportunity(r, e.ID, modified)
		e.Opportunity = &o
	case KindActivity:
		a := m.mapActivity(r, info, e.ID, modified)
		e.Activity = &a
	case KindUser:
		u := m.mapUser(r, e.ID, modified)
		e.User = &u
	}
	if len(r.problems) > 0 {
		return e, &RecordError{Object: rec.Object, ID: e.ID, Problems: r.problems}
	}
	return e, nil
}

func (m *Mapping) objectInfo(object string) (objectInfo, bool) {
	for _, o := range m.objects {
		if o.name == object {
			return o, true
		}
	}
	return objectInfo{}, false
}

// MapAccount maps a raw account record (Salesforce Account, HubSpot company).
func (m *Mapping) MapAccount(rec connector.Record) (crm.Account, error) {
	e, err := m.mapKind(rec, KindAccount)
	if e.Account == nil {
		return crm.Account{}, err
	}
	return *e.Account, err
}

// MapContact maps a raw contact record.
func (m *Mapping) MapContact(rec connector.Record) (crm.Contact, error) {
	e, err := m.mapKind(rec, KindContact)
	if e.Contact == nil {
		return crm.Contact{}, err
	}
	return *e.Contact, err
}

// MapOpportunity maps a raw opportunity (Salesforce) or deal (HubSpot).
func (m *Mapping) MapOpportunity(rec connector.Record) (crm.Opportunity, error) {
	e, err := m.mapKind(rec, KindOpportunity)
	if e.Opportunity == nil {
		return crm.Opportunity{}, err
	}
	return *e.Opportunity, err
}

// MapActivity maps a raw activity: Salesforce Task or Event, HubSpot call,
// email, meeting, note or task.
func (m *Mapping) MapActivity(rec connector.Record) (crm.Activity, error) {
	e, err := m.mapKind(rec, KindActivity)
	if e.Activity == nil {
		return crm.Activity{}, err
	}
	return *e.Activity, err
}

// MapUser maps a raw user (Salesforce User, HubSpot owner).
func (m *Mapping) MapUser(rec connector.Record) (crm.User, error) {
	e, err := m.mapKind(rec, KindUser)
	if e.User == nil {
		return crm.User{}, err
	}
	return *e.User, err
}

func (m *Mapping) mapKind(rec connector.Record, want EntityKind) (Entity, error) {
	if info, ok := m.objectInfo(rec.Object); ok && info.entity != want {
		return Entity{}, fmt.Errorf("map %s %s: a %s record, not a %s", rec.Object, rec.ID, info.entity, want)
	}
	return m.Map(rec)
}

func (m *Mapping) mapAccount(r *reader, id string, modified time.Time) crm.Account {
	f := m.cfg.Fields.Account
	a := crm.Account{
		ID:               crm.AccountID(id),
		Name:             r.str(f.Name),
		OwnerID:          crm.UserID(r.id(f.OwnerID)),
		Industry:         r.str(f.Industry),
		Type:             r.str(f.Type),
		Employees:        r.integer(f.Employees),
		AnnualRevenue:    r.num(f.AnnualRevenue),
		ARR:              r.num(f.ARR),
		Adoption:         r.num(f.Adoption),
		AdoptionPrevious: r.num(f.AdoptionPrevious),
		CSMSentiment:     m.sentiment(r, f.CSMSentiment),
		NPS:              r.num(f.NPS),
		CSAT:             r.num(f.CSAT),
		RenewalDate:      r.date(f.RenewalDate),
		CustomerSince:    r.date(f.CustomerSince),
		FirstValueAt:     r.date(f.FirstValueAt),
		ChurnedAt:        r.date(f.ChurnedAt),
		ScoreOverride:    r.num(f.ScoreOverride),
		OverrideComment:  r.str(f.OverrideComment),
		OverrideExpires:  r.date(f.OverrideExpires),
		ModifiedAt:       modified,
	}
	if t := r.instant(f.CreatedAt); t != nil {
		a.CreatedAt = *t
	} else if m.sys == crm.HubSpot && f.CreatedAt == "" {
		// Every HubSpot record read carries createdAt: no property to
		// download for it.
		if t := r.instantTop("createdAt"); t != nil {
			a.CreatedAt = *t
		}
	}
	a.Churned, _ = r.boolean(f.Churned)
	if a.ChurnedAt != nil && f.Churned == "" {
		a.Churned = true
	}
	if a.ScoreOverride != nil && (*a.ScoreOverride < 0 || *a.ScoreOverride > 100) {
		r.problem(f.ScoreOverride, *a.ScoreOverride, "a score from 0 to 100")
		a.ScoreOverride = nil
	}
	if g := strings.ToLower(r.str(f.GradeOverride)); g != "" {
		switch g {
		case "green", "yellow", "red":
			a.GradeOverride = g
		default:
			r.problem(f.GradeOverride, g, "green, yellow or red")
		}
	}
	a.Segment = m.segment(r.str(f.Segment))
	a.LifecycleStage = m.lifecycle(r.str(f.LifecycleStage))
	if a.StatusValue = r.str(f.Status); a.StatusValue != "" {
		a.Status = m.customerStatus[strings.ToLower(strings.TrimSpace(a.StatusValue))]
	}
	if m.cfg.Classify.Adoption.Unit == AdoptionPercent {
		a.Adoption, a.AdoptionPrevious = fromPercent(a.Adoption), fromPercent(a.AdoptionPrevious)
	}
	return a
}

// Units of the adoption fields (classify.adoption.unit).
const (
	AdoptionFraction = "fraction"
	AdoptionPercent  = "percent"
)

// fromPercent turns a percentage into the fraction scoring reads.
func fromPercent(v *float64) *float64 {
	if v == nil {
		return nil
	}
	f := *v / 100
	return &f
}

// sentiment translates the CSM sentiment field to 0..100: a picklist
// value through classify.sentiment.values, a number linearly from
// classify.sentiment.scale.
func (m *Mapping) sentiment(r *reader, field string) *float64 {
	raw := r.str(field)
	if raw == "" {
		return nil
	}
	if v, ok := m.sentimentValues[strings.ToLower(raw)]; ok {
		return &v
	}
	sc := m.cfg.Classify.Sentiment.Scale
	var n float64
	if _, err := fmt.Sscan(raw, &n); err == nil && n >= sc.Min && n <= sc.Max {
		v := (n - sc.Min) / (sc.Max - sc.Min) * 100
		return &v
	}
	want := fmt.Sprintf("one of %s or a number from %g to %g (classify.sentiment)",
		strings.Join(sortedKeys(m.cfg.Classify.Sentiment.Values), ", "), sc.Min, sc.Max)
	r.problem(field, raw, want)
	return nil
}

// segment translates the segment field's value; without one it stays
// empty and scoring's segment rules decide.
func (m *Mapping) segment(raw string) string {
	if v, ok := m.segmentValues[strings.ToLower(raw)]; ok && raw != "" {
		return v
	}
	return raw
}

// lifecycle translates a lifecycle-stage value; stage names themselves
// are recognised in any case, other values are kept as they are.
func (m *Mapping) lifecycle(raw string) string {
	if raw == "" {
		return ""
	}
	if v, ok := m.lifecycleValues[strings.ToLower(raw)]; ok {
		return v
	}
	for _, s := range lifecycleStages {
		if strings.EqualFold(s, raw) {
			return s
		}
	}
	return raw
}

func (m *Mapping) mapContact(r *reader, id string, modified time.Time) crm.Contact {
	f := m.cfg.Fields.Contact
	c := crm.Contact{
		ID:         crm.ContactID(id),
		AccountID:  crm.AccountID(r.id(f.AccountID)),
		FirstName:  r.str(f.FirstName),
		LastName:   r.str(f.LastName),
		Title:      r.str(f.Title),
		Seniority:  r.str(f.Seniority),
		Email:      r.str(f.Email),
		Department: r.str(f.Department),
		OwnerID:    crm.UserID(r.id(f.OwnerID)),
		ModifiedAt: modified,
	}
	if c.AccountID == "" && m.sys == crm.HubSpot {
		if ids := r.associations(HSCompanies); len(ids) > 0 {
			c.AccountID = crm.AccountID(ids[0])
		}
	}
	return c
}

func (m *Mapping) mapOpportunity(r *reader, id string, modified time.Time) crm.Opportunity {
	f := m.cfg.Fields.Opportunity
	o := crm.Opportunity{
		ID:          crm.OpportunityID(id),
		AccountID:   crm.AccountID(r.id(f.AccountID)),
		Name:        r.str(f.Name),
		Stage:       r.str(f.Stage),
		Type:        r.str(f.Type),
		Amount:      r.num(f.Amount),
		CloseDate:   r.date(f.CloseDate),
		Probability: r.num(f.Probability),
		OwnerID:     crm.UserID(r.id(f.OwnerID)),
		ModifiedAt:  modified,
	}
	o.IsClosed, _ = r.boolean(f.IsClosed)
	o.IsWon, _ = r.boolean(f.IsWon)
	if o.IsWon {
		o.IsClosed = true
	}
	if t := r.instant(f.CreatedAt); t != nil {
		o.CreatedAt = *t
	} else if m.sys == crm.HubSpot {
		if t := r.instantTop("createdAt"); t != nil {
			o.CreatedAt = *t
		}
	}
	if m.sys == crm.HubSpot && o.AccountID == "" {
		if ids := r.associations(HSCompanies); len(ids) > 0 {
			o.AccountID = crm.AccountID(ids[0])
		}
	}
	o.Kind = m.opportunityKind(o.Type, r.str(f.RecordType), o.Name)
	return o
}

// instantTop reads a top-level HubSpot member (createdAt, updatedAt),
// silently: these are not mapped fields.
func (r *reader) instantTop(key string) *time.Time {
	s, ok := r.top[key].(string)
	if !ok || s == "" {
		return nil
	}
	t, err := crm.ParseTime(s)
	if err != nil {
		return nil
	}
	return &t
}

// OpportunityKind classifies an opportunity by its type, record type and
// name: renewal rules first, then expansion, then new; otherwise other.
func (m *Mapping) OpportunityKind(typ, recordType, name string) crm.OpportunityKind {
	return m.opportunityKind(typ, recordType, name)
}

func (m *Mapping) opportunityKind(typ, recordType, name string) crm.OpportunityKind {
	t, rt := strings.ToLower(typ), strings.ToLower(recordType)
	rules := m.cfg.Classify.Opportunities
	switch {
	case (t != "" && m.renewalTypes[t]) || (rt != "" && m.renewalRecordTypes[rt]) || rules.Renewal.NamePattern.MatchString(name):
		return crm.OpportunityRenewal
	case (t != "" && m.expansionTypes[t]) || (rt != "" && m.expansionRecordTypes[rt]) || rules.Expansion.NamePattern.MatchString(name):
		return crm.OpportunityExpansion
	case (t != "" && m.newTypes[t]) || (rt != "" && m.newRecordTypes[rt]) || rules.New.NamePattern.MatchString(name):
		return crm.OpportunityNew
	}
	return crm.OpportunityOther
}

func (m *Mapping) mapUser(r *reader, id string, modified time.Time) crm.User {
	f := m.cfg.Fields.User
	u := crm.User{ID: crm.UserID(id), Name: r.str(f.Name), Email: r.str(f.Email), ModifiedAt: modified}
	if u.Name == "" {
		u.Name = strings.TrimSpace(r.str(f.FirstName) + " " + r.str(f.LastName))
	}
	active, set := r.boolean(f.Active)
	switch {
	case set:
		u.Active = active
	case m.sys == crm.HubSpot:
		archived, _ := r.top["archived"].(bool)
		u.Active = !archived
	default:
		u.Active = true
	}
	return u
}
