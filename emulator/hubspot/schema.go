package hubspot

import (
	"sort"
	"strings"
)

// objectType describes one CRM object type the emulator serves.
type objectType struct {
	name       string   // plural API name: "companies"
	singular   string   // "company"
	typeID     string   // HubSpot object type id: "0-2"
	modProp    string   // the last-modified datetime property
	createProp string   // the creation datetime property
	defaults   []string // properties returned when the request names none
	readScope  string
	writeScope string
	schemaRead string
	schemaWrit string
	group      string   // default property group
	textProps  []string // properties the free-text search query looks at
}

// objectTypes are the served types, in load order (parents first).
var objectTypes = []*objectType{
	{name: "companies", singular: "company", typeID: "0-2", modProp: "hs_lastmodifieddate", createProp: "createdate",
		defaults:  []string{"createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"},
		readScope: "crm.objects.companies.read", writeScope: "crm.objects.companies.write",
		schemaRead: "crm.schemas.companies.read", schemaWrit: "crm.schemas.companies.write",
		group: "companyinformation", textProps: []string{"name", "domain", "phone", "website"}},
	{name: "contacts", singular: "contact", typeID: "0-1", modProp: "lastmodifieddate", createProp: "createdate",
		defaults:  []string{"createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"},
		readScope: "crm.objects.contacts.read", writeScope: "crm.objects.contacts.write",
		schemaRead: "crm.schemas.contacts.read", schemaWrit: "crm.schemas.contacts.write",
		group: "contactinformation", textProps: []string{"firstname", "lastname", "email", "phone", "company"}},
	{name: "deals", singular: "deal", typeID: "0-3", modProp: "hs_lastmodifieddate", createProp: "createdate",
		defaults:  []string{"amount", "closedate", "createdate", "dealname", "dealstage", "hs_lastmodifieddate", "hs_object_id", "pipeline"},
		readScope: "crm.objects.deals.read", writeScope: "crm.objects.deals.write",
		schemaRead: "crm.schemas.deals.read", schemaWrit: "crm.schemas.deals.write",
		group: "dealinformation", textProps: []string{"dealname"}},
	{name: "calls", singular: "call", typeID: "0-48", modProp: "hs_lastmodifieddate", createProp: "hs_createdate",
		defaults:  []string{"hs_createdate", "hs_lastmodifieddate", "hs_object_id"},
		readScope: "crm.objects.contacts.read", writeScope: "crm.objects.contacts.write",
		schemaRead: "crm.schemas.contacts.read", schemaWrit: "crm.schemas.contacts.write",
		group: "callinformation", textProps: []string{"hs_call_title", "hs_call_body"}},
	{name: "emails", singular: "email", typeID: "0-49", modProp: "hs_lastmodifieddate", createProp: "hs_createdate",
		defaults:  []string{"hs_createdate", "hs_lastmodifieddate", "hs_object_id"},
		readScope: "crm.objects.contacts.read", writeScope: "crm.objects.contacts.write",
		schemaRead: "crm.schemas.contacts.read", schemaWrit: "crm.schemas.contacts.write",
		group: "emailinformation", textProps: []string{"hs_email_subject", "hs_email_text"}},
	{name: "meetings", singular: "meeting", typeID: "0-47", modProp: "hs_lastmodifieddate", createProp: "hs_createdate",
		defaults:  []string{"hs_createdate", "hs_lastmodifieddate", "hs_object_id"},
		readScope: "crm.objects.contacts.read", writeScope: "crm.objects.contacts.write",
		schemaRead: "crm.schemas.contacts.read", schemaWrit: "crm.schemas.contacts.write",
		group: "meetinginformation", textProps: []string{"hs_meeting_title", "hs_meeting_body"}},
	{name: "notes", singular: "note", typeID: "0-46", modProp: "hs_lastmodifieddate", createProp: "hs_createdate",
		defaults:  []string{"hs_createdate", "hs_lastmodifieddate", "hs_object_id"},
		readScope: "crm.objects.contacts.read", writeScope: "crm.objects.contacts.write",
		schemaRead: "crm.schemas.contacts.read", schemaWrit: "crm.schemas.contacts.write",
		group: "noteinformation", textProps: []string{"hs_note_body"}},
	{name: "tasks", singular: "task", typeID: "0-27", modProp: "hs_lastmodifieddate", createProp: "hs_createdate",
		defaults:  []string{"hs_createdate", "hs_lastmodifieddate", "hs_object_id"},
		readScope: "crm.objects.contacts.read", writeScope: "crm.objects.contacts.write",
		schemaRead: "crm.schemas.contacts.read", schemaWrit: "crm.schemas.contacts.write",
		group: "taskinformation", textProps: []string{"hs_task_subject", "hs_task_body"}},
}

// isEngagement reports whether t is an activity (call, email, meeting, note,
// task) rather than a record object.
func (t *objectType) isEngagement() bool { return t.createProp == "hs_createdate" }

// lookupType resolves a path segment to an object type. HubSpot accepts the
// plural name, the singular name and the object type id, case-insensitively.
func lookupType(s string) (*objectType, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for _, t := range objectTypes {
		if s == t.name || s == t.singular || s == t.typeID {
			return t, true
		}
	}
	return nil, false
}

// Property types and field types HubSpot accepts.
var validFieldTypes = map[string][]string{
	"string":       {"text", "textarea", "html", "phonenumber", "file"},
	"number":       {"number", "calculation_equation"},
	"date":         {"date"},
	"datetime":     {"date", "datetime"},
	"enumeration":  {"select", "radio", "checkbox", "booleancheckbox"},
	"bool":         {"booleancheckbox", "calculation_equation"},
	"phone_number": {"phonenumber"},
}

// propDef is one property definition, in HubSpot's wire shape.
type propDef struct {
	Name                 string           `json:"name"`
	Label                string           `json:"label"`
	Type                 string           `json:"type"`
	FieldType            string           `json:"fieldType"`
	Description          string           `json:"description"`
	GroupName            string           `json:"groupName"`
	Options              []propOption     `json:"options"`
	DisplayOrder         int              `json:"displayOrder"`
	Calculated           bool             `json:"calculated"`
	ExternalOptions      bool             `json:"externalOptions"`
	HasUniqueValue       bool             `json:"hasUniqueValue"`
	Hidden               bool             `json:"hidden"`
	HubspotDefined       bool             `json:"hubspotDefined,omitempty"`
	FormField            bool             `json:"formField"`
	ModificationMetadata modificationMeta `json:"modificationMetadata"`
	CreatedAt            string           `json:"createdAt,omitempty"`
	UpdatedAt            string           `json:"updatedAt,omitempty"`
	ArchivedAt           string           `json:"archivedAt,omitempty"`
	Archived             bool             `json:"archived"`
	CreatedUserID        string           `json:"createdUserId,omitempty"`
}

type propOption struct {
	Label        string `json:"label"`
	Value        string `json:"value"`
	Description  string `json:"description,omitempty"`
	DisplayOrder int    `json:"displayOrder"`
	Hidden       bool   `json:"hidden"`
}

type modificationMeta struct {
	Archivable         bool `json:"archivable"`
	ReadOnlyDefinition bool `json:"readOnlyDefinition"`
	ReadOnlyValue      bool `json:"readOnlyValue"`
}

// propGroup is a property group, in HubSpot's wire shape.
type propGroup struct {
	Name         string `json:"name"`
	Label        string `json:"label"`
	DisplayOrder int    `json:"displayOrder"`
	Archived     bool   `json:"archived"`
}

func opts(values ...string) []propOption {
	out := make([]propOption, 0, len(values)/2)
	for i := 0; i+1 < len(values); i += 2 {
		out = append(out, propOption{Label: values[i+1], Value: values[i], DisplayOrder: i / 2})
	}
	return out
}

// builtin describes a HubSpot-defined property compactly.
type builtin struct {
	name, label, typ, field string
	options                 []propOption
	readOnly, external      bool
}

func ro(name, label, typ, field string) builtin {
	return builtin{name: name, label: label, typ: typ, field: field, readOnly: true}
}

func rw(name, label, typ, field string, o ...propOption) builtin {
	return builtin{name: name, label: label, typ: typ, field: field, options: o}
}

func ext(name, label string) builtin {
	return builtin{name: name, label: label, typ: "enumeration", field: "select", external: true}
}

var lifecycleOptions = opts("subscriber", "Subscriber", "lead", "Lead", "marketingqualifiedlead", "Marketing Qualified Lead",
	"salesqualifiedlead", "Sales Qualified Lead", "opportunity", "Opportunity", "customer", "Customer",
	"evangelist", "Evangelist", "other", "Other")

// builtinProperties lists the HubSpot-defined properties per object type.
func builtinProperties(t *objectType) []builtin {
	common := []builtin{
		ro("hs_object_id", "Record ID", "number", "number"),
		ext("hubspot_owner_id", "Owner"),
	}
	switch t.name {
	case "companies":
		return append(common,
			ro("createdate", "Create Date", "datetime", "date"),
			ro("hs_lastmodifieddate", "Last Modified Date", "datetime", "date"),
			rw("name", "Company name", "string", "text"),
			rw("domain", "Company Domain Name", "string", "text"),
			rw("website", "Website URL", "string", "text"),
			rw("industry", "Industry", "string", "text"),
			rw("annualrevenue", "Annual Revenue", "number", "number"),
			rw("numberofemployees", "Number of Employees", "number", "number"),
			rw("phone", "Phone Number", "string", "phonenumber"),
			rw("city", "City", "string", "text"),
			rw("country", "Country/Region", "string", "text"),
			rw("description", "Description", "string", "textarea"),
			rw("lifecyclestage", "Lifecycle Stage", "enumeration", "radio", lifecycleOptions...),
			rw("type", "Type", "enumeration", "select", opts("PROSPECT", "Prospect", "PARTNER", "Partner",
				"RESELLER", "Reseller", "VENDOR", "Vendor", "OTHER", "Other")...),
			rw("notes_last_contacted", "Last Contacted", "datetime", "date"),
		)
	case "contacts":
		return append(common,
			ro("createdate", "Create Date", "datetime", "date"),
			ro("lastmodifieddate", "Last Modified Date", "datetime", "date"),
			rw("email", "Email", "string", "text"),
			rw("firstname", "First Name", "string", "text"),
			rw("lastname", "Last Name", "string", "text"),
			rw("jobtitle", "Job Title", "string", "text"),
			rw("phone", "Phone Number", "string", "phonenumber"),
			rw("company", "Company Name", "string", "text"),
			rw("associatedcompanyid", "Primary Associated Company ID", "number", "number"),
			rw("lifecyclestage", "Lifecycle Stage", "enumeration", "radio", lifecycleOptions...),
			rw("hs_seniority", "Seniority", "enumeration", "select", opts("employee", "Employee", "manager", "Manager",
				"director", "Director", "vice_president", "Vice President", "executive", "Executive", "owner", "Owner")...),
		)
	case "deals":
		return append(common,
			ro("createdate", "Create Date", "datetime", "date"),
			ro("hs_lastmodifieddate", "Last Modified Date", "datetime", "date"),
			rw("dealname", "Deal Name", "string", "text"),
			ext("dealstage", "Deal Stage"),
			ext("pipeline", "Pipeline"),
			rw("amount", "Amount", "number", "number"),
			rw("closedate", "Close Date", "datetime", "date"),
			rw("dealtype", "Deal Type", "enumeration", "radio", opts("newbusiness", "New Business", "existingbusiness", "Existing Business")...),
			rw("description", "Deal Description", "string", "textarea"),
			ro("hs_is_closed", "Is Deal Closed?", "bool", "booleancheckbox"),
			ro("hs_is_closed_won", "Is Closed Won", "bool", "booleancheckbox"),
			ro("hs_deal_stage_probability", "Deal Stage Probability", "number", "number"),
		)
	}
	eng := append(common,
		ro("hs_createdate", "Create Date", "datetime", "date"),
		ro("hs_lastmodifieddate", "Last Modified Date", "datetime", "date"),
		rw("hs_timestamp", "Activity date", "datetime", "date"),
	)
	switch t.name {
	case "calls":
		return append(eng,
			rw("hs_call_title", "Call Title", "string", "text"),
			rw("hs_call_body", "Call notes", "string", "html"),
			rw("hs_call_direction", "Call direction", "enumeration", "select", opts("INBOUND", "Inbound", "OUTBOUND", "Outbound")...),
			rw("hs_call_duration", "Call duration", "number", "number"),
			rw("hs_call_status", "Call status", "enumeration", "select", opts("BUSY", "Busy", "CALLING_CRM_USER", "Calling CRM user",
				"CANCELED", "Canceled", "COMPLETED", "Completed", "CONNECTING", "Connecting", "FAILED", "Failed",
				"IN_PROGRESS", "In progress", "NO_ANSWER", "No answer", "QUEUED", "Queued", "RINGING", "Ringing")...),
			rw("hs_call_disposition", "Call outcome", "string", "text"),
		)
	case "emails":
		return append(eng,
			rw("hs_email_subject", "Email subject", "string", "text"),
			rw("hs_email_text", "Email text", "string", "textarea"),
			rw("hs_email_direction", "Email direction", "enumeration", "select", opts("EMAIL", "Sent by owner",
				"INCOMING_EMAIL", "Reply from contact", "FORWARDED_EMAIL", "Forwarded")...),
			rw("hs_email_status", "Email send status", "enumeration", "select", opts("BOUNCED", "Bounced", "FAILED", "Failed",
				"SCHEDULED", "Scheduled", "SENDING", "Sending", "SENT", "Sent")...),
		)
	case "meetings":
		return append(eng,
			rw("hs_meeting_title", "Meeting name", "string", "text"),
			rw("hs_meeting_body", "Meeting description", "string", "html"),
			rw("hs_meeting_start_time", "Start Time", "datetime", "date"),
			rw("hs_meeting_end_time", "End Time", "datetime", "date"),
			rw("hs_meeting_outcome", "Meeting outcome", "enumeration", "select", opts("SCHEDULED", "Scheduled",
				"COMPLETED", "Completed", "RESCHEDULED", "Rescheduled", "NO_SHOW", "No Show", "CANCELED", "Canceled")...),
			rw("hs_activity_type", "Call and meeting type", "string", "text"),
		)
	case "notes":
		return append(eng, rw("hs_note_body", "Note body", "string", "html"))
	case "tasks":
		return append(eng,
			rw("hs_task_subject", "Task Title", "string", "text"),
			rw("hs_task_body", "Notes", "string", "html"),
			rw("hs_task_status", "Task Status", "enumeration", "select", opts("NOT_STARTED", "Not started",
				"IN_PROGRESS", "In progress", "WAITING", "Waiting", "COMPLETED", "Completed", "DEFERRED", "Deferred")...),
			rw("hs_task_priority", "Priority", "enumeration", "select", opts("NONE", "None", "LOW", "Low",
				"MEDIUM", "Medium", "HIGH", "High")...),
			rw("hs_task_type", "Task Type", "enumeration", "select", opts("TODO", "To-do", "CALL", "Call", "EMAIL", "Email",
				"LINKED_IN", "LinkedIn", "MEETING", "Meeting")...),
			rw("hs_task_completion_date", "Completed at", "datetime", "date"),
		)
	}
	return eng
}

// newSchema builds the property definitions and groups of one object type.
func newSchema(t *objectType, created string) (map[string]*propDef, map[string]*propGroup) {
	groups := map[string]*propGroup{
		t.group: {Name: t.group, Label: strings.ToUpper(t.singular[:1]) + t.singular[1:] + " information"},
	}
	props := map[string]*propDef{}
	for i, b := range builtinProperties(t) {
		props[b.name] = &propDef{
			Name: b.name, Label: b.label, Type: b.typ, FieldType: b.field, GroupName: t.group,
			Options: append([]propOption{}, b.options...), DisplayOrder: i, HubspotDefined: true,
			Calculated: b.readOnly && b.typ != "datetime" && b.name != "hs_object_id", ExternalOptions: b.external,
			FormField: !b.readOnly, HasUniqueValue: b.name == "hs_object_id",
			ModificationMetadata: modificationMeta{ReadOnlyDefinition: true, ReadOnlyValue: b.readOnly},
			CreatedAt:            created, UpdatedAt: created,
		}
	}
	return props, groups
}

// sortedProps returns property definitions ordered by name.
func sortedProps(m map[string]*propDef, archived bool) []*propDef {
	out := make([]*propDef, 0, len(m))
	for _, p := range m {
		if p.Archived == archived {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
