package salesforce

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sort"
	"strings"
	"time"

	"healthsync/crm"
)

const maxBody = 50 << 20

// readJSON decodes a JSON request body into v, writing Salesforce's error
// when it cannot.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			writeError(w, http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", fmt.Sprintf("Content-Type header specified in HTTP request is not supported: %s", ct))
			return false
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", "could not read the request body")
		return false
	}
	if len(body) > maxBody {
		writeError(w, http.StatusRequestEntityTooLarge, "REQUEST_ENTITY_TOO_LARGE", "The request body is too large")
		return false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		writeError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", "The HTTP entity body is required, but this request has no entity body.")
		return false
	}
	if err := json.Unmarshal(body, v); err != nil {
		line, col := errorPosition(body, err)
		writeError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", fmt.Sprintf("Unexpected character or malformed JSON (%s) at [line:%d, column:%d]", jsonErrText(err), line, col))
		return false
	}
	return true
}

func jsonErrText(err error) string {
	if te, ok := err.(*json.UnmarshalTypeError); ok {
		return "expected " + te.Type.String() + " but found " + te.Value
	}
	return err.Error()
}

func errorPosition(body []byte, err error) (int, int) {
	var off int64
	switch e := err.(type) {
	case *json.SyntaxError:
		off = e.Offset
	case *json.UnmarshalTypeError:
		off = e.Offset
	}
	line, col := 1, 1
	for i := int64(0); i < off && i < int64(len(body)); i++ {
		if body[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

// saveResult is the body of a successful create or upsert.
type saveResult struct {
	ID      string     `json:"id"`
	Success bool       `json:"success"`
	Errors  []apiError `json:"errors"`
	Created *bool      `json:"created,omitempty"`
}

func (s *Server) objectFor(name string, tooling bool) *object {
	o := s.db.schema[strings.ToLower(name)]
	if o == nil || (o.tooling && !tooling) || (tooling && !o.tooling && !o.alsoTooling) || !s.db.historyOn(o) {
		return nil
	}
	return o
}

func (s *Server) handleSObjects(w http.ResponseWriter, r *http.Request, rc *reqCtx, parts []string, tooling bool) {
	if len(parts) == 0 {
		if r.Method != http.MethodGet {
			writeMethodNotAllowed(w, "GET,HEAD")
			return
		}
		s.mu.RLock()
		g := s.describeGlobal(rc.version, tooling)
		s.mu.RUnlock()
		writeJSON(w, http.StatusOK, g)
		return
	}
	s.mu.RLock()
	o := s.objectFor(parts[0], tooling)
	s.mu.RUnlock()
	if o == nil {
		writeErrors(w, http.StatusNotFound, errNotFound)
		return
	}
	switch {
	case len(parts) == 1:
		switch r.Method {
		case http.MethodGet:
			s.mu.RLock()
			g := globalOf(o, rc.version)
			s.mu.RUnlock()
			writeJSON(w, http.StatusOK, map[string]any{"objectDescribe": g, "recentItems": []any{}})
		case http.MethodPost:
			s.handleCreate(w, r, rc, o, tooling)
		default:
			writeMethodNotAllowed(w, "GET,HEAD,POST")
		}
	case len(parts) == 2 && parts[1] == "describe":
		if r.Method != http.MethodGet {
			writeMethodNotAllowed(w, "GET,HEAD")
			return
		}
		s.mu.RLock()
		d := s.describe(o, rc.version, rc.userID)
		s.mu.RUnlock()
		writeJSON(w, http.StatusOK, d)
	case len(parts) == 2 && (parts[1] == "updated" || parts[1] == "deleted"):
		s.handleReplication(w, r, o, parts[1] == "deleted")
	case len(parts) == 2:
		s.handleRecord(w, r, rc, o, parts[1])
	case len(parts) == 3:
		s.handleExternalID(w, r, rc, o, parts[1], parts[2])
	default:
		writeErrors(w, http.StatusNotFound, errNotFound)
	}
}

func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request, rc *reqCtx, o *object, tooling bool) {
	var body map[string]any
	if !readJSON(w, r, &body) {
		return
	}
	if tooling && o.name == "CustomField" {
		s.createCustomField(w, rc, body)
		return
	}
	s.mu.Lock()
	id, e := s.createRecord(rc.userID, o.name, body, false)
	s.mu.Unlock()
	if e != nil {
		writeErrors(w, e.status, e.err)
		return
	}
	w.Header().Set("Location", "/services/data/v"+rc.version+"/sobjects/"+o.name+"/"+id)
	writeJSON(w, http.StatusCreated, saveResult{ID: id, Success: true, Errors: []apiError{}})
}

func (s *Server) handleRecord(w http.ResponseWriter, r *http.Request, rc *reqCtx, o *object, id string) {
	switch r.Method {
	case http.MethodGet:
		s.mu.RLock()
		defer s.mu.RUnlock()
		rec := s.db.lookup(id)
		if rec == nil || rec.deleted || rec.t.obj != o {
			if len(canonicalID(id)) != 18 {
				writeError(w, http.StatusNotFound, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: "+id)
				return
			}
			writeErrors(w, http.StatusNotFound, errNotFound)
			return
		}
		var only map[string]bool
		if fl := r.URL.Query().Get("fields"); fl != "" {
			only = map[string]bool{}
			for _, name := range strings.Split(fl, ",") {
				f, _ := o.field(strings.TrimSpace(name))
				if f == nil {
					writeError(w, http.StatusBadRequest, "INVALID_FIELD", fmt.Sprintf("No such column '%s' on sobject of type %s", strings.TrimSpace(name), o.name))
					return
				}
				only[f.name] = true
			}
		}
		writeRaw(w, http.StatusOK, appendFullRecord(nil, rc.version, rec, only))
	case http.MethodPatch:
		var body map[string]any
		if !readJSON(w, r, &body) {
			return
		}
		s.mu.Lock()
		e := s.updateRecord(rc.userID, o.name, id, body, false)
		s.mu.Unlock()
		if e != nil {
			writeErrors(w, e.status, e.err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case http.MethodDelete:
		s.mu.Lock()
		e := s.deleteRecord(rc.userID, o.name, id)
		s.mu.Unlock()
		if e != nil {
			writeErrors(w, e.status, e.err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		writeMethodNotAllowed(w, "GET,HEAD,PATCH,DELETE")
	}
}

// handleExternalID serves /sobjects/{Type}/{Field}/{Value}: read, upsert
// and delete by an external ID field (or Id).
func (s *Server) handleExternalID(w http.ResponseWriter, r *http.Request, rc *reqCtx, o *object, fieldName, value string) {
	f, idx := o.field(fieldName)
	if f == nil || (!f.externalID && f.typ != tID) {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: "+fieldName)
		return
	}
	find := func() []*record {
		var out []*record
		if f.typ == tID {
			if rec := s.db.lookup(value); rec != nil && !rec.deleted && rec.t.obj == o {
				out = append(out, rec)
			}
			return out
		}
		for _, rec := range s.db.tables[strings.ToLower(o.name)].byID {
			if v, ok := rec.get(idx).(string); ok && !rec.deleted && strings.EqualFold(v, value) {
				out = append(out, rec)
			}
		}
		sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
		return out
	}
	multiple := func(recs []*record) {
		var urls []string
		for _, rec := range recs {
			urls = append(urls, "/services/data/v"+rc.version+"/sobjects/"+o.name+"/"+rec.id)
		}
		writeJSON(w, http.StatusMultipleChoices, urls)
	}
	switch r.Method {
	case http.MethodGet:
		s.mu.RLock()
		defer s.mu.RUnlock()
		recs := find()
		switch len(recs) {
		case 0:
			writeErrors(w, http.StatusNotFound, errNotFound)
		case 1:
			writeRaw(w, http.StatusOK, appendFullRecord(nil, rc.version, recs[0], nil))
		default:
			multiple(recs)
		}
	case http.MethodPatch, http.MethodPost:
		var body map[string]any
		if !readJSON(w, r, &body) {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		recs := find()
		switch len(recs) {
		case 0:
			if f.typ == tID {
				writeErrors(w, http.StatusNotFound, errNotFound)
				return
			}
			body[f.name] = value
			id, e := s.createRecord(rc.userID, o.name, body, false)
			if e != nil {
				writeErrors(w, e.status, e.err)
				return
			}
			created := true
			writeJSON(w, http.StatusCreated, saveResult{ID: id, Success: true, Errors: []apiError{}, Created: &created})
		case 1:
			if e := s.updateRecord(rc.userID, o.name, recs[0].id, body, false); e != nil {
				writeErrors(w, e.status, e.err)
				return
			}
			created := false
			writeJSON(w, http.StatusOK, saveResult{ID: recs[0].id, Success: true, Errors: []apiError{}, Created: &created})
		default:
			multiple(recs)
		}
	case http.MethodDelete:
		s.mu.Lock()
		defer s.mu.Unlock()
		recs := find()
		switch len(recs) {
		case 0:
			writeErrors(w, http.StatusNotFound, errNotFound)
		case 1:
			if e := s.deleteRecord(rc.userID, o.name, recs[0].id); e != nil {
				writeErrors(w, e.status, e.err)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		default:
			multiple(recs)
		}
	default:
		writeMethodNotAllowed(w, "GET,HEAD,PATCH,DELETE")
	}
}

// parseReplicationTime reads start/end of updated/ and deleted/. A "+" in
// an unencoded query string arrives as a space.
func parseReplicationTime(v string) (time.Time, error) {
	v = strings.ReplaceAll(strings.TrimSpace(v), " ", "+")
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000-0700", "2006-01-02T15:04:05-0700", "2006-01-02T15:04:05Z0700"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("bad datetime %q", v)
}

func (s *Server) handleReplication(w http.ResponseWriter, r *http.Request, o *object, deleted bool) {
	if r.Method != http.MethodGet {
		writeMethodNotAllowed(w, "GET,HEAD")
		return
	}
	q := r.URL.Query()
	if q.Get("start") == "" || q.Get("end") == "" {
		writeError(w, http.StatusBadRequest, "MISSING_ARGUMENT", "Missing required query parameters: start and end")
		return
	}
	start, err1 := parseReplicationTime(q.Get("start"))
	end, err2 := parseReplicationTime(q.Get("end"))
	if err1 != nil || err2 != nil {
		writeError(w, http.StatusBadRequest, "INVALID_REPLICATION_DATE", "Unable to parse start or end date: use ISO 8601, e.g. 2024-01-31T00:00:00+00:00")
		return
	}
	now := s.clock.Now()
	start, end = start.Truncate(time.Minute), end.Truncate(time.Minute)
	if end.After(now) {
		end = now.Truncate(time.Minute)
	}
	if !start.Before(end) {
		writeError(w, http.StatusBadRequest, "INVALID_REPLICATION_DATE", "startDate must chronologically precede endDate by more than one minute")
		return
	}
	window := 30 * 24 * time.Hour
	if deleted {
		window = 15 * 24 * time.Hour
	}
	earliest := now.Add(-window).Truncate(time.Minute)
	if start.Before(earliest) {
		writeError(w, http.StatusBadRequest, "INVALID_REPLICATION_DATE", fmt.Sprintf("startDate cannot be more than %d days ago", int(window.Hours()/24)))
		return
	}
	if !o.hasIsDeleted && deleted {
		writeJSON(w, http.StatusOK, map[string]any{"deletedRecords": []any{}, "earliestDateAvailable": crm.FormatSalesforce(earliest), "latestDateCovered": crm.FormatSalesforce(end)})
		return
	}
	s.mu.RLock()
	t := s.db.tables[strings.ToLower(o.name)]
	ids := []string{}
	type delRec struct {
		ID          string `json:"id"`
		DeletedDate string `json:"deletedDate"`
	}
	dels := []delRec{}
	t.scan(start.UnixMilli(), func(rec *record) bool {
		if rec.stamp >= end.UnixMilli() {
			return false
		}
		if deleted && rec.deleted && !rec.deletedAt.Before(start) && rec.deletedAt.Before(end) {
			dels = append(dels, delRec{ID: rec.id, DeletedDate: crm.FormatSalesforce(rec.deletedAt)})
		} else if !deleted && !rec.deleted {
			ids = append(ids, rec.id)
		}
		return true
	})
	s.mu.RUnlock()
	if deleted {
		writeJSON(w, http.StatusOK, map[string]any{"deletedRecords": dels, "earliestDateAvailable": crm.FormatSalesforce(earliest), "latestDateCovered": crm.FormatSalesforce(end)})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ids": ids, "latestDateCovered": crm.FormatSalesforce(end)})
}
