package mapping

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"healthsync/connector"
	"healthsync/crm"
)

var testNow = time.Date(2025, 1, 15, 12, 0, 0, 0, time.UTC)

func ptrTime(s string) *time.Time {
	t, err := crm.ParseTime(s)
	if err != nil {
		panic(err)
	}
	return &t
}

func record(object, id, raw string) connector.Record {
	return connector.Record{Object: object, ID: id, ModifiedAt: testNow.Add(-time.Hour), Raw: json.RawMessage(raw)}
}

func mustParse(t *testing.T, sys crm.System, src string) *Mapping {
	t.Helper()
	m, err := Parse("healthsync.yaml", []byte(src), Options{System: sys, Clock: crm.FixedClock(testNow)})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return m
}

const sfMapping = `
crm: {system: salesforce}
fields:
  account:
    adoption: Active_User_Ratio__c
    adoption_previous: Active_User_Ratio_Prev__c
    csm_sentiment: CSM_Sentiment__c
    nps: NPS__c
    renewal_date: Renewal_Date__c
    arr: ARR__c
    segment: Segment__c
    churned: Churned__c
    churned_at: Churned_Date__c
    score_override: Health_Override__c
    grade_override: Health_Grade_Override__c
  contact:
    seniority: Seniority__c
  opportunity:
    record_type: RecordType.DeveloperName
    owner_id: OwnerId
classify:
  segments:
    values: {ENT: Enterprise, MM: Mid-market}
`

func sfAttrs(typ, id string) string {
	return `"attributes":{"type":"` + typ + `","url":"/services/data/v62.0/sobjects/` + typ + `/` + id + `"}`
}

func TestMapSalesforce(t *testing.T) {
	t.Parallel()
	m := mustParse(t, crm.Salesforce, sfMapping)
	for _, tc := range []struct {
		name   string
		rec    connector.Record
		check  func(t *testing.T, e Entity)
		errSub []string // substrings of the expected *RecordError
	}{
		{
			name: "account with custom fields",
			rec: record("Account", "001Dn00000A1b2cIAB", `{`+sfAttrs("Account", "001Dn00000A1b2cIAB")+`,
				"Id":"001Dn00000A1b2cIAB","Name":"Acme Corp","OwnerId":"005Dn000001XyZaIAK","Type":"Customer - Direct",
				"Industry":"Manufacturing","AnnualRevenue":350000000.0,"NumberOfEmployees":1200,
				"Active_User_Ratio__c":0.62,"Active_User_Ratio_Prev__c":0.71,"CSM_Sentiment__c":"Yellow","NPS__c":31.0,
				"Renewal_Date__c":"2025-03-31","ARR__c":120000.0,"Segment__c":"ENT","Churned__c":false,"Churned_Date__c":null,
				"Health_Override__c":null,"Health_Grade_Override__c":"Green","SystemModstamp":"2025-01-15T11:00:00.000+0000"}`),
			check: func(t *testing.T, e Entity) {
				a := e.Account
				if e.Kind != KindAccount || a == nil {
					t.Fatalf("entity = %+v", e)
				}
				if a.Name != "Acme Corp" || a.OwnerID != "005Dn000001XyZaIAK" || a.Industry != "Manufacturing" || a.Type != "Customer - Direct" {
					t.Errorf("text fields = %+v", a)
				}
				if a.Employees == nil || *a.Employees != 1200 || *a.AnnualRevenue != 350000000 || *a.ARR != 120000 {
					t.Errorf("numbers = %v %v %v", a.Employees, a.AnnualRevenue, a.ARR)
				}
				if *a.Adoption != 0.62 || *a.AdoptionPrevious != 0.71 || *a.CSMSentiment != 50 || *a.NPS != 31 {
					t.Errorf("indicators = %v %v %v %v", *a.Adoption, *a.AdoptionPrevious, *a.CSMSentiment, *a.NPS)
				}
				if !a.RenewalDate.Equal(time.Date(2025, 3, 31, 0, 0, 0, 0, time.UTC)) || a.Segment != "Enterprise" {
					t.Errorf("renewal %v segment %q", a.RenewalDate, a.Segment)
				}
				if a.Churned || a.ChurnedAt != nil || a.ScoreOverride != nil || a.GradeOverride != "green" {
					t.Errorf("churn/override = %v %v %v %q", a.Churned, a.ChurnedAt, a.ScoreOverride, a.GradeOverride)
				}
				if !a.ModifiedAt.Equal(testNow.Add(-time.Hour)) {
					t.Errorf("ModifiedAt = %v", a.ModifiedAt)
				}
			},
		},
		{
			name: "account with bad values keeps the good ones",
			rec: record("Account", "001Dn00000A1b2dIAB", `{`+sfAttrs("Account", "001Dn00000A1b2dIAB")+`,
				"Name":"Globex","AnnualRevenue":"lots","NumberOfEmployees":12.5,"Renewal_Date__c":"next spring",
				"CSM_Sentiment__c":"Purple","Churned__c":"maybe","Health_Override__c":140}`),
			check: func(t *testing.T, e Entity) {
				a := e.Account
				if a == nil || a.Name != "Globex" || a.AnnualRevenue != nil || a.Employees != nil || a.RenewalDate != nil || a.CSMSentiment != nil || a.ScoreOverride != nil {
					t.Errorf("account = %+v", a)
				}
			},
			errSub: []string{
				`map Account 001Dn00000A1b2dIAB:`,
				`field AnnualRevenue: value "lots": want a number`,
				`field NumberOfEmployees: value 12.5: want a whole number`,
				`field Renewal_Date__c: value "next spring": want a date or datetime`,
				`field CSM_Sentiment__c: value "Purple": want one of amber, green, red, yellow or a number from 1 to 5`,
				`field Churned__c: value "maybe": want true or false`,
				`field Health_Override__c: value 140: want a score from 0 to 100`,
			},
		},
		{
			name: "contact",
			rec: record("Contact", "003Dn00000B7k9QIAR", `{`+sfAttrs("Contact", "003Dn00000B7k9QIAR")+`,
				"AccountId":"001Dn00000A1b2cIAB","FirstName":"Dana","LastName":"Scully","Title":"VP Operations",
				"Email":"dana@acme.example","Department":"Operations","OwnerId":"005Dn000001XyZaIAK","Seniority__c":"Executive"}`),
			check: func(t *testing.T, e Entity) {
				c := e.Contact
				want := crm.Contact{ID: "003Dn00000B7k9QIAR", AccountID: "001Dn00000A1b2cIAB", FirstName: "Dana", LastName: "Scully",
					Title: "VP Operations", Seniority: "Executive", Email: "dana@acme.example", Department: "Operations",
					OwnerID: "005Dn000001XyZaIAK", ModifiedAt: testNow.Add(-time.Hour)}
				if c == nil || *c != want {
					t.Errorf("contact = %+v\nwant %+v", c, want)
				}
			},
		},
		{
			name: "renewal by record type through a parent field",
			rec: record("Opportunity", "006Dn00000C1x2yIAB", `{`+sfAttrs("Opportunity", "006Dn00000C1x2yIAB")+`,
				"AccountId":"001Dn00000A1b2cIAB","Name":"Acme FY26","StageName":"Negotiation","Amount":120000.0,
				"CloseDate":"2025-03-31","IsClosed":false,"IsWon":false,"Type":null,"Probability":70.0,"OwnerId":"005Dn000001XyZaIAK",
				"RecordType":{`+sfAttrs("RecordType", "012Dn0000004CLsIAM")+`,"DeveloperName":"Renewal"}}`),
			check: func(t *testing.T, e Entity) {
				o := e.Opportunity
				if o == nil || o.Kind != crm.OpportunityRenewal || o.Stage != "Negotiation" || *o.Amount != 120000 || *o.Probability != 70 {
					t.Fatalf("opportunity = %+v", o)
				}
				if !o.CloseDate.Equal(time.Date(2025, 3, 31, 0, 0, 0, 0, time.UTC)) || o.IsClosed || o.IsWon || o.OwnerID != "005Dn000001XyZaIAK" {
					t.Errorf("opportunity = %+v", o)
				}
			},
		},
		{
			name: "expansion by type, won implies closed",
			rec: record("Opportunity", "006Dn00000C1x2zIAB", `{`+sfAttrs("Opportunity", "006Dn00000C1x2zIAB")+`,
				"AccountId":"001Dn00000A1b2cIAB","Name":"Acme seats","StageName":"Closed Won","Amount":20000,
				"CloseDate":"2024-11-02","IsClosed":false,"IsWon":true,"Type":"Upsell","RecordType":null}`),
			check: func(t *testing.T, e Entity) {
				o := e.Opportunity
				if o.Kind != crm.OpportunityExpansion || !o.IsWon || !o.IsClosed {
					t.Errorf("opportunity = %+v", o)
				}
			},
		},
		{
			name: "inbound email task",
			rec: record("Task", "00TDn00000D4e5fIAB", `{`+sfAttrs("Task", "00TDn00000D4e5fIAB")+`,
				"WhoId":"003Dn00000B7k9QIAR","WhatId":"006Dn00000C1x2yIAB","AccountId":"001Dn00000A1b2cIAB",
				"Subject":"RE: renewal pricing","Status":"Completed","Priority":"Normal","ActivityDate":"2025-01-10",
				"TaskSubtype":"Email","Type":null,"CallType":null,"IsClosed":true,"OwnerId":"005Dn000001XyZaIAK",
				"CompletedDateTime":"2025-01-10T09:30:00.000+0000"}`),
			check: func(t *testing.T, e Entity) {
				a := e.Activity
				if a.Kind != crm.ActivityEmail || a.Direction != crm.DirectionInbound || !a.Completed {
					t.Errorf("kind/direction/completed = %s %q %v", a.Kind, a.Direction, a.Completed)
				}
				if len(a.ContactIDs) != 1 || a.ContactIDs[0] != "003Dn00000B7k9QIAR" || a.OpportunityID != "006Dn00000C1x2yIAB" || a.AccountID != "001Dn00000A1b2cIAB" {
					t.Errorf("links = %v %q %q", a.ContactIDs, a.OpportunityID, a.AccountID)
				}
				if !a.CompletedAt.Equal(*ptrTime("2025-01-10T09:30:00Z")) || !a.OccurredAt.Equal(*ptrTime("2025-01-10T00:00:00Z")) {
					t.Errorf("times = %v %v", a.OccurredAt, a.CompletedAt)
				}
				if a.EBR {
					t.Error("an email is never an EBR")
				}
			},
		},
		{
			name: "outbound email, lead as WhoId",
			rec: record("Task", "00TDn00000D4e5gIAB", `{`+sfAttrs("Task", "00TDn00000D4e5gIAB")+`,
				"WhoId":"00QDn00000L1eadIAB","WhatId":"001Dn00000A1b2cIAB","AccountId":"001Dn00000A1b2cIAB",
				"Subject":"Email: Following up on our QBR","Status":"Completed","TaskSubtype":"Email","IsClosed":true,
				"ActivityDate":"2025-01-09","CompletedDateTime":null}`),
			check: func(t *testing.T, e Entity) {
				a := e.Activity
				if a.Kind != crm.ActivityEmail || a.Direction != crm.DirectionOutbound || len(a.ContactIDs) != 0 || a.OpportunityID != "" {
					t.Errorf("activity = %+v", a)
				}
			},
		},
		{
			name: "outbound call",
			rec: record("Task", "00TDn00000D4e5hIAB", `{`+sfAttrs("Task", "00TDn00000D4e5hIAB")+`,
				"WhoId":"003Dn00000B7k9QIAR","AccountId":"001Dn00000A1b2cIAB","Subject":"Call","Status":"Completed",
				"TaskSubtype":"Call","CallType":"Outbound","IsClosed":true,"ActivityDate":"2025-01-08"}`),
			check: func(t *testing.T, e Entity) {
				a := e.Activity
				if a.Kind != crm.ActivityCall || a.Direction != crm.DirectionOutbound || !a.Completed || a.CompletedAt == nil {
					t.Errorf("activity = %+v", a)
				}
			},
		},
		{
			name: "open task due later",
			rec: record("Task", "00TDn00000D4e5iIAB", `{`+sfAttrs("Task", "00TDn00000D4e5iIAB")+`,
				"WhoId":null,"WhatId":"001Dn00000A1b2cIAB","AccountId":"001Dn00000A1b2cIAB","Subject":"Send QBR deck",
				"Status":"Not Started","TaskSubtype":"Task","Type":"Other","IsClosed":false,"ActivityDate":"2025-02-01"}`),
			check: func(t *testing.T, e Entity) {
				a := e.Activity
				if a.Kind != crm.ActivityTask || a.Completed || a.CompletedAt != nil || a.EBR || a.Direction != "" {
					t.Errorf("activity = %+v", a)
				}
				if !a.OccurredAt.Equal(time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)) || a.Status != "Not Started" {
					t.Errorf("due = %v status %q", a.OccurredAt, a.Status)
				}
			},
		},
		{
			name: "past event is a held meeting and an EBR",
			rec: record("Event", "00UDn00000E1v2wIAB", `{`+sfAttrs("Event", "00UDn00000E1v2wIAB")+`,
				"WhoId":"003Dn00000B7k9QIAR","WhatId":"001Dn00000A1b2cIAB","AccountId":"001Dn00000A1b2cIAB",
				"Subject":"Acme Q4 Executive Business Review","StartDateTime":"2025-01-07T15:00:00.000+0000",
				"EndDateTime":"2025-01-07T16:00:00.000+0000","DurationInMinutes":60}`),
			check: func(t *testing.T, e Entity) {
				a := e.Activity
				if a.Kind != crm.ActivityMeeting || !a.Completed || !a.EBR || !a.OccurredAt.Equal(*ptrTime("2025-01-07T15:00:00Z")) {
					t.Errorf("activity = %+v", a)
				}
			},
		},
		{
			name: "future event is not held yet",
			rec: record("Event", "00UDn00000E1v2xIAB", `{`+sfAttrs("Event", "00UDn00000E1v2xIAB")+`,
				"WhoId":"003Dn00000B7k9QIAR","AccountId":"001Dn00000A1b2cIAB","Subject":"Onboarding sync",
				"StartDateTime":"2025-01-20T15:00:00.000+0000"}`),
			check: func(t *testing.T, e Entity) {
				if a := e.Activity; a.Completed || a.CompletedAt != nil || a.EBR {
					t.Errorf("activity = %+v", a)
				}
			},
		},
		{
			name: "task with an unparseable date",
			rec: record("Task", "00TDn00000D4e5jIAB", `{`+sfAttrs("Task", "00TDn00000D4e5jIAB")+`,
				"Subject":"Call","TaskSubtype":"Call","IsClosed":"yes please","ActivityDate":"31/01/2025"}`),
			check: func(t *testing.T, e Entity) {
				if e.Activity == nil || e.Activity.Kind != crm.ActivityCall {
					t.Errorf("activity = %+v", e.Activity)
				}
			},
			errSub: []string{`map Task 00TDn00000D4e5jIAB:`, `field IsClosed: value "yes please": want true or false`, `field ActivityDate: value "31/01/2025"`},
		},
		{
			name: "inactive user",
			rec:  record("User", "005Dn000001XyZaIAK", `{`+sfAttrs("User", "005Dn000001XyZaIAK")+`,"Name":"Fox Mulder","Email":"fox@vendor.example","IsActive":false}`),
			check: func(t *testing.T, e Entity) {
				want := crm.User{ID: "005Dn000001XyZaIAK", Name: "Fox Mulder", Email: "fox@vendor.example", Active: false, ModifiedAt: testNow.Add(-time.Hour)}
				if e.User == nil || *e.User != want {
					t.Errorf("user = %+v", e.User)
				}
			},
		},
		{
			name: "deletion without raw",
			rec:  connector.Record{Object: "Contact", ID: "003Dn00000B7k9QIAR", Deleted: true},
			check: func(t *testing.T, e Entity) {
				if !e.Deleted || e.ID != "003Dn00000B7k9QIAR" || e.Kind != KindContact || e.Contact != nil {
					t.Errorf("entity = %+v", e)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, err := m.Map(tc.rec)
			if len(tc.errSub) == 0 && err != nil {
				t.Fatalf("Map: %v", err)
			}
			if len(tc.errSub) > 0 {
				var re *RecordError
				if !errors.As(err, &re) {
					t.Fatalf("Map error = %v, want a *RecordError", err)
				}
				for _, sub := range tc.errSub {
					if !strings.Contains(err.Error(), sub) {
						t.Errorf("error %q\nlacks %q", err, sub)
					}
				}
			}
			tc.check(t, e)
		})
	}
}

func TestMapRejectsWhatItCannotMap(t *testing.T) {
	t.Parallel()
	m := mustParse(t, crm.Salesforce, "crm: {system: salesforce, objects: [Account, Contact]}\n")
	for _, tc := range []struct {
		rec  connector.Record
		want string
	}{
		{record("Task", "00T1", `{}`), `object "Task" is not synced by this mapping`},
		{record("Account", "001A", `[1,2]`), `map Account 001A: raw record is not a JSON object`},
		{record("Account", "001A", `{"Name":`), `raw record is not a JSON object`},
		{record("Account", "", `{"Name":"x"}`), `record has no id`},
	} {
		e, err := m.Map(tc.rec)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Map(%s %s) error = %v, want %q", tc.rec.Object, tc.rec.Raw, err, tc.want)
		}
		if e.Account != nil || e.Contact != nil {
			t.Errorf("Map returned an entity with a fatal error: %+v", e)
		}
	}
	if _, err := m.MapContact(record("Account", "001A", `{"Name":"x"}`)); err == nil {
		t.Error("MapContact of an account: want an error")
	}
	a, err := m.MapAccount(record("Account", "001A", `{"Id":"001A","Name":"Initech"}`))
	if err != nil || a.Name != "Initech" || a.ID != "001A" {
		t.Errorf("MapAccount = %+v, %v", a, err)
	}
}

// TestMapFixtureShapes maps the record shapes of the Salesforce response
// fixtures (restforce's query result with parent and child relationships).
func TestMapFixtureShapes(t *testing.T) {
	t.Parallel()
	m := mustParse(t, crm.Salesforce, `
crm: {system: salesforce}
fields:
  account:
    industry: ParentWhizbang__r.Text_Label
    type: Picklist_Multiselect_Label
    renewal_date: Date_Label
    customer_since: DateTime_Label
    churned: Checkbox_Label
`)
	raw := `{"attributes":{"type":"Whizbang","url":"/services/data/v20.0/sobjects/Whizbang/foo"},
		"Checkbox_Label":false,"Text_Label":"Hi there!","Date_Label":"2010-01-01","DateTime_Label":"2011-07-07T00:37:00.000+0000",
		"Picklist_Multiselect_Label":"four;six","Name":"Whizbang one",
		"ParentWhizbang__r":{"Name":"Parent Whizbang","Text_Label":"Hello","attributes":{"type":"Whizbang","url":"/services/data/v20.0/sobjects/Whizbang/bar"}},
		"Whizbangs__r":{"totalSize":1,"done":true,"records":[{"attributes":{"type":"Whizbang__c"},"Name":"Child Whizbang"}]}}`
	a, err := m.MapAccount(record("Account", "foo", raw))
	if err != nil {
		t.Fatal(err)
	}
	if a.Industry != "Hello" || a.Type != "four;six" || a.Churned || !a.RenewalDate.Equal(time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)) ||
		!a.CustomerSince.Equal(time.Date(2011, 7, 7, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("account = %+v", a)
	}
}

// The CRM's own direction comes first; a reply subject, also behind
// Salesforce's "Email: " prefix, is the fallback; adoption declared in
// percent becomes a fraction; the status field is classified.
func TestSalesforceDirectionAdoptionAndStatus(t *testing.T) {
	t.Parallel()
	withField := mustParse(t, crm.Salesforce, "crm: {system: salesforce}\nfields:\n  activity:\n    Task:\n      direction: Direction__c\n")
	standard := mustParse(t, crm.Salesforce, "crm: {system: salesforce}\n")
	task := func(subject, direction string) connector.Record {
		raw := `{` + sfAttrs("Task", "00T1") + `,"Id":"00T1","TaskSubtype":"Email","Type":"Email","Subject":"` + subject + `","IsClosed":true,"ActivityDate":"2025-01-10"`
		if direction != "" {
			raw += `,"Direction__c":"` + direction + `"`
		}
		return record("Task", "00T1", raw+`}`)
	}
	for _, tc := range []struct {
		name string
		m    *Mapping
		rec  connector.Record
		want crm.Direction
	}{
		{"direction field says inbound, subject says nothing", withField, task("Question about SSO setup", "Inbound"), crm.DirectionInbound},
		{"direction field says outbound over a reply subject", withField, task("Email: Re: Renewal timeline", "Outbound"), crm.DirectionOutbound},
		{"no field: 'Email: Re:' is a reply", standard, task("Email: Re: Renewal timeline", ""), crm.DirectionInbound},
		{"no field: 'Re:' is a reply", standard, task("RE: Quick check-in", ""), crm.DirectionInbound},
		{"no field: our own send", standard, task("Email: Quick check-in", ""), crm.DirectionOutbound},
	} {
		a, err := tc.m.MapActivity(tc.rec)
		if err != nil || a.Kind != crm.ActivityEmail || a.Direction != tc.want {
			t.Errorf("%s: kind %s direction %q, %v; want email %q", tc.name, a.Kind, a.Direction, err, tc.want)
		}
	}

	pct := mustParse(t, crm.Salesforce, "crm: {system: salesforce}\nfields:\n  account:\n    adoption: Adoption__c\n    adoption_previous: Adoption_Previous__c\nclassify:\n  adoption: {unit: percent}\n")
	for _, tc := range []struct {
		typ    string
		status crm.CustomerStatus
	}{{"Customer - Direct", crm.StatusCustomer}, {"former customer", crm.StatusFormer}, {"Prospect", crm.StatusProspect}, {"Partner", crm.StatusUnknown}} {
		a, err := pct.MapAccount(record("Account", "001A", `{`+sfAttrs("Account", "001A")+`,"Id":"001A","Name":"Acme","Type":"`+tc.typ+`","Adoption__c":82,"Adoption_Previous__c":84}`))
		if err != nil || a.Status != tc.status || a.StatusValue != tc.typ {
			t.Errorf("Type %q: status %q (%q), %v; want %q", tc.typ, a.Status, a.StatusValue, err, tc.status)
		}
		if a.Adoption == nil || *a.Adoption != 0.82 || a.AdoptionPrevious == nil || *a.AdoptionPrevious != 0.84 {
			t.Errorf("adoption in percent read as %v / %v, want 0.82 / 0.84", a.Adoption, a.AdoptionPrevious)
		}
	}
}
