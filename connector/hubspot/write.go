package hubspot

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"healthsync/connector"
	"healthsync/crm"
)

// Result codes the connector itself gives.
const (
	// CodeUnconfirmed: HubSpot's answer neither confirmed nor rejected the record.
	CodeUnconfirmed = "UNCONFIRMED"
	// CodeInvalidInput: the record was not sent because its input is invalid.
	CodeInvalidInput = "INVALID_INPUT"
)

// WriteBatch implements sync.Sink: batch calls take 100 inputs, and each
// Update call is one batch.
func (c *Client) WriteBatch() connector.WriteBatch {
	return connector.WriteBatch{Records: writeBatchSize, Updates: writeBatchSize}
}

// propertyValue encodes a field value the way HubSpot takes it: a string
// ("" clears).
func propertyValue(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case *string:
		if x == nil {
			return "", nil
		}
		return *x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case int:
		return strconv.Itoa(x), nil
	case int32:
		return strconv.FormatInt(int64(x), 10), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float32:
		return propertyValue(float64(x))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "", fmt.Errorf("value %v is not a finite number", x)
		}
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case *float64:
		if x == nil {
			return "", nil
		}
		return propertyValue(*x)
	case json.Number:
		return x.String(), nil
	case time.Time:
		if x.IsZero() {
			return "", nil
		}
		return crm.FormatMillis(x), nil
	}
	return "", fmt.Errorf("value of type %T cannot be written to a HubSpot property", v)
}

// batchInput is one input of a batch update or create.
type batchInput struct {
	ID           string            `json:"id,omitempty"`
	Properties   map[string]string `json:"properties"`
	Associations []taskAssociation `json:"associations,omitempty"`
}

// batchError is one entry of a 207 answer's errors.
type batchError struct {
	Status   string              `json:"status"`
	Category string              `json:"category"`
	Message  string              `json:"message"`
	Context  map[string][]string `json:"context"`
}

// apiError is the per-record error of a batch error entry: its category
// (else its status) as the code, and always a message.
func (be batchError) apiError() *connector.APIError {
	e := &connector.APIError{Code: strings.TrimSpace(be.Category), Message: strings.TrimSpace(be.Message)}
	if e.Code == "" && be.Status != "error" {
		e.Code = strings.TrimSpace(be.Status)
	}
	if e.Code == "" {
		e.Code = "UNKNOWN_ERROR"
	}
	if e.Message == "" {
		e.Message = "HubSpot rejected the record without a message"
	}
	return e
}

type batchResponse struct {
	Status  string            `json:"status"`
	Results []json.RawMessage `json:"results"`
	Errors  []batchError      `json:"errors"`
}

// retryable says whether a failure may succeed when sent again.
func retryable(e *connector.APIError) bool {
	switch e.Code {
	case "RATE_LIMITS", "RATE_LIMIT", "TEN_SECONDLY_ROLLING", "SECONDLY", "INTERNAL_ERROR", "LOCKED", "TIMEOUT", "SERVICE_UNAVAILABLE":
		return true
	}
	return e.Status == http.StatusTooManyRequests || e.Status == http.StatusLocked || e.Status >= 500
}

// item is one record of a batched write with its index in the caller's list.
type item struct {
	idx   int
	input batchInput
	key   string // task key (creates)
}

// Update writes field values to records of object with batch/update, at
// most 100 per call, and returns one result per update in order. A batch
// HubSpot rejects as a whole (400, one invalid value) is split in halves
// until the invalid records are isolated. The error is non-nil only when
// the run must stop (budget, daily limit, authorization, cancellation);
// records not sent then carry connector.CodeNotAttempted.
func (c *Client) Update(ctx context.Context, objectName string, updates []connector.Update) ([]connector.Result, error) {
	o, err := lookup(objectName)
	if err != nil {
		return nil, err
	}
	results := make([]connector.Result, len(updates))
	var items []item
	seen := map[string]bool{}
	for i, u := range updates {
		results[i].ID = u.ID
		if u.ID == "" || seen[u.ID] {
			msg := "update has no record ID"
			if u.ID != "" {
				msg = "record " + u.ID + " is updated twice in one call; merge the updates"
			}
			results[i].Err = &connector.APIError{Code: CodeInvalidInput, Message: msg}
			continue
		}
		in := batchInput{ID: u.ID, Properties: map[string]string{}}
		bad := false
		for k, v := range u.Fields {
			s, err := propertyValue(v)
			if err != nil {
				results[i].Err = &connector.APIError{Code: CodeInvalidInput, Message: err.Error(), Fields: []string{k}}
				bad = true
				break
			}
			in.Properties[k] = s
		}
		if bad {
			continue
		}
		seen[u.ID] = true
		items = append(items, item{idx: i, input: in})
	}
	return results, c.writeBatches(ctx, o, items, results, c.updateBatch)
}

// writeBatches sends items in batches of 100; after a stop the remaining
// records get connector.CodeNotAttempted.
func (c *Client) writeBatches(ctx context.Context, o object, items []item, results []connector.Result,
	send func(context.Context, object, []item, []connector.Result) error) error {
	for start := 0; start < len(items); start += writeBatchSize {
		batch := items[start:min(start+writeBatchSize, len(items))]
		if err := send(ctx, o, batch, results); err != nil {
			for _, it := range items[start:] {
				if results[it.idx].Err == nil && (results[it.idx].ID == "" || results[it.idx].ID == it.input.ID) {
					results[it.idx] = connector.Result{ID: it.input.ID, Err: &connector.APIError{Code: connector.CodeNotAttempted,
						Message: "not written: the run stopped (" + err.Error() + ")"}, Retryable: true}
				}
			}
			return err
		}
	}
	return nil
}

// updateBatch sends one batch/update and maps its answer per record.
func (c *Client) updateBatch(ctx context.Context, o object, batch []item, results []connector.Result) error {
	inputs := make([]batchInput, len(batch))
	for i, it := range batch {
		inputs[i] = it.input
	}
	var res batchResponse
	_, err := c.call(ctx, http.MethodPost, "/crm/v3/objects/"+objPath(o.name)+"/batch/update", nil, map[string]any{"inputs": inputs}, &res)
	if err != nil {
		if isStop(ctx, err) {
			return fmt.Errorf("update %s: %w", o.name, err)
		}
		e, ok := apiError(err)
		if !ok {
			e = &connector.APIError{Code: "NETWORK", Message: err.Error()}
		}
		if e.Status == http.StatusBadRequest && len(batch) > 1 {
			// One invalid value rejects the whole batch: isolate it.
			half := len(batch) / 2
			if err := c.updateBatch(ctx, o, batch[:half], results); err != nil {
				return err
			}
			return c.updateBatch(ctx, o, batch[half:], results)
		}
		for _, it := range batch {
			results[it.idx] = connector.Result{ID: it.input.ID, Err: e, Retryable: retryable(e)}
		}
		return nil
	}
	done := map[string]bool{}
	for _, raw := range res.Results {
		var w wireRecord
		if json.Unmarshal(raw, &w) == nil && w.ID != "" {
			done[w.ID] = true
		}
	}
	failed := map[string]*connector.APIError{}
	for _, be := range res.Errors {
		e := be.apiError()
		for _, id := range be.Context["ids"] {
			failed[id] = e
		}
	}
	for _, it := range batch {
		id := it.input.ID
		switch {
		case failed[id] != nil:
			results[it.idx] = connector.Result{ID: id, Err: failed[id], Retryable: retryable(failed[id])}
		case done[id]:
			results[it.idx] = connector.Result{ID: id}
		default:
			results[it.idx] = connector.Result{ID: id, Err: &connector.APIError{Code: CodeUnconfirmed,
				Message: "HubSpot's answer neither confirmed nor rejected this record"}, Retryable: true}
		}
	}
	return nil
}
