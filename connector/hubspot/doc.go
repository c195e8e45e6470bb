// Package hubspot is healthsync's connector for HubSpot portals. A
// [*Client] implements the sync engine's Source (incremental pull, ID
// listing for reconciliation, describe) and Sink (batched property writes,
// follow-up tasks, property install).
//
// [Open](ctx, [Config], [Deps]) is the one way to build a client, as
// salesforce.Open is for Salesforce: on the shared HTTP stack built with
// [StackOptions] (HubSpot's error envelope, retry policy, the
// X-HubSpot-RateLimit-* window for the limiter and the daily headers for
// the API budget) plus a limiter for the 5 requests/s search API; with a
// private-app token when HEALTHSYNC_HUBSPOT_TOKEN is set, otherwise with
// the OAuth token that [Login] (`healthsync auth hubspot`) stored,
// refreshed ahead of its 30 minute expiry and saved again whenever HubSpot
// rotates it. Inside, the client is built the go-github way: every request
// goes through newRequest and do, and every non-2xx answer becomes a
// *connector.APIError decoded from HubSpot's error envelope.
// [Client.Budget] is the connection's budget; [Client.WriteBatch] tells the
// caller to hand each write call 100 records.
//
// # Incremental pull
//
// Companies, contacts, deals and the activities (calls, emails, meetings,
// notes, tasks) are read with the CRM search API sorted ascending on the
// modification date (hs_lastmodifieddate, lastmodifieddate for contacts),
// 200 per page. Paging is by key, not by offset: every page after the first
// asks for (modified = T AND hs_object_id > L) OR (modified > T), where
// (T, L) is the last record seen, so the search's 10,000-result cap is
// never reached however many records share one timestamp, and a record
// modified while the sync runs never shifts another out of a page. The
// first page starts at the cursor's timestamp minus a small look-back and
// leaves out the records at the cursor's timestamp with an ID not above
// the cursor's (the run before stored them last): an import that stamped
// thousands of records with one millisecond is not paged through again on
// every run. A record the look-back reads again whose properties are
// those stored (PullRequest.Stored) is not handed on, so its
// associations are not read again either.
//
// Deletions: HubSpot's search never returns archived records. A full pull
// lists the object's recycle bin (GET /crm/v3/objects/{type}?archived=true,
// 100 per page) and emits its records as deletions, stamped with their
// archivedAt. An incremental pull that is told what is stored
// (PullRequest.Stored) first searches newest first without a filter: the
// answer's total is the portal's live count, and when its 200 results
// reach back past the look-back they are every change, so an unchanged
// object costs that one search. It lists the recycle bin (the records
// archived since the cursor minus the association window) only when the
// live count differs from the stored one plus the records the pull added.
//
// Associations: HubSpot's search returns none. An activity's links to
// companies, contacts and deals, and a deal's links to companies (a deal
// has no company property), are read with the v4 batch read (1,000 IDs
// per call and target type) and attached to the raw record as
// "associations":{"companies":{"results":[{"id","type"}]},...}, the shape
// the mapping reads. A deal's primary company (HUBSPOT_DEFINED type 5)
// gets the type "deal_to_company", its other companies
// "deal_to_company_unlabeled" (CRM v3's names), so the mapping takes the
// primary one as the opportunity's account. Re-linking an activity or a
// deal does not change its modification date, so
// [Client.SweepAssociations] re-reads the associations of the activities
// whose hs_timestamp lies within the association window
// (HEALTHSYNC_HUBSPOT_ASSOCIATION_WINDOW) and of every live deal, and
// emits those whose associations differ from the stored record's. The sync
// engine runs it every HEALTHSYNC_HUBSPOT_ASSOCIATION_SWEEP (default a
// day; [Client.AssociationSweep]) and keeps the time of the last sweep in
// the store (docs/adr/0011-association-sweep.md).
//
// Searches are paced by a rolling-window limiter
// (HEALTHSYNC_HUBSPOT_SEARCH_RATE, default HubSpot's 5 per second): each
// holds its place from its send until a second after its answer, so
// HubSpot, counting arrivals in a rolling second, never refuses one.
//
// Owners have no incremental API: every pull lists them all (live and
// archived; archived owners carry "archived":true and map to inactive
// users).
//
// # Writes
//
// Updates go through batch/update with at most 100 inputs per call; a 207
// answer is mapped back to each record, and a batch HubSpot rejects as a
// whole for one invalid value is split until the invalid records are
// isolated, so the valid ones are still written. Tasks are created with
// batch/create (with their key property and associations to the company,
// type 192, and contact, 204), found again by key with a search, and closed
// with a batch/read of their subject and body then a batch/update that
// sets the closed status and marks both "Closed by healthsync" (2 calls
// per 100 tasks). Install creates the property group "healthsync" and
// each property idempotently; Describe reports each property's group and
// description, so the properties install created can be told apart.
package hubspot
