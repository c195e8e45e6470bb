package main

import (
	"sync/atomic"
	"time"

	"healthsync/connector/hubspot"
	"healthsync/connector/salesforce"
	"healthsync/crm"
)

// offsetClock is the system clock moved forward by an offset the bench
// advances between the 1%-changed rounds. The emulators stamp changes
// with it and the measured children run their connector and engine on
// the same offset (childSpec.ClockOffsetMs), so the two agree on "now".
type offsetClock struct {
	off atomic.Int64 // nanoseconds
}

// Now implements crm.Clock.
func (c *offsetClock) Now() time.Time {
	return crm.Normalize(time.Now().Add(time.Duration(c.off.Load())))
}

func (c *offsetClock) advance(d time.Duration) { c.off.Add(int64(d)) }

func (c *offsetClock) offset() time.Duration { return time.Duration(c.off.Load()) }

// lookbackGap is how far the clock moves between a round's changes and
// its last change: past both connectors' default look-back (the window
// before the cursor an incremental sync reads again), with a minute to
// spare.
var lookbackGap = max(salesforce.DefaultConfig().Lookback, hubspot.DefaultConfig().Lookback) + time.Minute
