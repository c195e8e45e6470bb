// Command hsbench measures healthsync against the emulated Salesforce org
// over loopback: full-sync throughput next to the ceiling of a minimal
// client that fetches and decodes the same pages and stores nothing, API
// calls of full, 1%-changed and unchanged syncs and of an apply next to
// the theoretical minimum of the path taken, scoring speed and the peak
// RSS of every run. Each measured run is a child process of hsbench (the
// emulator stays in the parent), so its peak RSS is its own.
//
// Usage:
//
//	go run ./cmd/hsbench [-sizes 2000,10000] [-runs 3] [-postgres URL] [-json]
//
// make bench runs it with the defaults. Postgres is measured when -postgres
// or HEALTHSYNC_TEST_DATABASE_URL is set; each run gets a fresh schema
// that is dropped afterwards.
package main
