package gen

import (
	"fmt"
	"time"
)

// DefaultNow is the reference "now" used when Options.Now is zero, so that
// an Org generated without one is still the same on every run.
var DefaultNow = time.Date(2026, time.January, 15, 12, 0, 0, 0, time.UTC)

// Options say what to generate. The zero value of each optional field picks
// a sensible default.
type Options struct {
	// Seed selects the org: the same options always give the same org.
	Seed int64
	// Accounts is the number of customer companies (0 to 10,000,000).
	Accounts int
	// Now is the reference time; history lies before it. Zero means
	// [DefaultNow]. It is normalised to UTC milliseconds.
	Now time.Time
	// Months of activity history before Now; 0 means 18.
	Months int
	// Users is the team size; 0 derives it from Accounts (one owner per
	// ~60 accounts, at least 5, at most 2,000).
	Users int
	// DeclineRate is the share of accounts that start declining, 0..1;
	// 0 means 0.2. Use NoDecline for none.
	DeclineRate float64
	// NoDecline makes every account healthy.
	NoDecline bool
	// ActivityScale multiplies activity volume; 0 means 1 (about 20
	// activities per account over 18 months).
	ActivityScale float64
	// DeleteRate is the share of contacts, opportunities and activities
	// soft-deleted in the last 20 days, 0..1; 0 means 0.01. Use NoDeletes
	// for none.
	DeleteRate float64
	// NoDeletes disables deletions.
	NoDeletes bool
	// NoHistory turns field history off: [Org.History] and
	// Bundle.History give nothing, so the emulators hold no history
	// rows. The rest of the org is the same either way.
	NoHistory bool
}

// withDefaults validates o and fills in defaults.
func (o Options) withDefaults() (Options, error) {
	switch {
	case o.Accounts < 0 || o.Accounts > 10_000_000:
		return o, fmt.Errorf("gen options: Accounts = %d: want 0 to 10000000", o.Accounts)
	case o.Months < 0 || o.Months > 120:
		return o, fmt.Errorf("gen options: Months = %d: want 0 (default 18) to 120", o.Months)
	case o.Users < 0 || o.Users > 100_000:
		return o, fmt.Errorf("gen options: Users = %d: want 0 (derived) to 100000", o.Users)
	case o.DeclineRate < 0 || o.DeclineRate > 1:
		return o, fmt.Errorf("gen options: DeclineRate = %v: want 0..1", o.DeclineRate)
	case o.ActivityScale < 0 || o.ActivityScale > 100:
		return o, fmt.Errorf("gen options: ActivityScale = %v: want 0 (default 1) to 100", o.ActivityScale)
	case o.DeleteRate < 0 || o.DeleteRate > 1:
		return o, fmt.Errorf("gen options: DeleteRate = %v: want 0..1", o.DeleteRate)
	}
	if o.Now.IsZero() {
		o.Now = DefaultNow
	}
	o.Now = o.Now.UTC().Truncate(time.Millisecond)
	if o.Months == 0 {
		o.Months = 18
	}
	if o.Users == 0 {
		o.Users = min(max(o.Accounts/60, 5), 2000)
	}
	if o.DeclineRate == 0 {
		o.DeclineRate = 0.2
	}
	if o.NoDecline {
		o.DeclineRate = 0
	}
	if o.ActivityScale == 0 {
		o.ActivityScale = 1
	}
	if o.DeleteRate == 0 {
		o.DeleteRate = 0.01
	}
	if o.NoDeletes {
		o.DeleteRate = 0
	}
	return o, nil
}
