package hubspot

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"sort"
	"strconv"

	"healthsync/connector"
	"healthsync/crm"
)

// assocTargets are the object types activity associations are read for.
var assocTargets = []string{Companies, Contacts, Deals}

// assocRef is one associated record in the raw record's "associations".
type assocRef struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

type assocGroup struct {
	Results []assocRef `json:"results"`
}

// associations of one record, by target object type.
type associations map[string]assocGroup

// fingerprint hashes associations (refs are sorted) for change detection.
func (a associations) fingerprint() uint64 {
	h := fnv.New64a()
	b, _ := json.Marshal(a) // map keys are sorted by encoding/json
	h.Write(b)
	return h.Sum64()
}

type assocBatchResponse struct {
	Results []struct {
		From struct {
			ID string `json:"id"`
		} `json:"from"`
		To []struct {
			ToObjectID json.Number `json:"toObjectId"`
			Types      []struct {
				Category string  `json:"category"`
				TypeID   int     `json:"typeId"`
				Label    *string `json:"label"`
			} `json:"associationTypes"`
		} `json:"to"`
	} `json:"results"`
}

// readAssociations reads the associations of activities to companies,
// contacts and deals with the v4 batch read, up to 1,000 IDs per call.
func (c *Client) readAssociations(ctx context.Context, o object, ids []string) (map[string]associations, error) {
	out := make(map[string]associations, len(ids))
	for _, to := range assocTargets {
		toSingular := objects[to].singular
		for start := 0; start < len(ids); start += assocBatchSize {
			chunk := ids[start:min(start+assocBatchSize, len(ids))]
			inputs := make([]map[string]string, len(chunk))
			for i, id := range chunk {
				inputs[i] = map[string]string{"id": id}
			}
			var res assocBatchResponse
			// 207 carries NO_ASSOCIATIONS_FOUND for records without links: not an error.
			_, err := c.call(ctx, http.MethodPost, "/crm/v4/associations/"+objPath(o.name)+"/"+objPath(to)+"/batch/read",
				nil, map[string]any{"inputs": inputs}, &res)
			if err != nil {
				return nil, fmt.Errorf("read %s associations to %s: %w", o.name, to, err)
			}
			for _, r := range res.Results {
				var refs []assocRef
				for _, t := range r.To {
					typ := o.singular + "_to_" + toSingular
					for _, at := range t.Types {
						if at.Label != nil && *at.Label != "" {
							typ = *at.Label
							break
						}
					}
					refs = append(refs, assocRef{ID: t.ToObjectID.String(), Type: typ})
				}
				if len(refs) == 0 {
					continue
				}
				sort.Slice(refs, func(i, j int) bool { return idLess(refs[i].ID, refs[j].ID) })
				if out[r.From.ID] == nil {
					out[r.From.ID] = associations{}
				}
				out[r.From.ID][to] = assocGroup{Results: refs}
			}
		}
	}
	return out, nil
}

// withAssociations returns raw with an "associations" member.
func withAssociations(raw json.RawMessage, a associations) (json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("record is not a JSON object: %w", err)
	}
	if a == nil {
		a = associations{}
	}
	b, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	m["associations"] = b
	return json.Marshal(m)
}

// inWindow reports whether an activity's date lies within the
// association window.
func (c *Client) inWindow(r record) bool {
	if c.window <= 0 {
		return false
	}
	t, err := crm.ParseTime(r.prop("hs_timestamp"))
	if err != nil {
		return false
	}
	return !t.Before(c.clock.Now().Add(-c.window))
}

// remember keeps the associations fingerprint of an activity in the window.
func (c *Client) remember(o object, r record, a associations) {
	if !c.inWindow(r) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.seen[o.name]
	if m == nil {
		m = map[string]uint64{}
		c.seen[o.name] = m
	}
	m[r.ID] = a.fingerprint()
}

// forget drops deleted records from the fingerprint cache.
func (c *Client) forget(o object, recs []connector.Record) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range recs {
		delete(c.seen[o.name], r.ID)
	}
}

// changed reports whether an activity's associations differ from the ones
// last seen (true when never seen by this client).
func (c *Client) changed(o object, id string, a associations) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	fp, ok := c.seen[o.name][id]
	return !ok || fp != a.fingerprint()
}

// rereadWindow re-reads the associations of the activities dated within
// the window and re-emits those whose associations differ from what this
// client last saw (the ones the incremental search just returned were
// remembered then, so they are not emitted twice). It runs only on incremental pulls: a full pull has just read
// them all.
//
// A result that cannot be stored is handed on as a Page.Skipped entry,
// once per pull (reported).
func (c *Client) rereadWindow(ctx context.Context, o object, props []string, since, cur connector.Cursor, reported map[string]bool, fn func(context.Context, connector.Page) error) error {
	if c.window <= 0 || since.IsZero() {
		return nil
	}
	from := c.clock.Now().Add(-c.window)
	lastID := "0"
	var pending []record
	var skippedRecs []connector.Skipped
	// flush reads the associations of the gathered activities in one batch
	// per target type and emits those whose links changed.
	flush := func() error {
		if len(pending) == 0 && len(skippedRecs) == 0 {
			return nil
		}
		ids := make([]string, len(pending))
		for i, r := range pending {
			ids[i] = r.ID
		}
		assocs, err := c.readAssociations(ctx, o, ids)
		if err != nil {
			return err
		}
		var emit []connector.Record
		for _, r := range pending {
			a := assocs[r.ID]
			if !c.changed(o, r.ID, a) {
				continue
			}
			raw, err := withAssociations(r.raw, a)
			if err != nil {
				return fmt.Errorf("%s %s: %w", o.singular, r.ID, err)
			}
			c.remember(o, r, a)
			emit = append(emit, connector.Record{Object: o.name, ID: r.ID, ModifiedAt: crm.Normalize(r.modified), Raw: raw})
		}
		skip := skippedRecs
		pending, skippedRecs = pending[:0], nil
		if len(emit) == 0 && len(skip) == 0 {
			return nil
		}
		c.log.Debug("activities re-linked without a modification", "object", o.name, "count", len(emit))
		return fn(ctx, connector.Page{Records: emit, Cursor: cur, Skipped: skip})
	}
	for n := 1; ; n++ {
		body := searchRequest{
			FilterGroups: []filterGroup{{Filters: []searchFilter{
				{PropertyName: "hs_timestamp", Operator: "GTE", Value: crm.FormatMillis(from)},
				{PropertyName: "hs_object_id", Operator: "GT", Value: lastID},
			}}},
			Sorts:      []searchSort{{PropertyName: "hs_object_id", Direction: "ASCENDING"}},
			Properties: props,
			Limit:      searchPageSize,
		}
		res, err := c.search(ctx, o, body)
		if err != nil {
			return fmt.Errorf("re-read association window: %w", err)
		}
		recs, err := decodeRecords(o, res.Results, "association window page "+itoa(n))
		if err != nil {
			return fmt.Errorf("re-read association window of %s: %w", o.name, err)
		}
		keyed, prevID := false, lastID
		for _, r := range recs {
			if r.ID != "" {
				lastID, keyed = r.ID, true
			}
			switch {
			case r.skip == nil:
				pending = append(pending, r)
			case !reported[string(r.raw)]:
				reported[string(r.raw)] = true
				skippedRecs = append(skippedRecs, *r.skip)
			}
		}
		done := len(recs) == 0 || res.next() == ""
		if !done && !keyed {
			if err := flush(); err != nil {
				return err
			}
			return fmt.Errorf("re-read association window of %s: %w", o.name, connector.MalformedError(http.StatusOK, nil, nil,
				fmt.Errorf("none of the %d results of association window page %d has an id, so the search cannot continue after them", len(recs), n)))
		}
		if !done && !idLess(prevID, lastID) {
			if err := flush(); err != nil {
				return err
			}
			return fmt.Errorf("re-read association window of %s: %w", o.name, c.keyStalled(o, "association window page", n, "id "+lastID))
		}
		if done || len(pending) >= emitBatch {
			if err := flush(); err != nil {
				return err
			}
		}
		if done {
			return nil
		}
	}
}

// itoa formats an int.
func itoa(n int) string { return strconv.Itoa(n) }
