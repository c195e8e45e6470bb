package salesforce

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"healthsync/crm"
	"healthsync/emulator/gen"
)

// add inserts a loaded record without keeping the index sorted; call
// rebuild on the table afterwards. vals must hold SystemModstamp.
func (d *db) add(t *table, vals map[int]any, id string) *record {
	if id == "" {
		id = d.newID(t.obj.prefix)
	}
	r := &record{t: t, id: id, vals: make([]any, len(t.obj.fields))}
	for i, v := range vals {
		r.set(i, v)
	}
	r.set(t.idxID, id)
	if t.idxDeleted >= 0 && r.get(t.idxDeleted) == nil {
		r.set(t.idxDeleted, false)
	}
	ts, _ := r.get(t.idxStamp).(time.Time)
	r.stamp = ts.UnixMilli()
	if deleted, _ := r.get(t.idxDeleted).(bool); deleted {
		r.deleted, r.deletedAt = true, ts
	}
	t.byID[id] = r
	d.byID[id] = r
	r.ver++
	t.index = append(t.index, stampEntry{stamp: r.stamp, rec: r, ver: r.ver})
	return r
}

// rebuild sorts the table's (SystemModstamp, Id) index after a load.
func (t *table) rebuild() {
	t.compact()
	sort.Slice(t.index, func(i, j int) bool { return entryLess(t.index[i], t.index[j]) })
}

func (s *Server) rebuildAll() {
	for _, t := range s.db.tables {
		t.rebuild()
	}
}

// LoadOrg adds a generated org: its users, accounts, contacts,
// opportunities and activities (emails, calls, tasks and notes as Tasks,
// meetings as Events). Generator indexes map to IDs through GenID.
func (s *Server) LoadOrg(org *gen.Org) error {
	if org == nil {
		return errors.New("load org: nil org")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loadUsers(org.Users)
	s.loadBundle(&gen.Bundle{Contacts: org.Contacts, Opportunities: org.Opportunities, Activities: org.Activities}, org.Accounts)
	if !org.HistoryFrom.IsZero() && (s.db.historyOn(s.db.schema["accounthistory"]) || s.db.historyOn(s.db.schema["opportunityfieldhistory"])) {
		opps := org.Opportunities
		for i, a := range org.Accounts {
			n := 0
			for n < len(opps) && opps[n].Account == a.Index {
				n++
			}
			s.loadGenHistory(&gen.Bundle{Account: a, Opportunities: opps[:n], History: org.History(i), HistoryFrom: org.HistoryFrom})
			opps = opps[n:]
		}
	}
	s.rebuildAll()
	return nil
}

// LoadGen generates the org opts describe and loads it one account at a
// time, so orgs too large to hold twice in memory can be served.
func (s *Server) LoadGen(opts gen.Options) error {
	users := gen.Users(opts)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loadUsers(users)
	err := gen.Stream(opts, func(b *gen.Bundle) error {
		s.loadBundle(b, []gen.Account{b.Account})
		s.loadGenHistory(b)
		return nil
	})
	s.rebuildAll()
	if err != nil {
		return fmt.Errorf("load generated org: %w", err)
	}
	return nil
}

func (s *Server) loadUsers(users []gen.User) {
	t := s.db.table("User")
	for _, u := range users {
		r := s.db.add(t, s.vals("User", map[string]any{
			"Username": u.Email, "FirstName": u.FirstName, "LastName": u.LastName, "Name": u.Name(),
			"Email": u.Email, "Title": u.Title, "IsActive": u.Active, "ProfileId": s.profileID,
			"CreatedDate": u.Created, "LastModifiedDate": u.Modified, "SystemModstamp": u.Modified,
			"CreatedById": s.userID, "LastModifiedById": s.userID,
		}), "")
		s.genIDs["User"] = append(s.genIDs["User"], r.id)
	}
}

func (s *Server) genRef(obj string, i int32) any {
	ids := s.genIDs[obj]
	if i < 0 || int(i) >= len(ids) {
		return nil
	}
	return ids[i]
}

func audit(created, modified time.Time, by any) map[string]any {
	return map[string]any{
		"CreatedDate": crm.Normalize(created), "LastModifiedDate": crm.Normalize(modified), "SystemModstamp": crm.Normalize(modified),
		"CreatedById": by, "LastModifiedById": by,
	}
}

func merge(a, b map[string]any) map[string]any {
	for k, v := range b {
		a[k] = v
	}
	return a
}

func nilIfZero(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

func (s *Server) loadBundle(b *gen.Bundle, accounts []gen.Account) {
	d := s.db
	for _, a := range accounts {
		owner := s.genRef("User", a.Owner)
		m := merge(map[string]any{
			"Name": a.Name, "Type": a.Type, "Industry": a.Industry, "BillingCountry": a.Country,
			"Website": "https://" + a.Domain, "AnnualRevenue": a.AnnualRevenue, "NumberOfEmployees": float64(a.Employees),
			"OwnerId": owner, "Segment__c": a.Segment, "ARR__c": a.ARR, "Licenses__c": float64(a.Licenses),
			"Active_Users__c": float64(a.ActiveUsers), "Adoption__c": round2(a.Adoption() * 100),
			"Adoption_Previous__c": round2(a.AdoptionPrev * 100), "CSM_Sentiment__c": nilIfEmpty(a.Sentiment),
			"Customer_Since__c": nilIfZero(a.CustomerSince), "Renewal_Date__c": nilIfZero(a.RenewalDate),
			"Churned__c": a.Churned, "Churn_Date__c": nilIfZero(a.ChurnedAt), "IsDeleted": a.Deleted,
		}, audit(a.Created, a.Modified, owner))
		if a.NPS >= 0 {
			m["NPS__c"] = float64(a.NPS)
		}
		r := d.add(d.table("Account"), s.vals("Account", m), "")
		s.setGenID("Account", a.Index, r.id)
	}
	for _, c := range b.Contacts {
		owner := s.genRef("User", c.Owner)
		r := d.add(d.table("Contact"), s.vals("Contact", merge(map[string]any{
			"AccountId": s.genRef("Account", c.Account), "FirstName": c.FirstName, "LastName": c.LastName,
			"Name": c.FirstName + " " + c.LastName, "Title": nilIfEmpty(c.Title), "Department": nilIfEmpty(c.Department),
			"Email": c.Email, "Phone": c.Phone, "OwnerId": owner, "IsDeleted": c.Deleted,
		}, audit(c.Created, c.Modified, owner))), "")
		s.setGenID("Contact", c.Index, r.id)
	}
	for _, o := range b.Opportunities {
		owner := s.genRef("User", o.Owner)
		r := d.add(d.table("Opportunity"), s.vals("Opportunity", merge(map[string]any{
			"AccountId": s.genRef("Account", o.Account), "Name": o.Name, "StageName": o.Stage, "Amount": o.Amount,
			"CloseDate": o.CloseDate, "Type": o.Type, "OwnerId": owner, "IsDeleted": o.Deleted,
		}, audit(o.Created, o.Modified, owner))), "")
		_ = s.derive(r, map[int]any{r.t.obj.byName["stagename"]: o.Stage}, true)
		s.setGenID("Opportunity", o.Index, r.id)
	}
	for _, x := range b.Activities {
		owner := s.genRef("User", x.Owner)
		what := s.genRef("Opportunity", x.Opportunity)
		if what == nil {
			what = s.genRef("Account", x.Account)
		}
		m := merge(map[string]any{
			"WhoId": s.genRef("Contact", x.Contact), "WhatId": what, "Subject": x.Subject, "OwnerId": owner,
			"IsDeleted": x.Deleted, "IsArchived": false,
		}, audit(x.Created, x.Modified, owner))
		obj := "Task"
		dir := map[gen.Direction]any{gen.DirectionInbound: "Inbound", gen.DirectionOutbound: "Outbound"}[x.Direction]
		switch x.Kind {
		case gen.KindMeeting:
			obj = "Event"
			m["StartDateTime"], m["DurationInMinutes"], m["Type"] = x.At, float64(x.Duration), "Meeting"
			m["EventSubtype"], m["IsAllDayEvent"] = "Event", false
		case gen.KindEmail:
			m["TaskSubtype"], m["Type"], m["Subject"], m["Direction__c"] = "Email", "Email", "Email: "+x.Subject, dir
		case gen.KindCall:
			m["TaskSubtype"], m["Type"], m["CallType"], m["Direction__c"] = "Call", "Call", dir, dir
			m["CallDurationInSeconds"] = float64(int(x.Duration) * 60)
		default:
			m["TaskSubtype"], m["Type"] = "Task", "Other"
		}
		if obj == "Task" {
			m["Status"], m["Priority"], m["ActivityDate"] = x.Status, x.Priority, crm.Date(x.At)
			if x.Completed {
				m["CompletedDateTime"] = x.At
			}
		}
		r := d.add(d.table(obj), s.vals(obj, m), "")
		_ = s.derive(r, map[int]any{}, true)
		s.setGenID("Activity", x.Index, r.id)
	}
}

func (s *Server) setGenID(obj string, idx int32, id string) {
	ids := s.genIDs[obj]
	for len(ids) <= int(idx) {
		ids = append(ids, "")
	}
	ids[idx] = id
	s.genIDs[obj] = ids
}
