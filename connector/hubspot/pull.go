package hubspot

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"

	"healthsync/connector"
	"healthsync/crm"
)

// Paging sizes HubSpot allows.
const (
	searchPageSize = 200  // search results per call
	listPageSize   = 100  // list (and archived list) results per call
	ownersPageSize = 500  // owners per call
	assocBatchSize = 1000 // IDs per v4 association batch read (HubSpot's maximum since 2025-02)
	// emitBatch is how many searched records are gathered before their
	// associations are read and they are handed on as one page: five
	// search pages share one association read per target type.
	emitBatch        = assocBatchSize
	writeBatchSize   = 100 // inputs per batch update/create
	filterValuesSize = 100 // values of one IN filter
)

// searchFilter is one filter of a CRM search.
type searchFilter struct {
	PropertyName string   `json:"propertyName"`
	Operator     string   `json:"operator"`
	Value        string   `json:"value,omitempty"`
	Values       []string `json:"values,omitempty"`
}

type filterGroup struct {
	Filters []searchFilter `json:"filters"`
}

type searchSort struct {
	PropertyName string `json:"propertyName"`
	Direction    string `json:"direction"`
}

// searchRequest is the body of POST /crm/v3/objects/{type}/search.
type searchRequest struct {
	FilterGroups []filterGroup `json:"filterGroups"`
	Sorts        []searchSort  `json:"sorts"`
	Properties   []string      `json:"properties"`
	Limit        int           `json:"limit"`
	After        string        `json:"after,omitempty"`
}

// pageResponse is a search or list answer.
type pageResponse struct {
	Total   int               `json:"total"`
	Results []json.RawMessage `json:"results"`
	Paging  *struct {
		Next *struct {
			After string `json:"after"`
		} `json:"next"`
	} `json:"paging"`
}

func (p *pageResponse) next() string {
	if p.Paging == nil || p.Paging.Next == nil {
		return ""
	}
	return p.Paging.Next.After
}

// wireRecord is the part of a CRM v3 object the connector reads.
type wireRecord struct {
	ID         string             `json:"id"`
	Properties map[string]*string `json:"properties"`
	UpdatedAt  string             `json:"updatedAt"`
	Archived   bool               `json:"archived"`
	ArchivedAt string             `json:"archivedAt"`
}

// record is one decoded result with its raw JSON.
type record struct {
	wireRecord
	modified time.Time
	raw      json.RawMessage
	// skip is set when the record cannot be stored (see decodeRecord):
	// it is reported, not emitted, and the cursor does not pass it.
	skip *connector.Skipped
}

func (r *record) prop(name string) string {
	if v := r.Properties[name]; v != nil {
		return *v
	}
	return ""
}

// placed reports whether the record's position (stamp, ID) is known, so
// a search can continue by key after it.
func (r *record) placed() bool { return r.ID != "" && !r.modified.IsZero() }

// decodeRecords decodes the results of one answer (where names it, e.g.
// "search page 2") and their modification stamps. A result that is not a
// JSON object makes the answer malformed; a result that is one but cannot
// be stored comes back in its place with skip set.
func decodeRecords(o object, raws []json.RawMessage, where string) ([]record, error) {
	out := make([]record, 0, len(raws))
	for i, raw := range raws {
		r, problem, err := decodeRecord(o, raw)
		if err != nil {
			return nil, connector.MalformedError(http.StatusOK, nil, raw, fmt.Errorf("result %d of %s: %w", i+1, where, err))
		}
		if problem != "" {
			s := skipped(o, where, i+1, r, problem)
			r.skip = &s
		}
		out = append(out, r)
	}
	return out, nil
}

// properties is the property list of a pull: what the mapping asks for
// plus what the connector needs, without duplicates.
func properties(o object, fields []string) []string {
	set := map[string]bool{"hs_object_id": true, o.modProp: true}
	if o.activity {
		set["hs_timestamp"] = true
	}
	for _, f := range fields {
		if f != "" {
			set[f] = true
		}
	}
	out := make([]string, 0, len(set))
	for f := range set {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// Pull streams the records of req.Object changed since req.Since, page by
// page, then its deletions, then (for activities) the records of the
// association window whose associations changed. See the package
// documentation for the queries.
func (c *Client) Pull(ctx context.Context, req connector.PullRequest, fn func(context.Context, connector.Page) error) error {
	if req.Object == Owners {
		return c.pullOwners(ctx, req.Since, fn)
	}
	o, err := lookup(req.Object)
	if err != nil {
		return err
	}
	props := properties(o, req.Fields)
	// reported holds the results skipped so far in this pull (by their raw
	// JSON), so one is reported once although a search continued by key
	// or the association window answers it again.
	reported := map[string]bool{}
	cur, err := c.pullChanged(ctx, o, props, req.Since, reported, fn)
	if err != nil {
		return err
	}
	if err := c.pullArchived(ctx, o, props, req.Since, cur, fn); err != nil {
		return err
	}
	if o.activity {
		if err := c.rereadWindow(ctx, o, props, req.Since, cur, reported, fn); err != nil {
			return err
		}
	}
	return nil
}

// search runs one search call.
func (c *Client) search(ctx context.Context, o object, body searchRequest) (*pageResponse, error) {
	var res pageResponse
	if _, err := c.call(searchCtx(ctx), http.MethodPost, "/crm/v3/objects/"+objPath(o.name)+"/search", nil, body, &res); err != nil {
		return nil, fmt.Errorf("search %s: %w", o.name, err)
	}
	return &res, nil
}

// pullChanged pages through the records modified at or after the cursor's
// timestamp minus the look-back, by key, and returns the cursor after the
// last one handed on. Search pages (200) are gathered into pages of up to
// emitBatch records, so an activity's associations cost one batch read per
// target type for every 1,000 records instead of every 200.
//
// A result that cannot be stored (see decodeRecord) is handed on as a
// Page.Skipped entry, and the cursor stays before it for the rest of the
// pull; the records after it are handed on all the same.
func (c *Client) pullChanged(ctx context.Context, o object, props []string, since connector.Cursor, reported map[string]bool, fn func(context.Context, connector.Page) error) (connector.Cursor, error) {
	cur := since
	body := searchRequest{
		FilterGroups: []filterGroup{},
		Sorts:        []searchSort{{PropertyName: o.modProp, Direction: "ASCENDING"}},
		Properties:   props,
		Limit:        searchPageSize,
	}
	if !since.IsZero() {
		start := crm.Normalize(since.ModifiedAt).Add(-c.lookback)
		body.FilterGroups = []filterGroup{{Filters: []searchFilter{{PropertyName: o.modProp, Operator: "GTE", Value: crm.FormatMillis(start)}}}}
	}
	var pending []record
	var prevKey connector.Cursor // where the page before ended
	// held is set once a record could not be stored: the cursor stays
	// before it for the rest of the pull, so the next run reads it again
	// (and reports it again until it reads correctly).
	held := false
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		good := make([]record, 0, len(pending))
		var skippedRecs []connector.Skipped
		next := cur
		for _, r := range pending {
			if r.skip != nil {
				skippedRecs = append(skippedRecs, *r.skip)
				held = true
				continue
			}
			good = append(good, r)
			if !held {
				next = advance(next, r.modified, r.ID)
			}
		}
		page, err := c.page(ctx, o, good, true)
		if err != nil {
			return err
		}
		if err := fn(ctx, connector.Page{Records: page, Cursor: next, Skipped: skippedRecs}); err != nil {
			return err
		}
		cur, pending = next, pending[:0]
		return nil
	}
	for n := 1; ; n++ {
		res, err := c.search(ctx, o, body)
		if err != nil {
			// Hand on what was already read (a daily-limit stop keeps its
			// pages); if that fails too, the search error is the news.
			if ferr := flush(); ferr != nil {
				c.log.Debug("could not hand on the records read before the error", "object", o.name, "error", ferr)
			}
			return cur, err
		}
		recs, err := decodeRecords(o, res.Results, "search page "+strconv.Itoa(n))
		if err != nil {
			return cur, fmt.Errorf("search %s: %w", o.name, err)
		}
		var last *record // the last placed record: the next page's key
		for i := range recs {
			r := recs[i]
			if r.placed() {
				last = &recs[i]
			}
			if r.skip != nil {
				if reported[string(r.raw)] {
					continue
				}
				reported[string(r.raw)] = true
			}
			// At the cursor's own timestamp only IDs above it are new;
			// earlier ones are the look-back, re-read on purpose.
			if r.skip == nil && !since.IsZero() && crm.Normalize(r.modified).Equal(crm.Normalize(since.ModifiedAt)) && !idLess(since.LastID, r.ID) {
				continue
			}
			pending = append(pending, r)
		}
		done := len(recs) == 0 || res.next() == ""
		if !done && last == nil {
			// No result has a readable id and stamp: there is no key to
			// continue after.
			if err := flush(); err != nil {
				return cur, err
			}
			return cur, fmt.Errorf("search %s: %w", o.name, connector.MalformedError(http.StatusOK, nil, nil,
				fmt.Errorf("none of the %d results of search page %d has a readable id and %s, so the search cannot continue after them", len(recs), n, o.modProp)))
		}
		if done || len(pending) >= emitBatch {
			if err := flush(); err != nil {
				return cur, err
			}
		}
		if done {
			return cur, nil
		}
		// Next page by key: after the last record placed, never by offset.
		// A page that does not get past the key of the page before would
		// be asked for again and again.
		if !posAfter(prevKey, last.modified, last.ID) {
			if err := flush(); err != nil {
				return cur, err
			}
			return cur, fmt.Errorf("search %s: %w", o.name, c.keyStalled(o, "search page", n,
				fmt.Sprintf("%s %s, id %s", o.modProp, crm.FormatMillis(last.modified), last.ID)))
		}
		prevKey = connector.Cursor{ModifiedAt: crm.Normalize(last.modified), LastID: last.ID}
		ms := crm.FormatMillis(last.modified)
		body.FilterGroups = []filterGroup{
			{Filters: []searchFilter{{PropertyName: o.modProp, Operator: "EQ", Value: ms}, {PropertyName: "hs_object_id", Operator: "GT", Value: last.ID}}},
			{Filters: []searchFilter{{PropertyName: o.modProp, Operator: "GT", Value: ms}}},
		}
	}
}

// page turns decoded records into connector records, attaching the
// associations of activities.
func (c *Client) page(ctx context.Context, o object, recs []record, live bool) ([]connector.Record, error) {
	out := make([]connector.Record, len(recs))
	var assocs map[string]associations
	if o.activity && live {
		ids := make([]string, len(recs))
		for i, r := range recs {
			ids[i] = r.ID
		}
		var err error
		if assocs, err = c.readAssociations(ctx, o, ids); err != nil {
			return nil, err
		}
	}
	for i, r := range recs {
		raw := r.raw
		if assocs != nil {
			a := assocs[r.ID]
			var err error
			if raw, err = withAssociations(r.raw, a); err != nil {
				return nil, fmt.Errorf("%s %s: %w", o.singular, r.ID, err)
			}
			c.remember(o, r, a)
		}
		out[i] = connector.Record{Object: o.name, ID: r.ID, ModifiedAt: crm.Normalize(r.modified), Raw: raw}
	}
	return out, nil
}

// pullArchived lists the object's recycle bin and emits the records
// archived since the cursor (minus the association window, so an earlier
// run that stopped before this step is covered) as deletions. The cursor
// passed on is unchanged: deletions do not move the watermark.
func (c *Client) pullArchived(ctx context.Context, o object, props []string, since, cur connector.Cursor, fn func(context.Context, connector.Page) error) error {
	var threshold time.Time
	if !since.IsZero() {
		threshold = crm.Normalize(since.ModifiedAt).Add(-max(c.window, c.lookback))
	}
	q := url.Values{}
	q.Set("archived", "true")
	q.Set("limit", strconv.Itoa(listPageSize))
	q.Set("properties", "hs_object_id,"+o.modProp)
	guard := c.guard(http.MethodGet, "/crm/v3/objects/"+objPath(o.name))
	for n := 1; ; n++ {
		var res pageResponse
		if _, err := c.call(ctx, http.MethodGet, "/crm/v3/objects/"+objPath(o.name), q, nil, &res); err != nil {
			return fmt.Errorf("list archived %s: %w", o.name, err)
		}
		next := res.next()
		if next != "" {
			if err := guard.Follow(next); err != nil {
				return fmt.Errorf("list archived %s: %w", o.name, err)
			}
		}
		var page []connector.Record
		var skip []connector.Skipped
		where := "archived list page " + strconv.Itoa(n)
		for i, raw := range res.Results {
			// Only the ID and the archiving date matter for a deletion.
			r, _, err := decodeRecord(o, raw)
			if err != nil {
				return fmt.Errorf("list archived %s: %w", o.name, connector.MalformedError(http.StatusOK, nil, raw, fmt.Errorf("result %d of %s: %w", i+1, where, err)))
			}
			if r.ID == "" {
				var m struct {
					ID json.RawMessage `json:"id"`
				}
				_ = json.Unmarshal(raw, &m) // an object: decodeRecord read it
				_, problem := readID(m.ID)
				skip = append(skip, skipped(o, where, i+1, r, problem))
				continue
			}
			at, err := crm.ParseTime(r.ArchivedAt)
			if err != nil {
				at, err = crm.ParseTime(r.UpdatedAt)
			}
			if err != nil {
				// Not placed in time, it cannot be compared with the
				// threshold: reported on every run while it is archived.
				skip = append(skip, skipped(o, where, i+1, r, fmt.Sprintf("neither archivedAt %q nor updatedAt %q is a date",
					connector.Excerpt([]byte(r.ArchivedAt), 40), connector.Excerpt([]byte(r.UpdatedAt), 40))))
				continue
			}
			if !threshold.IsZero() && at.Before(threshold) {
				continue
			}
			page = append(page, connector.Record{Object: o.name, ID: r.ID, ModifiedAt: at, Deleted: true, Raw: raw})
		}
		if len(page) > 0 || len(skip) > 0 {
			c.forget(o, page)
			if err := fn(ctx, connector.Page{Records: page, Cursor: cur, Skipped: skip}); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		q.Set("after", next)
	}
}

// owner is the part of an owner the connector reads.
type owner struct {
	ID        string `json:"id"`
	UpdatedAt string `json:"updatedAt"`
}

// pullOwners lists every owner, live and archived: owners have no
// incremental API. The cursor advances to the latest updatedAt.
func (c *Client) pullOwners(ctx context.Context, since connector.Cursor, fn func(context.Context, connector.Page) error) error {
	cur := since
	for _, archived := range []bool{false, true} {
		err := c.listOwners(ctx, archived, func(raws []json.RawMessage) error {
			page := make([]connector.Record, 0, len(raws))
			for _, raw := range raws {
				var w owner
				if err := json.Unmarshal(raw, &w); err != nil || w.ID == "" {
					return fmt.Errorf("list owners: %w", connector.MalformedError(http.StatusOK, nil, raw, err))
				}
				t, err := crm.ParseTime(w.UpdatedAt)
				if err != nil {
					t = time.Time{}
				}
				page = append(page, connector.Record{Object: Owners, ID: w.ID, ModifiedAt: t, Raw: raw})
			}
			for _, r := range page {
				if !r.ModifiedAt.IsZero() {
					cur = advance(cur, r.ModifiedAt, r.ID)
				}
			}
			if len(page) == 0 {
				return nil
			}
			return fn(ctx, connector.Page{Records: page, Cursor: cur})
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// listOwners pages through GET /crm/v3/owners.
func (c *Client) listOwners(ctx context.Context, archived bool, fn func([]json.RawMessage) error) error {
	q := url.Values{}
	q.Set("limit", strconv.Itoa(ownersPageSize))
	if archived {
		q.Set("archived", "true")
	}
	guard := c.guard(http.MethodGet, "/crm/v3/owners")
	for {
		var res pageResponse
		if _, err := c.call(ctx, http.MethodGet, "/crm/v3/owners", q, nil, &res); err != nil {
			return fmt.Errorf("list owners: %w", err)
		}
		next := res.next()
		if next != "" {
			if err := guard.Follow(next); err != nil {
				return fmt.Errorf("list owners: %w", err)
			}
		}
		if err := fn(res.Results); err != nil {
			return err
		}
		if next == "" {
			return nil
		}
		q.Set("after", next)
	}
}
