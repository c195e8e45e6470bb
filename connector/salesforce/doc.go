// Package salesforce is the Salesforce connector: one org connection that
// the sync engine pulls from (sync.Source) and writes back to (sync.Sink).
//
// [Open] wires a [Client] from [Config] (HEALTHSYNC_SALESFORCE_*): the JWT
// bearer flow when a username and key file are set, otherwise the token
// `healthsync auth salesforce` ([Login]: web-server flow with PKCE and
// state on a loopback callback) stored encrypted in the store. Requests go
// through connector.Stack: refresh on 401 INVALID_SESSION_ID, retries of
// 503 and UNABLE_TO_LOCK_ROW, and the API budget fed by Sforce-Limit-Info.
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
