// Command hsbench measures healthsync against the emulated Salesforce org
// and HubSpot portal over loopback: full-sync throughput next to the
// ceiling of a minimal client that fetches and decodes the pages the sync
// kept (by the same path: REST query pages, Bulk API 2.0 result pages,
// HubSpot reads as sent) and stores nothing, next to a jsforce script (the
// peer, bench/jsforce-pull.mjs, on Salesforce), API calls of full (field
// history backfill included), 1%-changed and unchanged syncs and of an
// apply next to the theoretical minimum of the path taken, scoring speed,
// CPU time and the peak RSS of every run. Each measured run is a child
// process of hsbench (the emulator stays in the parent), so its peak RSS
// is its own. Timed figures are medians over -runs, with their min–max.
//
// Each 1%-changed run reads only its own changes: the last change of each
// object is stamped after the emulator's clock moved past the connectors'
// look-back, and the children run on the same moved clock.
//
// The HubSpot portal runs without rate limits and the client is not paced
// to them, so the figures are healthsync's own cost; the "limit floor" is
// the least time HubSpot's documented limits (100 calls per 10 s, 5
// searches per s) would allow for the same calls.
//
// Usage:
//
//	go run ./cmd/hsbench [-crm salesforce,hubspot] [-sizes 2000,10000] [-runs 3] [-big-runs 1] [-postgres URL] [-peer=false] [-history] [-json] [-json-file F]
//
// make bench runs it with the defaults. Postgres is measured when -postgres
// or HEALTHSYNC_TEST_DATABASE_URL is set; each run gets a fresh schema
// that is dropped afterwards. The peer needs node and npm: hsbench runs
// `npm ci --prefix bench` when bench/node_modules lacks the jsforce that
// bench/package-lock.json pins, and prints "peer: skipped (reason)" when
// it cannot.
package main
