// Package salesforce is an emulated Salesforce org served over HTTP,
// faithful enough that Salesforce client libraries work against it
// unchanged. Tests start it with httptest; `healthsync emulator` and
// `healthsync demo` serve it on a loopback port.
//
// [New] returns a [Server] (an http.Handler) holding the API user, its
// profile and a connected app; [Server.LoadOrg] or [Server.LoadGen] add a
// generated customer base (package emulator/gen) and [Server.LoadExport]
// (or [Server.LoadCSV]) loads Data Loader exports of a real org: standard
// fields the emulated schema lacks and custom fields are added (types
// from a catalogue or inferred from the values), references resolve after
// every file is read, references to objects it does not serve stay plain
// IDs, the org's stage names become its StageName picklist, files of
// unserved objects are skipped, and a line per object says what loaded. Records live in memory: per object a map by
// ID and an index sorted by (SystemModstamp, Id), so an incremental query
// ("WHERE SystemModstamp >= t ORDER BY SystemModstamp, Id") starts with a
// binary search instead of scanning the table, and result pages are
// rendered straight into a byte buffer.
//
// What it serves, with Salesforce's paths, JSON shapes, headers and error
// bodies:
//
//   - OAuth 2.0: /services/oauth2/authorize (an HTML login and consent
//     page that redirects with code and state), /services/oauth2/token
//     (authorization_code with PKCE S256, refresh_token with optional
//     rotation, JWT bearer with RS256 assertions checked for iss, sub, aud
//     and exp, client_credentials, password), /services/oauth2/revoke,
//     /services/oauth2/userinfo and the identity URL /id/{org}/{user};
//     plus the SOAP login() some libraries use. Access tokens time out
//     after an idle period (401 INVALID_SESSION_ID).
//   - REST under /services/data/vNN.0/: versions, limits (and the
//     Sforce-Limit-Info header with the rolling daily limit enforced),
//     query and queryAll with a real SOQL parser and paging through
//     nextRecordsUrl, sObject describe, describeGlobal, CRUD, upsert by
//     external ID, updated/ and deleted/, composite (sObject collections,
//     batch, composite with references), the Tooling API for custom fields
//     and Bulk API 2.0 query and ingest jobs.
//   - Field history tracking: AccountHistory and OpportunityFieldHistory
//     (Field, DataType, OldValue/NewValue as anyType, CreatedDate,
//     CreatedById, a "created" row per new record), written by every API
//     write of a tracked field, queryable by REST and Bulk 2.0, kept for
//     24 months ([Options].HistoryRetentionMonths), loaded with generated
//     orgs and from AccountHistory.csv / OpportunityFieldHistory.csv.
//     Which fields are tracked is [Options].FieldHistory (default
//     [DefaultFieldHistory]) or [Server.SetFieldHistory]; an object that
//     tracks nothing has no history object (INVALID_TYPE). Fields no user
//     sets (Opportunity IsClosed and IsWon, which follow StageName) cannot
//     be tracked, as in Setup.
//   - OpportunityStage: the org's stages (ApiName, MasterLabel, IsActive,
//     IsClosed, IsWon, DefaultProbability, ForecastCategory[Name],
//     SortOrder), read-only and queryable; the standard stages, or an
//     export's own (OpportunityStage.csv, else inferred from
//     Opportunity.csv), which also decide every opportunity's IsClosed and
//     IsWon.
//   - Field-level security for custom fields added through the Tooling
//     API: writes fail with INVALID_FIELD until a
//     FieldPermissions record on a permission set assigned to the user
//     grants edit.
//   - Formula fields created through the Tooling API ("formula" and
//     "formulaTreatBlanksAs" in the Metadata): described as calculated
//     read-only fields with their calculatedFormula, computed whenever a
//     record is read (REST and Bulk queries, filters, ordering) from the
//     emulator's clock without bumping SystemModstamp, refusing writes
//     (INVALID_FIELD_FOR_INSERT_UPDATE) and edit grants. The formula
//     language is the part day counters need: number, date and date/time
//     fields, + - * /, parentheses, TODAY() and BLANKVALUE(); anything else
//     is refused at creation (FIELD_INTEGRITY_EXCEPTION "Error: Unknown
//     function FOO. Check spelling."). Custom fields keep their
//     inlineHelpText, which describe returns.
//   - Faults for resilience tests (503s, latency, answers trickling in a
//     byte at a time, UNABLE_TO_LOCK_ROW, session expiry after N calls,
//     concurrent-request limits, query pages that point back at
//     themselves or never end), all deterministic given a seed and
//     switchable while serving with [Server.SetFaults].
//
// Inspection helpers ([Server.Record], [Server.IDs], [Server.APICalls],
// [Server.CreatedTasks], [Server.SetField]) let tests check what a client
// did without going through the API. [Server.Credentials] and
// [Server.EnvLines] give what a client needs to connect, and
// [Server.ClientLines] an instance URL and ready access token for clients
// other than healthsync. The JWT key EnvLines writes goes into a
// temporary directory of each server's own, which [Server.Close] removes.
//
// The generated org's Account carries these custom fields, as an org that
// tracks customer success would: Segment__c, ARR__c, Licenses__c,
// Active_Users__c, Adoption__c and Adoption_Previous__c (percent),
// CSM_Sentiment__c (Green/Yellow/Red), NPS__c (0..10), Customer_Since__c,
// Renewal_Date__c, Churned__c and Churn_Date__c. Task has Direction__c
// (Inbound/Outbound) for emails and calls.
package salesforce
