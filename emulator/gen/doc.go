// Package gen generates deterministic, CRM-neutral synthetic customer orgs
// for the emulated CRMs, the demo and the backtest.
//
// An [Org] holds team members ([User]), customer companies ([Account]) with
// their people ([Contact]), deals ([Opportunity]) and interactions
// ([Activity]) over the past months (18 by default). Records refer to each
// other by index into the Org's slices, so each emulator assigns its own
// identifiers (Salesforce 18-character IDs, HubSpot numbers).
//
// The data follows the patterns a health score should find. Most accounts
// are healthy: they hear from the team regularly, reply to emails, meet
// their executives for business reviews, use most of their licences and
// renew every year, sometimes buying more. About a fifth start declining at
// some point: activity thins out, replies stop, the executive sponsor goes
// quiet or leaves (the contact is deleted), adoption falls, sentiment turns
// red, and when the yearly renewal comes the deal is lost far more often and
// the account churns. [Account.Declining], [Account.DeclineStart],
// [Account.Churned] and [Account.ChurnedAt] are the ground truth a backtest
// is checked against.
//
// Accounts and opportunities carry a field history ([Org.History],
// Bundle.History): ARR moving at renewals, quarterly adoption snapshots
// (Adoption and AdoptionPrev), CSM sentiment, NPS surveys, the renewal
// date, the churn, and deals moving through their stages, from
// HistoryFrom (Months before Now) on, ending at today's values. A
// churned account's adoption falls and its sentiment turns red before the
// churn. The history comes from its own random stream, so the rest of the
// org is the same with [Options].NoHistory; it is computed when asked, not
// kept in the Org.
//
// The same [Options] always give the same Org. Every account is generated
// from its own random stream derived from the seed and its position, so
// [Stream] can produce orgs of 100,000 accounts and millions of activities
// one account at a time without holding them all, and yields exactly what
// [Generate] would.
package gen
