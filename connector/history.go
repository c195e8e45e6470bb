package connector

import (
	"encoding/json"
	"time"
)

// HistoryRequest asks a connector for the field history of one object's
// records: every value the CRM recorded for Fields (CRM field names).
type HistoryRequest struct {
	// Object is the CRM object whose records' history is wanted
	// ("Account", "companies").
	Object string
	// Fields are the CRM fields whose history is wanted.
	Fields []string
	// After resumes an interrupted read: only records whose ID sorts
	// after it are read. "" reads from the start.
	After string
	// IDs are the records to read, in ID order, for a connector that reads
	// history record by record (HistoryByID > 0); others ignore it.
	IDs []string
}

// FieldValue is one value a CRM recorded for a field of a record: from At
// on, Field held Value (the CRM's raw JSON value, as a record read would
// carry it; null when empty). Old, when the CRM says it, is the value the
// field held before At (Salesforce's OldValue).
type FieldValue struct {
	RecordID string
	Field    string
	At       time.Time
	Value    json.RawMessage
	Old      json.RawMessage
}

// HistoryPage is one page of field history. Values hold the whole history
// of every record they name (a record's values never span two pages), and
// After is the last record ID the page completes: stored with the page,
// it resumes the read after a crash.
type HistoryPage struct {
	Values []FieldValue
	After  string
	// Records are the IDs the page covers, with or without values.
	Records []string
}
