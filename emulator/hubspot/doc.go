// Package hubspot emulates the parts of HubSpot's public API that healthsync
// uses, closely enough that HubSpot's official client libraries (and our own
// connector) work against it unchanged when pointed at it with a custom base
// URL.
//
// A [Server] is a [net/http.Handler]. It keeps a portal in memory:
// companies, contacts, deals and the engagement objects (calls, emails,
// meetings, notes, tasks), their property definitions and groups,
// associations (v4, with HubSpot's default association type ids), owners and
// the default deal pipeline. It serves:
//
//   - OAuth 2.0: the /oauth/authorize consent page, POST /oauth/v1/token
//     (authorization_code and refresh_token grants, tokens expiring after
//     30 minutes of the injected clock), token information and revocation;
//     private-app tokens (pat-na1-…) carrying chosen scopes, with 403
//     MISSING_SCOPES naming the scope a call needs.
//   - CRM v3 objects: list, get, create, update, archive, batch read, create,
//     update and archive (≤ 100 inputs, 207 multi-status), and search with
//     filter groups, sorts, the 200-per-page and 10,000-result caps.
//   - Property history: propertiesWithHistory on single, list and batch
//     reads (each value newest first with its timestamp, sourceType,
//     sourceId and updatedByUserId; at most 50 records per read with
//     history), recorded on every create, update and batch update, loaded
//     with a generated org and from <type>_property_history.csv files.
//     Search returns no history, as in HubSpot.
//   - Associations v4, properties and property groups, owners, pipelines.
//   - Rate limits: a rolling ten-second window and a daily quota per token
//     with HubSpot's X-HubSpot-RateLimit-* headers, a five-per-second limit on
//     search without headers, and HubSpot's exact 429 bodies.
//   - Faults, off by default and deterministic by seed: a fraction of 5xx
//     answers, added latency, answers trickling in a byte at a time, early
//     token expiry, rate-limit pressure and paging that points back at the
//     same page; [Server.SetFaults] switches them while serving.
//
// Data comes from [Server.LoadOrg] (a generated organisation, with its
// field history), from CSV files ([Server.LoadCSV], [Server.LoadCSVDir],
// [Server.LoadExport], which adds columns the portal lacks as custom
// properties of an inferred type and reports what it loaded) or from API
// calls. LoadOrg adds the
// custom company properties a customer-success team keeps in HubSpot (group
// customer_success: segment, arr, licenses, active_users, adoption_rate,
// adoption_rate_previous, csm_sentiment, nps_score, customer_since,
// renewal_date, churned, churn_date) and a deal_category deal property
// (new_business, renewal, upsell, cross_sell) next to HubSpot's dealtype
// (newbusiness, existingbusiness). Tests inspect the
// portal in-process through [Server.Record], [Server.Records],
// [Server.Associations], [Server.APICalls] and [Server.CreatedTasks].
//
// Where HubSpot's documentation does not give an exact message (the 400 for
// paging past 10,000 search results, oversized batches, too many filters),
// the emulator answers with HubSpot's status and category and a message of
// its own that names the limit.
//
// All time-based behaviour (token expiry, rate-limit windows, modification
// timestamps) reads the [crm.Clock] given in [Options], so tests control it.
package hubspot
