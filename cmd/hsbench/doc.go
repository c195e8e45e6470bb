// Command hsbench measures healthsync against the emulated Salesforce org
// and HubSpot portal over loopback: full-sync throughput next to the
// ceiling of a minimal client that fetches and decodes the same pages and
// stores nothing, API calls of full, 1%-changed and unchanged syncs and of
// an apply next to the theoretical minimum of the path taken, scoring
// speed and the peak RSS of every run. Each measured run is a child
// process of hsbench (the emulator stays in the parent), so its peak RSS
// is its own.
//
// The HubSpot portal runs without rate limits and the client is not paced
// to them, so the figures are healthsync's own cost; the "limit floor" is
// the least time HubSpot's documented limits (100 calls per 10 s, 5
// searches per s) would allow for the same calls.
//
// Usage:
//
//	go run ./cmd/hsbench [-crm salesforce,hubspot] [-sizes 2000,10000] [-runs 3] [-big-runs 1] [-postgres URL] [-json] [-json-file F]
//
// make bench runs it with the defaults. Postgres is measured when -postgres
// or HEALTHSYNC_TEST_DATABASE_URL is set; each run gets a fresh schema
// that is dropped afterwards.
package main
