// Package sync orchestrates healthsync's runs: it pulls changed records from
// a CRM page by page, maps them, stores raw and canonical rows together with
// the advanced cursor in one transaction per page, and plans and applies the
// writeback of scores and tasks. It declares the small interfaces it needs
// from a CRM ([Source], [Sink]); the connectors implement them.
//
// Files of this package that need the standard library's sync import it as
// stdsync.
package sync
