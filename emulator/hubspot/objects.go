package hubspot

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// objectInput is the body of a create or update.
type objectInput struct {
	ID           string        `json:"id,omitempty"`
	Properties   propInput     `json:"properties"`
	Associations []assocCreate `json:"associations,omitempty"`
}

// assocCreate is an association made together with a new record.
type assocCreate struct {
	To    idRef       `json:"to"`
	Types []assocSpec `json:"types"`
}

// listParam collects a multi-valued, comma-separated query parameter.
func listParam(q url.Values, name string) []string {
	var out []string
	for _, v := range q[name] {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// handleObjects serves /crm/v3/objects/{type}/….
func (s *Server) handleObjects(w http.ResponseWriter, r *http.Request, c *caller, parts []string) {
	t, ok := lookupType(parts[0])
	if !ok {
		s.writeError(w, unknownTypeError(parts[0]))
		return
	}
	rest := parts[1:]
	switch {
	case len(rest) == 0 && r.Method == http.MethodGet:
		if s.requireScopes(w, c, t.readScope) {
			s.listObjects(w, r, t)
		}
	case len(rest) == 0 && r.Method == http.MethodPost:
		if s.requireScopes(w, c, t.writeScope) {
			s.createObject(w, r, t)
		}
	case len(rest) == 1 && rest[0] == "search" && r.Method == http.MethodPost:
		if s.requireScopes(w, c, t.readScope) {
			s.search(w, r, t)
		}
	case len(rest) == 2 && rest[0] == "batch" && r.Method == http.MethodPost:
		scope := t.writeScope
		if rest[1] == "read" {
			scope = t.readScope
		}
		if s.requireScopes(w, c, scope) {
			s.batch(w, r, t, rest[1])
		}
	case len(rest) == 1 && r.Method == http.MethodGet:
		if s.requireScopes(w, c, t.readScope) {
			s.getObject(w, r, t, rest[0])
		}
	case len(rest) == 1 && r.Method == http.MethodPatch:
		if s.requireScopes(w, c, t.writeScope) {
			s.updateObject(w, r, t, rest[0])
		}
	case len(rest) == 1 && r.Method == http.MethodDelete:
		if s.requireScopes(w, c, t.writeScope) {
			s.archiveObject(w, t, rest[0])
		}
	default:
		s.notFoundRoute(w, r)
	}
}

// renderWithAssocs renders a record and, when asked, its associations.
func (s *Server) renderWithAssocs(tb *table, r *record, props, assocs []string) wireRecord {
	out := tb.render(r, props)
	for _, name := range assocs {
		to, ok := lookupType(name)
		if !ok {
			continue
		}
		var refs []wireAssocRef
		for _, target := range s.liveTargets(tb.typ, to, r.id) {
			for _, wt := range target.AssociationTypes {
				at, _ := findAssocType(tb.typ.name, to.name, wt.TypeID)
				refs = append(refs, wireAssocRef{ID: strconv.FormatInt(target.ToObjectID, 10), Type: v3TypeName(tb.typ, to, at)})
			}
		}
		if len(refs) > 0 {
			if out.Associations == nil {
				out.Associations = map[string]wireAssocPage{}
			}
			out.Associations[to.name] = wireAssocPage{Results: refs}
		}
	}
	return out
}

func (s *Server) listObjects(w http.ResponseWriter, r *http.Request, t *objectType) {
	q := r.URL.Query()
	limit, _, perr := pageParams(q.Get("limit"), "", 100, 10)
	if perr != nil {
		s.writeError(w, perr)
		return
	}
	var after int64
	if a := q.Get("after"); a != "" {
		n, err := strconv.ParseInt(a, 10, 64)
		if err != nil || n < 0 {
			s.writeError(w, validationError("after must be a paging cursor returned by a previous call, got %q", a))
			return
		}
		after = n
	}
	archived := q.Get("archived") == "true"
	props, assocs := listParam(q, "properties"), listParam(q, "associations")
	withHist := listParam(q, "propertiesWithHistory")
	if len(withHist) > 0 && limit > maxHistoryReads {
		s.writeError(w, tooManyForHistory(limit, false))
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	tb := s.tables[t.name]
	var ids []int64
	if archived {
		for id, rec := range tb.records {
			if rec.archived && id >= after {
				ids = append(ids, id)
			}
		}
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	} else {
		ids = tb.ids[searchIDs(tb.ids, after):]
	}
	results := make([]wireRecord, 0, min(limit, len(ids)))
	for i := 0; i < len(ids) && i < limit; i++ {
		out := s.renderWithAssocs(tb, tb.records[ids[i]], props, assocs)
		tb.withHistory(&out, tb.records[ids[i]], withHist)
		results = append(results, out)
	}
	out := map[string]any{"results": results}
	next := ""
	switch {
	case s.faultsNow().LoopPaging && len(ids) > 0:
		next = strconv.FormatInt(ids[0], 10) // this very page again
	case len(ids) > limit:
		next = strconv.FormatInt(ids[limit], 10)
	}
	if next != "" {
		out["paging"] = map[string]any{"next": map[string]string{"after": next, "link": s.link(r, next)}}
	}
	writeJSON(w, http.StatusOK, out)
}

// findRecord resolves a record by id or by a unique property (idProperty).
func (s *Server) findRecord(tb *table, idS, idProperty string, archived bool) *record {
	if idProperty != "" && idProperty != "hs_object_id" {
		for _, rec := range tb.records {
			if rec.archived == archived && strings.EqualFold(rec.props[idProperty], idS) {
				return rec
			}
		}
		return nil
	}
	id, err := parseID(idS)
	if err != nil {
		return nil
	}
	rec := tb.records[id]
	if rec == nil || rec.archived != archived {
		return nil
	}
	return rec
}

func (s *Server) getObject(w http.ResponseWriter, r *http.Request, t *objectType, idS string) {
	q := r.URL.Query()
	s.mu.RLock()
	defer s.mu.RUnlock()
	tb := s.tables[t.name]
	rec := s.findRecord(tb, idS, q.Get("idProperty"), q.Get("archived") == "true")
	if rec == nil {
		s.writeError(w, notFoundError(t, idS))
		return
	}
	out := s.renderWithAssocs(tb, rec, listParam(q, "properties"), listParam(q, "associations"))
	tb.withHistory(&out, rec, listParam(q, "propertiesWithHistory"))
	writeJSON(w, http.StatusOK, out)
}

// insert creates a record from validated properties at the given times.
func (s *Server) insert(tb *table, props map[string]string, created, modified time.Time, id int64) *record {
	if id == 0 {
		s.nextID++
		id = s.nextID
	} else if id > s.nextID {
		s.nextID = id
	}
	props[tb.typ.createProp] = formatTime(created)
	props[tb.typ.modProp] = formatTime(modified)
	rec := &record{id: id, props: props, createdAt: created, updatedAt: modified}
	tb.records[id] = rec
	return rec
}

// prepareCreate validates one create input; it changes nothing.
func (s *Server) prepareCreate(tb *table, in objectInput) (map[string]string, []func(*record, time.Time), *apiError) {
	props, e := s.applyProps(tb, nil, in.Properties, false)
	if e != nil {
		return nil, nil, e
	}
	if tb.typ.isEngagement() && props["hs_timestamp"] == "" {
		msg := "hs_timestamp is required: every " + tb.typ.singular + " needs its activity date"
		return nil, nil, propertyValidationError([]propertyError{{Error: "REQUIRED_PROPERTY", Name: "hs_timestamp", Message: msg, Localized: msg}})
	}
	if tb.typ.name == "contacts" && props["email"] != "" {
		for _, other := range tb.records {
			if !other.archived && strings.EqualFold(other.props["email"], props["email"]) {
				e := newAPIError(http.StatusConflict, "CONFLICT", "Contact already exists. Existing ID: %d", other.id)
				return nil, nil, e
			}
		}
	}
	var links []func(*record, time.Time)
	for _, a := range in.Associations {
		toID, err := parseID(a.To.ID)
		var to *objectType
		for _, cand := range objectTypes {
			if len(assocTypes[pairKey{tb.typ.name, cand.name}]) == 0 {
				continue
			}
			for _, sp := range a.Types {
				if _, ok := findAssocType(tb.typ.name, cand.name, sp.AssociationTypeID); ok && err == nil && s.liveRecord(cand, toID) != nil {
					to = cand
				}
			}
		}
		if to == nil {
			return nil, nil, validationError("association to %q with types %v is not valid for a %s: the target must exist and the type id must be one GET /crm/v4/associations/%s/{toObjectType}/labels lists",
				a.To.ID, a.Types, tb.typ.singular, tb.typ.name)
		}
		types, e := checkSpecs(tb.typ, to, a.Types)
		if e != nil {
			return nil, nil, e
		}
		links = append(links, func(rec *record, now time.Time) {
			for _, at := range types {
				s.associate(tb.typ, to, rec.id, toID, at, now)
			}
		})
	}
	return props, links, nil
}

func (s *Server) createObject(w http.ResponseWriter, r *http.Request, t *objectType) {
	var in objectInput
	if e := decodeJSON(r, &in); e != nil {
		s.writeError(w, e)
		return
	}
	s.lockWrite()
	defer s.mu.Unlock()
	tb := s.tables[t.name]
	props, links, e := s.prepareCreate(tb, in)
	if e != nil {
		s.writeError(w, e)
		return
	}
	now := s.now()
	rec := s.insert(tb, props, now, now, 0)
	rec.viaAPI, rec.createdBy = true, s.apiSource()
	tb.index(rec)
	for _, link := range links {
		link(rec, now)
	}
	writeJSON(w, http.StatusCreated, tb.render(rec, writtenProps(t, in.Properties)))
}

// writtenProps are the properties a write answer shows: the defaults plus
// what was written.
func writtenProps(t *objectType, in propInput) []string {
	out := append([]string(nil), t.defaults...)
	for k := range in {
		out = append(out, k)
	}
	return out
}

// update applies property writes to a live record, bumping its modified
// date and recording the changes (by src) only when a value changed.
func (s *Server) update(tb *table, rec *record, in propInput, now time.Time, src *historySource) *apiError {
	next, e := s.applyProps(tb, rec.props, in, false)
	if e != nil {
		return e
	}
	changed := len(next) != len(rec.props)
	for k, v := range next {
		if rec.props[k] != v {
			changed = true
		}
	}
	if !changed {
		return nil
	}
	before := rec.props
	rec.props = next
	tb.touch(rec, now)
	tb.recordChanges(rec, before, in, now, src)
	return nil
}

func (s *Server) updateObject(w http.ResponseWriter, r *http.Request, t *objectType, idS string) {
	var in objectInput
	if e := decodeJSON(r, &in); e != nil {
		s.writeError(w, e)
		return
	}
	s.lockWrite()
	defer s.mu.Unlock()
	tb := s.tables[t.name]
	rec := s.findRecord(tb, idS, r.URL.Query().Get("idProperty"), false)
	if rec == nil {
		s.writeError(w, notFoundError(t, idS))
		return
	}
	if e := s.update(tb, rec, in.Properties, s.now(), s.apiSource()); e != nil {
		s.writeError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, tb.render(rec, writtenProps(t, in.Properties)))
}

// archive moves a record to the recycle bin.
func (s *Server) archive(tb *table, rec *record, now time.Time) {
	tb.unindex(rec)
	rec.archived = true
	rec.archivedAt = now
}

func (s *Server) archiveObject(w http.ResponseWriter, t *objectType, idS string) {
	s.lockWrite()
	defer s.mu.Unlock()
	tb := s.tables[t.name]
	rec := s.findRecord(tb, idS, "", false)
	if rec == nil {
		s.writeError(w, notFoundError(t, idS))
		return
	}
	s.archive(tb, rec, s.now())
	w.WriteHeader(http.StatusNoContent)
}
