package connector

import (
	"encoding/json"
	"time"

	"healthsync/crm"
)

// Record is one CRM record as received: the object it belongs to (the CRM's
// own name, e.g. "Account" or "companies"), its ID, its modification stamp,
// whether it was deleted, and its raw JSON. The raw JSON is stored as it is
// so a mapping change can be re-applied without downloading again.
//
// For Salesforce, Raw is the record object of a query result (with its
// "attributes"); for HubSpot it is the CRM v3 object
// ({"id","properties",...}) plus an "associations" member where the
// connector read them.
type Record struct {
	Object     string
	ID         string
	ModifiedAt time.Time
	Deleted    bool
	Raw        json.RawMessage
	// Fields is Raw decoded, when the connector has it at hand (nil
	// otherwise): a JSON object with numbers as json.Number, exactly what
	// encoding/json's Decoder with UseNumber makes of Raw. The mapping reads
	// it instead of decoding Raw again; Raw is what is stored.
	Fields map[string]any
}

// Cursor is the incremental-sync watermark of one object: the modification
// stamp and ID of the last record stored. It is compared as a pair, so many
// records sharing one stamp are neither dropped nor repeated. It is not a
// paging token: it only advances in the same store transaction as the rows
// it covers.
type Cursor struct {
	ModifiedAt time.Time
	LastID     string
}

// IsZero reports whether the cursor has never advanced (a full sync).
func (c Cursor) IsZero() bool { return c.ModifiedAt.IsZero() && c.LastID == "" }

// Before reports whether the position (modifiedAt, id) comes after the
// cursor, i.e. the cursor has not yet covered it.
func (c Cursor) Before(modifiedAt time.Time, id string) bool {
	m, cm := crm.Normalize(modifiedAt), crm.Normalize(c.ModifiedAt)
	if !m.Equal(cm) {
		return cm.Before(m)
	}
	return c.LastID < id
}

// Advance returns the later of c and the record's position.
func (c Cursor) Advance(r Record) Cursor {
	if c.Before(r.ModifiedAt, r.ID) {
		return Cursor{ModifiedAt: crm.Normalize(r.ModifiedAt), LastID: r.ID}
	}
	return c
}
