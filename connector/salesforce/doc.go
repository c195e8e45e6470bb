// Package salesforce is the Salesforce connector: one org connection that
// the sync engine pulls from (sync.Source) and writes back to (sync.Sink).
//
// [Open](ctx, [Config], [Deps]) is the one way to build a [Client], as
// hubspot.Open is for HubSpot: the JWT bearer flow when a username and
// key file are set (HEALTHSYNC_SALESFORCE_*), otherwise the token
// `healthsync auth salesforce` ([Login]: web-server flow with PKCE and
// state on a loopback callback) stored encrypted in the store. Requests go
// through a connector.Stack built with [StackOptions]: Salesforce's error
// bodies, refresh on 401 INVALID_SESSION_ID, retries of 503 and
// UNABLE_TO_LOCK_ROW, the daily limit told by REQUEST_LIMIT_EXCEEDED, and
// the API budget fed by Sforce-Limit-Info. [Client.Budget] is the
// connection's budget; [Client.WriteBatch] tells the caller to hand
// Update up to 10,000 records, task writes 200.
//
// Pull reads changes with SOQL through simpleforce (on our http.Client):
// queryAll ordered by (SystemModstamp, Id), the pair compared with the
// cursor, pages of 2,000 streamed to the caller; above a threshold a Bulk
// API 2.0 queryAll job whose CSV pages become the same raw JSON; hard
// deletes from sobjects/{type}/deleted/. Writes use sObject Collections in
// batches of 200 with per-record results and retries of locked rows only,
// or a Bulk API 2.0 ingest job for large plans. CloseTasks reads each
// task's subject and description (one SOQL query per 200) and writes the
// closed status with both marked "Closed by healthsync". Install creates
// the custom fields (formula fields, such as day counters, after the
// fields they name, with read-only access) and the Healthsync permission
// set; deploy/salesforce holds the same metadata as Salesforce DX source.
package salesforce
