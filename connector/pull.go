package connector

import (
	"context"
	"encoding/json"
)

// PullRequest asks a connector for the changes of one object.
type PullRequest struct {
	// Object is the CRM's object name ("Account", "Task", "companies", "calls").
	Object string
	// Fields are the CRM fields the mapping needs (Salesforce API names,
	// HubSpot internal property names). The connector adds the ones it needs
	// itself (Id, SystemModstamp, IsDeleted, hs_object_id, ...).
	Fields []string
	// Since is the stored cursor; the zero cursor asks for everything. The
	// connector re-reads its configured look-back window before it and
	// returns records in (ModifiedAt, ID) order.
	Since Cursor
	// Stored is what the caller already stores of Object, for a connector
	// that compares what it reads with it instead of keeping state of its
	// own (HubSpot: an activity's associations, the count of live
	// records). Nil: nothing is known, and the connector reads as if
	// nothing were stored.
	Stored Stored
}

// Stored answers what a caller stores of one object. Its answers may lag
// behind pages handed on in the same pull (they may not be committed
// yet): a connector uses it only for records of earlier pulls.
type Stored interface {
	// LiveCount returns how many records of the object are stored live
	// (not deleted).
	LiveCount(ctx context.Context) (int, error)
	// Raw returns the raw JSON stored for those of ids stored live, by ID;
	// IDs not stored, or stored as deleted, are absent.
	Raw(ctx context.Context, ids []string) (map[string]json.RawMessage, error)
}

// Page is one page of pulled records. Deletions come as records with
// Deleted set. Cursor is the position after the page's last record; the
// caller stores it in the same transaction as the records.
type Page struct {
	Records []Record
	Cursor  Cursor
	// Skipped are the records of the page the connector could not read
	// (no ID, an unreadable modification stamp, a value of a JSON type the
	// CRM never sends), left out of Records. Cursor never passes the first
	// of them, so the next run reads them again, and reports them again
	// until they read correctly. The sync engine records each as a problem
	// of the run. An answer that is not a page at all stays an error of Pull.
	Skipped []Skipped
}

// Skipped is a record a connector received but could not read.
type Skipped struct {
	// ID is the record's ID, or "" when it has no readable one.
	ID string
	// Reason names the CRM, the object, where the record was in the
	// answer, the field and what was wrong with it.
	Reason string
}
