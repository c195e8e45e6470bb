// Package status is healthsync's operations surface: an HTTP handler that
// serves Prometheus metrics, health endpoints for orchestrators, and a
// read-only status page for admins and CS leaders.
//
// What flows in: the store, read through its methods only (latest scores,
// score history, account names, runs, cursors, last complete pulls); the
// reports sync returns after each step; the connection's API usage; the
// mapping (for the grade bands). What flows out: HTTP answers. It writes
// nothing anywhere.
//
// [Metrics] holds the Prometheus metrics on a private registry. The worker
// feeds it after each step: [Metrics.ObserveSync] with a sync report,
// [Metrics.ObserveScore] with a scoring summary, [Metrics.ObserveApply]
// with a writeback report, [Metrics.ObserveBudget] with the connection's API
// usage and [Metrics.ObserveError] with the kind of a failure. The sync lag
// per object (now minus the stored cursor) is read from the store at every
// scrape.
//
// [NewServer] builds the handler:
//
//   - /metrics: the registry in the Prometheus text format;
//   - /healthz: 200 while the process serves requests;
//   - /readyz: 200 when the store answers, the caller's Ready check passes
//     (the CLI checks the CRM token) and the newest finished run did not fail;
//   - /: the status page: grade distribution, the CSM pipeline by lifecycle
//     stage and grade, renewals due in 30/60/90 days with their ARR, the
//     at-risk accounts with their reasons, the last runs with their counts
//     and API calls, and the sync lag per object;
//   - /accounts/{id}: one account's score trend, reasons, flags and metrics.
//
// Pages are rendered on the server with html/template from templates
// embedded in the binary; charts are inline SVG drawn in Go, so the page
// needs no JavaScript, no CDN and no network. Everything is read-only.
//
// With a token configured (HEALTHSYNC_STATUS_TOKEN, see [Config]) every
// path except /healthz needs "Authorization: Bearer <token>" or
// "?token=<token>", compared in constant time; /readyz without a token only
// answers its status code, so orchestrator probes keep working and reveal
// nothing. [CheckListen] refuses a non-loopback listen address without a
// token.
package status
