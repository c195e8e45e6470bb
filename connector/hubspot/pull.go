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
	hsync "healthsync/sync"
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
}

func (r *record) prop(name string) string {
	if v := r.Properties[name]; v != nil {
		return *v
	}
	return ""
}

// decodeRecords decodes a page's results and their modification stamps.
func decodeRecords(o object, raws []json.RawMessage) ([]record, error) {
	out := make([]record, 0, len(raws))
	for _, raw := range raws {
		var r record
		if err := json.Unmarshal(raw, &r.wireRecord); err != nil || r.ID == "" {
			return nil, connector.MalformedError(http.StatusOK, nil, raw, fmt.Errorf("a %s result has no id", o.singular))
		}
		r.raw = raw
		stamp := r.prop(o.modProp)
		if stamp == "" {
			stamp = r.UpdatedAt
		}
		t, err := crm.ParseTime(stamp)
		if err != nil {
			return nil, connector.MalformedError(http.StatusOK, nil, raw, fmt.Errorf("%s %s has no readable %s: %w", o.singular, r.ID, o.modProp, err))
		}
		r.modified = t
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
func (c *Client) Pull(ctx context.Context, req hsync.PullRequest, fn func(context.Context, hsync.Page) error) error {
	if req.Object == Owners {
		return c.pullOwners(ctx, req.Since, fn)
	}
	o, err := lookup(req.Object)
	if err != nil {
		return err
	}
	props := properties(o, req.Fields)
	cur, err := c.pullChanged(ctx, o, props, req.Since, fn)
	if err != nil {
		return err
	}
	if err := c.pullArchived(ctx, o, props, req.Since, cur, fn); err != nil {
		return err
	}
	if o.activity {
		if err := c.rereadWindow(ctx, o, props, req.Since, cur, fn); err != nil {
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
func (c *Client) pullChanged(ctx context.Context, o object, props []string, since connector.Cursor, fn func(context.Context, hsync.Page) error) (connector.Cursor, error) {
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
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		page, err := c.page(ctx, o, pending, true)
		if err != nil {
			return err
		}
		next := cur
		for _, r := range pending {
			next = advance(next, r.modified, r.ID)
		}
		if err := fn(ctx, hsync.Page{Records: page, Cursor: next}); err != nil {
			return err
		}
		cur, pending = next, pending[:0]
		return nil
	}
	for {
		res, err := c.search(ctx, o, body)
		if err != nil {
			// Hand on what was already read (a daily-limit stop keeps its
			// pages); if that fails too, the search error is the news.
			if ferr := flush(); ferr != nil {
				c.log.Debug("could not hand on the records read before the error", "object", o.name, "error", ferr)
			}
			return cur, err
		}
		recs, err := decodeRecords(o, res.Results)
		if err != nil {
			return cur, fmt.Errorf("search %s: %w", o.name, err)
		}
		for _, r := range recs {
			// At the cursor's own timestamp only IDs above it are new;
			// earlier ones are the look-back, re-read on purpose.
			if !since.IsZero() && crm.Normalize(r.modified).Equal(crm.Normalize(since.ModifiedAt)) && !idLess(since.LastID, r.ID) {
				continue
			}
			pending = append(pending, r)
		}
		done := len(recs) == 0 || res.next() == ""
		if done || len(pending) >= emitBatch {
			if err := flush(); err != nil {
				return cur, err
			}
		}
		if done {
			return cur, nil
		}
		// Next page by key: after the last record seen, never by offset.
		last := recs[len(recs)-1]
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
func (c *Client) pullArchived(ctx context.Context, o object, props []string, since, cur connector.Cursor, fn func(context.Context, hsync.Page) error) error {
	var threshold time.Time
	if !since.IsZero() {
		threshold = crm.Normalize(since.ModifiedAt).Add(-max(c.window, c.lookback))
	}
	q := url.Values{}
	q.Set("archived", "true")
	q.Set("limit", strconv.Itoa(listPageSize))
	q.Set("properties", "hs_object_id,"+o.modProp)
	for {
		var res pageResponse
		if _, err := c.call(ctx, http.MethodGet, "/crm/v3/objects/"+objPath(o.name), q, nil, &res); err != nil {
			return fmt.Errorf("list archived %s: %w", o.name, err)
		}
		var page []connector.Record
		for _, raw := range res.Results {
			var w wireRecord
			if err := json.Unmarshal(raw, &w); err != nil || w.ID == "" {
				return fmt.Errorf("list archived %s: %w", o.name, connector.MalformedError(http.StatusOK, nil, raw, err))
			}
			at, err := crm.ParseTime(w.ArchivedAt)
			if err != nil {
				at, err = crm.ParseTime(w.UpdatedAt)
			}
			if err != nil {
				return fmt.Errorf("list archived %s: %s %s has no archivedAt", o.name, o.singular, w.ID)
			}
			if !threshold.IsZero() && at.Before(threshold) {
				continue
			}
			page = append(page, connector.Record{Object: o.name, ID: w.ID, ModifiedAt: at, Deleted: true, Raw: raw})
		}
		if len(page) > 0 {
			c.forget(o, page)
			if err := fn(ctx, hsync.Page{Records: page, Cursor: cur}); err != nil {
				return err
			}
		}
		next := res.next()
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
func (c *Client) pullOwners(ctx context.Context, since connector.Cursor, fn func(context.Context, hsync.Page) error) error {
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
			return fn(ctx, hsync.Page{Records: page, Cursor: cur})
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
	for {
		var res pageResponse
		if _, err := c.call(ctx, http.MethodGet, "/crm/v3/owners", q, nil, &res); err != nil {
			return fmt.Errorf("list owners: %w", err)
		}
		if err := fn(res.Results); err != nil {
			return err
		}
		next := res.next()
		if next == "" {
			return nil
		}
		q.Set("after", next)
	}
}
