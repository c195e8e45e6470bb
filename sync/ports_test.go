package sync_test

import (
	"healthsync/connector/hubspot"
	"healthsync/connector/salesforce"
	hsync "healthsync/sync"
)

// The connectors are what the engine pulls from and writes back to. The
// checks live here, on the side that declares the interfaces, so that no
// connector imports sync.
var (
	_ hsync.Source = (*salesforce.Client)(nil)
	_ hsync.Sink   = (*salesforce.Client)(nil)
	_ hsync.Source = (*hubspot.Client)(nil)
	_ hsync.Sink   = (*hubspot.Client)(nil)
)
