package salesforce

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"healthsync/connector"
)

// collectionSize is the most records one sObject Collections call takes.
const collectionSize = 200

// updateChunk is how many updates a caller hands one Update: more than
// HEALTHSYNC_SALESFORCE_BULK_WRITE_THRESHOLD (2,000 by default) go as one
// Bulk API 2.0 ingest job (about 6 calls), fewer in composite calls of
// collectionSize, and the caller's ledger follows every updateChunk.
const updateChunk = 10_000

// WriteBatch implements sync.Sink: tasks in sObject Collections of 200,
// updates 10,000 per Update call.
func (c *Client) WriteBatch() connector.WriteBatch {
	return connector.WriteBatch{Records: collectionSize, Updates: updateChunk}
}

// writeRetries bounds how many times records that failed with a retryable
// per-record error (UNABLE_TO_LOCK_ROW) are sent again.
const writeRetries = 4

// collectionResult is one entry of an sObject Collections answer.
type collectionResult struct {
	ID      string `json:"id"`
	Success bool   `json:"success"`
	Errors  []struct {
		StatusCode string   `json:"statusCode"`
		Message    string   `json:"message"`
		Fields     []string `json:"fields"`
	} `json:"errors"`
}

// retryableCode says whether a per-record error may succeed when the same
// record is sent again.
func retryableCode(code, msg string) bool {
	switch code {
	case "UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE":
		return true
	case "REQUEST_LIMIT_EXCEEDED":
		return strings.Contains(strings.ToLower(msg), "concurrent")
	}
	return false
}

// Update implements sync.Sink. Up to HEALTHSYNC_SALESFORCE_BULK_WRITE_THRESHOLD
// updates go through PATCH /composite/sobjects in batches of 200 with
// allOrNone=false; more go through a Bulk API 2.0 ingest job. Each result
// is mapped back to its update in order; records that failed with a
// retryable error (UNABLE_TO_LOCK_ROW) — and only those — are sent again,
// a bounded number of times with backoff. The error is non-nil only when
// the run must stop (budget, daily limit, authorization, ctx); results of
// records not attempted then carry NOT_ATTEMPTED.
func (c *Client) Update(ctx context.Context, object string, updates []connector.Update) ([]connector.Result, error) {
	if err := soqlName(object); err != nil {
		return nil, fmt.Errorf("update: %w", err)
	}
	recs := make([]map[string]any, len(updates))
	for i, u := range updates {
		if u.ID == "" {
			return nil, fmt.Errorf("update %s: update %d has no record ID", object, i)
		}
		r := map[string]any{"attributes": map[string]any{"type": object}, "id": u.ID}
		for k, v := range u.Fields {
			if err := soqlName(k); err != nil {
				return nil, fmt.Errorf("update %s %s: %w", object, u.ID, err)
			}
			r[k] = v
		}
		recs[i] = r
	}
	if len(updates) > c.cfg.BulkWriteThreshold {
		return c.bulkUpdate(ctx, object, updates)
	}
	return c.writeCollections(ctx, http.MethodPatch, recs)
}

// writeCollections sends recs (POST creates, PATCH updates) in batches of
// 200 and retries the records that failed retryably.
func (c *Client) writeCollections(ctx context.Context, method string, recs []map[string]any) ([]connector.Result, error) {
	results := make([]connector.Result, len(recs))
	pending := make([]int, len(recs))
	for i := range recs {
		pending[i] = i
		results[i] = connector.Result{Err: &connector.APIError{Code: connector.CodeNotAttempted, Message: "not sent: the run stopped first"}, Retryable: true}
	}
	for attempt := 0; len(pending) > 0; attempt++ {
		if attempt > 0 {
			if err := c.writeBackoff(ctx, attempt); err != nil {
				return results, err
			}
		}
		var again []int
		for start := 0; start < len(pending); start += collectionSize {
			batch := pending[start:min(start+collectionSize, len(pending))]
			if err := c.sendCollection(ctx, method, recs, batch, results); err != nil {
				return results, err
			}
			for _, i := range batch {
				if !results[i].OK() && results[i].Retryable && attempt < writeRetries {
					again = append(again, i)
				}
			}
		}
		if len(again) > 0 {
			c.log.Debug("retrying records that failed retryably", "records", len(again), "attempt", attempt+1)
		}
		pending = again
	}
	return results, nil
}

// writeBackoff waits before a retry round: 200 ms doubling, at most 5 s
// (HTTPConfig's RetryWaitMin bounds it from below when smaller).
func (c *Client) writeBackoff(ctx context.Context, attempt int) error {
	d := c.retryWait << (attempt - 1)
	if d > 5*time.Second {
		d = 5 * time.Second
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// sendCollection sends one batch and fills the results of its records.
func (c *Client) sendCollection(ctx context.Context, method string, recs []map[string]any, batch []int, results []connector.Result) error {
	base, err := c.dataURL(ctx)
	if err != nil {
		return err
	}
	body := struct {
		AllOrNone bool             `json:"allOrNone"`
		Records   []map[string]any `json:"records"`
	}{Records: make([]map[string]any, len(batch))}
	for j, i := range batch {
		body.Records[j] = recs[i]
	}
	rctx := ctx
	if method == http.MethodPost {
		rctx = connector.NonIdempotent(ctx) // a lost answer must not create twice
	}
	var out []collectionResult
	err = c.sendJSON(rctx, method, base+"/composite/sobjects", body, &out)
	if err != nil {
		if connector.IsStop(ctx, err) {
			return err
		}
		// The whole call failed (after the stack's retries): every record
		// of the batch gets the error.
		var apiErr *connector.APIError
		if !errors.As(err, &apiErr) {
			apiErr = &connector.APIError{Code: "REQUEST_FAILED", Message: err.Error()}
		}
		retry := apiErr.Status >= 500 && method != http.MethodPost || retryableCode(apiErr.Code, apiErr.Message)
		for _, i := range batch {
			results[i] = connector.Result{ID: idOf(recs[i]), Err: apiErr, Retryable: retry}
		}
		return nil
	}
	if len(out) != len(batch) {
		e := &connector.APIError{Status: 200, Code: connector.CodeMalformedResponse,
			Message: fmt.Sprintf("composite answer has %d results for %d records", len(out), len(batch))}
		for _, i := range batch {
			results[i] = connector.Result{ID: idOf(recs[i]), Err: e}
		}
		return nil
	}
	for j, i := range batch {
		results[i] = collectionOutcome(method, idOf(recs[i]), out[j])
	}
	return nil
}

// collectionOutcome is the result of one record of a collections call:
// sent is the ID the record was sent with ("" for a creation). An update
// answered for another ID is not reported written: the answer does not
// match the request.
func collectionOutcome(method, sent string, r collectionResult) connector.Result {
	id := r.ID
	if id == "" {
		id = sent
	}
	if r.Success && method == http.MethodPatch && r.ID != "" && r.ID != sent {
		return connector.Result{ID: sent, Err: &connector.APIError{Status: 200, Code: connector.CodeMalformedResponse,
			Message: fmt.Sprintf("the answer reports record %s written where %s was sent", r.ID, sent)}}
	}
	if r.Success && id != "" {
		return connector.Result{ID: id}
	}
	if r.Success {
		return connector.Result{Err: &connector.APIError{Status: 200, Code: connector.CodeMalformedResponse,
			Message: "the answer reports the record created without its ID"}}
	}
	e := &connector.APIError{Code: "UNKNOWN_ERROR", Message: "the record failed without an error"}
	if len(r.Errors) > 0 {
		var msgs []string
		for _, x := range r.Errors {
			if m := strings.TrimSpace(x.Message); m != "" && !slices.Contains(msgs, m) {
				msgs = append(msgs, m)
			}
			for _, f := range x.Fields {
				if f != "" && !slices.Contains(e.Fields, f) {
					e.Fields = append(e.Fields, f)
				}
			}
		}
		if c := strings.TrimSpace(r.Errors[0].StatusCode); c != "" {
			e.Code = c
		}
		if len(msgs) > 0 {
			e.Message = strings.Join(msgs, "; ")
		}
	}
	return connector.Result{ID: id, Err: e, Retryable: retryableCode(e.Code, e.Message)}
}

func idOf(rec map[string]any) string {
	id, _ := rec["id"].(string)
	return id
}
