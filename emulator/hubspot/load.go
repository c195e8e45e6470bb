package hubspot

import (
	"fmt"
	"strconv"
	"time"

	"healthsync/emulator/gen"
)

// Customer-success properties LoadOrg creates on companies (group
// "customer_success"), for the leading indicators a generated org carries.
// A mapping file names them like any other custom property.
var csCompanyProps = []propDef{
	{Name: "segment", Label: "Segment", Type: "enumeration", FieldType: "select",
		Options: opts(gen.SegmentEnterprise, gen.SegmentEnterprise, gen.SegmentMidMarket, gen.SegmentMidMarket, gen.SegmentSMB, gen.SegmentSMB)},
	{Name: "arr", Label: "ARR", Type: "number", FieldType: "number"},
	{Name: "licenses", Label: "Licences", Type: "number", FieldType: "number"},
	{Name: "active_users", Label: "Active users", Type: "number", FieldType: "number"},
	{Name: "adoption_rate", Label: "Adoption rate", Type: "number", FieldType: "number", Description: "Active users / licences, 0..1"},
	{Name: "adoption_rate_previous", Label: "Adoption rate (previous quarter)", Type: "number", FieldType: "number"},
	{Name: "csm_sentiment", Label: "CSM sentiment", Type: "enumeration", FieldType: "select",
		Options: opts(gen.SentimentGreen, gen.SentimentGreen, gen.SentimentYellow, gen.SentimentYellow, gen.SentimentRed, gen.SentimentRed)},
	{Name: "nps_score", Label: "Last NPS response", Type: "number", FieldType: "number"},
	{Name: "customer_since", Label: "Customer since", Type: "date", FieldType: "date"},
	{Name: "renewal_date", Label: "Renewal date", Type: "date", FieldType: "date"},
	{Name: "churned", Label: "Churned", Type: "bool", FieldType: "booleancheckbox",
		Options: []propOption{{Label: "Yes", Value: "true"}, {Label: "No", Value: "false", DisplayOrder: 1}}},
	{Name: "churn_date", Label: "Churn date", Type: "date", FieldType: "date"},
}

// csDealProps tell renewals from expansion beyond HubSpot's two deal types.
var csDealProps = []propDef{
	{Name: "deal_category", Label: "Deal category", Type: "enumeration", FieldType: "select",
		Options: opts("new_business", "New business", "renewal", "Renewal", "upsell", "Upsell", "cross_sell", "Cross-sell")},
}

// DealCategories maps generated opportunity types to the deal_category
// values LoadOrg writes.
var DealCategories = map[string]string{
	gen.TypeNewBusiness: "new_business",
	gen.TypeRenewal:     "renewal",
	gen.TypeUpsell:      "upsell",
	gen.TypeCrossSell:   "cross_sell",
}

// dealStages maps the generator's Salesforce-style stage names onto the
// default HubSpot pipeline.
var dealStages = map[string]string{
	"Prospecting":          "appointmentscheduled",
	"Qualification":        "qualifiedtobuy",
	"Needs Analysis":       "qualifiedtobuy",
	"Proposal/Price Quote": "presentationscheduled",
	"Negotiation/Review":   "contractsent",
	"Closed Won":           "closedwon",
	"Closed Lost":          "closedlost",
}

// ensureProps adds custom properties (and their group) unless they exist.
func (s *Server) ensureProps(tb *table, group, label string, defs []propDef) {
	if _, ok := tb.groups[group]; !ok {
		tb.groups[group] = &propGroup{Name: group, Label: label, DisplayOrder: len(tb.groups)}
	}
	for _, d := range defs {
		if _, ok := tb.props[d.Name]; ok {
			continue
		}
		p := d
		p.GroupName = group
		p.FormField = true
		p.ModificationMetadata = modificationMeta{Archivable: true}
		p.CreatedAt, p.UpdatedAt = formatTime(epoch), formatTime(epoch)
		if p.Options == nil {
			p.Options = []propOption{}
		}
		tb.props[p.Name] = &p
	}
}

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

func date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02")
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// LoadOrg loads a generated organisation: users become owners (inactive
// ones archived), accounts companies, contacts contacts (associated to
// their company as primary), opportunities deals in the default pipeline
// (dealtype newbusiness or existingbusiness, deal_category telling renewals
// from upsells), and activities calls, emails, meetings, notes and tasks
// associated to their company, contact and deal. Soft-deleted records are
// archived. Creation and modification dates are the generator's, so the
// portal has 18 months of history. It returns the id maps so tests can find
// a generated record's HubSpot id.
func (s *Server) LoadOrg(org *gen.Org) (*OrgIDs, error) {
	if org == nil {
		return nil, fmt.Errorf("load org: nil org")
	}
	s.lockWrite()
	defer s.mu.Unlock()
	companies, contacts, deals := s.tables["companies"], s.tables["contacts"], s.tables["deals"]
	s.ensureProps(companies, "customer_success", "Customer success", csCompanyProps)
	s.ensureProps(deals, "customer_success", "Customer success", csDealProps)
	ids := &OrgIDs{}
	var sources []*historySource // per user: who changes records in the UI
	for _, u := range org.Users {
		o := s.addOwnerLocked(u.Email, u.FirstName, u.LastName, u.Created)
		o.UpdatedAt, o.Archived = u.Modified, !u.Active
		ids.Owners = append(ids.Owners, o.ID)
		sources = append(sources, userSource(o.UserID))
	}
	source := func(i int32) *historySource {
		if i < 0 || int(i) >= len(sources) {
			return s.uiSource()
		}
		return sources[i]
	}
	owner := func(i int32) string {
		if i < 0 || int(i) >= len(ids.Owners) {
			return ""
		}
		return ids.Owners[i]
	}
	put := func(tb *table, props map[string]string, created, modified time.Time, deleted bool, deletedAt time.Time, by *historySource) (*record, error) {
		clean := propInput{}
		for k, v := range props {
			if v != "" {
				clean[k] = v
			}
		}
		next, e := s.applyProps(tb, nil, clean, true)
		if e != nil {
			return nil, fmt.Errorf("load org: %s: %s", tb.typ.singular, e.Message)
		}
		if modified.Before(created) {
			modified = created
		}
		rec := s.insert(tb, next, created, modified, 0)
		rec.createdBy = by
		if deleted {
			rec.archived, rec.archivedAt = true, deletedAt
		}
		return rec, nil
	}
	defer func() {
		for _, tb := range s.tables {
			tb.rebuild()
		}
	}()
	for _, a := range org.Accounts {
		p := map[string]string{
			"name": a.Name, "domain": a.Domain, "website": "https://www." + a.Domain, "industry": a.Industry,
			"country": a.Country, "numberofemployees": strconv.Itoa(int(a.Employees)),
			"annualrevenue": num(a.AnnualRevenue), "hubspot_owner_id": owner(a.Owner),
			"lifecyclestage": "customer", "segment": a.Segment, "arr": num(a.ARR),
			"licenses": strconv.Itoa(int(a.Licenses)), "active_users": strconv.Itoa(int(a.ActiveUsers)),
			"adoption_rate": num(a.Adoption()), "adoption_rate_previous": num(a.AdoptionPrev),
			"csm_sentiment": a.Sentiment, "customer_since": date(a.CustomerSince), "renewal_date": date(a.RenewalDate),
			"churned": strconv.FormatBool(a.Churned), "churn_date": date(a.ChurnedAt),
		}
		if a.Churned {
			p["lifecyclestage"] = "other"
		}
		if a.NPS >= 0 {
			p["nps_score"] = strconv.Itoa(int(a.NPS))
		}
		rec, err := put(companies, p, a.Created, a.Modified, a.Deleted, a.DeletedAt, source(a.Owner))
		if err != nil {
			return nil, err
		}
		ids.Companies = append(ids.Companies, rec.id)
	}
	for _, c := range org.Contacts {
		p := map[string]string{
			"email": c.Email, "firstname": c.FirstName, "lastname": c.LastName, "jobtitle": c.Title,
			"phone": c.Phone, "hubspot_owner_id": owner(c.Owner), "lifecyclestage": "customer",
		}
		if c.Executive {
			p["hs_seniority"] = "executive"
		}
		company := ids.Companies[c.Account]
		p["associatedcompanyid"] = strconv.FormatInt(company, 10)
		p["company"] = org.Accounts[c.Account].Name
		rec, err := put(contacts, p, c.Created, c.Modified, c.Deleted, c.DeletedAt, source(c.Owner))
		if err != nil {
			return nil, err
		}
		ids.Contacts = append(ids.Contacts, rec.id)
		s.assoc.add("contacts", "companies", rec.id, company, assocTypes[pairKey{"contacts", "companies"}][0])
		s.assoc.add("contacts", "companies", rec.id, company, assocTypes[pairKey{"contacts", "companies"}][1])
	}
	for _, o := range org.Opportunities {
		stage, ok := dealStages[o.Stage]
		if !ok {
			stage = "appointmentscheduled"
			if o.Closed {
				stage = "closedlost"
				if o.Won {
					stage = "closedwon"
				}
			}
		}
		dealtype := "existingbusiness"
		if o.Type == gen.TypeNewBusiness {
			dealtype = "newbusiness"
		}
		p := map[string]string{
			"dealname": o.Name, "amount": num(o.Amount), "closedate": ms(o.CloseDate), "pipeline": "default",
			"dealstage": stage, "dealtype": dealtype, "deal_category": DealCategories[o.Type],
			"hubspot_owner_id": owner(o.Owner),
		}
		rec, err := put(deals, p, o.Created, o.Modified, o.Deleted, o.DeletedAt, source(o.Owner))
		if err != nil {
			return nil, err
		}
		ids.Deals = append(ids.Deals, rec.id)
		company := ids.Companies[o.Account]
		s.assoc.add("deals", "companies", rec.id, company, assocTypes[pairKey{"deals", "companies"}][0])
		s.assoc.add("deals", "companies", rec.id, company, assocTypes[pairKey{"deals", "companies"}][1])
	}
	for i, a := range org.Accounts {
		if hist := org.History(i); len(hist) > 0 {
			s.loadGenHistory(org, hist, companies.records[ids.Companies[i]], source(a.Owner), ids.Deals, source)
		}
	}
	for _, a := range org.Activities {
		tb, p := s.activityProps(a, org.Now)
		p["hubspot_owner_id"] = owner(a.Owner)
		p["hs_timestamp"] = ms(a.At)
		rec, err := put(tb, p, a.Created, a.Modified, a.Deleted, a.DeletedAt, source(a.Owner))
		if err != nil {
			return nil, err
		}
		ids.Activities = append(ids.Activities, ActivityID{Type: tb.typ.name, ID: rec.id})
		link := func(to string, id int64) {
			at, _ := defaultAssocType(tb.typ.name, to)
			s.assoc.add(tb.typ.name, to, rec.id, id, at)
		}
		link("companies", ids.Companies[a.Account])
		if a.Contact >= 0 {
			link("contacts", ids.Contacts[a.Contact])
		}
		if a.Opportunity >= 0 {
			link("deals", ids.Deals[a.Opportunity])
		}
	}
	return ids, nil
}

// activityProps maps one generated activity onto its engagement type.
func (s *Server) activityProps(a gen.Activity, now time.Time) (*table, map[string]string) {
	switch a.Kind {
	case gen.KindEmail:
		dir := "EMAIL"
		if a.Direction == gen.DirectionInbound {
			dir = "INCOMING_EMAIL"
		}
		return s.tables["emails"], map[string]string{"hs_email_subject": a.Subject, "hs_email_direction": dir, "hs_email_status": "SENT"}
	case gen.KindCall:
		dir := "OUTBOUND"
		if a.Direction == gen.DirectionInbound {
			dir = "INBOUND"
		}
		return s.tables["calls"], map[string]string{"hs_call_title": a.Subject, "hs_call_direction": dir,
			"hs_call_duration": strconv.Itoa(int(a.Duration) * 60000), "hs_call_status": "COMPLETED"}
	case gen.KindMeeting:
		outcome := "COMPLETED"
		if !a.Completed || a.At.After(now) {
			outcome = "SCHEDULED"
		}
		p := map[string]string{"hs_meeting_title": a.Subject, "hs_meeting_start_time": ms(a.At),
			"hs_meeting_end_time": ms(a.At.Add(time.Duration(a.Duration) * time.Minute)), "hs_meeting_outcome": outcome}
		if a.EBR {
			p["hs_activity_type"] = "Executive Business Review"
		}
		return s.tables["meetings"], p
	case gen.KindTask:
		status := map[string]string{"Not Started": "NOT_STARTED", "In Progress": "IN_PROGRESS", "Completed": "COMPLETED"}[a.Status]
		if status == "" {
			status = "NOT_STARTED"
			if a.Completed {
				status = "COMPLETED"
			}
		}
		prio := map[string]string{"High": "HIGH", "Normal": "MEDIUM", "Low": "LOW"}[a.Priority]
		p := map[string]string{"hs_task_subject": a.Subject, "hs_task_status": status, "hs_task_priority": prio, "hs_task_type": "TODO"}
		if status == "COMPLETED" {
			p["hs_task_completion_date"] = ms(a.At)
		}
		return s.tables["tasks"], p
	}
	return s.tables["notes"], map[string]string{"hs_note_body": a.Subject}
}

// ActivityID is where a generated activity landed.
type ActivityID struct {
	Type string // calls, emails, meetings, notes or tasks
	ID   int64
}

// OrgIDs maps a generated org's indexes to HubSpot ids: Companies[i] is the
// id of org.Accounts[i], and so on.
type OrgIDs struct {
	Owners     []string
	Companies  []int64
	Contacts   []int64
	Deals      []int64
	Activities []ActivityID
}
