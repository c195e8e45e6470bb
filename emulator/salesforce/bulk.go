package salesforce

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"healthsync/crm"
)

// bulkJob is a Bulk API 2.0 query or ingest job.
type bulkJob struct {
	ID              string  `json:"id"`
	Operation       string  `json:"operation"`
	Object          string  `json:"object"`
	CreatedByID     string  `json:"createdById"`
	CreatedDate     string  `json:"createdDate"`
	SystemModstamp  string  `json:"systemModstamp"`
	State           string  `json:"state"`
	ExternalIDField string  `json:"externalIdFieldName,omitempty"`
	ConcurrencyMode string  `json:"concurrencyMode"`
	ContentType     string  `json:"contentType"`
	APIVersion      float64 `json:"apiVersion"`
	JobType         string  `json:"jobType,omitempty"`
	LineEnding      string  `json:"lineEnding"`
	ColumnDelimiter string  `json:"columnDelimiter"`
	ContentURL      string  `json:"contentUrl,omitempty"`
	ErrorMessage    string  `json:"errorMessage,omitempty"`

	NumberRecordsProcessed int `json:"numberRecordsProcessed"`
	NumberRecordsFailed    int `json:"numberRecordsFailed,omitempty"`
	Retries                int `json:"retries"`
	TotalProcessingTime    int `json:"totalProcessingTime"`

	query     bool
	created   time.Time
	pollsLeft int
	// query jobs
	cq   *compiledQuery
	rows []*record
	// ingest jobs
	upload      bytes.Buffer
	batches     int
	header      []string
	succeeded   [][]string
	failed      [][]string
	unprocessed [][]string
}

func (j *bulkJob) view() map[string]any {
	b, _ := json.Marshal(j)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	if j.query {
		delete(m, "numberRecordsFailed")
		delete(m, "contentUrl")
	}
	return m
}

func (s *Server) bulkQueryJobsToday() int {
	n := 0
	cut := s.clock.Now().Add(-24 * time.Hour)
	for _, j := range s.jobs {
		if j.query && j.created.After(cut) {
			n++
		}
	}
	return n
}

func (s *Server) bulkBatchesToday() int {
	n := 0
	cut := s.clock.Now().Add(-24 * time.Hour)
	for _, j := range s.jobs {
		if !j.query && j.created.After(cut) {
			n += j.batches
		}
	}
	return n
}

func (s *Server) handleJobs(w http.ResponseWriter, r *http.Request, rc *reqCtx, parts []string) {
	if len(parts) == 0 || (parts[0] != "query" && parts[0] != "ingest") {
		writeErrors(w, http.StatusNotFound, errNotFound)
		return
	}
	isQuery := parts[0] == "query"
	if len(parts) == 1 {
		switch r.Method {
		case http.MethodPost:
			if isQuery {
				s.createQueryJob(w, r, rc)
			} else {
				s.createIngestJob(w, r, rc)
			}
		case http.MethodGet:
			s.listJobs(w, isQuery)
		default:
			writeMethodNotAllowed(w, "GET, POST")
		}
		return
	}
	s.bulkMu.Lock()
	j := s.jobs[parts[1]]
	s.bulkMu.Unlock()
	if j == nil || j.query != isQuery {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	if len(parts) == 2 {
		switch r.Method {
		case http.MethodGet:
			s.bulkMu.Lock()
			s.advance(j)
			v := j.view()
			s.bulkMu.Unlock()
			writeJSON(w, http.StatusOK, v)
		case http.MethodPatch:
			s.patchJob(w, r, rc, j)
		case http.MethodDelete:
			s.bulkMu.Lock()
			defer s.bulkMu.Unlock()
			switch j.State {
			case "Open", "UploadComplete", "InProgress":
				writeError(w, http.StatusBadRequest, "INVALIDJOBSTATE", "Job must be in a final state (JobComplete, Failed or Aborted) to be deleted")
				return
			}
			delete(s.jobs, j.ID)
			w.WriteHeader(http.StatusNoContent)
		default:
			writeMethodNotAllowed(w, "GET, PATCH, DELETE")
		}
		return
	}
	switch {
	case isQuery && parts[2] == "results" && r.Method == http.MethodGet:
		s.queryResults(w, r, j)
	case !isQuery && parts[2] == "batches" && r.Method == http.MethodPut:
		s.uploadBatch(w, r, j)
	case !isQuery && r.Method == http.MethodGet && (parts[2] == "successfulResults" || parts[2] == "failedResults" || parts[2] == "unprocessedrecords"):
		s.ingestResults(w, j, parts[2])
	default:
		writeErrors(w, http.StatusNotFound, errNotFound)
	}
}

func (s *Server) newJob(rc *reqCtx, query bool, op, obj string) *bulkJob {
	now := s.clock.Now()
	v, _ := strconv.ParseFloat(rc.version, 64)
	j := &bulkJob{
		ID: s.db.newID("750"), Operation: op, Object: obj, CreatedByID: rc.userID,
		CreatedDate: crm.FormatSalesforce(now), SystemModstamp: crm.FormatSalesforce(now),
		ConcurrencyMode: "Parallel", ContentType: "CSV", APIVersion: v, LineEnding: "LF", ColumnDelimiter: "COMMA",
		query: query, created: now, pollsLeft: s.opts.BulkPolls,
	}
	if !query {
		j.JobType = "V2Ingest"
		j.ContentURL = "services/data/v" + rc.version + "/jobs/ingest/" + j.ID + "/batches"
	} else {
		j.JobType = "V2Query"
	}
	return j
}

func (s *Server) listJobs(w http.ResponseWriter, query bool) {
	s.bulkMu.Lock()
	var recs []map[string]any
	for _, j := range s.jobs {
		if j.query == query {
			recs = append(recs, j.view())
		}
	}
	s.bulkMu.Unlock()
	if recs == nil {
		recs = []map[string]any{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"done": true, "records": recs, "nextRecordsUrl": nil})
}

// advance moves a job along: each status poll counts down until the job
// completes, so clients see InProgress before JobComplete.
func (s *Server) advance(j *bulkJob) {
	if j.State != "UploadComplete" && j.State != "InProgress" {
		return
	}
	if j.pollsLeft > 0 {
		j.pollsLeft--
		j.State = "InProgress"
	} else {
		j.State = "JobComplete"
	}
	j.SystemModstamp = crm.FormatSalesforce(s.clock.Now())
}

func (s *Server) createQueryJob(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	var body struct {
		Operation       string `json:"operation"`
		Query           string `json:"query"`
		ContentType     string `json:"contentType"`
		ColumnDelimiter string `json:"columnDelimiter"`
		LineEnding      string `json:"lineEnding"`
	}
	if !readJSON(w, r, &body) {
		return
	}
	if body.Operation != "query" && body.Operation != "queryAll" {
		writeError(w, http.StatusBadRequest, "INVALIDJOB", "Invalid operation: must be query or queryAll")
		return
	}
	if (body.ContentType != "" && body.ContentType != "CSV") || (body.ColumnDelimiter != "" && body.ColumnDelimiter != "COMMA") || (body.LineEnding != "" && body.LineEnding != "LF" && body.LineEnding != "CRLF") {
		writeError(w, http.StatusBadRequest, "INVALIDJOB", "This emulator supports contentType CSV, columnDelimiter COMMA and lineEnding LF or CRLF")
		return
	}
	parsed, err := parseSOQL(body.Query)
	if err != nil {
		writeSOQLError(w, body.Query, err)
		return
	}
	s.mu.RLock()
	cq, err := s.db.compile(parsed, s.clock.Now(), false)
	if err != nil {
		s.mu.RUnlock()
		writeSOQLError(w, body.Query, err)
		return
	}
	if cq.countOnly || cq.countField != nil {
		s.mu.RUnlock()
		writeError(w, http.StatusBadRequest, "INVALIDJOB", "Aggregate queries are not supported by Bulk API 2.0")
		return
	}
	rows := s.db.execute(cq, body.Operation == "queryAll")
	s.mu.RUnlock()
	s.bulkMu.Lock()
	defer s.bulkMu.Unlock()
	if s.bulkQueryJobsToday() >= 10000 {
		writeError(w, http.StatusBadRequest, "LIMIT_EXCEEDED", "Max number of Bulk API 2.0 query jobs per 24 hours exceeded")
		return
	}
	j := s.newJob(rc, true, body.Operation, cq.obj.name)
	if body.LineEnding != "" {
		j.LineEnding = body.LineEnding
	}
	j.cq, j.rows, j.State = cq, rows, "UploadComplete"
	j.NumberRecordsProcessed = len(rows)
	s.jobs[j.ID] = j
	writeJSON(w, http.StatusOK, j.view())
}

func encodeLocator(n int) string {
	return base64.RawStdEncoding.EncodeToString([]byte(strconv.Itoa(n)))
}

func decodeLocator(s string) (int, bool) {
	b, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(string(b))
	return n, err == nil && n >= 0
}

// csvValue renders a value as Bulk API 2.0 CSV does.
func csvValue(f *field, v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		if f != nil && f.typ == tInt {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	case time.Time:
		if f != nil && f.typ == tDate {
			return x.UTC().Format("2006-01-02")
		}
		return x.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	return fmt.Sprint(v)
}

func (s *Server) queryResults(w http.ResponseWriter, r *http.Request, j *bulkJob) {
	s.bulkMu.Lock()
	state := j.State
	s.bulkMu.Unlock()
	if state != "JobComplete" {
		writeError(w, http.StatusPreconditionFailed, "JOB_NOT_COMPLETE", "The job is not complete: poll GET /jobs/query/"+j.ID+" until its state is JobComplete")
		return
	}
	q := r.URL.Query()
	from := 0
	if l := q.Get("locator"); l != "" {
		n, ok := decodeLocator(l)
		if !ok || n > len(j.rows) {
			writeError(w, http.StatusBadRequest, "INVALID_LOCATOR", "Invalid locator: "+l)
			return
		}
		from = n
	}
	maxRecords := 50000
	if m := q.Get("maxRecords"); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil || n <= 0 {
			writeError(w, http.StatusBadRequest, "INVALIDREQUEST", "maxRecords must be a positive integer")
			return
		}
		maxRecords = n
	}
	end := min(len(j.rows), from+maxRecords)
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	cw.UseCRLF = j.LineEnding == "CRLF"
	header := make([]string, len(j.cq.columns))
	for i, c := range j.cq.columns {
		header[i] = strings.Join(c.segs, ".")
	}
	_ = cw.Write(header)
	row := make([]string, len(header))
	s.mu.RLock()
	for _, rec := range j.rows[from:end] {
		for i, c := range j.cq.columns {
			row[i] = csvValue(c.fld, c.value(s.db, rec))
		}
		_ = cw.Write(row)
	}
	s.mu.RUnlock()
	cw.Flush()
	loc := "null"
	switch {
	case s.faultsNow().RepeatLocator && len(j.rows) > 0:
		loc = encodeLocator(from) // this very page again
	case end < len(j.rows):
		loc = encodeLocator(end)
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv")
	h.Set("Sforce-Locator", loc)
	h.Set("Sforce-NumberOfRecords", strconv.Itoa(end-from))
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

func (s *Server) createIngestJob(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	var body struct {
		Object          string `json:"object"`
		Operation       string `json:"operation"`
		ExternalIDField string `json:"externalIdFieldName"`
		ContentType     string `json:"contentType"`
		LineEnding      string `json:"lineEnding"`
		ColumnDelimiter string `json:"columnDelimiter"`
	}
	if !readJSON(w, r, &body) {
		return
	}
	switch body.Operation {
	case "insert", "update", "upsert", "delete":
	default:
		writeError(w, http.StatusBadRequest, "INVALIDJOB", "Invalid operation: use insert, update, upsert or delete")
		return
	}
	if (body.ContentType != "" && body.ContentType != "CSV") || (body.ColumnDelimiter != "" && body.ColumnDelimiter != "COMMA") || (body.LineEnding != "" && body.LineEnding != "LF" && body.LineEnding != "CRLF") {
		writeError(w, http.StatusBadRequest, "INVALIDJOB", "This emulator supports contentType CSV, columnDelimiter COMMA and lineEnding LF or CRLF")
		return
	}
	s.mu.RLock()
	o := s.objectFor(body.Object, false)
	s.mu.RUnlock()
	if o == nil {
		writeError(w, http.StatusBadRequest, "INVALIDJOB", fmt.Sprintf("InvalidJob : Invalid object: %s", body.Object))
		return
	}
	if body.Operation == "upsert" {
		f, _ := o.field(body.ExternalIDField)
		if f == nil || (!f.externalID && f.typ != tID) {
			writeError(w, http.StatusBadRequest, "INVALIDJOB", fmt.Sprintf("InvalidJob : Field name provided, %s does not match an External ID for %s", body.ExternalIDField, o.name))
			return
		}
	}
	s.bulkMu.Lock()
	defer s.bulkMu.Unlock()
	if s.bulkBatchesToday() >= 15000 {
		writeError(w, http.StatusBadRequest, "LIMIT_EXCEEDED", "Max number of Bulk API batches per 24 hours exceeded")
		return
	}
	j := s.newJob(rc, false, body.Operation, o.name)
	j.ExternalIDField = body.ExternalIDField
	if body.LineEnding != "" {
		j.LineEnding = body.LineEnding
	}
	j.State = "Open"
	s.jobs[j.ID] = j
	writeJSON(w, http.StatusOK, j.view())
}

func (s *Server) uploadBatch(w http.ResponseWriter, r *http.Request, j *bulkJob) {
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "text/csv" {
		writeError(w, http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be text/csv")
		return
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, 150<<20+1))
	if err != nil || len(data) > 150<<20 {
		writeError(w, http.StatusRequestEntityTooLarge, "REQUEST_ENTITY_TOO_LARGE", "A batch upload is limited to 150 MB")
		return
	}
	s.bulkMu.Lock()
	defer s.bulkMu.Unlock()
	if j.State != "Open" {
		writeError(w, http.StatusConflict, "INVALIDJOBSTATE", "Data can only be uploaded to a job in the Open state")
		return
	}
	if j.upload.Len() > 0 {
		// Later uploads repeat the header line: keep only their rows.
		if nl := bytes.IndexByte(data, '\n'); nl >= 0 {
			data = data[nl+1:]
		} else {
			data = nil
		}
	}
	j.upload.Write(data)
	if len(data) > 0 && data[len(data)-1] != '\n' {
		j.upload.WriteByte('\n')
	}
	j.batches++
	w.WriteHeader(http.StatusCreated)
}

func (s *Server) patchJob(w http.ResponseWriter, r *http.Request, rc *reqCtx, j *bulkJob) {
	var body struct {
		State string `json:"state"`
	}
	if !readJSON(w, r, &body) {
		return
	}
	s.bulkMu.Lock()
	defer s.bulkMu.Unlock()
	switch {
	case body.State == "Aborted":
		switch j.State {
		case "JobComplete", "Failed", "Aborted":
			writeError(w, http.StatusBadRequest, "INVALIDJOBSTATE", "Job is already in a final state: "+j.State)
			return
		}
		if !j.query && j.State == "Open" {
			j.unprocessed = s.parseUpload(j)
		}
		j.State = "Aborted"
	case body.State == "UploadComplete" && !j.query:
		if j.State != "Open" {
			writeError(w, http.StatusBadRequest, "INVALIDJOBSTATE", "Only an Open job can be marked UploadComplete")
			return
		}
		j.State = "UploadComplete"
		s.processIngest(rc, j)
	default:
		writeError(w, http.StatusBadRequest, "INVALIDJOBSTATE", "Invalid state change to "+body.State)
		return
	}
	j.SystemModstamp = crm.FormatSalesforce(s.clock.Now())
	writeJSON(w, http.StatusOK, j.view())
}

// parseUpload reads the uploaded CSV; it sets the header and returns the
// rows.
func (s *Server) parseUpload(j *bulkJob) [][]string {
	cr := csv.NewReader(bytes.NewReader(j.upload.Bytes()))
	cr.FieldsPerRecord = -1
	all, err := cr.ReadAll()
	if err != nil || len(all) == 0 {
		return nil
	}
	j.header = all[0]
	return all[1:]
}

// processIngest applies every uploaded row. Callers hold bulkMu.
func (s *Server) processIngest(rc *reqCtx, j *bulkJob) {
	cr := csv.NewReader(bytes.NewReader(j.upload.Bytes()))
	all, err := cr.ReadAll()
	if err != nil || len(all) == 0 {
		j.State = "Failed"
		if err != nil {
			j.ErrorMessage = "InvalidBatch : Failed to parse CSV: " + err.Error()
		} else {
			j.ErrorMessage = "InvalidBatch : No data was uploaded"
		}
		return
	}
	j.header = all[0]
	idCol := -1
	for i, h := range j.header {
		if strings.EqualFold(h, "Id") {
			idCol = i
		}
	}
	if (j.Operation == "update" || j.Operation == "delete") && idCol < 0 {
		j.State = "Failed"
		j.ErrorMessage = "InvalidBatch : Field name not found : Id"
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, row := range all[1:] {
		fields := map[string]any{}
		for i, h := range j.header {
			if i != idCol {
				fields[h] = row[i]
			}
		}
		var id string
		var created bool
		var e *writeErr
		switch {
		case s.fault(s.faultsNow().LockRow):
			e = wErr(400, "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record or 1 records")
		case j.Operation == "insert":
			id, e = s.createRecord(rc.userID, j.Object, fields, true)
			created = e == nil
		case j.Operation == "update":
			id = row[idCol]
			e = s.updateRecord(rc.userID, j.Object, id, fields, true)
			id = canonicalID(id)
		case j.Operation == "delete":
			id = row[idCol]
			e = s.deleteRecord(rc.userID, j.Object, id)
			id = canonicalID(id)
		case j.Operation == "upsert":
			id, created, e = s.bulkUpsert(rc.userID, j, row, fields)
		}
		j.NumberRecordsProcessed++
		if e != nil {
			j.NumberRecordsFailed++
			fs := "--"
			if len(e.err.Fields) > 0 {
				fs = strings.Join(e.err.Fields, ",")
			}
			if e.err.ErrorCode == "NOT_FOUND" || e.err.ErrorCode == "MALFORMED_ID" {
				id = ""
			}
			j.failed = append(j.failed, append([]string{id, e.err.ErrorCode + ":" + e.err.Message + ":" + fs}, row...))
			continue
		}
		j.succeeded = append(j.succeeded, append([]string{id, strconv.FormatBool(created)}, row...))
	}
}

func (s *Server) bulkUpsert(userID string, j *bulkJob, row []string, fields map[string]any) (string, bool, *writeErr) {
	o := s.db.schema[strings.ToLower(j.Object)]
	f, idx := o.field(j.ExternalIDField)
	key, _ := fields[f.name].(string)
	for h := range fields {
		if strings.EqualFold(h, f.name) {
			key, _ = fields[h].(string)
		}
	}
	var match []*record
	for _, rec := range s.db.tables[strings.ToLower(o.name)].byID {
		if v, ok := rec.get(idx).(string); ok && !rec.deleted && key != "" && strings.EqualFold(v, key) {
			match = append(match, rec)
		}
	}
	switch len(match) {
	case 0:
		id, e := s.createRecord(userID, o.name, fields, true)
		return id, e == nil, e
	case 1:
		return match[0].id, false, s.updateRecord(userID, o.name, match[0].id, fields, true)
	}
	return "", false, wErr(300, "DUPLICATE_EXTERNAL_ID", fmt.Sprintf("%s: more than one record found for external id field", f.name))
}

func (s *Server) ingestResults(w http.ResponseWriter, j *bulkJob, kind string) {
	s.bulkMu.Lock()
	defer s.bulkMu.Unlock()
	if kind != "unprocessedrecords" && j.State != "JobComplete" && j.State != "Failed" && j.State != "Aborted" {
		writeError(w, http.StatusPreconditionFailed, "JOB_NOT_COMPLETE", "The job is not complete: poll GET /jobs/ingest/"+j.ID+" until its state is JobComplete")
		return
	}
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	cw.UseCRLF = j.LineEnding == "CRLF"
	switch kind {
	case "successfulResults":
		_ = cw.Write(append([]string{"sf__Id", "sf__Created"}, j.header...))
		_ = cw.WriteAll(j.succeeded)
	case "failedResults":
		_ = cw.Write(append([]string{"sf__Id", "sf__Error"}, j.header...))
		_ = cw.WriteAll(j.failed)
	default:
		if j.header != nil {
			_ = cw.Write(j.header)
		}
		_ = cw.WriteAll(j.unprocessed)
	}
	cw.Flush()
	w.Header().Set("Content-Type", "text/csv")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}
