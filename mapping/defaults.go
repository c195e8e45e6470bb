package mapping

import (
	"healthsync/crm"
	"healthsync/scoring"
)

// Object names of each CRM, as its API spells them.
const (
	SFAccount     = "Account"
	SFContact     = "Contact"
	SFOpportunity = "Opportunity"
	SFTask        = "Task"
	SFEvent       = "Event"
	SFUser        = "User"

	HSCompanies = "companies"
	HSContacts  = "contacts"
	HSDeals     = "deals"
	HSCalls     = "calls"
	HSEmails    = "emails"
	HSMeetings  = "meetings"
	HSNotes     = "notes"
	HSTasks     = "tasks"
	HSOwners    = "owners"
)

// EntityKind names a canonical entity.
type EntityKind string

// Canonical entities.
const (
	KindAccount     EntityKind = "account"
	KindContact     EntityKind = "contact"
	KindOpportunity EntityKind = "opportunity"
	KindActivity    EntityKind = "activity"
	KindUser        EntityKind = "user"
)

// objectInfo is what healthsync knows about one standard CRM object.
type objectInfo struct {
	name   string
	entity EntityKind
	// activity is the kind an activity object always has ("" for Salesforce
	// Task, whose kind the classify rules decide).
	activity crm.ActivityKind
}

// standardObjects lists each CRM's objects in sync order: accounts before
// contacts before opportunities before activities, users last.
var standardObjects = map[crm.System][]objectInfo{
	crm.Salesforce: {
		{SFAccount, KindAccount, ""},
		{SFContact, KindContact, ""},
		{SFOpportunity, KindOpportunity, ""},
		{SFTask, KindActivity, ""},
		{SFEvent, KindActivity, crm.ActivityMeeting},
		{SFUser, KindUser, ""},
	},
	crm.HubSpot: {
		{HSCompanies, KindAccount, ""},
		{HSContacts, KindContact, ""},
		{HSDeals, KindOpportunity, ""},
		{HSCalls, KindActivity, crm.ActivityCall},
		{HSEmails, KindActivity, crm.ActivityEmail},
		{HSMeetings, KindActivity, crm.ActivityMeeting},
		{HSNotes, KindActivity, crm.ActivityNote},
		{HSTasks, KindActivity, crm.ActivityTask},
		{HSOwners, KindUser, ""},
	},
}

func lookupObject(sys crm.System, name string) (objectInfo, bool) {
	for _, o := range standardObjects[sys] {
		if o.name == name {
			return o, true
		}
	}
	return objectInfo{}, false
}

func objectNames(sys crm.System) []string {
	var out []string
	for _, o := range standardObjects[sys] {
		out = append(out, o.name)
	}
	return out
}

// Default returns the effective configuration of an empty mapping file
// for sys: the standard objects and fields, the classification rules,
// outputs and task templates healthsync ships with.
func Default(sys crm.System) File {
	f := File{Version: 1, CRM: CRMConfig{System: string(sys), Objects: objectNames(sys)}}
	switch sys {
	case crm.Salesforce:
		f.Fields = salesforceFields()
		f.Outputs = OutputsConfig{
			Score:         "Health_Score__c",
			Grade:         "Health_Grade__c",
			Reasons:       "Health_Reasons__c",
			Trend:         "Health_Trend__c",
			Flags:         "Health_Flags__c",
			UpdatedAt:     "Healthsync_Updated__c",
			Metrics:       map[string]string{},
			Counters:      map[string]string{},
			TaskKey:       "Healthsync_Key__c",
			ScoreDeadBand: ptr(DefaultScoreDeadBand),
		}
	case crm.HubSpot:
		f.Fields = hubspotFields()
		f.Outputs = OutputsConfig{
			Score:         "healthsync_score",
			Grade:         "healthsync_grade",
			Reasons:       "healthsync_reasons",
			Trend:         "healthsync_trend",
			Flags:         "healthsync_flags",
			UpdatedAt:     "healthsync_updated_at",
			Metrics:       map[string]string{},
			Counters:      map[string]string{},
			TaskKey:       "healthsync_key",
			ScoreDeadBand: ptr(DefaultScoreDeadBand),
		}
	}
	f.Classify = defaultClassify(sys)
	f.Tasks = defaultTasks()
	f.Scoring = scoring.DefaultConfig()
	return f
}

func salesforceFields() FieldsConfig {
	return FieldsConfig{
		Account: AccountFields{
			Name:          "Name",
			OwnerID:       "OwnerId",
			Industry:      "Industry",
			Type:          "Type",
			Status:        "Type",
			Employees:     "NumberOfEmployees",
			AnnualRevenue: "AnnualRevenue",
			CreatedAt:     "CreatedDate",
		},
		Contact: ContactFields{
			AccountID:  "AccountId",
			FirstName:  "FirstName",
			LastName:   "LastName",
			Title:      "Title",
			Email:      "Email",
			Department: "Department",
			OwnerID:    "OwnerId",
		},
		Opportunity: OpportunityFields{
			AccountID:   "AccountId",
			Name:        "Name",
			Stage:       "StageName",
			Type:        "Type",
			Amount:      "Amount",
			CloseDate:   "CloseDate",
			IsClosed:    "IsClosed",
			IsWon:       "IsWon",
			Probability: "Probability",
			OwnerID:     "OwnerId",
			CreatedAt:   "CreatedDate",
		},
		Activity: map[string]ActivityFields{
			SFTask: {
				AccountID:   "AccountId",
				ContactID:   "WhoId",
				WhatID:      "WhatId",
				Subject:     "Subject",
				Type:        "Type",
				Subtype:     "TaskSubtype",
				Status:      "Status",
				Completed:   "IsClosed",
				Direction:   "CallType",
				OccurredAt:  "ActivityDate",
				CompletedAt: "CompletedDateTime",
				OwnerID:     "OwnerId",
			},
			SFEvent: {
				AccountID:  "AccountId",
				ContactID:  "WhoId",
				WhatID:     "WhatId",
				Subject:    "Subject",
				Type:       "Type",
				OccurredAt: "StartDateTime",
				OwnerID:    "OwnerId",
			},
		},
		User: UserFields{Name: "Name", Email: "Email", Active: "IsActive"},
	}
}

// hubspotFields are HubSpot's standard properties. HubSpot ignores
// requested properties a portal does not have, so engagement properties
// beyond the essential ones are safe defaults.
func hubspotFields() FieldsConfig {
	engagement := func(f ActivityFields) ActivityFields {
		f.OccurredAt = "hs_timestamp"
		f.OwnerID = "hubspot_owner_id"
		return f
	}
	return FieldsConfig{
		Account: AccountFields{
			Name:          "name",
			OwnerID:       "hubspot_owner_id",
			Industry:      "industry",
			Type:          "type",
			Status:        "lifecyclestage",
			Employees:     "numberofemployees",
			AnnualRevenue: "annualrevenue",
		},
		Contact: ContactFields{
			AccountID: "associatedcompanyid",
			FirstName: "firstname",
			LastName:  "lastname",
			Title:     "jobtitle",
			Email:     "email",
			OwnerID:   "hubspot_owner_id",
		},
		Opportunity: OpportunityFields{
			Name:      "dealname",
			Stage:     "dealstage",
			Type:      "dealtype",
			Amount:    "amount",
			CloseDate: "closedate",
			IsClosed:  "hs_is_closed",
			IsWon:     "hs_is_closed_won",
			OwnerID:   "hubspot_owner_id",
			CreatedAt: "createdate",
		},
		Activity: map[string]ActivityFields{
			HSCalls:    engagement(ActivityFields{Subject: "hs_call_title", Status: "hs_call_status", Direction: "hs_call_direction"}),
			HSEmails:   engagement(ActivityFields{Subject: "hs_email_subject", Status: "hs_email_status", Direction: "hs_email_direction"}),
			HSMeetings: engagement(ActivityFields{Subject: "hs_meeting_title", Type: "hs_activity_type", Outcome: "hs_meeting_outcome"}),
			HSNotes:    engagement(ActivityFields{}),
			HSTasks:    engagement(ActivityFields{Subject: "hs_task_subject", Type: "hs_task_type", Status: "hs_task_status", CompletedAt: "hs_task_completion_date"}),
		},
		User: UserFields{Email: "email", FirstName: "firstName", LastName: "lastName"},
	}
}

func defaultClassify(sys crm.System) ClassifyConfig {
	c := ClassifyConfig{
		Opportunities: OpportunityRules{
			Renewal:   KindRule{Types: []string{"Renewal", "Existing Customer - Renewal"}, RecordTypes: []string{"Renewal"}},
			Expansion: KindRule{Types: []string{"Upsell", "Cross-sell", "Cross Sell", "Expansion", "Add-on", "Existing Customer - Upgrade", "Existing Business", "existingbusiness"}, RecordTypes: []string{"Expansion", "Upsell"}},
			New:       KindRule{Types: []string{"New Business", "New Customer", "newbusiness"}, RecordTypes: []string{"New_Business", "New Business"}},
		},
		Activities: ActivityRules{
			DefaultEmailDirection: "outbound",
			CallDirection: map[string]string{
				"Inbound": "inbound", "Outbound": "outbound",
			},
			EBR: EBRRule{
				Types:   []string{"EBR", "QBR", "Executive Business Review", "Business Review"},
				Subject: MustPattern(`(?i)\b(ebr|qbr|executive business review|quarterly business review|business review)\b`),
			},
			CompletedStatuses: []string{"Completed", "COMPLETED"},
		},
		Sentiment: SentimentRules{
			Values: map[string]float64{"green": 100, "yellow": 50, "amber": 50, "red": 0},
			Scale:  ScaleRule{Min: 1, Max: 5},
		},
		Segments:  SegmentRules{Values: map[string]string{}},
		Lifecycle: LifecycleRules{Values: map[string]string{}},
		Adoption:  AdoptionRules{Unit: "fraction"},
	}
	switch sys {
	case crm.Salesforce:
		c.Activities.Kinds = []KindMatch{
			{Match: Match{Field: "subtype", Equals: []string{"Email", "ListEmail", "Cadence"}}, Kind: "email"},
			{Match: Match{Field: "subtype", Equals: []string{"Call"}}, Kind: "call"},
			{Match: Match{Field: "type", Equals: []string{"Email"}}, Kind: "email"},
			{Match: Match{Field: "type", Equals: []string{"Call"}}, Kind: "call"},
			{Match: Match{Field: "type", Equals: []string{"Meeting"}}, Kind: "meeting"},
			{Match: Match{Field: "subject", Matches: MustPattern(`(?i)^\s*e-?mail\s*:`)}, Kind: "email"},
			{Match: Match{Field: "subject", Matches: MustPattern(`(?i)^\s*call\b`)}, Kind: "call"},
			{Match: Match{Field: "subject", Matches: MustPattern(`(?i)^\s*meeting\s*:`)}, Kind: "meeting"},
		}
		// The CRM's own direction comes first: a mapped direction field
		// (fields.activity.Task.direction, e.g. Direction__c) or a type
		// that says it. A standard org has neither, so a reply subject
		// means the customer wrote (logged from the inbox, also behind
		// Salesforce's "Email: " prefix); anything else is ours.
		c.Activities.EmailDirection = []DirectionMatch{
			{Match: Match{Field: "direction", Equals: []string{"Inbound", "Incoming", "Received"}}, Direction: "inbound"},
			{Match: Match{Field: "direction", Equals: []string{"Outbound", "Outgoing", "Sent"}}, Direction: "outbound"},
			{Match: Match{Field: "type", Equals: []string{"Inbound Email", "Email - Inbound", "Email Received"}}, Direction: "inbound"},
			{Match: Match{Field: "type", Equals: []string{"Outbound Email", "Email - Outbound", "Email Sent"}}, Direction: "outbound"},
			{Match: Match{Field: "subject", Matches: MustPattern(emailReplySubject)}, Direction: "inbound"},
		}
		c.CustomerStatus = CustomerStatusRules{
			Customer: []string{"Customer", "Customer - Direct", "Customer - Channel", "Active Customer"},
			Former:   []string{"Former Customer", "Churned", "Churned Customer", "Ex-Customer"},
			Prospect: []string{"Prospect", "Lead"},
		}
	case crm.HubSpot:
		c.Activities.EmailDirection = []DirectionMatch{
			{Match: Match{Field: "direction", Equals: []string{"INCOMING_EMAIL"}}, Direction: "inbound"},
			{Match: Match{Field: "direction", Equals: []string{"EMAIL", "FORWARDED_EMAIL"}}, Direction: "outbound"},
		}
		c.Activities.CallDirection = map[string]string{"INBOUND": "inbound", "OUTBOUND": "outbound"}
		c.Activities.DefaultEmailDirection = "unknown"
		c.Lifecycle.Values = map[string]string{}
		// HubSpot's company lifecyclestage: its sales-funnel stages before
		// "customer" are prospects.
		c.CustomerStatus = CustomerStatusRules{
			Customer: []string{"customer", "evangelist"},
			Former:   []string{"former_customer", "churned"},
			Prospect: []string{"subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity"},
		}
	}
	return c
}

// emailReplySubject recognises a reply logged from the inbox: "Re: …",
// also behind Salesforce's "Email: " prefix ("Email: Re: …") and in the
// usual languages (AW, Antw, SV, VS, R).
const emailReplySubject = `(?i)^\s*(e-?mail\s*:\s*)?(re|aw|antw|sv|vs|r)\s*:`

func defaultTasks() TasksConfig {
	why := "{{.Why}}\n\n"
	return TasksConfig{
		DailyBudgetPerOwner: ptr(DefaultDailyTaskBudget),
		Flags: map[string]TaskTemplate{
			scoring.FlagRenewalExecGap: {
				Description: why + "Book time with an executive sponsor at {{.AccountName}} before the renewal.",
			},
			scoring.FlagSingleThreaded: {
				// Being single-threaded is a structural risk: shown always,
				// a task once the renewal is six months away.
				RenewalWithinDays: ptr(180),
				Description:       why + "Ask your sponsor at {{.AccountName}} for an introduction to another executive.",
			},
			scoring.FlagChampionOpportunity: {
				// A growth opportunity, not a risk: shown as a flag; no
				// task unless tasks.flags.champion_opportunity.disabled is
				// set to false.
				Disabled:    true,
				Description: why + "Reach out to the most active users at {{.AccountName}} and make them champions.",
			},
			scoring.FlagAdoptionEmergency: {
				Description: why + "Reach out to the users at {{.AccountName}} today and find out what changed.",
			},
		},
	}
}

// DefaultDailyTaskBudget is how many new healthsync tasks one owner gets
// per day unless tasks.daily_budget_per_owner says otherwise: a CSM who
// gets more than a handful a day stops reading them.
const DefaultDailyTaskBudget = 5

// DefaultScoreDeadBand is the score movement (points) below which a
// written score is left as it is, unless its grade changes.
const DefaultScoreDeadBand = 5.0

func ptr[T any](v T) *T { return &v }
