package crm

import "time"

// Account is a customer company: a Salesforce Account or a HubSpot company.
// Optional numbers and dates are pointers: nil means the CRM holds no value,
// which scoring treats as missing data, never as zero.
type Account struct {
	ID       AccountID
	Name     string
	OwnerID  UserID
	Industry string
	Type     string
	// Status is what the account's mapped status field says (Salesforce
	// Type, HubSpot lifecyclestage, as classify.customer_status reads its
	// values); StatusValue is the raw value. Empty when the field is not
	// mapped or its value means nothing either way: the order of events
	// (won and lost deals) then decides.
	Status         CustomerStatus
	StatusValue    string
	Segment        string // e.g. Enterprise, Mid-market, SMB (mapping rules)
	LifecycleStage string // Onboarding, Adoption, Growth, Renewal, Advocacy (mapping rules)
	Employees      *int
	AnnualRevenue  *float64
	ARR            *float64 // contracted annual recurring revenue, when mapped

	// Leading indicators the CRM may hold, when the mapping names them.
	Adoption         *float64 // usage measure, e.g. active users / licences, 0..1 or 0..100 as mapped
	AdoptionPrevious *float64 // the same measure one period earlier, for its trend
	CSMSentiment     *float64 // normalised to 0..100 (red 0, yellow 50, green 100; or 1..5 scaled)
	NPS              *float64 // -100..100 account NPS or a 0..10 response, as mapped
	CSAT             *float64 // 0..100

	RenewalDate   *time.Time // explicit renewal date field, when mapped
	CustomerSince *time.Time // close of the first won deal, when known
	FirstValueAt  *time.Time // first adoption milestone, when mapped
	Churned       bool       // a mapped churn field says the customer left
	ChurnedAt     *time.Time

	// A CSM's manual override of the written score or grade.
	ScoreOverride   *float64
	GradeOverride   string
	OverrideComment string
	OverrideExpires *time.Time

	// CreatedAt is when the account was created in the CRM (Salesforce
	// CreatedDate, HubSpot createdate): before it the account did not
	// exist, unless the CRM records it as a customer earlier (see
	// scoring.StatusAt). Zero when unknown.
	CreatedAt  time.Time
	ModifiedAt time.Time
}

// CustomerStatus says whether an account is a prospect, a live customer
// or a former customer. Only live customers are scored for risk, flagged
// and given tasks.
type CustomerStatus string

// Customer statuses.
const (
	StatusUnknown  CustomerStatus = ""
	StatusProspect CustomerStatus = "prospect"
	StatusCustomer CustomerStatus = "customer"
	StatusFormer   CustomerStatus = "former_customer"
)

// Contact is a person at a customer.
type Contact struct {
	ID         ContactID
	AccountID  AccountID
	FirstName  string
	LastName   string
	Title      string
	Seniority  string // a mapped seniority field, when the CRM has one
	Email      string
	Department string
	OwnerID    UserID
	ModifiedAt time.Time
}

// Name is the contact's display name.
func (c Contact) Name() string {
	switch {
	case c.FirstName == "":
		return c.LastName
	case c.LastName == "":
		return c.FirstName
	}
	return c.FirstName + " " + c.LastName
}

// OpportunityKind says what an opportunity means for a customer's revenue,
// as the mapping file classifies it.
type OpportunityKind string

// Opportunity kinds.
const (
	OpportunityNew       OpportunityKind = "new"
	OpportunityRenewal   OpportunityKind = "renewal"
	OpportunityExpansion OpportunityKind = "expansion"
	OpportunityOther     OpportunityKind = "other"
)

// Opportunity is a Salesforce Opportunity or a HubSpot deal.
type Opportunity struct {
	ID          OpportunityID
	AccountID   AccountID
	Name        string
	Stage       string
	Type        string // the CRM's type value, e.g. "Renewal"
	Kind        OpportunityKind
	Amount      *float64
	CloseDate   *time.Time // a date: midnight UTC
	IsClosed    bool
	IsWon       bool
	Probability *float64
	OwnerID     UserID
	CreatedAt   time.Time
	ModifiedAt  time.Time
}

// ActivityKind is what sort of interaction an activity records.
type ActivityKind string

// Activity kinds.
const (
	ActivityEmail   ActivityKind = "email"
	ActivityCall    ActivityKind = "call"
	ActivityMeeting ActivityKind = "meeting"
	ActivityTask    ActivityKind = "task"
	ActivityEvent   ActivityKind = "event"
	ActivityNote    ActivityKind = "note"
)

// Direction says who started an interaction.
type Direction string

// Directions. Unknown is for activities whose CRM does not say.
const (
	DirectionUnknown  Direction = ""
	DirectionInbound  Direction = "inbound"
	DirectionOutbound Direction = "outbound"
)

// Activity is one interaction between the company's team and a customer:
// a Salesforce Task or Event, or a HubSpot call, email, meeting, note or task.
type Activity struct {
	ID            ActivityID
	Kind          ActivityKind
	Direction     Direction
	Completed     bool
	Subject       string
	Status        string
	OccurredAt    time.Time  // when it happened, or is due for open tasks
	CompletedAt   *time.Time // when it was completed, when the CRM says
	AccountID     AccountID  // may be empty when the CRM links only a contact
	ContactIDs    []ContactID
	OpportunityID OpportunityID
	OwnerID       UserID
	EBR           bool // classified as an executive business review by the mapping
	// Healthsync marks a task healthsync itself created (the store knows
	// their IDs): it is our own follow-up, never contact with the
	// customer, so scoring ignores it.
	Healthsync bool
	ModifiedAt time.Time
}

// User is a member of the company's team who owns accounts and tasks.
type User struct {
	ID         UserID
	Name       string
	Email      string
	Active     bool
	ModifiedAt time.Time
}

// Priority of a task healthsync creates.
type Priority string

// Task priorities.
const (
	PriorityLow    Priority = "low"
	PriorityNormal Priority = "normal"
	PriorityHigh   Priority = "high"
)

// Task is a follow-up task healthsync asks the CRM to create for a risk
// flag. Key identifies the flag episode (account + flag + episode) and is
// stored with the task so a retried creation never duplicates it.
type Task struct {
	Key         string
	Flag        string
	AccountID   AccountID
	ContactID   ContactID // optional
	OwnerID     UserID
	Subject     string
	Description string
	Priority    Priority
	Due         time.Time // a date: midnight UTC
}
