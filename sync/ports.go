package sync

import (
	"context"

	"healthsync/connector"
	"healthsync/crm"
)

// PullRequest asks a Source for the changes of one object.
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
	Since connector.Cursor
}

// Page is one page of pulled records. Deletions come as records with
// Deleted set. Cursor is the position after the page's last record; the
// engine stores it in the same transaction as the records.
type Page struct {
	Records []connector.Record
	Cursor  connector.Cursor
	// Skipped are the records of the page the connector could not read
	// (no ID, an unreadable modification stamp, a value of a JSON type the
	// CRM never sends), left out of Records. Cursor never passes the first
	// of them, so the next run reads them again, and reports them again
	// until they read correctly. The engine records each as a problem of
	// the run. An answer that is not a page at all stays an error of Pull.
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

// Source is a CRM to pull from.
type Source interface {
	// System says which CRM this is.
	System() crm.System
	// Pull streams the records of req.Object changed at or after req.Since,
	// page by page, calling fn for each page in order. fn commits the page;
	// an error from fn stops Pull, which returns it. Pull never holds a whole
	// object in memory.
	Pull(ctx context.Context, req PullRequest, fn func(context.Context, Page) error) error
	// ListIDs streams the IDs of every live record of object, for the
	// reconciliation that finds hard deletes.
	ListIDs(ctx context.Context, object string, fn func(ids []string) error) error
	// Describe returns the fields of object, to validate the mapping.
	Describe(ctx context.Context, object string) ([]connector.Field, error)
	// APICalls is the number of API calls this Source has made so far.
	APICalls() int64
}

// Sink is a CRM to write results back to.
type Sink interface {
	// Update writes field values to records of object in the fewest calls
	// the API allows, returning one result per update in order. An error is
	// returned only when nothing could be attempted or the run must stop
	// (budget, authorization); per-record failures are results.
	Update(ctx context.Context, object string, updates []connector.Update) ([]connector.Result, error)
	// FindTasks returns the tasks in the CRM that carry any of keys.
	FindTasks(ctx context.Context, keys []string) ([]connector.TaskRef, error)
	// CreateTasks creates follow-up tasks, each carrying its Key, and
	// returns one result per task in order with the new task's ID.
	CreateTasks(ctx context.Context, tasks []crm.Task) ([]connector.Result, error)
	// CloseTasks closes the tasks with the CRM's configured closed status,
	// marking each (subject and description) as closed by healthsync, not
	// by a CSM, with its note; one result per close in order.
	CloseTasks(ctx context.Context, closes []connector.TaskClose) ([]connector.Result, error)
	// Install creates the custom fields/properties healthsync writes to,
	// idempotently, and returns what it created.
	Install(ctx context.Context, fields []connector.FieldSpec) ([]string, error)
}
