package mapping

import (
	"errors"
	"strings"
	"testing"
	"time"

	"healthsync/connector"
	"healthsync/crm"
)

const hsMapping = `
crm: {system: hubspot}
fields:
  account:
    adoption: product_adoption_pct
    csm_sentiment: csm_health
    renewal_date: contract_renewal_date
    lifecycle_stage: lifecyclestage
    churned: churned
classify:
  opportunities:
    renewal: {types: [renewal, existingbusiness_renewal]}
  lifecycle:
    values: {customer: Adoption, evangelist: Advocacy}
`

func TestMapHubSpot(t *testing.T) {
	t.Parallel()
	m := mustParse(t, crm.HubSpot, hsMapping)
	for _, tc := range []struct {
		name   string
		rec    connector.Record
		check  func(t *testing.T, e Entity)
		errSub []string
	}{
		{
			name: "company",
			rec: record("companies", "18234567", `{"id":"18234567","properties":{"name":"Acme Corp","domain":"acme.example",
				"industry":"COMPUTER_SOFTWARE","annualrevenue":"5000000","numberofemployees":"250","hubspot_owner_id":"41566921",
				"type":"CUSTOMER","product_adoption_pct":"64.5","csm_health":"4","contract_renewal_date":"2025-04-30",
				"lifecyclestage":"evangelist","churned":"false","hs_lastmodifieddate":"2025-01-14T10:00:00.000Z","hs_object_id":"18234567"},
				"createdAt":"2023-02-01T09:00:00.000Z","updatedAt":"2025-01-14T10:00:00.000Z","archived":false}`),
			check: func(t *testing.T, e Entity) {
				a := e.Account
				if a.Name != "Acme Corp" || a.OwnerID != "41566921" || a.Industry != "COMPUTER_SOFTWARE" || a.Type != "CUSTOMER" {
					t.Errorf("text = %+v", a)
				}
				if *a.Employees != 250 || *a.AnnualRevenue != 5e6 || *a.Adoption != 64.5 || *a.CSMSentiment != 75 {
					t.Errorf("numbers = %v %v %v %v", *a.Employees, *a.AnnualRevenue, *a.Adoption, *a.CSMSentiment)
				}
				if !a.RenewalDate.Equal(time.Date(2025, 4, 30, 0, 0, 0, 0, time.UTC)) || a.LifecycleStage != "Advocacy" || a.Churned {
					t.Errorf("renewal %v stage %q churned %v", a.RenewalDate, a.LifecycleStage, a.Churned)
				}
				if a.Segment != "" {
					t.Errorf("segment = %q: without a segment field scoring decides", a.Segment)
				}
			},
		},
		{
			name: "contact linked through its primary company association",
			rec: record("contacts", "551", `{"id":"551","properties":{"email":"dana@acme.example","firstname":"Dana","lastname":"Scully",
				"jobtitle":"Chief Operating Officer","associatedcompanyid":null},
				"associations":{"companies":{"results":[{"id":"99","type":"contact_to_company_unlabeled"},{"id":"18234567","type":"contact_to_company"}]}}}`),
			check: func(t *testing.T, e Entity) {
				c := e.Contact
				if c.AccountID != "18234567" || c.Title != "Chief Operating Officer" || c.Name() != "Dana Scully" {
					t.Errorf("contact = %+v", c)
				}
			},
		},
		{
			name: "contact with associatedcompanyid",
			rec:  record("contacts", "552", `{"id":"552","properties":{"email":"x@acme.example","associatedcompanyid":"18234567"}}`),
			check: func(t *testing.T, e Entity) {
				if e.Contact.AccountID != "18234567" {
					t.Errorf("contact = %+v", e.Contact)
				}
			},
		},
		{
			name: "renewal deal",
			rec: record("deals", "9001", `{"id":"9001","properties":{"dealname":"Acme renewal 2025","dealstage":"contractsent",
				"amount":"48000.50","closedate":"2025-04-30T00:00:00Z","pipeline":"default","dealtype":"renewal",
				"hs_is_closed":"false","hs_is_closed_won":"false","hubspot_owner_id":"41566921","createdate":"1727740800000"},
				"associations":{"companies":{"results":[{"id":"18234567","type":"deal_to_company"}]}}}`),
			check: func(t *testing.T, e Entity) {
				o := e.Opportunity
				if o.Kind != crm.OpportunityRenewal || o.AccountID != "18234567" || *o.Amount != 48000.5 || o.IsClosed || o.OwnerID != "41566921" {
					t.Errorf("deal = %+v", o)
				}
				if !o.CloseDate.Equal(time.Date(2025, 4, 30, 0, 0, 0, 0, time.UTC)) || !o.CreatedAt.Equal(time.Date(2024, 10, 1, 0, 0, 0, 0, time.UTC)) {
					t.Errorf("dates = %v %v", o.CloseDate, o.CreatedAt)
				}
			},
		},
		{
			name: "new business deal, closed date as epoch ms",
			rec: record("deals", "9002", `{"id":"9002","properties":{"dealname":"Acme","dealtype":"newbusiness","closedate":"1704067200000",
				"hs_is_closed":"true","hs_is_closed_won":"true"},"createdAt":"2023-11-01T08:00:00Z"}`),
			check: func(t *testing.T, e Entity) {
				o := e.Opportunity
				if o.Kind != crm.OpportunityNew || !o.IsWon || !o.CloseDate.Equal(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)) || o.AccountID != "" {
					t.Errorf("deal = %+v", o)
				}
				if !o.CreatedAt.Equal(time.Date(2023, 11, 1, 8, 0, 0, 0, time.UTC)) {
					t.Errorf("CreatedAt from createdAt = %v", o.CreatedAt)
				}
			},
		},
		{
			name: "incoming email",
			rec: record("emails", "7001", `{"id":"7001","properties":{"hs_timestamp":"1736496000000","hs_email_direction":"INCOMING_EMAIL",
				"hs_email_subject":"Re: renewal","hs_email_status":"SENT","hubspot_owner_id":"41566921"},
				"associations":{"contacts":{"results":[{"id":"551","type":"email_to_contact"},{"id":"552","type":"email_to_contact"}]},
				"companies":{"results":[{"id":"18234567","type":"email_to_company"}]}}}`),
			check: func(t *testing.T, e Entity) {
				a := e.Activity
				if a.Kind != crm.ActivityEmail || a.Direction != crm.DirectionInbound || !a.Completed || a.AccountID != "18234567" {
					t.Errorf("email = %+v", a)
				}
				if len(a.ContactIDs) != 2 || a.ContactIDs[1] != "552" || !a.OccurredAt.Equal(time.Date(2025, 1, 10, 8, 0, 0, 0, time.UTC)) {
					t.Errorf("contacts %v at %v", a.ContactIDs, a.OccurredAt)
				}
			},
		},
		{
			name: "sent and forwarded emails are outbound",
			rec:  record("emails", "7002", `{"id":"7002","properties":{"hs_timestamp":"2025-01-11T08:00:00.000Z","hs_email_direction":"FORWARDED_EMAIL"}}`),
			check: func(t *testing.T, e Entity) {
				if a := e.Activity; a.Direction != crm.DirectionOutbound || !a.Completed {
					t.Errorf("email = %+v", a)
				}
			},
		},
		{
			name: "bounced email is not a contact",
			rec:  record("emails", "7003", `{"id":"7003","properties":{"hs_timestamp":"2025-01-11T08:00:00Z","hs_email_direction":"EMAIL","hs_email_status":"BOUNCED"}}`),
			check: func(t *testing.T, e Entity) {
				if a := e.Activity; a.Direction != crm.DirectionOutbound || a.Completed {
					t.Errorf("email = %+v", a)
				}
			},
		},
		{
			name: "inbound call",
			rec: record("calls", "7101", `{"id":"7101","properties":{"hs_timestamp":"2025-01-12T15:00:00Z","hs_call_direction":"INBOUND",
				"hs_call_status":"COMPLETED","hs_call_title":"Support escalation","hs_call_duration":"540000"}}`),
			check: func(t *testing.T, e Entity) {
				if a := e.Activity; a.Kind != crm.ActivityCall || a.Direction != crm.DirectionInbound || !a.Completed || a.CompletedAt == nil {
					t.Errorf("call = %+v", a)
				}
			},
		},
		{
			name: "unanswered call",
			rec:  record("calls", "7102", `{"id":"7102","properties":{"hs_timestamp":"2025-01-12T15:00:00Z","hs_call_direction":"OUTBOUND","hs_call_status":"NO_ANSWER"}}`),
			check: func(t *testing.T, e Entity) {
				if a := e.Activity; a.Direction != crm.DirectionOutbound || a.Completed {
					t.Errorf("call = %+v", a)
				}
			},
		},
		{
			name: "completed QBR meeting",
			rec: record("meetings", "7201", `{"id":"7201","properties":{"hs_timestamp":"2025-01-20T15:00:00Z","hs_meeting_title":"Acme QBR",
				"hs_meeting_outcome":"COMPLETED","hs_activity_type":"Business Review"},"associations":{"deals":{"results":[{"id":"9001","type":"meeting_event_to_deal"}]}}}`),
			check: func(t *testing.T, e Entity) {
				if a := e.Activity; a.Kind != crm.ActivityMeeting || !a.Completed || !a.EBR || a.OpportunityID != "9001" {
					t.Errorf("meeting = %+v", a)
				}
			},
		},
		{
			name: "scheduled meeting in the past counts as held",
			rec:  record("meetings", "7202", `{"id":"7202","properties":{"hs_timestamp":"2025-01-14T15:00:00Z","hs_meeting_title":"Sync","hs_meeting_outcome":"SCHEDULED"}}`),
			check: func(t *testing.T, e Entity) {
				if a := e.Activity; !a.Completed || a.EBR {
					t.Errorf("meeting = %+v", a)
				}
			},
		},
		{
			name: "future meeting and no-show are not held",
			rec:  record("meetings", "7203", `{"id":"7203","properties":{"hs_timestamp":"2025-01-16T15:00:00Z","hs_meeting_outcome":""}}`),
			check: func(t *testing.T, e Entity) {
				if a := e.Activity; a.Completed {
					t.Errorf("meeting = %+v", a)
				}
			},
		},
		{
			name: "no-show",
			rec:  record("meetings", "7204", `{"id":"7204","properties":{"hs_timestamp":"2025-01-10T15:00:00Z","hs_meeting_outcome":"NO_SHOW"}}`),
			check: func(t *testing.T, e Entity) {
				if a := e.Activity; a.Completed {
					t.Errorf("meeting = %+v", a)
				}
			},
		},
		{
			name: "completed task",
			rec: record("tasks", "7301", `{"id":"7301","properties":{"hs_timestamp":"2025-01-13T00:00:00Z","hs_task_subject":"Send deck",
				"hs_task_status":"COMPLETED","hs_task_priority":"HIGH","hs_task_completion_date":"2025-01-12T17:00:00Z"}}`),
			check: func(t *testing.T, e Entity) {
				a := e.Activity
				if a.Kind != crm.ActivityTask || !a.Completed || !a.CompletedAt.Equal(time.Date(2025, 1, 12, 17, 0, 0, 0, time.UTC)) || !a.OccurredAt.Equal(*a.CompletedAt) {
					t.Errorf("task = %+v", a)
				}
			},
		},
		{
			name: "open task",
			rec:  record("tasks", "7302", `{"id":"7302","properties":{"hs_timestamp":"2025-01-20T00:00:00Z","hs_task_subject":"Call Dana","hs_task_status":"NOT_STARTED"}}`),
			check: func(t *testing.T, e Entity) {
				if a := e.Activity; a.Completed || a.CompletedAt != nil || a.Status != "NOT_STARTED" {
					t.Errorf("task = %+v", a)
				}
			},
		},
		{
			name: "note",
			rec:  record("notes", "7401", `{"id":"7401","properties":{"hs_timestamp":"2025-01-02T10:00:00Z","hs_note_body":"Met at conference"}}`),
			check: func(t *testing.T, e Entity) {
				if a := e.Activity; a.Kind != crm.ActivityNote || !a.Completed {
					t.Errorf("note = %+v", a)
				}
			},
		},
		{
			name: "owner",
			rec:  record("owners", "41566921", `{"id":"41566921","email":"fox@vendor.example","firstName":"Fox","lastName":"Mulder","userId":9586504,"archived":false}`),
			check: func(t *testing.T, e Entity) {
				if u := e.User; u.Name != "Fox Mulder" || u.Email != "fox@vendor.example" || !u.Active {
					t.Errorf("owner = %+v", u)
				}
			},
		},
		{
			name: "archived owner",
			rec:  record("owners", "41566922", `{"id":"41566922","email":"old@vendor.example","firstName":"Old","lastName":"Owner","archived":true}`),
			check: func(t *testing.T, e Entity) {
				if e.User.Active {
					t.Errorf("owner = %+v", e.User)
				}
			},
		},
		{
			name: "bad timestamp and sentiment",
			rec:  record("calls", "7103", `{"id":"7103","properties":{"hs_timestamp":"yesterday","hs_call_direction":"OUTBOUND"}}`),
			check: func(t *testing.T, e Entity) {
				if a := e.Activity; a == nil || a.Direction != crm.DirectionOutbound || !a.OccurredAt.Equal(testNow.Add(-time.Hour)) {
					t.Errorf("call = %+v", a)
				}
			},
			errSub: []string{`map calls 7103: field hs_timestamp: value "yesterday": want a date or datetime (ISO 8601 or epoch milliseconds)`},
		},
		{
			name: "company with a sentiment outside the scale",
			rec:  record("companies", "18234568", `{"id":"18234568","properties":{"name":"Globex","csm_health":"9","numberofemployees":"many"}}`),
			check: func(t *testing.T, e Entity) {
				if a := e.Account; a.Name != "Globex" || a.CSMSentiment != nil || a.Employees != nil {
					t.Errorf("company = %+v", a)
				}
			},
			errSub: []string{`field csm_health: value "9": want one of amber, green, red, yellow or a number from 1 to 5`, `field numberofemployees: value "many": want a number`},
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
