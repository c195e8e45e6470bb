package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/simpleforce/simpleforce"

	"healthsync/connector"
	"healthsync/crm"
)

// Pull implements sync.Source. For req.Object it
//
//  1. describes the object and checks req.Fields exist: a describe is
//     reused for HEALTHSYNC_SALESFORCE_DESCRIBE_TTL, across runs through
//     Deps.DescribeCache, but a cached describe that lacks a mapped field,
//     or whose query the org refuses with INVALID_FIELD (before anything
//     was emitted), is fetched again first, so a stale cache never
//     reports a field missing or breaks a pull;
//  2. reads SELECT Id, SystemModstamp[, IsDeleted], <fields> FROM object
//     WHERE SystemModstamp >= <cursor − look-back> ORDER BY SystemModstamp, Id
//     through queryAll (soft deletes come as IsDeleted rows), in REST pages
//     of 2,000. When the first page's totalSize is above
//     HEALTHSYNC_SALESFORCE_BULK_THRESHOLD, nothing of it is emitted and
//     the same query runs as a Bulk API 2.0 queryAll job whose CSV result
//     pages are streamed;
//  3. on an incremental pull, asks sobjects/<object>/deleted/ for the hard
//     deletes since the cursor and emits them as a last page.
//
// On an incremental pull the query's first page and deleted/ go as the
// two subrequests of one composite request, which Salesforce counts as
// one API call ("the entire series of requests counts as a single call
// toward your API limits"), so an object with nothing changed costs one
// call. Should either subrequest fail in a way a retry could mend (503,
// a lock), both are sent again as separate calls, which the HTTP stack
// retries.
//
// No SELECT COUNT() precedes the query, on full pulls either: the first
// page's totalSize decides REST or Bulk. Below the threshold (every
// incremental run but a big catch-up) that saves one call per object;
// above it the discarded first page costs the one call COUNT cost, plus
// the transfer of up to 2,000 rows, which is small beside the Bulk job
// that follows. So no pull makes more calls than with COUNT.
//
// Each page goes to fn as it arrives. Records are compared with the cursor
// as (SystemModstamp, Id) pairs: those after it are emitted once; those at
// the cursor's own stamp with an Id at or before its LastID were already
// stored and are skipped, so many records sharing one stamp are neither
// dropped nor repeated; those strictly inside the look-back window are
// emitted again (the engine upserts them idempotently), which is what
// catches records committed late with an older stamp. Page.Cursor is the
// position of the last record emitted so far and never moves backwards.
func (c *Client) Pull(ctx context.Context, req connector.PullRequest, fn func(context.Context, connector.Page) error) error {
	obj := req.Object
	if err := soqlName(obj); err != nil {
		return fmt.Errorf("pull: %w", err)
	}
	for _, f := range req.Fields {
		if err := soqlName(f); err != nil {
			return fmt.Errorf("pull %s: mapping field: %w", obj, err)
		}
	}
	d, fetched, err := c.describeFields(ctx, obj, req.Fields)
	if err != nil {
		return fmt.Errorf("pull %s: %w", obj, err)
	}
	p := &puller{c: c, obj: obj, since: req.Since, cursor: req.Since, fn: fn, d: d, deleted: map[string]bool{}}
	err = c.pull(ctx, p, req.Fields)
	if err != nil && !fetched && !p.emitted && isInvalidField(err) {
		// The cached describe names a field the org no longer has (or no
		// longer shows the integration user): describe again, so the
		// error names the field, or the query goes through.
		c.log.Info("the org refused a field of the cached describe; describing the object again", "object", obj)
		if d, err = c.refreshDescribe(ctx, obj); err == nil {
			err = checkFields(obj, d, req.Fields)
		}
		if err != nil {
			return fmt.Errorf("pull %s: %w", obj, err)
		}
		p = &puller{c: c, obj: obj, since: req.Since, cursor: req.Since, fn: fn, d: d, deleted: map[string]bool{}}
		err = c.pull(ctx, p, req.Fields)
	}
	if err != nil {
		return fmt.Errorf("pull %s: %w", obj, err)
	}
	return nil
}

// pull reads p.obj's changes since p.since: mapped (the mapping's
// fields) with describe p.d.
func (c *Client) pull(ctx context.Context, p *puller, mapped []string) error {
	obj := p.obj
	fields := selectFields(p.d, mapped)
	where := ""
	if !p.since.IsZero() {
		where = " WHERE SystemModstamp >= " + crm.FormatSOQL(p.since.ModifiedAt.Add(-c.cfg.Lookback))
	}
	soql := "SELECT " + strings.Join(fields, ", ") + " FROM " + obj + where + " ORDER BY SystemModstamp, Id"
	withDeleted := !p.since.IsZero() && p.d.replicateable
	pending, first := 0, true
	page := func(recs []rawRecord, total int) error {
		if first && total > c.cfg.BulkThreshold {
			pending = total
			return errUseBulk // before anything of the page is emitted
		}
		first = false
		return p.page(ctx, recs)
	}
	next := c.queryPath("queryAll", soql)
	guard, err := c.queryGuard(ctx, "queryAll")
	if err != nil {
		return err
	}
	var deleted *deletedAnswer
	if withDeleted {
		// One call for the first page and the hard deletes: an unchanged
		// object costs one call.
		var res *simpleforce.QueryResult
		if res, deleted, err = c.firstPageAndDeleted(ctx, next, c.deletedPath(p)); err != nil {
			return err
		}
		if res != nil {
			next = ""
			if !res.Done && res.NextRecordsURL != "" {
				next = res.NextRecordsURL
				err = guard.Follow(next)
			}
			if err == nil {
				err = guard.Count(len(res.Records), res.TotalSize)
			}
			if err == nil {
				err = page(queryRecords(res), res.TotalSize)
			}
		}
	}
	if err == nil && next != "" {
		err = c.queryFrom(ctx, next, guard, page)
	}
	if errors.Is(err, errUseBulk) {
		c.log.Info("pulling with a Bulk API 2.0 job", "object", obj, "pending", pending, "threshold", c.cfg.BulkThreshold)
		err = c.bulkQuery(ctx, obj, soql, p.d, fields, p.page)
	}
	if err != nil || !withDeleted {
		return err
	}
	if deleted == nil {
		inst, err := c.InstanceURL(ctx)
		if err != nil {
			return err
		}
		deleted = &deletedAnswer{}
		if err := c.getJSON(ctx, inst+c.deletedPath(p), deleted); err != nil {
			return fmt.Errorf("deleted records: %w", err)
		}
	}
	if err := c.emitDeleted(ctx, p, deleted); err != nil {
		return fmt.Errorf("deleted records: %w", err)
	}
	return nil
}

// errUseBulk stops a REST query whose first page says more records are
// pending than HEALTHSYNC_SALESFORCE_BULK_THRESHOLD.
var errUseBulk = errors.New("more records pending than the Bulk API threshold")

// isInvalidField reports the org refusing a query for naming a field it
// does not have.
func isInvalidField(err error) bool {
	var apiErr *connector.APIError
	return errors.As(err, &apiErr) && apiErr.Code == "INVALID_FIELD"
}

// selectFields returns Id, SystemModstamp, IsDeleted (when the object has
// it) and the mapping's fields, each once, in the org's spelling.
func selectFields(d *objectDescribe, fields []string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(name string) {
		f, ok := d.field(name)
		if !ok || seen[strings.ToLower(name)] {
			return
		}
		seen[strings.ToLower(name)] = true
		out = append(out, f.Name)
	}
	add("Id")
	add("SystemModstamp")
	add("IsDeleted")
	for _, f := range fields {
		add(f)
	}
	return out
}

// puller turns pages of raw records into sync pages.
type puller struct {
	c      *Client
	obj    string
	d      *objectDescribe
	since  connector.Cursor
	cursor connector.Cursor
	fn     func(context.Context, connector.Page) error
	// deleted holds the IDs emitted as IsDeleted rows, so deleted/ does
	// not emit them again.
	deleted map[string]bool
	// emitted is set once a page went to fn.
	emitted bool
	// pages counts the pages read, to say where a skipped record was.
	pages int
	// held is set once a record could not be read: the cursor stays
	// before it for the rest of the pull, so the next run reads it again
	// (and reports it again until it reads correctly), while the records
	// after it are emitted all the same.
	held bool
}

// page converts, filters and emits one page. A record that cannot be read
// (no Id, no readable SystemModstamp) is handed on as a Page.Skipped entry.
func (p *puller) page(ctx context.Context, recs []rawRecord) error {
	p.pages++
	out := make([]connector.Record, 0, len(recs))
	var skipped []connector.Skipped
	for i, r := range recs {
		rec, problem, err := p.c.record(p.obj, r)
		if err != nil {
			return err
		}
		if problem != "" {
			skipped = append(skipped, skippedRecord(p.obj, fmt.Sprintf("record %d of page %d", i+1, p.pages), r, problem))
			p.held = true
			continue
		}
		if p.skip(rec) {
			continue
		}
		out = append(out, rec)
		if rec.Deleted {
			p.deleted[strings.Clone(rec.ID)] = true // a copy: the ID points into the whole record
		}
		if !p.held {
			p.cursor = p.cursor.Advance(rec)
		}
		p.c.remember(p.obj, p.d, r)
	}
	if len(out) == 0 && len(skipped) == 0 {
		return nil
	}
	p.emitted = true
	return p.fn(ctx, connector.Page{Records: out, Cursor: p.cursor, Skipped: skipped})
}

// skip reports a record the cursor already covers at its own stamp.
func (p *puller) skip(rec connector.Record) bool {
	if p.since.IsZero() {
		return false
	}
	return rec.ModifiedAt.Equal(crm.Normalize(p.since.ModifiedAt)) && rec.ID <= p.since.LastID
}

// record converts a raw query record. A record that cannot be stored
// because its Id or SystemModstamp is missing or unreadable comes back
// as problem, saying what is wrong, for the caller to skip; err is for a
// record that cannot even be encoded.
func (c *Client) record(obj string, r rawRecord) (rec connector.Record, problem string, err error) {
	id := r.str("Id")
	if strings.TrimSpace(id) == "" {
		if v := r["Id"]; v != nil {
			if _, isStr := v.(string); !isStr {
				return connector.Record{}, "Id is " + describeValue(v) + ", Salesforce sends a string", nil
			}
		}
		return connector.Record{}, "it has no Id", nil
	}
	stamp, err := crm.ParseTime(r.str("SystemModstamp"))
	if err != nil {
		v, ok := r["SystemModstamp"]
		if s, isStr := v.(string); isStr || !ok || v == nil {
			return connector.Record{}, fmt.Sprintf("SystemModstamp %q is not a date-time (%v)", connector.Excerpt([]byte(s), 40), err), nil
		}
		return connector.Record{}, "SystemModstamp is " + describeValue(v) + ", Salesforce sends a date-time string", nil
	}
	if _, ok := r["attributes"]; !ok {
		r["attributes"] = map[string]any{"type": obj, "url": "/services/data/v" + c.cfg.APIVersion + "/sobjects/" + obj + "/" + id}
	}
	raw, fields, err := r.encode() // fields nil: the mapping decodes raw
	if err != nil {
		return connector.Record{}, "", err
	}
	deleted, _ := r["IsDeleted"].(bool)
	return connector.Record{Object: obj, ID: id, ModifiedAt: stamp, Deleted: deleted, Raw: raw, Fields: fields}, "", nil
}

// describeValue says what a decoded JSON value is, for a message: "a
// number (12345)", "a boolean (true)", "an object", "an array".
func describeValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("%q", connector.Excerpt([]byte(v), 40))
	case bool:
		return fmt.Sprintf("a boolean (%t)", v)
	case float64:
		return "a number (" + strconv.FormatFloat(v, 'f', -1, 64) + ")"
	case json.Number:
		return "a number (" + v.String() + ")"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	return fmt.Sprintf("a %T", v)
}

// skippedRecord says why the record at where ("record 3 of page 1") of a
// pull of obj cannot be stored, with its Id when it has one (the engine
// names it), and otherwise what identifies it in the reason: its Name and
// the end of its attributes.url, shortened.
func skippedRecord(obj, where string, r rawRecord, problem string) connector.Skipped {
	at := "Salesforce " + obj + " " + where
	if id := r.str("Id"); strings.TrimSpace(id) != "" {
		return connector.Skipped{ID: id, Reason: at + ": " + problem}
	}
	var parts []string
	if name := strings.TrimSpace(r.str("Name")); name != "" {
		parts = append(parts, fmt.Sprintf("Name %q", connector.Excerpt([]byte(name), 40)))
	}
	if attrs, ok := r["attributes"].(map[string]any); ok {
		// The last segment only: the whole path would read as an opaque
		// token to the redaction of excerpts.
		if u, _ := attrs["url"].(string); strings.TrimSpace(path.Base(u)) != "" && path.Base(u) != "." && path.Base(u) != "/" {
			parts = append(parts, fmt.Sprintf("attributes.url ending %q", connector.Excerpt([]byte(path.Base(u)), 40)))
		}
	}
	if len(parts) > 0 {
		at += " (" + strings.Join(parts, ", ") + ")"
	}
	return connector.Skipped{Reason: at + ": " + problem}
}

// deletedWindow is how far back sobjects/{type}/deleted/ reaches.
const deletedWindow = 15 * 24 * time.Hour

// deletedAnswer is the part of sobjects/{type}/deleted/'s answer
// healthsync reads.
type deletedAnswer struct {
	DeletedRecords []struct {
		ID          string `json:"id"`
		DeletedDate string `json:"deletedDate"`
	} `json:"deletedRecords"`
}

// deletedPath is the sobjects/{type}/deleted/ request (path and query) for
// the records hard-deleted since the cursor, look-back included.
// Deletions older than the endpoint's 15 days are left to the engine's ID
// reconciliation (ListIDs).
func (c *Client) deletedPath(p *puller) string {
	// The endpoint works in whole minutes and wants start at least a
	// minute before end, and end not after now.
	now := c.clock.Now().UTC().Truncate(time.Minute)
	start := p.since.ModifiedAt.Add(-c.cfg.Lookback).UTC().Truncate(time.Minute)
	if earliest := now.Add(-deletedWindow).Add(time.Minute); start.Before(earliest) {
		start = earliest
	}
	if latest := now.Add(-time.Minute); start.After(latest) {
		start = latest
	}
	q := url.Values{}
	q.Set("start", start.Format(time.RFC3339))
	q.Set("end", now.Format(time.RFC3339))
	return "/services/data/v" + c.cfg.APIVersion + "/sobjects/" + p.obj + "/deleted/?" + q.Encode()
}

// emitDeleted emits the hard deletes of out as deletions, but for those
// queryAll already emitted as IsDeleted rows or the cursor covers.
func (c *Client) emitDeleted(ctx context.Context, p *puller, out *deletedAnswer) error {
	var recs []connector.Record
	for _, dr := range out.DeletedRecords {
		if p.deleted[dr.ID] {
			continue // already emitted by queryAll as an IsDeleted row
		}
		when, err := crm.ParseTime(dr.DeletedDate)
		if err != nil {
			return fmt.Errorf("deleted record %s: deletedDate: %w", dr.ID, err)
		}
		raw, _ := json.Marshal(map[string]any{
			"attributes": map[string]any{"type": p.obj, "url": "/services/data/v" + c.cfg.APIVersion + "/sobjects/" + p.obj + "/" + dr.ID},
			"Id":         dr.ID, "IsDeleted": true, "SystemModstamp": crm.FormatSalesforce(when),
		})
		rec := connector.Record{Object: p.obj, ID: dr.ID, ModifiedAt: when, Deleted: true, Raw: raw}
		if p.skip(rec) {
			continue // at the cursor's stamp, at or before its Id: already seen
		}
		recs = append(recs, rec)
	}
	if len(recs) == 0 {
		return nil
	}
	// A hard delete is not a SystemModstamp: the cursor stays where the
	// query left it.
	p.emitted = true
	return p.fn(ctx, connector.Page{Records: recs, Cursor: p.cursor})
}

// firstPageAndDeleted sends the query's first page (queryPath) and the
// deleted/ request (deletedPath) as the two subrequests of one composite
// request, which Salesforce counts as one API call. It returns the
// query's first page and the deleted/ answer. A subrequest refused for
// good (a validation error, 404) is the error; after any other failure
// both are nil and the caller sends them as separate calls, which the
// HTTP stack retries.
func (c *Client) firstPageAndDeleted(ctx context.Context, queryPath, deletedPath string) (*simpleforce.QueryResult, *deletedAnswer, error) {
	base, err := c.dataURL(ctx)
	if err != nil {
		return nil, nil, err
	}
	body := map[string]any{"allOrNone": false, "compositeRequest": []map[string]any{
		{"method": http.MethodGet, "url": queryPath, "referenceId": "changes"},
		{"method": http.MethodGet, "url": deletedPath, "referenceId": "deleted"},
	}}
	var out struct {
		CompositeResponse []struct {
			Body           json.RawMessage `json:"body"`
			HTTPStatusCode int             `json:"httpStatusCode"`
		} `json:"compositeResponse"`
	}
	if err := c.sendJSON(ctx, http.MethodPost, base+"/composite", body, &out); err != nil {
		return nil, nil, fmt.Errorf("composite query and deleted/: %w", err)
	}
	r := out.CompositeResponse
	if len(r) != 2 {
		return nil, nil, nil
	}
	for i, sub := range r {
		if sub.HTTPStatusCode == http.StatusOK {
			continue
		}
		// A refusal no retry would change (INVALID_FIELD, MALFORMED_QUERY,
		// ...) is the answer; anything else is asked again on its own.
		apiErr := decodeError(sub.HTTPStatusCode, nil, sub.Body)
		if retryPolicy(sub.HTTPStatusCode, apiErr) != connector.Fail {
			return nil, nil, nil
		}
		if i == 1 {
			return nil, nil, fmt.Errorf("deleted records: %w", apiErr)
		}
		return nil, nil, apiErr
	}
	// A body that does not read as a query page or a deleted/ answer is
	// asked again as separate calls, whose answers are checked (and, still
	// broken, reported as MALFORMED_RESPONSE naming the request).
	var res simpleforce.QueryResult
	var del deletedAnswer
	if checkQueryPage(r[0].Body) != nil || json.Unmarshal(r[0].Body, &res) != nil || json.Unmarshal(r[1].Body, &del) != nil {
		return nil, nil, nil
	}
	return &res, &del, nil
}

// ListIDs implements sync.Source: the IDs of every live record of object
// (SELECT Id FROM object through query, which leaves out deleted rows),
// one page of up to 2,000 at a time.
func (c *Client) ListIDs(ctx context.Context, object string, fn func(ids []string) error) error {
	if err := soqlName(object); err != nil {
		return fmt.Errorf("list IDs: %w", err)
	}
	err := c.queryPages(ctx, "query", "SELECT Id FROM "+object+" ORDER BY Id", func(recs []rawRecord, _ int) error {
		ids := make([]string, 0, len(recs))
		for _, r := range recs {
			ids = append(ids, r.str("Id"))
		}
		if len(ids) == 0 {
			return nil
		}
		return fn(ids)
	})
	if err != nil {
		return fmt.Errorf("list IDs of %s: %w", object, err)
	}
	return nil
}
