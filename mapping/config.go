package mapping

import "healthsync/scoring"

// This file is the single definition of the mapping file's shape. The
// loader (decode.go) and the JSON Schema generator (schema.go) both walk
// these structs by reflection, so a key added here is accepted by the
// loader and offered by editors at once.
//
// Struct tags:
//   yaml:"name"     the key in the file
//   doc:"..."       the description shown by editors (JSON Schema)
//   kind:"..."      for canonical fields: the value type read from the CRM
//                   (string, id, number, int, bool, date, datetime, sentiment)
//   enum:"a,b"      the values a string may take (checked by the loader)

// File is the whole mapping file. After loading it holds the effective
// configuration: the built-in defaults for the CRM with the file's values
// merged over them.
type File struct {
	Version  int            `yaml:"version" doc:"Format version of this file. Only 1 exists; leave it at 1."`
	CRM      CRMConfig      `yaml:"crm" doc:"Which CRM healthsync talks to and which of its objects it syncs."`
	Fields   FieldsConfig   `yaml:"fields" doc:"For each canonical field, the CRM field (Salesforce API name or HubSpot internal property name) it is read from. Built-in defaults fit a standard org/portal; set a key to \"\" to stop reading it."`
	Classify ClassifyConfig `yaml:"classify" doc:"Rules that turn CRM values into healthsync's meanings: opportunity kinds, activity kinds and direction, EBRs, sentiment, segment and lifecycle values."`
	Outputs  OutputsConfig  `yaml:"outputs" doc:"Where results are written back. Only the fields named here are ever written to the CRM."`
	Tasks    TasksConfig    `yaml:"tasks" doc:"Follow-up tasks created in the CRM for risk flags."`
	Scoring  scoring.Config `yaml:"scoring" doc:"Scoring weights, thresholds, executive title patterns, segment and lifecycle rules, and the risk flags with their task subject, priority and due date; merged over healthsync's defaults (docs/scoring.md)."`
}

// CRMConfig selects the CRM and the objects to sync.
type CRMConfig struct {
	System  string   `yaml:"system" enum:"salesforce,hubspot" doc:"The CRM: salesforce or hubspot. May be left out when HEALTHSYNC_CRM says it."`
	Objects []string `yaml:"objects" doc:"The CRM objects to sync. Default: all standard ones (Salesforce: Account, Contact, Opportunity, Task, Event, User; HubSpot: companies, contacts, deals, calls, emails, meetings, notes, tasks, owners)."`
}

// FieldsConfig names the CRM field behind every canonical field, per
// canonical entity. Activities come from several CRM objects, so their
// fields are given per object.
type FieldsConfig struct {
	Account     AccountFields             `yaml:"account" doc:"Fields of the account object (Salesforce Account, HubSpot companies)."`
	Contact     ContactFields             `yaml:"contact" doc:"Fields of the contact object (Salesforce Contact, HubSpot contacts)."`
	Opportunity OpportunityFields         `yaml:"opportunity" doc:"Fields of the opportunity object (Salesforce Opportunity, HubSpot deals)."`
	Activity    map[string]ActivityFields `yaml:"activity" doc:"Fields of each activity object, keyed by object (Salesforce Task, Event; HubSpot calls, emails, meetings, notes, tasks)."`
	User        UserFields                `yaml:"user" doc:"Fields of the user object (Salesforce User; HubSpot owners, whose fields are fixed)."`
}

// AccountFields maps the canonical account fields.
type AccountFields struct {
	Name             string `yaml:"name" kind:"string" required:"true" doc:"Account name."`
	OwnerID          string `yaml:"owner_id" kind:"id" doc:"Account owner (user id); tasks are assigned to this user."`
	Industry         string `yaml:"industry" kind:"string" doc:"Industry."`
	Type             string `yaml:"type" kind:"string" doc:"Account type (e.g. Customer)."`
	Status           string `yaml:"status" kind:"string" doc:"A field telling live customers from prospects and former customers (Salesforce Type, HubSpot lifecyclestage); its values are read by classify.customer_status. Where it says nothing, the order of events decides (a lost latest renewal with no later won deal is a former customer)."`
	Segment          string `yaml:"segment" kind:"string" doc:"A field holding the segment (values translated by classify.segments.values). When empty, scoring.segments rules decide."`
	LifecycleStage   string `yaml:"lifecycle_stage" kind:"string" doc:"A field holding the lifecycle stage (values translated by classify.lifecycle.values). When empty, scoring.lifecycle rules decide."`
	Employees        string `yaml:"employees" kind:"int" doc:"Number of employees."`
	AnnualRevenue    string `yaml:"annual_revenue" kind:"number" doc:"The customer's own annual revenue."`
	ARR              string `yaml:"arr" kind:"number" doc:"Contracted annual recurring revenue."`
	Adoption         string `yaml:"adoption" kind:"number" doc:"A usage measure, e.g. active users / licences."`
	AdoptionPrevious string `yaml:"adoption_previous" kind:"number" doc:"The same usage measure one period earlier, for its trend."`
	CSMSentiment     string `yaml:"csm_sentiment" kind:"sentiment" doc:"The CSM's rating: a picklist (translated by classify.sentiment.values) or a number on classify.sentiment.scale."`
	NPS              string `yaml:"nps" kind:"number" doc:"Account NPS (-100..100) or the latest 0..10 response."`
	CSAT             string `yaml:"csat" kind:"number" doc:"Customer satisfaction, 0..100."`
	RenewalDate      string `yaml:"renewal_date" kind:"date" doc:"An explicit renewal date field."`
	CustomerSince    string `yaml:"customer_since" kind:"date" doc:"When the customer signed first."`
	FirstValueAt     string `yaml:"first_value_at" kind:"date" doc:"When the customer reached its first adoption milestone."`
	Churned          string `yaml:"churned" kind:"bool" doc:"A checkbox (or true/false property) saying the customer left."`
	ChurnedAt        string `yaml:"churned_at" kind:"date" doc:"When the customer left."`
	ScoreOverride    string `yaml:"score_override" kind:"number" doc:"A CSM's manual score (0..100) that replaces the computed one until it expires."`
	GradeOverride    string `yaml:"grade_override" kind:"string" doc:"A CSM's manual grade (green, yellow, red)."`
	OverrideComment  string `yaml:"override_comment" kind:"string" doc:"Why the CSM overrode the score."`
	OverrideExpires  string `yaml:"override_expires" kind:"date" doc:"When the override stops applying."`
	CreatedAt        string `yaml:"created_at" kind:"datetime" doc:"When the account was created in the CRM (Salesforce CreatedDate; HubSpot: the record's createdAt when empty). Before it the account counts as not existing yet in past KPIs, backtests and scores as of a date, unless a customer-since date or a deal closed earlier says it was a customer before (records imported from an older system)."`
}

// ContactFields maps the canonical contact fields.
type ContactFields struct {
	AccountID  string `yaml:"account_id" kind:"id" required:"true" doc:"The contact's account. HubSpot: a company id property; the primary associated company is used when it is empty."`
	FirstName  string `yaml:"first_name" kind:"string" doc:"First name."`
	LastName   string `yaml:"last_name" kind:"string" doc:"Last name."`
	Title      string `yaml:"title" kind:"string" doc:"Job title, matched against scoring.roles.executive_title_patterns."`
	Seniority  string `yaml:"seniority" kind:"string" doc:"A seniority field, matched against scoring.roles.executive_seniority_patterns."`
	Email      string `yaml:"email" kind:"string" doc:"Email address."`
	Department string `yaml:"department" kind:"string" doc:"Department."`
	OwnerID    string `yaml:"owner_id" kind:"id" doc:"Contact owner."`
}

// OpportunityFields maps the canonical opportunity fields.
type OpportunityFields struct {
	AccountID   string `yaml:"account_id" kind:"id" required:"true" doc:"The opportunity's account. HubSpot: the first associated company when empty."`
	Name        string `yaml:"name" kind:"string" doc:"Name."`
	Stage       string `yaml:"stage" kind:"string" doc:"Stage."`
	Type        string `yaml:"type" kind:"string" doc:"Type, matched against classify.opportunities.*.types."`
	RecordType  string `yaml:"record_type" kind:"string" doc:"Record type name (Salesforce: RecordType.DeveloperName), matched against classify.opportunities.*.record_types."`
	Amount      string `yaml:"amount" kind:"number" doc:"Amount."`
	CloseDate   string `yaml:"close_date" kind:"date" doc:"Close date."`
	IsClosed    string `yaml:"is_closed" kind:"bool" doc:"Closed (won or lost)."`
	IsWon       string `yaml:"is_won" kind:"bool" doc:"Closed won."`
	Probability string `yaml:"probability" kind:"number" doc:"Probability in percent."`
	OwnerID     string `yaml:"owner_id" kind:"id" doc:"Opportunity owner."`
	CreatedAt   string `yaml:"created_at" kind:"datetime" doc:"Creation time."`
}

// ActivityFields maps the canonical activity fields of one CRM object.
type ActivityFields struct {
	AccountID   string `yaml:"account_id" kind:"id" doc:"The activity's account. HubSpot: the first associated company when empty."`
	ContactID   string `yaml:"contact_id" kind:"id" doc:"The contact it involved. HubSpot: every associated contact when empty."`
	WhatID      string `yaml:"what_id" kind:"id" doc:"Salesforce WhatId: the related record; an opportunity id (prefix 006) sets the activity's opportunity."`
	Subject     string `yaml:"subject" kind:"string" doc:"Subject or title."`
	Type        string `yaml:"type" kind:"string" doc:"Type, used by classify.activities rules."`
	Subtype     string `yaml:"subtype" kind:"string" doc:"Subtype (Salesforce TaskSubtype: Email, Call, Task, ...)."`
	Status      string `yaml:"status" kind:"string" doc:"Status."`
	Completed   string `yaml:"completed" kind:"bool" doc:"Closed / completed flag."`
	Direction   string `yaml:"direction" kind:"string" doc:"Raw direction value (Salesforce CallType, HubSpot hs_call_direction / hs_email_direction)."`
	Outcome     string `yaml:"outcome" kind:"string" doc:"Meeting outcome (HubSpot hs_meeting_outcome)."`
	OccurredAt  string `yaml:"occurred_at" kind:"datetime" doc:"When it happened (or is due)."`
	CompletedAt string `yaml:"completed_at" kind:"datetime" doc:"When it was completed."`
	OwnerID     string `yaml:"owner_id" kind:"id" doc:"Owner (the team member)."`
}

// UserFields maps the canonical user fields.
type UserFields struct {
	Name      string `yaml:"name" kind:"string" doc:"Full name."`
	FirstName string `yaml:"first_name" kind:"string" doc:"First name (used when name is empty)."`
	LastName  string `yaml:"last_name" kind:"string" doc:"Last name (used when name is empty)."`
	Email     string `yaml:"email" kind:"string" doc:"Email address."`
	Active    string `yaml:"active" kind:"bool" doc:"Active user."`
}

// ClassifyConfig holds the classification rules.
type ClassifyConfig struct {
	Opportunities OpportunityRules `yaml:"opportunities" doc:"Which opportunity types or record types mean renewal, expansion or new business; anything else is other."`
	Activities    ActivityRules    `yaml:"activities" doc:"How activities are classified."`
	Sentiment     SentimentRules   `yaml:"sentiment" doc:"How the CSM sentiment field becomes 0..100."`
	Segments      SegmentRules     `yaml:"segments" doc:"How a segment field's values are translated. Without a segment field, scoring.segments rules decide."`
	Lifecycle     LifecycleRules   `yaml:"lifecycle" doc:"How a lifecycle-stage field's values map onto healthsync's stages."`
	// CustomerStatus reads the account status field.
	CustomerStatus CustomerStatusRules `yaml:"customer_status" doc:"Which values of fields.account.status mean a live customer, a former customer or a prospect (case-insensitive). Only live customers are scored, flagged and given tasks."`
	Adoption       AdoptionRules       `yaml:"adoption" doc:"How the adoption field holds its value."`
}

// CustomerStatusRules classify the account status field's values.
type CustomerStatusRules struct {
	Customer []string `yaml:"customer" doc:"Values that mean a live customer (e.g. Customer, Customer - Direct)."`
	Former   []string `yaml:"former" doc:"Values that mean a former customer (e.g. Former Customer, Churned)."`
	Prospect []string `yaml:"prospect" doc:"Values that mean a prospect (e.g. Prospect, lead)."`
}

// AdoptionRules declare the unit of the adoption fields.
type AdoptionRules struct {
	Unit string `yaml:"unit" enum:"fraction,percent" doc:"The unit of fields.account.adoption and adoption_previous: fraction (0..1, the default) or percent (0..100). healthsync converts to a fraction; every adoption threshold in the scoring section is a fraction (0.7 means 70%)."`
}

// OpportunityRules classifies opportunities into crm.OpportunityKind.
// Renewal is checked first, then expansion, then new.
type OpportunityRules struct {
	Renewal   KindRule `yaml:"renewal" doc:"What makes an opportunity a renewal."`
	Expansion KindRule `yaml:"expansion" doc:"What makes an opportunity an expansion (upsell, cross-sell)."`
	New       KindRule `yaml:"new" doc:"What makes an opportunity new business."`
}

// KindRule matches an opportunity by type, record type or name.
type KindRule struct {
	Types       []string `yaml:"types" doc:"Type values (case-insensitive)."`
	RecordTypes []string `yaml:"record_types" doc:"Record type names (case-insensitive)."`
	NamePattern Pattern  `yaml:"name_pattern" doc:"A regular expression (RE2) matched against the name."`
}

// ActivityRules classify activities.
type ActivityRules struct {
	Kinds                 []KindMatch       `yaml:"kinds" doc:"Ordered rules giving the kind of activities whose object does not fix it (Salesforce Task); first match wins, otherwise task."`
	EmailDirection        []DirectionMatch  `yaml:"email_direction" doc:"Ordered rules giving the direction of emails; first match wins."`
	DefaultEmailDirection string            `yaml:"default_email_direction" enum:"inbound,outbound,unknown" doc:"Direction of an email no rule matched."`
	CallDirection         map[string]string `yaml:"call_direction" doc:"Raw call direction values (case-insensitive) and the direction they mean: inbound or outbound."`
	EBR                   EBRRule           `yaml:"ebr" doc:"What makes an activity an executive business review."`
	CompletedStatuses     []string          `yaml:"completed_statuses" doc:"Status values (case-insensitive) that mean completed when the CRM has no completed flag (HubSpot tasks, calls)."`
}

// Match is a condition on one canonical activity field.
type Match struct {
	Field   string   `yaml:"field" enum:"subject,type,subtype,status,direction,outcome" doc:"The canonical activity field tested."`
	Equals  []string `yaml:"equals" doc:"Values that match (case-insensitive)."`
	Matches Pattern  `yaml:"matches" doc:"A regular expression (RE2) that matches."`
}

// KindMatch gives an activity kind when its condition holds.
type KindMatch struct {
	Match `yaml:",inline"`
	Kind  string `yaml:"kind" enum:"email,call,meeting,task,event,note" doc:"The activity kind."`
}

// DirectionMatch gives an email direction when its condition holds.
type DirectionMatch struct {
	Match     `yaml:",inline"`
	Direction string `yaml:"direction" enum:"inbound,outbound,unknown" doc:"The direction."`
}

// EBRRule recognises executive business reviews.
type EBRRule struct {
	Types   []string `yaml:"types" doc:"Activity type values (case-insensitive) that mean EBR."`
	Subject Pattern  `yaml:"subject" doc:"A regular expression (RE2) matched against the subject."`
}

// SentimentRules translate the CSM sentiment field to 0..100.
type SentimentRules struct {
	Values map[string]float64 `yaml:"values" doc:"Picklist values (case-insensitive) and their score 0..100."`
	Scale  ScaleRule          `yaml:"scale" doc:"The range of a numeric sentiment; it is mapped linearly onto 0..100."`
}

// ScaleRule is a numeric range.
type ScaleRule struct {
	Min float64 `yaml:"min" doc:"Lowest value (maps to 0)."`
	Max float64 `yaml:"max" doc:"Highest value (maps to 100)."`
}

// SegmentRules decide an account's segment.
type SegmentRules struct {
	Values map[string]string `yaml:"values" doc:"Values of the segment field (case-insensitive) and the segment name they mean; values not listed are kept as they are."`
}

// LifecycleRules translate a lifecycle-stage field.
type LifecycleRules struct {
	Values map[string]string `yaml:"values" doc:"Values of the lifecycle-stage field (case-insensitive) and the stage they mean: Onboarding, Adoption, Growth, Renewal or Advocacy."`
}

// OutputsConfig names the CRM fields results are written to. They all live
// on the account object (Salesforce Account, HubSpot companies), except
// the task key, which lives on the task object.
type OutputsConfig struct {
	Score     string            `yaml:"score" doc:"Health score 0..100 (Salesforce Number(3,0))."`
	Grade     string            `yaml:"grade" doc:"Health grade: green, yellow or red (Text(10))."`
	Reasons   string            `yaml:"reasons" doc:"The reasons behind the score (Long text)."`
	Trend     string            `yaml:"trend" doc:"Score now minus 30 days ago (Number)."`
	Flags     string            `yaml:"flags" doc:"The risk flags raised on the account, in words (Text(255)): every flag shows here, also those that make no task."`
	UpdatedAt string            `yaml:"updated_at" doc:"When healthsync last wrote this account (DateTime)."`
	Metrics   map[string]string `yaml:"metrics" doc:"Further metrics written back, keyed by metric name (e.g. last_exec_contact_date: Healthsync_Last_Exec_Contact__c). Day counts (days_*) change every day by themselves and are not written: write the date and name the count under counters."`
	Counters  map[string]string `yaml:"counters" doc:"Salesforce only: day counts the CRM computes from a date healthsync writes, as formula fields healthsync install creates (days_to_renewal: Days_To_Renewal__c counts from the next_renewal_date output). healthsync never writes them, so they cost no write as days pass."`
	TaskKey   string            `yaml:"task_key" doc:"Field on the task object that stores healthsync's task key, so a task is never created twice."`
	// OwnedFields are output fields an admin created for healthsync by hand.
	OwnedFields []string `yaml:"owned_fields" doc:"Output fields you created yourself for healthsync (not with healthsync install). healthsync writes only to fields it created or that are listed here, never to a standard field, a field it reads, or any other app's field."`
	// ScoreDeadBand is the smallest score movement worth a write.
	ScoreDeadBand *float64 `yaml:"score_dead_band" doc:"A score (and trend) moving less than this many points is not rewritten, unless the grade changes. Default 5; 0 writes every change."`
}

// TasksConfig configures the follow-up tasks.
type TasksConfig struct {
	Disabled bool `yaml:"disabled" doc:"Create no tasks at all."`
	// DailyBudgetPerOwner caps new tasks per owner per day.
	DailyBudgetPerOwner *int `yaml:"daily_budget_per_owner" doc:"At most this many new healthsync tasks per task owner per day (UTC), the most urgent first (renewal proximity × ARR at risk × flag severity); the rest wait for the next day's budget. Default 5; 0 means no limit."`
	// ClosedStatus is the task status healthsync sets when it closes a task.
	ClosedStatus string                  `yaml:"closed_status" doc:"The closed status healthsync sets on a task it closes (default Completed on Salesforce, COMPLETED on HubSpot). The task's subject and description also say healthsync closed it and why, so it never reads as work a CSM did."`
	Snooze       SnoozeConfig            `yaml:"snooze" doc:"How a CSM snoozes a task."`
	Flags        map[string]TaskTemplate `yaml:"flags" doc:"Task settings per risk flag, keyed by flag name (renewal_exec_gap, single_threaded, champion_opportunity, adoption_emergency, or a scoring.custom_flags name). The subject, priority and due date are set under scoring.flags.<flag>.task (or the custom flag's task)."`
}

// SnoozeConfig says how a snoozed task is recognised.
type SnoozeConfig struct {
	Field  string `yaml:"field" doc:"A date field on the task holding 'snoozed until'."`
	Status string `yaml:"status" doc:"A task status value that means snoozed (e.g. Deferred)."`
}

// TaskTemplate is how the task of one flag is written. Its subject,
// priority and due date come from the flag's task in the scoring section.
type TaskTemplate struct {
	Disabled    bool   `yaml:"disabled" doc:"Create no task for this flag (the flag is still computed and shown)."`
	Description string `yaml:"description" doc:"Description: a Go text/template; fields .AccountName .AccountID .Flag .Why .Score .Grade .Reasons and {{.Metric \"days_to_renewal\"}}."`
	Owner       string `yaml:"owner" doc:"Who gets the task: account_owner (default) or a fixed user id (Salesforce 005..., HubSpot owner id)."`
	// RenewalWithinDays limits the task to accounts renewing soon.
	RenewalWithinDays *int  `yaml:"renewal_within_days" doc:"Create the task only when the account renews within this many days (the flag still shows in the flags field, explain and the status page). Default: 180 for single_threaded (a structural risk becomes a task when the renewal nears), none for the others."`
	CloseWhenCleared  *bool `yaml:"close_when_cleared" doc:"Close the task when the flag clears. Default true."`
}
