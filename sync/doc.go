// Package sync runs healthsync's work on one CRM connection: it keeps the
// store in sync with the CRM, and the CRM with the scores.
//
// What flows in and out:
//
//   - In: a CRM as the small interfaces this package declares, a [Source]
//     to pull from and a [Sink] to write to (the connectors implement
//     them; a [CRM] is both), and the mapping that says which fields mean
//     what.
//   - Out, into the store: raw and canonical records with each object's
//     cursor, one transaction per page; the run history; the score
//     history; the ledger of what was written to the CRM and the tasks
//     created.
//   - Out, into the CRM: only the fields the mapping names and the
//     follow-up tasks, changed values only.
//
// The parts, each built with NewX from an XOptions struct:
//
//   - [Engine] pulls changed records page by page, maps them, re-maps or
//     re-pulls after a mapping change, re-reads on a schedule what changes
//     without a modification stamp (Salesforce formula fields, HubSpot
//     activity associations, compared with the stored records) and
//     reconciles hard deletes.
//   - [Scorer] feeds each stored account to the scoring package and stores
//     the results.
//   - [Writeback] plans the writeback from the stored scores and the ledger
//     (Plan, what `healthsync plan` prints) and applies it (Apply).
//   - [Lease] holds a connection for one replica of several on Postgres.
//   - [Worker] puts them together: a sync, an apply, the sync → score →
//     plan → apply cycle and that cycle on an interval (Run), each holding
//     the connection, telling an [Observer] what every stage did. The CLI
//     only wires it and prints.
//
// Every sync and apply is recorded as a run, whatever its outcome; a
// controlled stop (a signal, the API budget, the CRM's daily limit) is
// told apart from a failure ([ErrStopped], [ControlledStop]).
//
// Files of this package that need the standard library's sync import it as
// stdsync (docs/adr/0001-package-named-sync.md).
package sync
