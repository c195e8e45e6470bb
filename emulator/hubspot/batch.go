package hubspot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// maxBatch is HubSpot's limit on inputs per CRM v3 batch call.
const maxBatch = 100

// batchError is one failed input of a batch call, in the shape of
// HubSpot's StandardError (whose context, errors and links are required, so
// they are always present, if empty).
type batchError struct {
	Status   string              `json:"status"`
	Category string              `json:"category"`
	SubCat   string              `json:"subCategory,omitempty"`
	Message  string              `json:"message"`
	Context  map[string][]string `json:"context"`
	Errors   []errorDetail       `json:"errors"`
	Links    map[string]string   `json:"links"`
}

func (s *Server) batchErr(category, sub, msg string, ctx map[string][]string) batchError {
	if ctx == nil {
		ctx = map[string][]string{}
	}
	return batchError{Status: "error", Category: category, SubCat: sub, Message: msg, Context: ctx,
		Errors: []errorDetail{}, Links: map[string]string{}}
}

// writeBatch writes a batch answer: status when every input succeeded, 207
// with errors and numErrors otherwise.
func (s *Server) writeBatch(w http.ResponseWriter, status int, start time.Time, results []any, errs []batchError) {
	if results == nil {
		results = []any{}
	}
	out := map[string]any{"status": "COMPLETE", "results": results,
		"startedAt": formatTime(start), "completedAt": formatTime(s.now())}
	if len(errs) > 0 {
		out["numErrors"] = len(errs)
		out["errors"] = errs
		status = http.StatusMultiStatus
	}
	writeJSON(w, status, out)
}

func checkBatchSize(n, limit int) *apiError {
	if n == 0 {
		return validationError("inputs must hold at least one input")
	}
	if n > limit {
		return validationError("Batch input too large: %d inputs were given, at most %d are allowed per call. Split the inputs into batches of %d.", n, limit, limit)
	}
	return nil
}

// jsonIDs accepts {"id":"1"}, [{"id":"1"}], "1" or 1 and yields the ids.
type jsonIDs []string

// UnmarshalJSON implements json.Unmarshaler.
func (j *jsonIDs) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		*j = nil
		return nil
	}
	if b[0] == '[' {
		var many []json.RawMessage
		if err := json.Unmarshal(b, &many); err != nil {
			return err
		}
		var out jsonIDs
		for _, m := range many {
			var one jsonIDs
			if err := one.UnmarshalJSON(m); err != nil {
				return err
			}
			out = append(out, one...)
		}
		*j = out
		return nil
	}
	if b[0] == '{' {
		var obj struct {
			ID json.RawMessage `json:"id"`
		}
		if err := json.Unmarshal(b, &obj); err != nil {
			return err
		}
		return j.UnmarshalJSON(obj.ID)
	}
	var s string
	if b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	} else {
		s = string(b)
	}
	*j = jsonIDs{s}
	return nil
}

type batchBody struct {
	Inputs                []objectInput `json:"inputs"`
	Properties            []string      `json:"properties"`
	PropertiesWithHistory []string      `json:"propertiesWithHistory"`
	IDProperty            string        `json:"idProperty"`
	Archived              bool          `json:"archived"`
}

// batch serves POST /crm/v3/objects/{type}/batch/{read|create|update|archive}.
func (s *Server) batch(w http.ResponseWriter, r *http.Request, t *objectType, op string) {
	switch op {
	case "read", "create", "update", "archive":
	default:
		s.writeError(w, newAPIError(http.StatusNotFound, catNotFound, "Unknown batch operation %q: use read, create, update or archive", op))
		return
	}
	var body batchBody
	if e := decodeJSON(r, &body); e != nil {
		s.writeError(w, e)
		return
	}
	if e := checkBatchSize(len(body.Inputs), maxBatch); e != nil {
		s.writeError(w, e)
		return
	}
	if op == "read" && len(body.PropertiesWithHistory) > 0 && len(body.Inputs) > maxHistoryReads {
		s.writeError(w, tooManyForHistory(len(body.Inputs), true))
		return
	}
	if op == "update" || op == "archive" {
		seen := map[string]bool{}
		var dups []string
		for _, in := range body.Inputs {
			if seen[in.ID] {
				dups = append(dups, in.ID)
			}
			seen[in.ID] = true
		}
		if len(dups) > 0 {
			s.writeError(w, validationError("Duplicate IDs found in batch input: %v. IDs must be unique", dups))
			return
		}
	}
	if op == "read" {
		s.mu.RLock()
		defer s.mu.RUnlock()
	} else {
		s.lockWrite()
		defer s.mu.Unlock()
	}
	tb := s.tables[t.name]
	start := s.now()
	var results []any
	var errs []batchError
	var missing []string
	switch op {
	case "read":
		for _, in := range body.Inputs {
			rec := s.findRecord(tb, in.ID, body.IDProperty, body.Archived)
			if rec == nil {
				missing = append(missing, in.ID)
				continue
			}
			out := tb.render(rec, body.Properties)
			tb.withHistory(&out, rec, body.PropertiesWithHistory)
			results = append(results, out)
		}
	case "create":
		type prepared struct {
			props map[string]string
			links []func(*record, time.Time)
			in    objectInput
		}
		var all []prepared
		var perrs []string
		for i, in := range body.Inputs {
			props, links, e := s.prepareCreate(tb, in)
			if e != nil {
				perrs = append(perrs, fmt.Sprintf("inputs[%d]: %s", i, e.Message))
				continue
			}
			all = append(all, prepared{props, links, in})
		}
		if len(perrs) > 0 {
			s.writeError(w, validationError("%s", strings.Join(perrs, "; ")))
			return
		}
		for _, p := range all {
			rec := s.insert(tb, p.props, start, start, 0)
			rec.viaAPI, rec.createdBy = true, s.apiSource()
			tb.index(rec)
			for _, link := range p.links {
				link(rec, start)
			}
			results = append(results, tb.render(rec, writtenProps(t, p.in.Properties)))
		}
		s.writeBatch(w, http.StatusCreated, start, results, nil)
		return
	case "update":
		// HubSpot validates the whole batch's values before writing any.
		for i, in := range body.Inputs {
			if _, e := s.applyProps(tb, nil, in.Properties, false); e != nil {
				e.Message = fmt.Sprintf("inputs[%d] (id %s): %s", i, in.ID, e.Message)
				s.writeError(w, e)
				return
			}
		}
		for _, in := range body.Inputs {
			rec := s.findRecord(tb, in.ID, body.IDProperty, false)
			if rec == nil {
				missing = append(missing, in.ID)
				continue
			}
			if e := s.update(tb, rec, in.Properties, start, s.apiSource()); e != nil {
				be := s.batchErr(e.Category, "", e.Message, map[string][]string{"ids": {in.ID}})
				be.Errors = append(be.Errors, e.Errors...)
				errs = append(errs, be)
				continue
			}
			results = append(results, tb.render(rec, writtenProps(t, in.Properties)))
		}
	case "archive":
		for _, in := range body.Inputs {
			if rec := s.findRecord(tb, in.ID, "", false); rec != nil {
				s.archive(tb, rec, start)
			}
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if len(missing) > 0 {
		sort.Slice(missing, func(i, j int) bool {
			a, _ := strconv.ParseInt(missing[i], 10, 64)
			b, _ := strconv.ParseInt(missing[j], 10, 64)
			return a < b
		})
		errs = append(errs, s.batchErr(catNotFound, "",
			fmt.Sprintf("Could not get some %s objects, they may be deleted or not exist. Check that ids are valid.", strings.ToUpper(t.singular)),
			map[string][]string{"ids": missing}))
	}
	s.writeBatch(w, http.StatusOK, start, results, errs)
}
