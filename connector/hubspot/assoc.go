package hubspot

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"

	"healthsync/connector"
	"healthsync/crm"
)

// activityTargets are the object types activity associations are read for.
var activityTargets = []string{Companies, Contacts, Deals}

// assocTargets returns the object types whose associations are read with
// o's records: companies, contacts and deals for an activity, the
// company for a deal (HubSpot's search does not return associations, and
// a deal has no company property), none for the others.
func assocTargets(o object) []string {
	switch {
	case o.activity:
		return activityTargets
	case o.name == Deals:
		return []string{Companies}
	}
	return nil
}

// primaryTypes are the HUBSPOT_DEFINED association type ids that mark the
// primary record of a pair: a deal's primary company is type 5 (the
// unlabelled deal-to-company type is 341). HubSpot says to rely on the
// typeId, not on the label, which it renamed in 2024.
var primaryTypes = map[[2]string]int{{Deals, Companies}: 5}

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

// normal returns a with its empty groups dropped and every group's refs
// sorted by ID then type, so two readings of the same links compare equal.
func (a associations) normal() associations {
	out := associations{}
	for to, g := range a {
		if len(g.Results) == 0 {
			continue
		}
		refs := append([]assocRef(nil), g.Results...)
		sort.Slice(refs, func(i, j int) bool {
			if refs[i].ID != refs[j].ID {
				return idLess(refs[i].ID, refs[j].ID)
			}
			return refs[i].Type < refs[j].Type
		})
		out[to] = assocGroup{Results: refs}
	}
	return out
}

// same reports whether a and b link to the same records with the same
// types, whatever their order.
func (a associations) same(b associations) bool {
	x, _ := json.Marshal(a.normal()) // map keys are sorted by encoding/json
	y, _ := json.Marshal(b.normal())
	return string(x) == string(y)
}

// storedAssociations reads the "associations" member of a stored raw
// record; ok is false when the record has none readable (then it is
// treated as changed).
func storedAssociations(raw json.RawMessage) (a associations, ok bool) {
	var m struct {
		Associations *associations `json:"associations"`
	}
	if err := json.Unmarshal(raw, &m); err != nil || m.Associations == nil {
		return nil, false
	}
	return *m.Associations, true
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

// readAssociations reads the associations of o's records (activities to
// companies, contacts and deals, deals to companies) with the v4 batch
// read, up to 1,000 IDs per call and target type.
//
// A ref's type is the label HubSpot gives it, or "<from>_to_<to>". For a
// pair with a primary type (a deal's company) it is the name CRM v3 gives
// it instead: "deal_to_company" for the primary company and
// "deal_to_company_unlabeled" for the others, so the mapping, which puts
// labelled refs first, takes the primary one.
func (c *Client) readAssociations(ctx context.Context, o object, ids []string) (map[string]associations, error) {
	out := make(map[string]associations, len(ids))
	for _, to := range assocTargets(o) {
		primary, hasPrimary := primaryTypes[[2]string{o.name, to}]
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
					if hasPrimary {
						typ += "_unlabeled"
					}
					for _, at := range t.Types {
						if hasPrimary {
							if at.Category == "HUBSPOT_DEFINED" && at.TypeID == primary {
								typ = o.singular + "_to_" + toSingular
								break
							}
							continue
						}
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

// withAssociations returns the record's raw JSON with a as its
// associations member, and its decoded fields with the same. The member is
// appended to the JSON as HubSpot sent it (one pass over the bytes, not a
// decode and encode of the whole record); a result that already carries an
// associations member has it replaced.
func withAssociations(r record, a associations) (json.RawMessage, map[string]any, error) {
	if a == nil {
		a = associations{}
	}
	b, err := json.Marshal(a)
	if err != nil {
		return nil, nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var decoded any
	if err := dec.Decode(&decoded); err != nil {
		return nil, nil, err
	}
	fields := make(map[string]any, len(r.fields)+1)
	for k, v := range r.fields {
		fields[k] = v
	}
	fields["associations"] = decoded
	raw := bytes.TrimRight(r.raw, " \t\r\n")
	if _, had := r.fields["associations"]; had || len(raw) == 0 || raw[len(raw)-1] != '}' {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(r.raw, &m); err != nil {
			return nil, nil, fmt.Errorf("record is not a JSON object: %w", err)
		}
		m["associations"] = b
		out, err := json.Marshal(m)
		return out, fields, err
	}
	out := make([]byte, 0, len(raw)+len(b)+17)
	out = append(out, raw[:len(raw)-1]...)
	if len(r.fields) > 0 {
		out = append(out, ',')
	}
	out = append(out, `"associations":`...)
	out = append(out, b...)
	out = append(out, '}')
	return out, fields, nil
}

// AssociationSweep says whether the associations of object are swept
// (SweepAssociations) and how often: ok for the activity objects and
// deals while the association sweep is on (HEALTHSYNC_HUBSPOT_ASSOCIATION_WINDOW
// not 0); every is HEALTHSYNC_HUBSPOT_ASSOCIATION_SWEEP (0: on every
// sync). The connector has no store: the sync engine remembers when the
// last sweep of an object ran and calls SweepAssociations after the
// object's Pull when every has passed since (see
// docs/adr/0011-association-sweep.md).
func (c *Client) AssociationSweep(object string) (every time.Duration, ok bool) {
	o, err := lookup(object)
	if err != nil || !sweepable(o) || c.window <= 0 {
		return 0, false
	}
	return c.sweep, true
}

// sweepable reports whether o's associations are swept: those of activities
// (within the association window) and of every live deal.
func sweepable(o object) bool { return o.activity || o.name == Deals }

// SweepAssociations re-reads the associations of the activities of
// req.Object dated within the association window, or of every live deal,
// and hands on, through fn, those whose associations differ from the ones
// stored with them (req.Stored; every one of them when req.Stored is nil),
// with their current associations. Re-linking an activity or a deal does
// not change its modification date, so Pull alone never sees it.
// Page.Cursor is req.Since: a sweep never moves the cursor. It costs one
// search per 200 records swept and one association read per 1,000 and
// target type (three for an activity, one for a deal).
//
// A result that cannot be stored is handed on as a Page.Skipped entry.
func (c *Client) SweepAssociations(ctx context.Context, req connector.PullRequest, fn func(context.Context, connector.Page) error) error {
	o, err := lookup(req.Object)
	if err != nil {
		return err
	}
	if !sweepable(o) || c.window <= 0 {
		return nil
	}
	props := properties(o, req.Fields)
	cur := req.Since
	from := c.clock.Now().Add(-c.window)
	lastID := "0"
	var pending []record
	var skippedRecs []connector.Skipped
	reported := map[string]bool{}
	emitted, swept := 0, 0
	// flush reads the associations of the gathered records in one batch
	// per target type and hands on those whose links changed.
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
		var stored map[string]json.RawMessage
		if req.Stored != nil && len(ids) > 0 {
			if stored, err = req.Stored.Raw(ctx, ids); err != nil {
				return fmt.Errorf("sweep %s associations: read the stored records: %w", o.name, err)
			}
		}
		var emit []connector.Record
		for _, r := range pending {
			a := assocs[r.ID]
			if was, ok := storedAssociations(stored[r.ID]); ok && was.same(a) {
				continue
			}
			raw, fields, err := withAssociations(r, a)
			if err != nil {
				return fmt.Errorf("%s %s: %w", o.singular, r.ID, err)
			}
			emit = append(emit, connector.Record{Object: o.name, ID: r.ID, ModifiedAt: crm.Normalize(r.modified), Raw: raw, Fields: fields})
		}
		swept += len(pending)
		emitted += len(emit)
		skip := skippedRecs
		pending, skippedRecs = pending[:0], nil
		if len(emit) == 0 && len(skip) == 0 {
			return nil
		}
		return fn(ctx, connector.Page{Records: emit, Cursor: cur, Skipped: skip})
	}
	for n := 1; ; n++ {
		filters := []searchFilter{{PropertyName: "hs_object_id", Operator: "GT", Value: lastID}}
		if o.activity {
			filters = append([]searchFilter{{PropertyName: "hs_timestamp", Operator: "GTE", Value: crm.FormatMillis(from)}}, filters...)
		}
		body := searchRequest{
			FilterGroups: []filterGroup{{Filters: filters}},
			Sorts:        []searchSort{{PropertyName: "hs_object_id", Direction: "ASCENDING"}},
			Properties:   props,
			Limit:        searchPageSize,
		}
		res, err := c.search(ctx, o, body)
		if err != nil {
			return fmt.Errorf("sweep %s associations: %w", o.name, err)
		}
		recs, err := decodeRecords(o, res.Results, "association sweep page "+itoa(n))
		if err != nil {
			return fmt.Errorf("sweep %s associations: %w", o.name, err)
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
			return fmt.Errorf("sweep %s associations: %w", o.name, connector.MalformedError(http.StatusOK, nil, nil,
				fmt.Errorf("none of the %d results of association sweep page %d has an id, so the search cannot continue after them", len(recs), n)))
		}
		if !done && !idLess(prevID, lastID) {
			if err := flush(); err != nil {
				return err
			}
			return fmt.Errorf("sweep %s associations: %w", o.name, c.keyStalled(o, "association sweep page", n, "id "+lastID))
		}
		if done || len(pending) >= emitBatch {
			if err := flush(); err != nil {
				return err
			}
		}
		if done {
			c.log.Debug("association sweep", "object", o.name, "records", swept, "re-linked", emitted)
			return nil
		}
	}
}

// itoa formats an int.
func itoa(n int) string { return strconv.Itoa(n) }
