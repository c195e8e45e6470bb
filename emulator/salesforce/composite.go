package salesforce

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

const maxCollection = 200

// collectionResult is one record's outcome in /composite/sobjects.
type collectionResult struct {
	ID      *string           `json:"id,omitempty"`
	Success bool              `json:"success"`
	Errors  []collectionError `json:"errors"`
	Created *bool             `json:"created,omitempty"`
}

func (s *Server) handleComposite(w http.ResponseWriter, r *http.Request, rc *reqCtx, parts []string) {
	switch {
	case len(parts) == 0:
		if r.Method != http.MethodPost {
			writeMethodNotAllowed(w, "POST")
			return
		}
		s.handleCompositeGraph(w, r, rc)
	case parts[0] == "sobjects" && len(parts) == 1:
		s.handleCollections(w, r, rc)
	case parts[0] == "batch" && len(parts) == 1:
		if r.Method != http.MethodPost {
			writeMethodNotAllowed(w, "POST")
			return
		}
		s.handleBatch(w, r, rc)
	default:
		writeErrors(w, http.StatusNotFound, errNotFound)
	}
}

func lockRowErr() collectionError {
	return collectionError{StatusCode: "UNABLE_TO_LOCK_ROW", Message: "unable to obtain exclusive access to this record or 1 records", Fields: []string{}}
}

func toCollectionErr(e *writeErr) collectionError {
	f := e.err.Fields
	if f == nil {
		f = []string{}
	}
	return collectionError{StatusCode: e.err.ErrorCode, Message: e.err.Message, Fields: f}
}

// handleCollections serves POST (create), PATCH (update), DELETE and GET
// of /composite/sobjects.
func (s *Server) handleCollections(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	switch r.Method {
	case http.MethodPost, http.MethodPatch:
	case http.MethodDelete:
		s.collectionDelete(w, r, rc)
		return
	default:
		writeMethodNotAllowed(w, "POST, PATCH, DELETE")
		return
	}
	var body struct {
		AllOrNone bool             `json:"allOrNone"`
		Records   []map[string]any `json:"records"`
	}
	if !readJSON(w, r, &body) {
		return
	}
	if len(body.Records) == 0 {
		writeError(w, http.StatusBadRequest, "INVALID_FIELD", "No SObject records were provided: records must contain at least one record")
		return
	}
	if len(body.Records) > maxCollection {
		writeError(w, http.StatusBadRequest, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 200 records into this call")
		return
	}
	insert := r.Method == http.MethodPost
	results := make([]collectionResult, len(body.Records))
	s.mu.Lock()
	defer func() {
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, results)
	}()
	type undo struct {
		rec  *record
		vals []any
		ver  uint32
	}
	var undos []undo
	var createdIDs []string
	failed := false
	for i, rec := range body.Records {
		typ := ""
		if attrs, ok := rec["attributes"].(map[string]any); ok {
			typ, _ = attrs["type"].(string)
		}
		fail := func(ce collectionError) {
			results[i] = collectionResult{Success: false, Errors: []collectionError{ce}}
			failed = true
		}
		if typ == "" {
			fail(collectionError{StatusCode: "INVALID_TYPE", Message: "Must send a concrete entity type.", Fields: []string{}})
			continue
		}
		if s.fault(s.faultsNow().LockRow) {
			fail(lockRowErr())
			continue
		}
		if insert {
			if _, has := rec["id"]; has {
				fail(collectionError{StatusCode: "INVALID_FIELD", Message: "cannot specify Id in an insert call", Fields: []string{"Id"}})
				continue
			}
			id, e := s.createRecord(rc.userID, typ, rec, false)
			if e != nil {
				fail(toCollectionErr(e))
				continue
			}
			createdIDs = append(createdIDs, id)
			results[i] = collectionResult{ID: &id, Success: true, Errors: []collectionError{}}
			continue
		}
		id, _ := rec["id"].(string)
		if id == "" {
			id, _ = rec["Id"].(string)
		}
		if id == "" {
			fail(collectionError{StatusCode: "MISSING_ARGUMENT", Message: "Id not specified in an update call", Fields: []string{}})
			continue
		}
		if existing := s.db.lookup(id); existing != nil && body.AllOrNone {
			undos = append(undos, undo{rec: existing, vals: append([]any(nil), existing.vals...), ver: existing.ver})
		}
		if e := s.updateRecord(rc.userID, typ, id, withoutID(rec), false); e != nil {
			fail(toCollectionErr(e))
			continue
		}
		cid := canonicalID(id)
		results[i] = collectionResult{ID: &cid, Success: true, Errors: []collectionError{}}
	}
	if body.AllOrNone && failed {
		// Roll back: restore updated records and remove created ones.
		for j := len(undos) - 1; j >= 0; j-- {
			u := undos[j]
			u.rec.vals = u.vals
			if v, ok := u.rec.get(u.rec.t.idxStamp).(interface{ UnixMilli() int64 }); ok {
				u.rec.stamp = v.UnixMilli()
			}
			u.rec.t.place(u.rec)
		}
		for _, id := range createdIDs {
			if rec := s.db.byID[id]; rec != nil {
				delete(rec.t.byID, id)
				delete(s.db.byID, id)
				rec.ver++
				s.forgetCreated(rec.t.obj.name, id)
			}
		}
		for i := range results {
			if results[i].Success {
				results[i] = collectionResult{Success: false, Errors: []collectionError{{StatusCode: "ALL_OR_NONE_OPERATION_ROLLED_BACK", Message: "Record rolled back because not all records were valid and the request was using AllOrNone header", Fields: []string{}}}}
			}
		}
	}
}

func (s *Server) forgetCreated(obj, id string) {
	ids := s.created[obj]
	for i, x := range ids {
		if x == id {
			s.created[obj] = append(ids[:i:i], ids[i+1:]...)
			return
		}
	}
}

func withoutID(rec map[string]any) map[string]any {
	out := make(map[string]any, len(rec))
	for k, v := range rec {
		if k != "id" && k != "Id" && k != "attributes" {
			out[k] = v
		}
	}
	return out
}

func (s *Server) collectionDelete(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	q := r.URL.Query()
	ids := strings.Split(q.Get("ids"), ",")
	if q.Get("ids") == "" {
		writeError(w, http.StatusBadRequest, "MISSING_ARGUMENT", "ids parameter is required")
		return
	}
	if len(ids) > maxCollection {
		writeError(w, http.StatusBadRequest, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 200 records into this call")
		return
	}
	allOrNone := strings.EqualFold(q.Get("allOrNone"), "true")
	results := make([]collectionResult, len(ids))
	s.mu.Lock()
	defer s.mu.Unlock()
	if allOrNone {
		for _, id := range ids {
			rec := s.db.lookup(id)
			if rec == nil || rec.deleted {
				for i := range ids {
					results[i] = collectionResult{Success: false, Errors: []collectionError{{StatusCode: "ALL_OR_NONE_OPERATION_ROLLED_BACK", Message: "Record rolled back because not all records were valid and the request was using AllOrNone header", Fields: []string{}}}}
					if canonicalID(ids[i]) == canonicalID(id) {
						results[i].Errors = []collectionError{{StatusCode: "ENTITY_IS_DELETED", Message: "entity is deleted", Fields: []string{}}}
					}
				}
				writeJSON(w, http.StatusOK, results)
				return
			}
		}
	}
	for i, id := range ids {
		rec := s.db.lookup(id)
		if rec == nil {
			results[i] = collectionResult{Success: false, Errors: []collectionError{{StatusCode: "INVALID_CROSS_REFERENCE_KEY", Message: "invalid cross reference id", Fields: []string{}}}}
			continue
		}
		if s.fault(s.faultsNow().LockRow) {
			results[i] = collectionResult{Success: false, Errors: []collectionError{lockRowErr()}}
			continue
		}
		if e := s.deleteRecord(rc.userID, rec.t.obj.name, rec.id); e != nil {
			results[i] = collectionResult{Success: false, Errors: []collectionError{toCollectionErr(e)}}
			continue
		}
		cid := rec.id
		results[i] = collectionResult{ID: &cid, Success: true, Errors: []collectionError{}}
	}
	writeJSON(w, http.StatusOK, results)
}

// memWriter captures a sub-request's response.
type memWriter struct {
	h      http.Header
	status int
	body   bytes.Buffer
}

func (m *memWriter) Header() http.Header { return m.h }
func (m *memWriter) WriteHeader(code int) {
	if m.status == 0 {
		m.status = code
	}
}
func (m *memWriter) Write(b []byte) (int, error) {
	if m.status == 0 {
		m.status = http.StatusOK
	}
	return m.body.Write(b)
}

// subRequest runs one composite sub-request through the router without
// counting an API call.
func (s *Server) subRequest(parent *http.Request, rc *reqCtx, method, url string, body json.RawMessage) (int, http.Header, []byte) {
	path := url
	prefix := "/services/data/v" + rc.version + "/"
	switch {
	case strings.HasPrefix(path, prefix):
		path = strings.TrimPrefix(path, prefix)
	case strings.HasPrefix(path, "v"+rc.version+"/"):
		path = strings.TrimPrefix(path, "v"+rc.version+"/")
	default:
		b, _ := json.Marshal([]apiError{errOf("INVALID_URL", "The URL must start with /services/data/v"+rc.version+"/ or v"+rc.version+"/")})
		return http.StatusBadRequest, http.Header{}, b
	}
	rest, rawQuery, _ := strings.Cut(path, "?")
	if strings.HasPrefix(rest, "composite") {
		b, _ := json.Marshal([]apiError{errOf("INVALID_URL", "composite requests cannot be nested")})
		return http.StatusBadRequest, http.Header{}, b
	}
	req, err := http.NewRequestWithContext(parent.Context(), method, prefix+rest, bytes.NewReader(body))
	if err != nil {
		b, _ := json.Marshal([]apiError{errOf("INVALID_URL", "malformed sub-request URL")})
		return http.StatusBadRequest, http.Header{}, b
	}
	req.URL.RawQuery = rawQuery
	if len(body) > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Host = parent.Host
	req.TLS = parent.TLS
	mw := &memWriter{h: http.Header{}}
	sub := *rc
	sub.rest = rest
	sub.internal = true
	s.route(mw, req, &sub)
	if mw.status == 0 {
		mw.status = http.StatusOK
	}
	return mw.status, mw.h, mw.body.Bytes()
}

func (s *Server) handleBatch(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	var body struct {
		HaltOnError   bool `json:"haltOnError"`
		BatchRequests []struct {
			Method    string          `json:"method"`
			URL       string          `json:"url"`
			RichInput json.RawMessage `json:"richInput"`
		} `json:"batchRequests"`
	}
	if !readJSON(w, r, &body) {
		return
	}
	if len(body.BatchRequests) > 25 {
		writeError(w, http.StatusBadRequest, "INVALID_BATCH_REQUEST", "A batch cannot contain more than 25 requests")
		return
	}
	type result struct {
		StatusCode int             `json:"statusCode"`
		Result     json.RawMessage `json:"result"`
	}
	out := struct {
		HasErrors bool     `json:"hasErrors"`
		Results   []result `json:"results"`
	}{Results: []result{}}
	halted := false
	for _, br := range body.BatchRequests {
		if halted {
			out.Results = append(out.Results, result{StatusCode: http.StatusPreconditionFailed, Result: json.RawMessage(`[{"errorCode":"BATCH_PROCESSING_HALTED","message":"Batch processing halted per request"}]`)})
			continue
		}
		status, _, b := s.subRequest(r, rc, strings.ToUpper(br.Method), br.URL, br.RichInput)
		res := result{StatusCode: status, Result: json.RawMessage("null")}
		if len(bytes.TrimSpace(b)) > 0 {
			res.Result = b
		}
		if status >= 400 {
			out.HasErrors = true
			halted = body.HaltOnError
		}
		out.Results = append(out.Results, res)
	}
	writeJSON(w, http.StatusOK, out)
}

var refPattern = regexp.MustCompile(`@\{([A-Za-z0-9_]+)\.([A-Za-z0-9_.\[\]]+)\}`)

func (s *Server) handleCompositeGraph(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	var body struct {
		AllOrNone        bool `json:"allOrNone"`
		CompositeRequest []struct {
			Method      string            `json:"method"`
			URL         string            `json:"url"`
			ReferenceID string            `json:"referenceId"`
			Body        json.RawMessage   `json:"body"`
			HTTPHeaders map[string]string `json:"httpHeaders"`
		} `json:"compositeRequest"`
	}
	if !readJSON(w, r, &body) {
		return
	}
	if len(body.CompositeRequest) > 25 {
		writeError(w, http.StatusBadRequest, "INVALID_BATCH_REQUEST", "A composite request cannot contain more than 25 subrequests")
		return
	}
	type subResp struct {
		Body           json.RawMessage   `json:"body"`
		HTTPHeaders    map[string]string `json:"httpHeaders"`
		HTTPStatusCode int               `json:"httpStatusCode"`
		ReferenceID    string            `json:"referenceId"`
	}
	out := struct {
		CompositeResponse []subResp `json:"compositeResponse"`
	}{CompositeResponse: []subResp{}}
	results := map[string]any{}
	failed := false
	resolve := func(s string) (string, error) {
		var rerr error
		res := refPattern.ReplaceAllStringFunc(s, func(m string) string {
			sm := refPattern.FindStringSubmatch(m)
			v, ok := results[sm[1]]
			if !ok {
				rerr = fmt.Errorf("reference %s is not defined by an earlier subrequest", sm[1])
				return m
			}
			for _, key := range strings.Split(sm[2], ".") {
				obj, isObj := v.(map[string]any)
				if !isObj {
					rerr = fmt.Errorf("reference %s has no %s", sm[1], sm[2])
					return m
				}
				v = obj[key]
			}
			return fmt.Sprint(v)
		})
		return res, rerr
	}
	for _, cr := range body.CompositeRequest {
		if failed && body.AllOrNone {
			out.CompositeResponse = append(out.CompositeResponse, subResp{Body: json.RawMessage(`[{"errorCode":"PROCESSING_HALTED","message":"The transaction was rolled back since another operation in the same transaction failed."}]`), HTTPHeaders: map[string]string{}, HTTPStatusCode: 400, ReferenceID: cr.ReferenceID})
			continue
		}
		url, err := resolve(cr.URL)
		bodyText := string(cr.Body)
		if err == nil && len(cr.Body) > 0 {
			bodyText, err = resolve(bodyText)
		}
		if err != nil {
			b, _ := json.Marshal([]apiError{errOf("INVALID_REFERENCE", err.Error())})
			out.CompositeResponse = append(out.CompositeResponse, subResp{Body: b, HTTPHeaders: map[string]string{}, HTTPStatusCode: 400, ReferenceID: cr.ReferenceID})
			failed = true
			continue
		}
		status, hdr, b := s.subRequest(r, rc, strings.ToUpper(cr.Method), url, json.RawMessage(bodyText))
		sr := subResp{HTTPHeaders: map[string]string{}, HTTPStatusCode: status, ReferenceID: cr.ReferenceID, Body: json.RawMessage("null")}
		if loc := hdr.Get("Location"); loc != "" {
			sr.HTTPHeaders["Location"] = loc
		}
		if len(bytes.TrimSpace(b)) > 0 {
			sr.Body = b
			var v any
			if json.Unmarshal(b, &v) == nil {
				results[cr.ReferenceID] = v
			}
		}
		if status >= 400 {
			failed = true
		}
		out.CompositeResponse = append(out.CompositeResponse, sr)
	}
	writeJSON(w, http.StatusOK, out)
}
