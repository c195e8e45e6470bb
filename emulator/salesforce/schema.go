package salesforce

import (
	"strings"
)

// Field types as describe reports them.
const (
	tID        = "id"
	tString    = "string"
	tTextarea  = "textarea"
	tPicklist  = "picklist"
	tReference = "reference"
	tBoolean   = "boolean"
	tDouble    = "double"
	tCurrency  = "currency"
	tPercent   = "percent"
	tInt       = "int"
	tDate      = "date"
	tDateTime  = "datetime"
	tEmail     = "email"
	tPhone     = "phone"
	tURL       = "url"
	tCombobox  = "combobox"
	tAnyType   = "anyType"
)

// field is one field of an object as describe reports it.
type field struct {
	name              string
	label             string
	typ               string
	length            int
	precision         int
	scale             int
	digits            int
	createable        bool
	updateable        bool
	calculated        bool
	custom            bool
	nillable          bool
	externalID        bool
	nameField         bool
	defaultedOnCreate bool
	picklist          []string
	defaultPick       string
	referenceTo       []string
	relationshipName  string
	// needsFLS marks a custom field added through the Tooling API: the API
	// user may edit it only once a FieldPermissions record grants edit.
	needsFLS bool
	// toolingID is the CustomField record behind a custom field.
	toolingID string
	// formula computes a formula field's value when a record is read.
	formula *formula
	// helpText is the field's inlineHelpText (describe reports it);
	// description is the admin's note on it (Setup only).
	helpText, description string
}

func (f *field) isText() bool {
	switch f.typ {
	case tString, tTextarea, tPicklist, tEmail, tPhone, tURL, tCombobox:
		return true
	}
	return false
}

func (f *field) isNumber() bool {
	switch f.typ {
	case tDouble, tCurrency, tPercent, tInt:
		return true
	}
	return false
}

// object is the schema of one sObject type.
type object struct {
	name         string
	label        string
	labelPlural  string
	prefix       string
	custom       bool
	tooling      bool // exists only in the Tooling API
	alsoTooling  bool // exists in both APIs (FieldPermissions, PermissionSet)
	queryable    bool
	createable   bool
	updateable   bool
	deletable    bool
	hasIsDeleted bool
	fields       []*field
	formulas     int            // how many of fields are formula fields
	byName       map[string]int // lower-case name → index
	byRel        map[string]int // lower-case relationship name → index of its reference field
	// history is the object's field history object (AccountHistory), if
	// its fields can be tracked; historyOf names the tracked object on a
	// history object.
	history   *object
	historyOf string
}

// stampField is the field the object's index is sorted by: SystemModstamp,
// or CreatedDate on history objects, which have no SystemModstamp.
func (o *object) stampField() string {
	if o.historyOf != "" {
		return "CreatedDate"
	}
	return "SystemModstamp"
}

func (o *object) field(name string) (*field, int) {
	i, ok := o.byName[strings.ToLower(name)]
	if !ok {
		return nil, -1
	}
	return o.fields[i], i
}

func (o *object) addField(f *field) int {
	if f.formula != nil {
		o.formulas++
	}
	o.fields = append(o.fields, f)
	i := len(o.fields) - 1
	o.byName[strings.ToLower(f.name)] = i
	if f.relationshipName != "" {
		o.byRel[strings.ToLower(f.relationshipName)] = i
	}
	return i
}

// Field constructors keep the schema tables below short.

func fID() *field {
	return &field{name: "Id", label: "Record ID", typ: tID, length: 18, defaultedOnCreate: true}
}

func fStr(name, label string, length int) *field {
	return &field{name: name, label: label, typ: tString, length: length, createable: true, updateable: true, nillable: true}
}

func fText(name, label string) *field {
	return &field{name: name, label: label, typ: tTextarea, length: 32000, createable: true, updateable: true, nillable: true}
}

func fPick(name, label string, values ...string) *field {
	return &field{name: name, label: label, typ: tPicklist, length: 255, createable: true, updateable: true, nillable: true, picklist: values}
}

func fRef(name, label, rel string, to ...string) *field {
	return &field{name: name, label: label, typ: tReference, length: 18, createable: true, updateable: true, nillable: true, referenceTo: to, relationshipName: rel}
}

func fNum(typ, name, label string, precision, scale int) *field {
	f := &field{name: name, label: label, typ: typ, precision: precision, scale: scale, createable: true, updateable: true, nillable: true}
	if typ == tInt {
		f.precision, f.scale, f.digits = 0, 0, precision
	}
	return f
}

func fBool(name, label string) *field {
	return &field{name: name, label: label, typ: tBoolean, createable: true, updateable: true, defaultedOnCreate: true}
}

func fDate(name, label string) *field {
	return &field{name: name, label: label, typ: tDate, createable: true, updateable: true, nillable: true}
}

func fDateTime(name, label string) *field {
	return &field{name: name, label: label, typ: tDateTime, createable: true, updateable: true, nillable: true}
}

func readOnly(f *field) *field {
	f.createable, f.updateable = false, false
	return f
}

func calc(f *field) *field {
	f.createable, f.updateable, f.calculated = false, false, true
	return f
}

func required(f *field) *field {
	f.nillable = false
	return f
}

func custom(f *field) *field {
	f.custom = true
	return f
}

func ownerField() *field {
	f := fRef("OwnerId", "Owner ID", "Owner", "User")
	f.nillable = false
	f.defaultedOnCreate = true
	return f
}

// auditFields are the system fields every standard object has.
func auditFields(deletable bool) []*field {
	fs := []*field{
		readOnly(&field{name: "CreatedDate", label: "Created Date", typ: tDateTime, defaultedOnCreate: true}),
		readOnly(&field{name: "CreatedById", label: "Created By ID", typ: tReference, length: 18, referenceTo: []string{"User"}, relationshipName: "CreatedBy", defaultedOnCreate: true}),
		readOnly(&field{name: "LastModifiedDate", label: "Last Modified Date", typ: tDateTime, defaultedOnCreate: true}),
		readOnly(&field{name: "LastModifiedById", label: "Last Modified By ID", typ: tReference, length: 18, referenceTo: []string{"User"}, relationshipName: "LastModifiedBy", defaultedOnCreate: true}),
		readOnly(&field{name: "SystemModstamp", label: "System Modstamp", typ: tDateTime, defaultedOnCreate: true}),
	}
	if deletable {
		fs = append([]*field{readOnly(&field{name: "IsDeleted", label: "Deleted", typ: tBoolean, defaultedOnCreate: true})}, fs...)
	}
	return fs
}

// stage is an opportunity stage: its default probability, forecast
// category and whether it closes (and wins) the deal.
type stage struct {
	name     string
	prob     float64
	forecast string
	closed   bool
	won      bool
	// label is the stage's MasterLabel ("" : the same as name, its
	// ApiName); id its OpportunityStage record ID when an export gave one.
	label, id string
}

// stagesProbability are the stages of a new org; an org loaded from an
// export has its own (db.stages).
var stagesProbability = []stage{
	{"Prospecting", 10, "Pipeline", false, false, "", ""},
	{"Qualification", 10, "Pipeline", false, false, "", ""},
	{"Needs Analysis", 20, "Pipeline", false, false, "", ""},
	{"Value Proposition", 50, "Pipeline", false, false, "", ""},
	{"Id. Decision Makers", 60, "Pipeline", false, false, "", ""},
	{"Perception Analysis", 70, "Pipeline", false, false, "", ""},
	{"Proposal/Price Quote", 75, "Pipeline", false, false, "", ""},
	{"Negotiation/Review", 90, "Pipeline", false, false, "", ""},
	{"Closed Won", 100, "Closed", true, true, "", ""},
	{"Closed Lost", 0, "Omitted", true, false, "", ""},
}

func stageNames() []string {
	var out []string
	for _, s := range stagesProbability {
		out = append(out, s.name)
	}
	return out
}

var taskStatuses = []struct {
	name   string
	closed bool
}{
	{"Not Started", false}, {"In Progress", false}, {"Completed", true}, {"Waiting on someone else", false}, {"Deferred", false},
}

// newSchema returns the standard objects of the emulated org, keyed by
// lower-case name.
func newSchema() map[string]*object {
	objs := map[string]*object{}
	add := func(o *object, fields ...*field) *object {
		o.byName, o.byRel = map[string]int{}, map[string]int{}
		o.queryable = true
		if o.labelPlural == "" {
			o.labelPlural = o.label + "s"
		}
		for _, f := range fields {
			o.addField(f)
		}
		objs[strings.ToLower(o.name)] = o
		return o
	}
	std := func(name, label, prefix string) *object {
		return &object{name: name, label: label, prefix: prefix, createable: true, updateable: true, deletable: true, hasIsDeleted: true}
	}

	add(&object{name: "User", label: "User", prefix: "005", createable: true, updateable: true},
		append([]*field{fID(),
			required(fStr("Username", "Username", 80)),
			fStr("FirstName", "First Name", 40),
			required(fStr("LastName", "Last Name", 80)),
			calc(&field{name: "Name", label: "Full Name", typ: tString, length: 121, nameField: true}),
			required(&field{name: "Email", label: "Email", typ: tEmail, length: 128, createable: true, updateable: true}),
			fStr("Title", "Title", 80),
			fBool("IsActive", "Active"),
			fRef("ProfileId", "Profile ID", "Profile", "Profile"),
		}, auditFields(false)...)...)

	add(&object{name: "Profile", label: "Profile", prefix: "00e"},
		append([]*field{fID(), readOnly(required(fStr("Name", "Name", 255)))}, auditFields(false)...)...)

	ps := add(&object{name: "PermissionSet", label: "Permission Set", prefix: "0PS", createable: true, updateable: true, deletable: true, alsoTooling: true},
		append([]*field{fID(),
			required(fStr("Name", "Name", 80)),
			required(fStr("Label", "Label", 80)),
			readOnly(fBool("IsOwnedByProfile", "Is Owned By Profile")),
			readOnly(fRef("ProfileId", "Profile ID", "Profile", "Profile")),
		}, auditFields(false)...)...)
	_ = ps

	add(&object{name: "PermissionSetAssignment", label: "Permission Set Assignment", prefix: "0Pa", createable: true, deletable: true, alsoTooling: true},
		append([]*field{fID(),
			required(fRef("AssigneeId", "Assignee ID", "Assignee", "User")),
			required(fRef("PermissionSetId", "Permission Set ID", "PermissionSet", "PermissionSet")),
		}, auditFields(false)...)...)

	add(&object{name: "FieldPermissions", label: "Field Permissions", labelPlural: "Field Permissions", prefix: "01k", createable: true, updateable: true, deletable: true, alsoTooling: true},
		append([]*field{fID(),
			required(fRef("ParentId", "Parent ID", "Parent", "PermissionSet")),
			required(fStr("SobjectType", "Sobject Type Name", 255)),
			required(fStr("Field", "Field Name", 255)),
			fBool("PermissionsEdit", "Edit Field"),
			fBool("PermissionsRead", "Read Field"),
		}, auditFields(false)...)...)

	add(std("Account", "Account", "001"),
		append(append([]*field{fID()}, auditFields(true)...),
			func() *field { f := required(fStr("Name", "Account Name", 255)); f.nameField = true; return f }(),
			fPick("Type", "Account Type", "Prospect", "Customer", "Former Customer", "Customer - Direct", "Customer - Channel", "Channel Partner / Reseller", "Installation Partner", "Technology Partner", "Other"),
			fRef("ParentId", "Parent Account ID", "Parent", "Account"),
			fStr("BillingCountry", "Billing Country", 80),
			&field{name: "Phone", label: "Account Phone", typ: tPhone, length: 40, createable: true, updateable: true, nillable: true},
			&field{name: "Website", label: "Website", typ: tURL, length: 255, createable: true, updateable: true, nillable: true},
			fPick("Industry", "Industry", "Agriculture", "Apparel", "Banking", "Biotechnology", "Chemicals", "Communications", "Construction", "Consulting", "Education", "Electronics", "Energy", "Engineering", "Entertainment", "Environmental", "Finance", "Financial Services", "Food & Beverage", "Government", "Healthcare", "Hospitality", "Insurance", "Machinery", "Manufacturing", "Media", "Not For Profit", "Recreation", "Retail", "Shipping", "Technology", "Telecommunications", "Transportation", "Utilities", "Other"),
			fNum(tCurrency, "AnnualRevenue", "Annual Revenue", 18, 0),
			fNum(tInt, "NumberOfEmployees", "Employees", 8, 0),
			fText("Description", "Account Description"),
			ownerField(),
			readOnly(fDate("LastActivityDate", "Last Activity")),
			custom(fPick("Segment__c", "Segment", "Enterprise", "Mid-market", "SMB")),
			custom(fNum(tCurrency, "ARR__c", "ARR", 16, 2)),
			custom(fNum(tDouble, "Licenses__c", "Licenses", 18, 0)),
			custom(fNum(tDouble, "Active_Users__c", "Active Users", 18, 0)),
			custom(fNum(tPercent, "Adoption__c", "Adoption", 5, 2)),
			custom(fNum(tPercent, "Adoption_Previous__c", "Adoption (previous quarter)", 5, 2)),
			custom(fPick("CSM_Sentiment__c", "CSM Sentiment", "Green", "Yellow", "Red")),
			custom(fNum(tDouble, "NPS__c", "NPS", 2, 0)),
			custom(fDate("Customer_Since__c", "Customer Since")),
			custom(fDate("Renewal_Date__c", "Renewal Date")),
			custom(fBool("Churned__c", "Churned")),
			custom(fDate("Churn_Date__c", "Churn Date")),
		)...)

	add(std("Contact", "Contact", "003"),
		append(append([]*field{fID()}, auditFields(true)...),
			fRef("AccountId", "Account ID", "Account", "Account"),
			fStr("FirstName", "First Name", 40),
			required(fStr("LastName", "Last Name", 80)),
			calc(&field{name: "Name", label: "Full Name", typ: tString, length: 121, nameField: true}),
			fStr("Title", "Title", 128),
			fStr("Department", "Department", 80),
			&field{name: "Email", label: "Email", typ: tEmail, length: 80, createable: true, updateable: true, nillable: true},
			&field{name: "Phone", label: "Business Phone", typ: tPhone, length: 40, createable: true, updateable: true, nillable: true},
			ownerField(),
			readOnly(fDate("LastActivityDate", "Last Activity")),
		)...)

	prob := fNum(tPercent, "Probability", "Probability (%)", 3, 0)
	prob.defaultedOnCreate = true
	add(std("Opportunity", "Opportunity", "006"),
		append(append([]*field{fID()}, auditFields(true)...),
			fRef("AccountId", "Account ID", "Account", "Account"),
			func() *field { f := required(fStr("Name", "Name", 120)); f.nameField = true; return f }(),
			fText("Description", "Description"),
			required(fPick("StageName", "Stage", stageNames()...)),
			fNum(tCurrency, "Amount", "Amount", 18, 2),
			prob,
			required(fDate("CloseDate", "Close Date")),
			fPick("Type", "Opportunity Type", "New Business", "Renewal", "Upsell", "Cross-sell", "Existing Customer - Upgrade", "Existing Customer - Replacement", "Existing Customer - Downgrade", "New Customer"),
			readOnly(fBool("IsClosed", "Closed")),
			readOnly(fBool("IsWon", "Won")),
			readOnly(fPick("ForecastCategory", "Forecast Category", "Omitted", "Pipeline", "BestCase", "Forecast", "Closed")),
			fPick("ForecastCategoryName", "Forecast Category", "Omitted", "Pipeline", "Best Case", "Commit", "Closed"),
			ownerField(),
			readOnly(fDate("LastActivityDate", "Last Activity")),
		)...)

	activity := func(o *object, extra ...*field) {
		fields := append([]*field{fID()}, auditFields(true)...)
		fields = append(fields,
			fRef("WhoId", "Name ID", "Who", "Contact", "Lead"),
			fRef("WhatId", "Related To ID", "What", "Account", "Opportunity"),
			readOnly(fRef("AccountId", "Account ID", "Account", "Account")),
			&field{name: "Subject", label: "Subject", typ: tCombobox, length: 255, createable: true, updateable: true, nillable: true, picklist: []string{"Call", "Send Letter", "Send Quote", "Other"}},
			fText("Description", "Description"),
			ownerField(),
			readOnly(fBool("IsArchived", "Archived")),
		)
		add(o, append(fields, extra...)...)
	}
	status := required(fPick("Status", "Status", "Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred"))
	status.defaultPick, status.defaultedOnCreate = "Not Started", true
	priority := required(fPick("Priority", "Priority", "High", "Normal", "Low"))
	priority.defaultPick, priority.defaultedOnCreate = "Normal", true
	subtype := fPick("TaskSubtype", "Task Subtype", "Task", "Email", "ListEmail", "Cadence", "Call", "LinkedIn")
	subtype.updateable = false
	activity(&object{name: "Task", label: "Task", prefix: "00T", createable: true, updateable: true, deletable: true, hasIsDeleted: true},
		fDate("ActivityDate", "Due Date Only"),
		status,
		priority,
		readOnly(fBool("IsHighPriority", "High Priority")),
		fPick("Type", "Type", "Call", "Email", "Meeting", "Other"),
		readOnly(fBool("IsClosed", "Closed")),
		readOnly(fDateTime("CompletedDateTime", "Completed Date/Time")),
		subtype,
		fPick("CallType", "Call Type", "Internal", "Inbound", "Outbound"),
		fNum(tInt, "CallDurationInSeconds", "Call Duration", 8, 0),
		custom(fPick("Direction__c", "Direction", "Inbound", "Outbound")),
	)
	evSubtype := fPick("EventSubtype", "Event Subtype", "Event")
	evSubtype.updateable = false
	activity(&object{name: "Event", label: "Event", prefix: "00U", createable: true, updateable: true, deletable: true, hasIsDeleted: true},
		fStr("Location", "Location", 255),
		fBool("IsAllDayEvent", "All-Day Event"),
		fDateTime("ActivityDateTime", "Due Date Time"),
		fDate("ActivityDate", "Due Date Only"),
		fNum(tInt, "DurationInMinutes", "Duration", 8, 0),
		fDateTime("StartDateTime", "Start Date Time"),
		fDateTime("EndDateTime", "End Date Time"),
		fPick("Type", "Type", "Call", "Email", "Meeting", "Other"),
		evSubtype,
	)

	// The org's opportunity stages: read-only over the API (an admin
	// edits the StageName picklist in Setup), one record per stage.
	add(&object{name: "OpportunityStage", label: "Opportunity Stage", prefix: "01J"},
		append([]*field{fID(),
			readOnly(fStr("ApiName", "API Name", 255)),
			readOnly(fStr("MasterLabel", "Master Label", 255)),
			readOnly(fStr("Description", "Description", 255)),
			readOnly(fBool("IsActive", "Is Active")),
			readOnly(fBool("IsClosed", "Closed")),
			readOnly(fBool("IsWon", "Won")),
			readOnly(fNum(tPercent, "DefaultProbability", "Probability (%)", 3, 0)),
			readOnly(fPick("ForecastCategory", "Forecast Category", "Omitted", "Pipeline", "BestCase", "Forecast", "Closed")),
			readOnly(fPick("ForecastCategoryName", "Forecast Category Name", "Omitted", "Pipeline", "Best Case", "Commit", "Closed")),
			readOnly(fNum(tInt, "SortOrder", "Sort Order", 9, 0)),
		}, auditFields(false)...)...)

	// Tooling-only objects.
	cf := add(&object{name: "CustomField", label: "Custom Field", prefix: "00N", tooling: true, createable: true, deletable: true},
		fID(),
		readOnly(fStr("DeveloperName", "Developer Name", 40)),
		readOnly(fStr("TableEnumOrId", "Table Enum or ID", 40)),
		readOnly(fStr("FullName", "Full Name", 255)),
		readOnly(fStr("NamespacePrefix", "Namespace Prefix", 15)),
		readOnly(fStr("Description", "Description", 255)),
		readOnly(fStr("InlineHelpText", "Help Text", 510)),
		readOnly(&field{name: "CreatedDate", label: "Created Date", typ: tDateTime}),
		readOnly(&field{name: "LastModifiedDate", label: "Last Modified Date", typ: tDateTime}),
		readOnly(&field{name: "SystemModstamp", label: "System Modstamp", typ: tDateTime}),
	)
	_ = cf
	historySchema(objs, add)
	return objs
}
