package sync

import (
	"context"

	"healthsync/connector"
	"healthsync/crm"
)

// Source is a CRM to pull from.
type Source interface {
	// System says which CRM this is.
	System() crm.System
	// Pull streams the records of req.Object changed at or after req.Since,
	// page by page, calling fn for each page in order. fn commits the page;
	// an error from fn stops Pull, which returns it. Pull never holds a whole
	// object in memory.
	Pull(ctx context.Context, req connector.PullRequest, fn func(context.Context, connector.Page) error) error
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
	// WriteBatch says how many records to hand each Update, CreateTasks
	// and CloseTasks call; the apply commits its ledger after each.
	WriteBatch() connector.WriteBatch
}
