package hubspot

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"healthsync/connector"
	"healthsync/crm"
)

// Property history: HubSpot keeps every value a property has had, and
// returns it on object reads that name the property in
// propertiesWithHistory (newest first: value, timestamp, sourceType).
// Search does not return it, and a batch read that asks for history takes
// at most 50 inputs ("The maximum number of inputs supported in a batch
// request for property histories is 50").

// historyBatch is how many records one batch read with history reads.
const historyBatch = 50

// HistoryByID implements sync's history source: HubSpot serves history
// on reads of given records, 50 per batch read.
func (c *Client) HistoryByID() int { return historyBatch }

// HistoryTracked implements sync's history source: HubSpot keeps the
// history of every property, so every field is tracked (no call).
func (c *Client) HistoryTracked(_ context.Context, object string, fields []string) ([]string, error) {
	if _, err := lookup(object); err != nil {
		return nil, nil
	}
	return append([]string(nil), fields...), nil
}

// PullHistory implements sync's history source: one batch read of
// req.IDs (at most 50) with propertiesWithHistory of req.Fields, handed
// to fn as one page. A record the portal no longer has is absent from the
// page's values (it is still listed in its Records). HubSpot's history
// starts at the record's creation, so a property whose oldest value is
// dated after it was empty before that value (its Old is null). A deal's
// hs_is_closed and hs_is_closed_won are read from its dealstage history
// through the portal's pipelines (one more call per backfill; see
// deriveDealHistory).
func (c *Client) PullHistory(ctx context.Context, req connector.HistoryRequest, fn func(context.Context, connector.HistoryPage) error) error {
	o, err := lookup(req.Object)
	if err != nil {
		return fmt.Errorf("property history: %w", err)
	}
	props, derive, keepStage := req.Fields, []string(nil), false
	if o.name == "deals" {
		props = nil
		for _, f := range req.Fields {
			switch {
			case derivedDealProps[f] != nil:
				derive = append(derive, f)
			case f == "dealstage":
				keepStage = true
				props = append(props, f)
			default:
				props = append(props, f)
			}
		}
		if len(derive) > 0 && !keepStage {
			props = append(props, "dealstage")
		}
	}
	var stages map[string]dealStageFlags
	if len(derive) > 0 && len(req.IDs) > 0 {
		if stages, err = c.dealStages(ctx); err != nil {
			return fmt.Errorf("property history of %s: %w", o.name, err)
		}
	}
	for start := 0; start < len(req.IDs); start += historyBatch {
		ids := req.IDs[start:min(start+historyBatch, len(req.IDs))]
		inputs := make([]map[string]string, len(ids))
		for i, id := range ids {
			inputs[i] = map[string]string{"id": id}
		}
		body := map[string]any{"inputs": inputs, "properties": []string{"hs_object_id"}, "propertiesWithHistory": props}
		var res batchResponse
		if _, err := c.call(ctx, http.MethodPost, "/crm/v3/objects/"+objPath(o.name)+"/batch/read", nil, body, &res); err != nil {
			return fmt.Errorf("property history of %s: %w", o.name, err)
		}
		page := connector.HistoryPage{Records: ids, After: ids[len(ids)-1]}
		for _, raw := range res.Results {
			var w struct {
				ID        string                    `json:"id"`
				CreatedAt string                    `json:"createdAt"`
				History   map[string][]historyEntry `json:"propertiesWithHistory"`
			}
			if err := json.Unmarshal(raw, &w); err != nil || w.ID == "" {
				return fmt.Errorf("property history of %s: %w", o.name, connector.MalformedError(http.StatusOK, nil, raw, fmt.Errorf("a result without an id")))
			}
			if len(derive) > 0 && w.History != nil {
				deriveDealHistory(w.History, derive, keepStage, stages)
			}
			created, _ := crm.ParseTime(w.CreatedAt)
			for prop, entries := range w.History {
				oldest := -1
				for _, e := range entries {
					at, err := crm.ParseTime(e.Timestamp)
					if err != nil {
						continue // an entry without a readable date says nothing usable
					}
					v := json.RawMessage("null")
					if e.Value != nil && *e.Value != "" {
						v, _ = json.Marshal(*e.Value)
					}
					page.Values = append(page.Values, connector.FieldValue{RecordID: w.ID, Field: prop, At: at, Value: v})
					if oldest < 0 || at.Before(page.Values[oldest].At) {
						oldest = len(page.Values) - 1
					}
				}
				// The history goes back to the record's creation: a
				// property whose oldest value came later was empty until
				// then (a minute's grace for values stamped just after
				// the creation).
				if oldest >= 0 && !created.IsZero() && page.Values[oldest].At.After(created.Add(time.Minute)) {
					page.Values[oldest].Old = json.RawMessage("null")
				}
			}
		}
		if err := fn(ctx, page); err != nil {
			return err
		}
	}
	return nil
}
