package hubspot

import (
	"fmt"
	"strings"
	"time"

	"healthsync/connector"
	"healthsync/crm"
)

// Object names this connector knows.
const (
	Companies = "companies"
	Contacts  = "contacts"
	Deals     = "deals"
	Calls     = "calls"
	Emails    = "emails"
	Meetings  = "meetings"
	Notes     = "notes"
	Tasks     = "tasks"
	Owners    = "owners"
)

// object is what the connector knows about one CRM object type.
type object struct {
	name     string
	singular string
	modProp  string // the last-modified datetime property searches sort on
	activity bool   // an engagement: associations are read and re-read
	scope    string // read scope
	write    string // write scope
	schema   string // schema read scope
}

var objects = map[string]object{
	Companies: {Companies, "company", "hs_lastmodifieddate", false, "crm.objects.companies.read", "crm.objects.companies.write", "crm.schemas.companies.read"},
	Contacts:  {Contacts, "contact", "lastmodifieddate", false, "crm.objects.contacts.read", "crm.objects.contacts.write", "crm.schemas.contacts.read"},
	Deals:     {Deals, "deal", "hs_lastmodifieddate", false, "crm.objects.deals.read", "crm.objects.deals.write", "crm.schemas.deals.read"},
	Calls:     {Calls, "call", "hs_lastmodifieddate", true, "crm.objects.contacts.read", "crm.objects.contacts.write", "crm.schemas.contacts.read"},
	Emails:    {Emails, "email", "hs_lastmodifieddate", true, "crm.objects.contacts.read", "crm.objects.contacts.write", "crm.schemas.contacts.read"},
	Meetings:  {Meetings, "meeting", "hs_lastmodifieddate", true, "crm.objects.contacts.read", "crm.objects.contacts.write", "crm.schemas.contacts.read"},
	Notes:     {Notes, "note", "hs_lastmodifieddate", true, "crm.objects.contacts.read", "crm.objects.contacts.write", "crm.schemas.contacts.read"},
	Tasks:     {Tasks, "task", "hs_lastmodifieddate", true, "crm.objects.contacts.read", "crm.objects.contacts.write", "crm.schemas.contacts.read"},
}

// ownersScope is the scope GET /crm/v3/owners needs.
const ownersScope = "crm.objects.owners.read"

// lookup returns a known CRM object (not owners).
func lookup(name string) (object, error) {
	o, ok := objects[name]
	if !ok {
		return object{}, fmt.Errorf("%w %q: use companies, contacts, deals, calls, emails, meetings, notes, tasks or owners", ErrUnknownObject, name)
	}
	return o, nil
}

// idLess orders HubSpot record IDs: numerically when both are numbers
// (HubSpot's are), as strings otherwise.
func idLess(a, b string) bool {
	if isDigits(a) && isDigits(b) {
		a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
		if len(a) != len(b) {
			return len(a) < len(b)
		}
	}
	return a < b
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// posAfter reports whether (m, id) comes after the cursor, comparing IDs
// as HubSpot does (numerically). The zero cursor precedes everything.
func posAfter(c connector.Cursor, m time.Time, id string) bool {
	if c.IsZero() {
		return true
	}
	m, cm := crm.Normalize(m), crm.Normalize(c.ModifiedAt)
	if !m.Equal(cm) {
		return cm.Before(m)
	}
	return idLess(c.LastID, id)
}

// advance returns the later of c and (m, id).
func advance(c connector.Cursor, m time.Time, id string) connector.Cursor {
	if posAfter(c, m, id) {
		return connector.Cursor{ModifiedAt: crm.Normalize(m), LastID: id}
	}
	return c
}
