// Package scoring turns one account's canonical CRM records into what a
// Customer Success Manager acts on: relationship metrics per contact and per
// account, a health score with its measures, grade, trend and reasons, and
// risk flags with their evidence. It also aggregates per-account results
// into portfolio KPIs and measures, by backtest, how well past scores ranked
// the accounts that later churned.
//
// The package is pure. Records and an instant ("now") go in; results come
// out. It does no I/O, keeps no global state and reads no clock: scoring the
// same records as of an earlier instant replays history, because only data
// at or before that instant counts.
//
// Replaying history is exact for everything dated: activities (an
// activity counts from when it happened, a task from its completion; open
// tasks, notes and anything after now never count), opportunities (one
// created after now does not exist yet; one closed after now was still
// open then) and the customer-since date. Account fields that hold a
// current value only (adoption and its previous value, CSM sentiment, NPS,
// CSAT) are read as they are: the store must supply a snapshot of the
// account as of now for those to replay.
//
// The main types:
//
//   - Config holds every threshold and weight of docs/scoring.md with its yaml
//     key; DefaultConfig returns the documented defaults and Validate names
//     the offending key.
//   - AccountData is the bundle for one account (account, contacts,
//     opportunities, activities). The store streams one bundle at a time, so
//     memory is bounded by the largest account, not the org.
//   - Scorer (from NewScorer) compiles a Config once and scores bundles;
//     Score is the one-shot form.
//   - Result carries Metrics, Measures, Score, Grade, Trend, Reasons, Flags
//     (each with its evidence and task) and per-contact relationships
//     (Contacts); Result.Value reads any metric, measure or output by name
//     for writeback, and Result.Tasks turns flags into CRM tasks.
//   - PortfolioBuilder (or ComputeKPIs) aggregates results into the KPIs of
//     a period and the CSM pipeline.
//   - Scorer.Replay scores an account at past dates, OutcomeOf reads what
//     happened to it, and Backtest computes ROC AUC, churn rate per grade
//     and the warning lead time before churn.
//
// How these results read in a terminal or a spreadsheet (explain, report,
// backtest) is the render package's job.
package scoring
