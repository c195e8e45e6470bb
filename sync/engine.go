package sync

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"

	"healthsync/connector"
	"healthsync/crm"
	"healthsync/mapping"
	"healthsync/store"
)

// Config holds the engine's settings from the environment.
type Config struct {
	// ReconcileEvery is how often the IDs of every object are compared with
	// the CRM's to find hard deletes the incremental pull cannot see.
	ReconcileEvery time.Duration `env:"HEALTHSYNC_RECONCILE_INTERVAL, default=24h"`
	// Connection names the CRM connection in the store (cursors, tokens,
	// runs, leases). One store may hold several connections.
	Connection string `env:"HEALTHSYNC_CONNECTION, default=default"`
}

// Validate checks the settings.
func (c Config) Validate() error {
	if c.ReconcileEvery < 0 {
		return fmt.Errorf("HEALTHSYNC_RECONCILE_INTERVAL=%s: must not be negative (0 reconciles on every sync)", c.ReconcileEvery)
	}
	if c.Connection == "" {
		return errors.New("HEALTHSYNC_CONNECTION is empty: name the connection, e.g. default or acme-salesforce")
	}
	return nil
}

// Hooks let tests stop the engine at exact points, as a crash would.
// Production code leaves them nil.
type Hooks struct {
	// BeforeCommit runs inside a page's transaction after its rows are
	// written and before the commit; an error rolls the page back.
	BeforeCommit func(object string, page int) error
	// AfterCommit runs after a page committed; an error ends the run there.
	AfterCommit func(object string, page int) error
	// Queued runs when a page of a pull has been fetched and mapped and
	// waits for the store, perhaps while the page before it is being
	// stored (the pipeline of pullOverlapped).
	Queued func(object string, page int)
}

// Engine runs syncs of one CRM connection into the store. Build it with
// NewEngine.
type Engine struct {
	store    *store.Store
	src      Source
	mapping  *mapping.Mapping
	cfg      Config
	clock    crm.Clock
	log      hclog.Logger
	progress Progress
	hooks    Hooks
}

// EngineOptions build an Engine: Store, Source and Mapping are required.
type EngineOptions struct {
	Store   *store.Store
	Source  Source
	Mapping *mapping.Mapping
	Config  Config       // the connection and the reconciliation interval
	Clock   crm.Clock    // default: the system clock
	Log     hclog.Logger // default: discard
	// Progress hears about each object's pull; default: none.
	Progress Progress
	Hooks    Hooks
}

// NewEngine returns an engine that syncs o.Source into o.Store with
// o.Mapping.
func NewEngine(o EngineOptions) *Engine {
	e := &Engine{store: o.Store, src: o.Source, mapping: o.Mapping, cfg: o.Config, clock: o.Clock, log: o.Log, progress: o.Progress, hooks: o.Hooks}
	if e.clock == nil {
		e.clock = crm.SystemClock{}
	}
	if e.log == nil {
		e.log = hclog.NewNullLogger()
	}
	if e.progress == nil {
		e.progress = noProgress{}
	}
	return e
}

// stopReason classifies an error that ended a run of ctx: a controlled
// stop gives a reason, anything else "". A context error is a stop only
// when ctx itself is done (a signal, a lost lease): a request that timed
// out under a live run is a failure, however its error reads.
func stopReason(ctx context.Context, err error) string {
	switch {
	case ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)):
		return "interrupted"
	case errors.Is(err, connector.ErrBudgetExhausted):
		return "API budget for this run used up"
	case errors.Is(err, connector.ErrDailyLimit):
		return "the CRM's daily API limit is reached"
	}
	return ""
}

// entityTable maps a mapping entity kind onto the store's table.
func entityTable(k mapping.EntityKind) store.Entity {
	switch k {
	case mapping.KindAccount:
		return store.Accounts
	case mapping.KindContact:
		return store.Contacts
	case mapping.KindOpportunity:
		return store.Opportunities
	case mapping.KindActivity:
		return store.Activities
	}
	return store.Users
}
