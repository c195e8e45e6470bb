package connector

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
)

// BudgetConfig says how much of the CRM's daily API limit healthsync may use.
type BudgetConfig struct {
	// RunShare is the share of the daily limit one run may use.
	RunShare float64 `env:"HEALTHSYNC_API_BUDGET_RUN_SHARE, default=0.2"`
	// TotalShare is the share of the daily limit, counting every integration
	// of the org or portal, beyond which healthsync makes no more calls.
	TotalShare float64 `env:"HEALTHSYNC_API_BUDGET_TOTAL_SHARE, default=0.8"`
}

// DefaultBudgetConfig returns the configuration the environment defaults give.
func DefaultBudgetConfig() BudgetConfig { return BudgetConfig{RunShare: 0.2, TotalShare: 0.8} }

// Validate reports every invalid setting, naming its variable.
func (c BudgetConfig) Validate() error {
	var errs []error
	if !(c.RunShare > 0 && c.RunShare <= 1) {
		errs = append(errs, fmt.Errorf("HEALTHSYNC_API_BUDGET_RUN_SHARE must be a fraction in (0, 1], e.g. 0.2 for 20%%, got %g", c.RunShare))
	}
	if !(c.TotalShare > 0 && c.TotalShare <= 1) {
		errs = append(errs, fmt.Errorf("HEALTHSYNC_API_BUDGET_TOTAL_SHARE must be a fraction in (0, 1], e.g. 0.8 for 80%%, got %g", c.TotalShare))
	}
	return errors.Join(errs...)
}

// Budget counts the API calls of one connection and stops a run before it
// uses more of the CRM's daily limit than configured. It learns the limit
// and the usage of the whole org or portal from the responses that report
// them (the stack reads them with the connector's UsageReader, see
// WithUsageHeaders). Until a response has told it the limit, it refuses
// nothing. It is safe for concurrent use.
type Budget struct {
	cfg   BudgetConfig
	calls atomic.Int64 // every attempt on the connection

	mu         sync.Mutex
	runCalls   int64 // attempts since StartRun
	limit      int64 // daily limit; 0 while unknown
	used       int64 // org-wide usage at the last observation
	callsAtObs int64 // calls at the last observation
	daily      error // the daily limit was reported; latched until StartRun
}

// NewBudget returns a budget after validating cfg.
func NewBudget(cfg BudgetConfig) (*Budget, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("API budget: %w", err)
	}
	return &Budget{cfg: cfg}, nil
}

// Usage is a snapshot of a Budget.
type Usage struct {
	Calls      int64 // attempts on the connection since it was created, retries included
	RunCalls   int64 // attempts since the last StartRun
	DailyUsed  int64 // the org's usage as last reported (0 when unknown)
	DailyLimit int64 // the daily limit as last reported (0 when unknown)
}

// StartRun resets the per-run count and forgets a reported daily limit, so
// the next run may try again.
func (b *Budget) StartRun() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.runCalls = 0
	b.daily = nil
}

// APICalls returns the number of attempts made on the connection.
func (b *Budget) APICalls() int64 { return b.calls.Load() }

// Usage returns a snapshot of the counts.
func (b *Budget) Usage() Usage {
	b.mu.Lock()
	defer b.mu.Unlock()
	return Usage{Calls: b.calls.Load(), RunCalls: b.runCalls, DailyUsed: b.used, DailyLimit: b.limit}
}

// Acquire accounts for one attempt about to be sent, or refuses it with an
// error wrapping ErrBudgetExhausted (or ErrDailyLimit once the CRM has
// reported its daily limit reached in this run).
func (b *Budget) Acquire() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.daily != nil {
		return b.daily
	}
	if b.limit > 0 {
		runMax := int64(math.Floor(b.cfg.RunShare * float64(b.limit)))
		if b.runCalls >= runMax {
			return fmt.Errorf("this run made %d calls, its share of the daily limit of %d is %d (HEALTHSYNC_API_BUDGET_RUN_SHARE=%g): %w",
				b.runCalls, b.limit, runMax, b.cfg.RunShare, ErrBudgetExhausted)
		}
		totalMax := int64(math.Floor(b.cfg.TotalShare * float64(b.limit)))
		if est := b.used + (b.calls.Load() - b.callsAtObs); est >= totalMax {
			return fmt.Errorf("about %d of the daily limit of %d are used, healthsync stops at %d (HEALTHSYNC_API_BUDGET_TOTAL_SHARE=%g): %w",
				est, b.limit, totalMax, b.cfg.TotalShare, ErrBudgetExhausted)
		}
	}
	b.runCalls++
	b.calls.Add(1)
	return nil
}

// Observe records the daily usage and limit a response reported: used
// calls of the whole org or portal, out of limit. A report without a
// positive limit, or with a negative usage, is ignored.
func (b *Budget) Observe(used, limit int64) {
	if limit <= 0 || used < 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used, b.limit, b.callsAtObs = used, limit, b.calls.Load()
}

// markDaily latches a daily-limit error until the next StartRun.
func (b *Budget) markDaily(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.daily = err
}
