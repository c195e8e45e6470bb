package salesforce

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"healthsync/connector"
	"healthsync/crm"
)

// bulkJob is the part of a Bulk API 2.0 job's state healthsync reads.
type bulkJob struct {
	ID           string `json:"id"`
	State        string `json:"state"`
	ErrorMessage string `json:"errorMessage"`
}

// bulkPollMax is the longest wait between two status polls of a job (with
// the default first wait; a shorter first wait caps at 40 times itself).
const bulkPollMax = 10 * time.Second

// waitJob polls a job until it is JobComplete. Failed and Aborted jobs
// give an error wrapping ErrBulkJob with the job's message.
func (c *Client) waitJob(ctx context.Context, jobURL string) error {
	wait := c.pollWait
	for {
		var j bulkJob
		if err := c.getJSON(ctx, jobURL, &j); err != nil {
			return fmt.Errorf("poll bulk job: %w", err)
		}
		switch j.State {
		case "JobComplete":
			return nil
		case "Failed", "Aborted":
			msg := j.ErrorMessage
			if msg == "" {
				msg = "no message"
			}
			return fmt.Errorf("%w: job %s is %s: %s", ErrBulkJob, j.ID, j.State, msg)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(wait*3/2, min(bulkPollMax, 40*c.pollWait))
	}
}

// bulkQuery runs soql as a Bulk API 2.0 queryAll job and streams its CSV
// result pages (maxRecords rows each, followed by Sforce-Locator), turning
// each row into the same raw record a REST query returns (typed values,
// "attributes"), and calling page with up to 2,000 records at a time.
func (c *Client) bulkQuery(ctx context.Context, obj, soql string, d *objectDescribe, fields []string, page func(context.Context, []rawRecord) error) error {
	base, err := c.dataURL(ctx)
	if err != nil {
		return err
	}
	var job bulkJob
	if err := c.sendJSON(ctx, http.MethodPost, base+"/jobs/query",
		map[string]any{"operation": "queryAll", "query": soql, "contentType": "CSV", "lineEnding": "LF", "columnDelimiter": "COMMA"}, &job); err != nil {
		return fmt.Errorf("create bulk query job: %w", err)
	}
	if job.ID == "" {
		return fmt.Errorf("create bulk query job: %w", &connector.APIError{Code: connector.CodeMalformedResponse, Message: "the answer has no job id"})
	}
	jobURL := base + "/jobs/query/" + job.ID
	if err := c.waitJob(ctx, jobURL); err != nil {
		return err
	}
	locator := ""
	guard := connector.NewPageGuard("GET "+jobURL+"/results", "Sforce-Locator")
	for {
		q := url.Values{}
		q.Set("maxRecords", strconv.Itoa(c.resultPage))
		if locator != "" {
			q.Set("locator", locator)
		}
		req, err := newRequest(ctx, http.MethodGet, jobURL+"/results?"+q.Encode(), nil)
		if err != nil {
			return err
		}
		req.Header.Set("Accept", "text/csv")
		resp, err := c.send(req)
		if err != nil {
			return fmt.Errorf("bulk query results: %w", err)
		}
		// The page is read whole before any row is handed on: handing rows
		// to the store while the answer is still arriving would count the
		// store's time against the request's timeout (a 50,000-row page
		// into a busy Postgres outlasted it). It is read into a temporary
		// file, not memory: a full page is 10–25 MiB, which the pipeline's
		// pages of 2,000 records would otherwise hold on to besides.
		body, err := spool(resp.Body)
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("bulk query results: %w", err)
		}
		locator = resp.Header.Get("Sforce-Locator")
		last := locator == "" || locator == "null"
		if !last {
			if err := guard.Follow(locator); err != nil {
				body.Close()
				return fmt.Errorf("bulk query results: %w", err)
			}
		}
		n, err := c.streamCSV(ctx, bufio.NewReaderSize(body, 64<<10), obj, d, page)
		body.Close()
		if err != nil {
			return fmt.Errorf("bulk query results: %w", err)
		}
		// A page cut short at a line break still parses: the count the
		// answer announces tells.
		if v := resp.Header.Get("Sforce-NumberOfRecords"); v != "" {
			if want, perr := strconv.Atoi(strings.TrimSpace(v)); perr != nil || want != n {
				return fmt.Errorf("bulk query results: %w", &connector.APIError{Status: resp.StatusCode, Code: connector.CodeMalformedResponse,
					Message: fmt.Sprintf("the page holds %d records, its Sforce-NumberOfRecords header says %q", n, connector.Excerpt([]byte(v), 40))})
			}
		}
		if last {
			return nil
		}
	}
}

// spool copies a response body into a temporary file (in $TMPDIR) and
// returns it positioned at its start. The file is removed at once, so
// nothing is left behind however the process ends; its space is freed
// when it is closed.
func spool(body io.Reader) (*os.File, error) {
	f, err := os.CreateTemp("", "healthsync-bulk-*.csv")
	if err != nil {
		return nil, fmt.Errorf("create a temporary file for the page (set TMPDIR to a writable directory): %w", err)
	}
	os.Remove(f.Name())
	if _, err := io.Copy(f, body); err != nil {
		f.Close()
		return nil, fmt.Errorf("read the page into a temporary file (TMPDIR needs room for a page, up to about 25 MiB): %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("read the page back from its temporary file: %w", err)
	}
	return f, nil
}

// streamCSV reads one result page, hands its rows on in pages and returns
// how many it read.
func (c *Client) streamCSV(ctx context.Context, body io.Reader, obj string, d *objectDescribe, page func(context.Context, []rawRecord) error) (int, error) {
	cr := csv.NewReader(body)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read CSV header: %w", err)
	}
	header = append([]string(nil), header...)
	types := make([]string, len(header))
	for i, h := range header {
		types[i] = d.types[strings.ToLower(h)]
	}
	batch := make([]rawRecord, 0, pageSize)
	n := 0
	for {
		row, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, fmt.Errorf("read CSV row: %w", err)
		}
		r, err := c.csvRecord(obj, header, types, row)
		if err != nil {
			return n, err
		}
		n++
		batch = append(batch, r)
		if len(batch) == pageSize {
			if err := page(ctx, batch); err != nil {
				return n, err
			}
			batch = make([]rawRecord, 0, pageSize)
		}
	}
	if len(batch) > 0 {
		return n, page(ctx, batch)
	}
	return n, nil
}

// csvRecord converts a Bulk API CSV row to the JSON a REST query gives:
// empty → null, booleans and numbers typed, datetimes in REST's format.
// A cell that does not read as its column's type is kept as its text, as
// a REST query would carry an odd value: the mapping reports it as a
// problem of that field, and an unreadable SystemModstamp makes the pull
// skip the record (see record). Only a row that does not fit the header
// is an error: the page itself is broken.
func (c *Client) csvRecord(obj string, header, types, row []string) (rawRecord, error) {
	if len(row) != len(header) {
		return nil, fmt.Errorf("CSV row has %d columns, the header %d", len(row), len(header))
	}
	r := make(rawRecord, len(header)+1)
	for i, name := range header {
		v := row[i]
		if v == "" {
			r[name] = nil
			continue
		}
		switch types[i] {
		case "boolean":
			r[name] = strings.EqualFold(v, "true")
		case "double", "currency", "percent", "int", "long":
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				r[name] = v
				continue
			}
			r[name] = f
		case "datetime":
			t, err := crm.ParseTime(strings.Replace(v, "Z", "+0000", 1))
			if err != nil {
				r[name] = v
				continue
			}
			r[name] = crm.FormatSalesforce(t)
		default:
			r[name] = v
		}
	}
	id := r.str("Id")
	r["attributes"] = map[string]any{"type": obj, "url": "/services/data/v" + c.cfg.APIVersion + "/sobjects/" + obj + "/" + id}
	return r, nil
}

// bulkUpdate writes updates through a Bulk API 2.0 ingest job: create,
// upload the CSV, close, poll, then read successful, failed and
// unprocessed results and map them back by Id. Records that failed
// retryably are sent again through composite calls.
func (c *Client) bulkUpdate(ctx context.Context, object string, updates []connector.Update) ([]connector.Result, error) {
	base, err := c.dataURL(ctx)
	if err != nil {
		return nil, err
	}
	results := make([]connector.Result, len(updates))
	byID := map[string][]int{}
	colSet := map[string]bool{}
	for i, u := range updates {
		byID[u.ID] = append(byID[u.ID], i)
		results[i] = connector.Result{ID: u.ID, Err: &connector.APIError{Code: connector.CodeNotAttempted, Message: "not sent: the run stopped first"}, Retryable: true}
		for k := range u.Fields {
			colSet[k] = true
		}
	}
	cols := make([]string, 0, len(colSet))
	for k := range colSet {
		cols = append(cols, k)
	}
	sort.Strings(cols)
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	_ = cw.Write(append([]string{"Id"}, cols...))
	row := make([]string, len(cols)+1)
	for _, u := range updates {
		row[0] = u.ID
		for j, k := range cols {
			v, ok := u.Fields[k]
			row[j+1] = csvCell(v, ok)
		}
		_ = cw.Write(row)
	}
	cw.Flush()

	var job bulkJob
	if err := c.sendJSON(ctx, http.MethodPost, base+"/jobs/ingest",
		map[string]any{"object": object, "operation": "update", "contentType": "CSV", "lineEnding": "LF", "columnDelimiter": "COMMA"}, &job); err != nil {
		return results, fmt.Errorf("create bulk ingest job for %s: %w", object, err)
	}
	jobURL := base + "/jobs/ingest/" + job.ID
	data := buf.Bytes()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, jobURL+"/batches", bytes.NewReader(data))
	if err != nil {
		return results, err
	}
	req.Header.Set("Content-Type", "text/csv")
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	if err := c.do(req, nil); err != nil {
		return results, fmt.Errorf("upload bulk ingest data: %w", err)
	}
	if err := c.sendJSON(ctx, http.MethodPatch, jobURL, map[string]string{"state": "UploadComplete"}, nil); err != nil {
		return results, fmt.Errorf("close bulk ingest job: %w", err)
	}
	if err := c.waitJob(ctx, jobURL); err != nil && !errors.Is(err, ErrBulkJob) {
		return results, err
	}
	// Successful, failed and unprocessed records (a failed job has them too).
	if err := c.ingestResults(ctx, jobURL+"/successfulResults/", func(rec map[string]string) {
		for _, i := range byID[rec["Id"]] {
			results[i] = connector.Result{ID: rec["Id"]}
		}
	}); err != nil {
		return results, err
	}
	if err := c.ingestResults(ctx, jobURL+"/failedResults/", func(rec map[string]string) {
		e := parseBulkError(rec["sf__Error"])
		for _, i := range byID[rec["Id"]] {
			results[i] = connector.Result{ID: rec["Id"], Err: e, Retryable: retryableCode(e.Code, e.Message)}
		}
	}); err != nil {
		return results, err
	}
	if err := c.ingestResults(ctx, jobURL+"/unprocessedrecords/", func(rec map[string]string) {
		for _, i := range byID[rec["Id"]] {
			results[i] = connector.Result{ID: rec["Id"], Err: &connector.APIError{Code: "UNPROCESSED", Message: "the bulk job did not process the record"}, Retryable: true}
		}
	}); err != nil {
		return results, err
	}
	// Send the retryable failures again, in composite batches.
	var again []int
	var recs []map[string]any
	for i, r := range results {
		if !r.OK() && r.Retryable {
			again = append(again, i)
			rec := map[string]any{"attributes": map[string]any{"type": object}, "id": updates[i].ID}
			for k, v := range updates[i].Fields {
				rec[k] = v
			}
			recs = append(recs, rec)
		}
	}
	if len(again) == 0 {
		return results, nil
	}
	retried, err := c.writeCollections(ctx, http.MethodPatch, recs)
	for j, i := range again {
		results[i] = retried[j]
	}
	return results, err
}

// ingestResults reads one of an ingest job's result CSVs.
func (c *Client) ingestResults(ctx context.Context, u string, fn func(map[string]string)) error {
	req, err := newRequest(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/csv")
	resp, err := c.send(req)
	if err != nil {
		return fmt.Errorf("bulk ingest results: %w", err)
	}
	defer resp.Body.Close()
	cr := csv.NewReader(resp.Body)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("bulk ingest results: %w", err)
	}
	header = append([]string(nil), header...)
	for {
		row, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("bulk ingest results: %w", err)
		}
		rec := make(map[string]string, len(header))
		for i, h := range header {
			if i < len(row) {
				rec[h] = row[i]
			}
		}
		if rec["Id"] == "" {
			rec["Id"] = rec["sf__Id"]
		}
		fn(rec)
	}
}

// parseBulkError reads a failed ingest record's sf__Error,
// "CODE:message:fields" where fields is a comma-separated list of field
// names, or "--" (also "Name --") for none. The message may hold colons
// ("Required fields are missing: [Name]"); a last part that is not a list
// of field names belongs to it.
func parseBulkError(s string) *connector.APIError {
	code, rest, _ := strings.Cut(strings.TrimSpace(s), ":")
	e := &connector.APIError{Code: strings.TrimSpace(code), Message: strings.TrimSpace(rest)}
	if i := strings.LastIndex(rest, ":"); i >= 0 {
		tail := strings.TrimSpace(strings.TrimRight(strings.TrimSpace(rest[i+1:]), "-"))
		var fields []string
		ok := true
		if tail != "" {
			for _, f := range strings.Split(tail, ",") {
				f = strings.TrimSpace(f)
				if soqlName(f) != nil {
					ok = false
					break
				}
				if !slices.Contains(fields, f) {
					fields = append(fields, f)
				}
			}
		}
		if ok {
			e.Message, e.Fields = strings.TrimSpace(rest[:i]), fields
		}
	}
	if e.Code == "" || strings.ContainsAny(e.Code, " \t") {
		e.Code, e.Message = "UNKNOWN_ERROR", strings.TrimSpace(s)
	}
	if e.Message == "" {
		e.Message = "the bulk job gave no message"
	}
	return e
}

// csvCell renders a value for a Bulk API 2.0 CSV upload: #N/A clears a
// field; an absent field is left empty (unchanged).
func csvCell(v any, present bool) string {
	if !present {
		return ""
	}
	switch x := v.(type) {
	case nil:
		return "#N/A"
	case string:
		if x == "" {
			return "#N/A"
		}
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case time.Time:
		return crm.FormatSOQL(x)
	}
	return fmt.Sprint(v)
}
