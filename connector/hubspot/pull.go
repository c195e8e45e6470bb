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
	// fields is raw decoded (with UseNumber), for connector.Record.Fields.
	fields map[string]any
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
// page, then its deletions. See the package documentation for the
// queries. Associations re-linked without a modification are not Pull's
// business: SweepAssociations finds them.
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
	// answers it again.
	reported := map[string]bool{}
	var live *liveCount
	if !req.Since.IsZero() && req.Stored != nil {
		n, err := req.Stored.LiveCount(ctx)
		if err != nil {
			return fmt.Errorf("pull %s: count the stored records: %w", o.name, err)
		}
		live = &liveCount{stored: n, live: -1, added: map[string]bool{}}
	}
	cur, err := c.pullChanged(ctx, o, props, req, reported, live, fn)
	if err != nil {
		return err
	}
	// A result that could not be stored is live in the portal and not in
	// the store: it could hide an archive from the counts.
	if live.agrees() && len(reported) == 0 {
		c.log.Debug("recycle bin not read: the portal holds as many live records as are stored", "object", o.name, "live", live.live)
		return nil
	}
	return c.pullArchived(ctx, o, props, req.Since, cur, fn)
}

// liveCount compares the live records of the portal with those stored, so
// an incremental pull reads the recycle bin only when something may have
// been archived: HubSpot's search never returns archived records, and its
// answers carry the total of the records matching, which for a search
// without filters is every live record.
type liveCount struct {
	stored int             // live records stored before the pull
	live   int             // live records in the portal (-1: not known)
	added  map[string]bool // records handed on live that were not stored live before
}

// agrees reports whether the portal's live records are exactly those
// stored plus those the pull added: then nothing stored was archived
// (an archive and a create between two syncs leave the portal's count as
// it was, but not the stored one, which gains the created record).
func (l *liveCount) agrees() bool {
	return l != nil && l.live >= 0 && l.stored+len(l.added) == l.live
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
// emitBatch records, so the associations of an activity or a deal cost one
// batch read per target type for every 1,000 records instead of every 200.
//
// When live is set (an incremental pull of an object whose stored records
// the caller can count), the first search is a probe: no filter, sorted by
// modification date descending. Its total is the portal's live count, and
// when its 200 results reach back past the look-back they are every
// change, handed on in ascending order, and the pull is that one call;
// otherwise the pull goes on from the cursor as usual.
//
// A result that cannot be stored (see decodeRecord) is handed on as a
// Page.Skipped entry, and the cursor stays before it for the rest of the
// pull; the records after it are handed on all the same.
func (c *Client) pullChanged(ctx context.Context, o object, props []string, req connector.PullRequest, reported map[string]bool, live *liveCount, fn func(context.Context, connector.Page) error) (connector.Cursor, error) {
	since := req.Since
	cur := since
	body := searchRequest{
		FilterGroups: []filterGroup{},
		Sorts:        []searchSort{{PropertyName: o.modProp, Direction: "ASCENDING"}},
		Properties:   props,
		Limit:        searchPageSize,
	}
	var start time.Time // the first modification date read again
	if !since.IsZero() {
		start = time.UnixMilli(crm.Normalize(since.ModifiedAt).Add(-c.lookback).UnixMilli()).UTC()
		body.FilterGroups = sinceFilter(o, start, since)
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
		if live != nil && len(good) > 0 {
			ids := make([]string, len(good))
			for i, r := range good {
				ids[i] = r.ID
			}
			stored, err := req.Stored.Raw(ctx, ids)
			if err != nil {
				return fmt.Errorf("pull %s: look up the stored records: %w", o.name, err)
			}
			changed := good[:0]
			for _, r := range good {
				raw, ok := stored[r.ID]
				if !ok {
					live.added[r.ID] = true
				} else if sameProperties(raw, r) {
					// Read again by the look-back, and stored as it is:
					// handing it on would only read its associations again
					// (their changes are the association sweep's).
					continue
				}
				changed = append(changed, r)
			}
			good = changed
		}
		if len(good) == 0 && len(skippedRecs) == 0 && next.LastID == cur.LastID && next.ModifiedAt.Equal(cur.ModifiedAt) {
			// Nothing new, and the cursor stays: no page to hand on.
			pending = pending[:0]
			return nil
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
	// take queues one result, unless it is a skipped one already reported
	// or the look-back's read of a record the cursor has passed.
	take := func(r record) {
		if r.skip != nil {
			if reported[string(r.raw)] {
				return
			}
			reported[string(r.raw)] = true
		}
		// At the cursor's own timestamp only IDs above it are new;
		// earlier ones are the look-back, re-read on purpose.
		if r.skip == nil && !since.IsZero() && crm.Normalize(r.modified).Equal(crm.Normalize(since.ModifiedAt)) && !idLess(since.LastID, r.ID) {
			return
		}
		pending = append(pending, r)
	}
	if live != nil {
		probe := searchRequest{FilterGroups: []filterGroup{}, Sorts: []searchSort{{PropertyName: o.modProp, Direction: "DESCENDING"}},
			Properties: props, Limit: searchPageSize}
		res, err := c.search(ctx, o, probe)
		if err != nil {
			return cur, err
		}
		live.live = res.Total
		recs, err := decodeRecords(o, res.Results, "search page 1 (newest first)")
		if err != nil {
			return cur, fmt.Errorf("search %s: %w", o.name, err)
		}
		if covers(recs, res.next() == "", start) {
			var changed []record
			for _, r := range recs {
				if !crm.Normalize(r.modified).Before(start) {
					changed = append(changed, r)
				}
			}
			sort.Slice(changed, func(i, j int) bool {
				a, b := crm.Normalize(changed[i].modified), crm.Normalize(changed[j].modified)
				if !a.Equal(b) {
					return a.Before(b)
				}
				return idLess(changed[i].ID, changed[j].ID)
			})
			for _, r := range changed {
				take(r)
			}
			return cur, flush()
		}
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
			if recs[i].placed() {
				last = &recs[i]
			}
			take(recs[i])
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

// sinceFilter is the filter of an incremental search: every record
// modified at or after start (the cursor minus the look-back), but for
// those at the cursor's own stamp with an ID at or below the cursor's,
// which the run before stored last. A bulk import stamps thousands of
// records with one millisecond; read again by the look-back, they cost a
// search page per 200 on every run although none is new.
func sinceFilter(o object, start time.Time, since connector.Cursor) []filterGroup {
	at := crm.Normalize(since.ModifiedAt)
	if since.LastID == "" || at.Before(start) {
		return []filterGroup{{Filters: []searchFilter{{PropertyName: o.modProp, Operator: "GTE", Value: crm.FormatMillis(start)}}}}
	}
	stamp := crm.FormatMillis(at)
	groups := []filterGroup{
		{Filters: []searchFilter{{PropertyName: o.modProp, Operator: "EQ", Value: stamp}, {PropertyName: "hs_object_id", Operator: "GT", Value: since.LastID}}},
		{Filters: []searchFilter{{PropertyName: o.modProp, Operator: "GT", Value: stamp}}},
	}
	if start.Before(at) {
		groups = append([]filterGroup{{Filters: []searchFilter{
			{PropertyName: o.modProp, Operator: "GTE", Value: crm.FormatMillis(start)},
			{PropertyName: o.modProp, Operator: "LT", Value: stamp},
		}}}, groups...)
	}
	return groups
}

// sameProperties reports whether the stored raw JSON of a record holds
// exactly r's properties (its modification stamp among them): nothing
// has changed since it was stored. A stored record that does not decode
// counts as changed.
func sameProperties(stored json.RawMessage, r record) bool {
	var s struct {
		Properties map[string]*string `json:"properties"`
	}
	if err := json.Unmarshal(stored, &s); err != nil || len(s.Properties) != len(r.Properties) {
		return false
	}
	for name, v := range r.Properties {
		sv, ok := s.Properties[name]
		if !ok || (sv == nil) != (v == nil) || (v != nil && *sv != *v) {
			return false
		}
	}
	return true
}

// covers reports whether a page of the newest records (sorted by
// modification date descending; last: nothing comes after it) holds every
// record modified at or after start: it is the whole object, or its
// oldest record is older than start. A page with a result that cannot be
// placed or stored does not: the ascending search handles those.
func covers(recs []record, last bool, start time.Time) bool {
	for _, r := range recs {
		if r.skip != nil || !r.placed() {
			return false
		}
	}
	return last || (len(recs) > 0 && crm.Normalize(recs[len(recs)-1].modified).Before(start))
}

// page turns decoded records into connector records, attaching the
// associations of activities and deals (see assocTargets).
func (c *Client) page(ctx context.Context, o object, recs []record, live bool) ([]connector.Record, error) {
	out := make([]connector.Record, len(recs))
	var assocs map[string]associations
	if len(assocTargets(o)) > 0 && live {
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
		raw, fields := r.raw, r.fields
		if assocs != nil {
			var err error
			if raw, fields, err = withAssociations(r, assocs[r.ID]); err != nil {
				return nil, fmt.Errorf("%s %s: %w", o.singular, r.ID, err)
			}
		}
		out[i] = connector.Record{Object: o.name, ID: r.ID, ModifiedAt: crm.Normalize(r.modified), Raw: raw, Fields: fields}
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
				idv, present := r.fields["id"]
				_, problem := readID(idv, present)
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
