// Package store is healthsync's persistence: one API over SQLite (the
// embedded default, pure Go, a single file) and Postgres (for production and
// several replicas).
//
// It keeps the raw CRM records as received (so a mapping change can be
// re-applied without downloading again), the canonical entities of package
// crm, the per-object incremental cursors, the record of every sync run, the
// score history, the writeback ledger and created tasks, and the OAuth
// tokens, encrypted with AES-256-GCM.
//
// Each backend has its own migrations, embedded in the binary and applied
// with golang-migrate; [Store.Migrate] refuses a database that a newer
// healthsync migrated, one left dirty by a failed migration, and a SQLite
// file that belongs to another program. Writes that must stay together (a
// page of records and the cursor that covers it) go through [Store.InTx];
// a page's rows go through a [Batch], which writes them with a few
// multi-row statements per table instead of one statement per row.
//
// The conformance suite in store/storetest runs unchanged against both
// backends.
package store
