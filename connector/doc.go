// Package connector holds what every CRM connector shares, and names no
// CRM.
//
// What flows out of a connector: raw [Record]s as the CRM sent them, in
// [Page]s answering a [PullRequest], each page with the [Cursor]
// (modification stamp and ID) after its last record and the records it
// [Skipped]; the [Field]s of a describe; one [Result] per record of a
// batched write, in order. What flows in: the cursor to resume from, the
// fields to read, the [Update]s, tasks and [TaskClose]s to write, the
// [FieldSpec]s to install, and the [WriteBatch] a caller cuts its writes
// by. Failures are typed: a non-2xx answer is an [*APIError]; the stops
// that end a run ([ErrBudgetExhausted], [ErrDailyLimit], [ErrReauthorize],
// [ErrTimeout]) are sentinels, told apart by [IsStop].
//
// The HTTP stack ([NewStack]) is an oauth2-style auth layer over
// go-retryablehttp with rate limiting ([Limiter]) and an API budget
// ([Budget]). What is particular to a CRM, each connector hands it as
// options: its [ErrorDecoder], [RetryPolicy], [UsageReader] and
// [WindowReader]. The Salesforce and HubSpot connectors live in
// subpackages; nothing here imports them or anything above them (sync,
// mapping, scoring, store, status), which imports_test.go checks.
package connector
