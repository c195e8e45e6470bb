package crm

import (
	"fmt"
	"strings"
)

// System names a CRM product.
type System string

// The CRMs healthsync speaks to.
const (
	Salesforce System = "salesforce"
	HubSpot    System = "hubspot"
)

// ParseSystem turns a user-supplied CRM name into a System.
func ParseSystem(s string) (System, error) {
	switch System(strings.ToLower(strings.TrimSpace(s))) {
	case Salesforce:
		return Salesforce, nil
	case HubSpot:
		return HubSpot, nil
	}
	return "", fmt.Errorf("unknown CRM %q: use salesforce or hubspot", s)
}

// Typed identifiers. They hold the CRM's own identifier verbatim (Salesforce
// IDs in their 18-character form, HubSpot's numeric IDs as decimal strings)
// and exist so that an account ID can never be passed where a contact ID is
// expected.
type (
	AccountID     string
	ContactID     string
	OpportunityID string
	ActivityID    string
	UserID        string
)

const sfChecksumAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"

// SalesforceID18 returns the case-insensitive 18-character form of a
// Salesforce ID. An 18-character ID is returned as it is; a 15-character ID
// gets its checksum suffix; anything else is an error.
func SalesforceID18(id string) (string, error) {
	switch len(id) {
	case 18:
		return id, nil
	case 15:
	default:
		return "", fmt.Errorf("salesforce id %q: want 15 or 18 characters, got %d", id, len(id))
	}
	suffix := make([]byte, 3)
	for chunk := 0; chunk < 3; chunk++ {
		bits := 0
		for i := 0; i < 5; i++ {
			c := id[chunk*5+i]
			if c >= 'A' && c <= 'Z' {
				bits |= 1 << i
			}
		}
		suffix[chunk] = sfChecksumAlphabet[bits]
	}
	return id + string(suffix), nil
}
