package connector

// Update is one record's desired field values in a CRM write. Fields holds
// CRM field names (Salesforce API names, HubSpot internal property names)
// and values that encode to JSON (numbers, strings, nil to clear).
type Update struct {
	ID     string
	Fields map[string]any
}

// Result is the outcome of one record of a batched write, in the order the
// records were sent. ID is the record's ID (for creations, the new ID).
// Err is nil on success. Retryable says whether sending the same record
// again later may succeed (a locked row, a 5xx); validation errors, deleted
// records and missing permissions are not retryable.
type Result struct {
	ID        string
	Err       *APIError
	Retryable bool
}

// CodeNotAttempted is the APIError code of a record a connector did not
// send because the run stopped first: retryable, and the next run sends it.
const CodeNotAttempted = "NOT_ATTEMPTED"

// OK reports whether the record was written.
func (r Result) OK() bool { return r.Err == nil }

// TaskRef is a follow-up task that already exists in the CRM, found by the
// healthsync key stored on it.
type TaskRef struct {
	Key    string
	ID     string
	Open   bool
	Status string
	// SnoozedUntil is set when the CSM snoozed the task (a mapped snooze
	// field or status); nil otherwise.
	SnoozedUntil *string
}

// Snooze says how a CSM snoozes a healthsync task in the CRM: a date
// field of the task holding "snoozed until", or a task status value
// meaning snoozed (e.g. DEFERRED). Either may be empty.
type Snooze struct {
	Field  string
	Status string
}

// TaskClose is a task healthsync closes, and why.
type TaskClose struct {
	ID   string // the CRM task's ID
	Note string // one sentence: why healthsync closed it ("the account is a former customer (churned 2025-11-02)")
}

// Field describes one field of a CRM object as its describe/properties API
// reports it, reduced to what healthsync validates.
type Field struct {
	Name       string
	Label      string
	Type       string // the CRM's type name: "double", "string", "number", "enumeration", ...
	Updateable bool
	Calculated bool // formula or roll-up: does not bump the modification stamp
	// Custom is true for a field an admin or an app created (Salesforce
	// "custom"; HubSpot: not hubspotDefined).
	Custom bool
	// Help is the text the CRM shows users about the field: Salesforce's
	// inlineHelpText, HubSpot's property description. install writes one
	// naming healthsync.
	Help string
	// Group is the HubSpot property group ("healthsync" for what install
	// created); empty for Salesforce.
	Group string
}

// FieldSpec is a custom field (Salesforce) or property (HubSpot) that
// healthsync writes to and can install.
type FieldSpec struct {
	Object    string // CRM object name: "Account", "companies", "Task", "tasks"
	Name      string // API name: "Health_Score__c", "healthsync_score"
	Label     string
	Type      FieldType
	Length    int // text length, when Type is FieldText
	Precision int // digits, when Type is FieldNumber
	Scale     int // decimals, when Type is FieldNumber
	Help      string
	// Formula is a Salesforce formula; when set the field is a read-only
	// formula field of Type (e.g. "TODAY() - Healthsync_Last_Exec_Contact__c"
	// for a day counter) and healthsync never writes it. install creates it
	// after the fields it references.
	Formula string
}

// FieldType is the portable kind of an installed field.
type FieldType string

// Field types healthsync installs.
const (
	FieldNumber   FieldType = "number"
	FieldText     FieldType = "text"
	FieldLongText FieldType = "longtext"
	FieldDate     FieldType = "date"
	FieldDateTime FieldType = "datetime"
)

// WriteBatch says how a caller should cut the writes it hands a
// connector. The connector knows what its CRM's write calls take and
// when it writes a large call in another way; the caller only follows.
type WriteBatch struct {
	// Records is how many records one write call of the CRM takes: the
	// most tasks a caller hands CreateTasks or CloseTasks at once, and
	// what a caller counts calls by.
	Records int
	// Updates is how many updates a caller hands one Update call. The
	// caller records what was written after each call, so this is also
	// the most a crash makes it write again: Records where each call is
	// one request, more where the connector sends a large call in fewer
	// requests (a Bulk API job).
	Updates int
}
