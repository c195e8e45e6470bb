package gen

import "time"

// Kind is what sort of interaction an activity records.
type Kind uint8

// Activity kinds.
const (
	KindEmail Kind = iota + 1
	KindCall
	KindMeeting
	KindTask
	KindNote
)

// String returns the kind's lower-case name.
func (k Kind) String() string {
	switch k {
	case KindEmail:
		return "email"
	case KindCall:
		return "call"
	case KindMeeting:
		return "meeting"
	case KindTask:
		return "task"
	case KindNote:
		return "note"
	}
	return "unknown"
}

// Direction says who started an email or call.
type Direction uint8

// Directions. None is for kinds that have no direction.
const (
	DirectionNone Direction = iota
	DirectionInbound
	DirectionOutbound
)

// String returns "inbound", "outbound" or "".
func (d Direction) String() string {
	switch d {
	case DirectionInbound:
		return "inbound"
	case DirectionOutbound:
		return "outbound"
	}
	return ""
}

// Segment names.
const (
	SegmentEnterprise = "Enterprise"
	SegmentMidMarket  = "Mid-market"
	SegmentSMB        = "SMB"
)

// Opportunity types, as a typical org names them.
const (
	TypeNewBusiness = "New Business"
	TypeRenewal     = "Renewal"
	TypeUpsell      = "Upsell"
	TypeCrossSell   = "Cross-sell"
)

// Sentiment values a CSM records.
const (
	SentimentGreen  = "Green"
	SentimentYellow = "Yellow"
	SentimentRed    = "Red"
)

// Org is a whole generated customer base. Records refer to each other by
// index into these slices; Index fields equal the record's position.
type Org struct {
	Now time.Time
	// HistoryFrom is where field history begins (Months before Now); see
	// [Org.History]. Zero when the org was generated with NoHistory.
	HistoryFrom   time.Time
	Users         []User
	Accounts      []Account
	Contacts      []Contact
	Opportunities []Opportunity
	Activities    []Activity

	opts Options // for History
}

// Bundle is one account with everything that belongs to it, as [Stream]
// yields it. Index fields are positions in the whole Org.
type Bundle struct {
	Account       Account
	Contacts      []Contact
	Opportunities []Opportunity
	Activities    []Activity
	// History is what [Org.History] gives for this account: the changes
	// of its fields and its opportunities' since HistoryFrom, oldest
	// first (nil with NoHistory).
	History     []Change
	HistoryFrom time.Time
}

// User is a member of the company's team: account owners (CSMs and account
// executives) and owners of activities.
type User struct {
	Index     int32
	FirstName string
	LastName  string
	Email     string
	Title     string
	Active    bool
	Created   time.Time
	Modified  time.Time
}

// Name is the user's full name.
func (u User) Name() string { return u.FirstName + " " + u.LastName }

// Account is a customer company.
type Account struct {
	Index         int32
	Owner         int32 // index into Org.Users
	Name          string
	Domain        string
	Industry      string
	Segment       string
	Type          string // "Customer" or "Former Customer" after churn
	Country       string
	Employees     int32
	AnnualRevenue float64 // the company's revenue
	ARR           float64 // what it pays us per year
	Licenses      int32
	ActiveUsers   int32   // now
	AdoptionPrev  float64 // active users / licences one quarter ago, 0..1
	Sentiment     string  // Green, Yellow, Red or "" when the CSM recorded none
	NPS           int8    // last NPS response 0..10, or -1 when none
	CustomerSince time.Time
	RenewalDate   time.Time // next renewal (the contract anniversary), date at midnight UTC

	// Ground truth for backtests.
	Declining    bool
	DeclineStart time.Time // zero when not declining
	Churned      bool
	ChurnedAt    time.Time // zero when not churned

	Created   time.Time
	Modified  time.Time
	Deleted   bool
	DeletedAt time.Time
}

// Adoption is active users divided by licences, 0..1.
func (a Account) Adoption() float64 {
	if a.Licenses == 0 {
		return 0
	}
	return float64(a.ActiveUsers) / float64(a.Licenses)
}

// Contact is a person at a customer.
type Contact struct {
	Index      int32
	Account    int32
	Owner      int32
	FirstName  string
	LastName   string
	Title      string
	Department string
	Email      string
	Phone      string
	Executive  bool
	Created    time.Time
	Modified   time.Time
	Deleted    bool
	DeletedAt  time.Time
}

// Opportunity is a deal with a customer.
type Opportunity struct {
	Index     int32
	Account   int32
	Owner     int32
	Name      string
	Type      string // New Business, Renewal, Upsell, Cross-sell
	Stage     string // Salesforce-style standard stage names
	Amount    float64
	CloseDate time.Time // midnight UTC
	Closed    bool
	Won       bool
	Created   time.Time
	Modified  time.Time
	Deleted   bool
	DeletedAt time.Time
}

// Activity is one interaction with a customer. Contact and Opportunity are
// -1 when the activity names none.
type Activity struct {
	Index       int32
	Account     int32
	Contact     int32
	Opportunity int32
	Owner       int32
	Kind        Kind
	Direction   Direction
	Completed   bool
	EBR         bool  // an executive business review meeting
	Duration    int16 // minutes, for calls and meetings
	Subject     string
	Status      string    // tasks: Not Started, In Progress, Completed; others Completed
	Priority    string    // High, Normal, Low
	At          time.Time // when it happened, or when an open task is due
	Created     time.Time
	Modified    time.Time
	Deleted     bool
	DeletedAt   time.Time
}
