// Package store is healthsync's persistence: one API over SQLite (the
// embedded default, pure Go, a single file) and Postgres (for production and
// several replicas).
//
// What flows in: from sync, each pulled page's raw records, the canonical
// crm entities mapped from them and the object's new cursor (one
// transaction); each day's scores ([Score], its Outputs as the scoring
// side encoded them); what the writeback wrote (the ledger) and the tasks
// it created; the field history of accounts and opportunities (the old
// value of each mapped history field that changed, until when, and per
// field from when the history is complete: [Tx.TrackChanges],
// [Tx.PutHistory], [Store.ValueAsOf], streamed in [Bundle].History);
// from connector/oauth, token blobs, which it seals. What
// flows out: the same, read back through methods only. The store hands
// out no database handle, so nothing above it runs SQL of its own. Its
// streaming reads ([Store.ForEachAccount], [Store.ForEachScore],
// [Store.ForEachLedger]…) return an error when a row part-way cannot be
// read, never a short stream. The store knows no CRM's wire format: a raw
// record is opaque JSON to it.
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
// A SQLite database is used by one process at a time: Open takes an
// exclusive flock on the database file itself (Options.Shared skips it for
// read-only commands), and creates the file 0600, which SQLite's -wal and
// -shm files follow. Errors SQLite gives for a full disk or a failed write
// are worded with the file and what became of the data (ErrDiskFull,
// ErrDiskIO).
//
// Every run is recorded with the time it was last seen alive
// ([Tx.TouchRun]); whoever next holds the connection ends the runs a dead
// process left running with [Store.InterruptRuns]. Lease expiry is decided
// by the database's clock ([Store.AcquireLease]).
//
// The conformance suite in store/storetest runs unchanged against both
// backends; storetest also gives tests a fresh Postgres schema
// (FreshPostgres) and a raw connection beside the store (RawDB).
package store
