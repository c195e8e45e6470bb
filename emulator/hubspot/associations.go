package hubspot

import (
	"net/http"
	"strconv"
	"time"
)

type wireAssocType struct {
	Category string  `json:"category"`
	TypeID   int     `json:"typeId"`
	Label    *string `json:"label"`
}

func wireType(at assocType) wireAssocType {
	w := wireAssocType{Category: at.category, TypeID: at.typeID}
	if at.label != "" {
		l := at.label
		w.Label = &l
	}
	return w
}

type wireAssocTarget struct {
	ToObjectID       int64           `json:"toObjectId"`
	AssociationTypes []wireAssocType `json:"associationTypes"`
}

type assocSpec struct {
	AssociationCategory string `json:"associationCategory"`
	AssociationTypeID   int    `json:"associationTypeId"`
}

type idRef struct {
	ID string `json:"id"`
}

// liveRecord returns a non-archived record.
func (s *Server) liveRecord(t *objectType, id int64) *record {
	r := s.tables[t.name].records[id]
	if r == nil || r.archived {
		return nil
	}
	return r
}

// associate links two live records with a type (and its inverse). Setting
// a contact's primary company also sets associatedcompanyid, which — as in
// HubSpot — is a property change of the contact. Activities never change:
// re-linking a call to another company leaves its modified date alone.
func (s *Server) associate(from, to *objectType, fromID, toID int64, at assocType, now time.Time) {
	s.assoc.add(from.name, to.name, fromID, toID, at)
	contact, company := int64(0), int64(0)
	switch {
	case from.name == "contacts" && to.name == "companies" && at.primary:
		contact, company = fromID, toID
	case from.name == "companies" && to.name == "contacts" && at.primary:
		contact, company = toID, fromID
	}
	if contact != 0 {
		tb := s.tables["contacts"]
		if r := tb.records[contact]; r != nil {
			r.props["associatedcompanyid"] = strconv.FormatInt(company, 10)
			tb.touch(r, now)
		}
	}
}

// associateDefault creates the default association, and for a contact
// without a primary company, makes this company its primary one.
func (s *Server) associateDefault(from, to *objectType, fromID, toID int64, now time.Time) []assocType {
	at, _ := defaultAssocType(from.name, to.name)
	s.associate(from, to, fromID, toID, at, now)
	made := []assocType{at}
	if p, ok := s.primaryType(from, to); ok {
		contactID := fromID
		if from.name != "contacts" {
			contactID = toID
		}
		if c := s.tables["contacts"].records[contactID]; c != nil && c.props["associatedcompanyid"] == "" {
			s.associate(from, to, fromID, toID, p, now)
			made = append(made, p)
		}
	}
	return made
}

func (s *Server) primaryType(from, to *objectType) (assocType, bool) {
	if !((from.name == "contacts" && to.name == "companies") || (from.name == "companies" && to.name == "contacts")) {
		return assocType{}, false
	}
	for _, at := range assocTypes[pairKey{from.name, to.name}] {
		if at.primary {
			return at, true
		}
	}
	return assocType{}, false
}

// liveTargets lists associated live records with their types.
func (s *Server) liveTargets(from, to *objectType, fromID int64) []wireAssocTarget {
	out := []wireAssocTarget{}
	for _, id := range s.assoc.targets(from.name, to.name, fromID) {
		if s.liveRecord(to, id) == nil {
			continue
		}
		t := wireAssocTarget{ToObjectID: id}
		for _, tid := range s.assoc.types(from.name, to.name, fromID, id) {
			if at, ok := findAssocType(from.name, to.name, tid); ok {
				t.AssociationTypes = append(t.AssociationTypes, wireType(at))
			}
		}
		out = append(out, t)
	}
	return out
}

// pairTypes resolves and checks the two object types of an association
// call, and that associations between them exist.
func (s *Server) pairTypes(w http.ResponseWriter, fromS, toS string) (*objectType, *objectType, bool) {
	from, ok := lookupType(fromS)
	if !ok {
		s.writeError(w, unknownTypeError(fromS))
		return nil, nil, false
	}
	to, ok := lookupType(toS)
	if !ok {
		s.writeError(w, unknownTypeError(toS))
		return nil, nil, false
	}
	if len(assocTypes[pairKey{from.name, to.name}]) == 0 {
		s.writeError(w, validationError("No association types exist from %s to %s", from.name, to.name))
		return nil, nil, false
	}
	return from, to, true
}

// handleRecordAssociations serves /crm/v4/objects/{from}/{id}/associations/….
func (s *Server) handleRecordAssociations(w http.ResponseWriter, r *http.Request, c *caller, parts []string) {
	// parts: from, id, "associations", rest...
	rest := parts[3:]
	var toS string
	isDefault := len(rest) == 3 && rest[0] == "default"
	switch {
	case isDefault:
		toS = rest[1]
	case len(rest) == 1 || len(rest) == 2:
		toS = rest[0]
	default:
		s.notFoundRoute(w, r)
		return
	}
	from, to, ok := s.pairTypes(w, parts[0], toS)
	if !ok {
		return
	}
	fromID, err := parseID(parts[1])
	if err != nil {
		s.writeError(w, validationError("Invalid %s id: %v", from.singular, err))
		return
	}
	write := r.Method != http.MethodGet
	scope := from.readScope
	if write {
		scope = from.writeScope
	}
	if !s.requireScopes(w, c, scope) {
		return
	}
	if write {
		s.lockWrite()
		defer s.mu.Unlock()
	} else {
		s.mu.RLock()
		defer s.mu.RUnlock()
	}
	if s.liveRecord(from, fromID) == nil {
		s.writeError(w, newAPIError(http.StatusNotFound, catNotFound, "No %s with id %d exists", from.singular, fromID))
		return
	}
	switch {
	case r.Method == http.MethodGet && len(rest) == 1:
		q := r.URL.Query()
		limit, after, perr := pageParams(q.Get("limit"), q.Get("after"), 500, 500)
		if perr != nil {
			s.writeError(w, perr)
			return
		}
		all := s.liveTargets(from, to, fromID)
		page := []wireAssocTarget{}
		for i := after; i < len(all) && i < after+limit; i++ {
			page = append(page, all[i])
		}
		out := map[string]any{"results": page}
		if after+limit < len(all) {
			next := strconv.Itoa(after + limit)
			out["paging"] = map[string]any{"next": map[string]string{"after": next, "link": s.link(r, next)}}
		}
		writeJSON(w, http.StatusOK, out)
	case r.Method == http.MethodPut && isDefault:
		toID, err := parseID(rest[2])
		if err != nil || s.liveRecord(to, toID) == nil {
			s.writeError(w, newAPIError(http.StatusNotFound, catNotFound, "No %s with id %s exists", to.singular, rest[2]))
			return
		}
		start := s.now()
		made := s.associateDefault(from, to, fromID, toID, start)
		var results []map[string]any
		for _, at := range made {
			results = append(results,
				map[string]any{"from": idRef{strconv.FormatInt(fromID, 10)}, "to": idRef{strconv.FormatInt(toID, 10)},
					"associationSpec": assocSpec{at.category, at.typeID}},
				map[string]any{"from": idRef{strconv.FormatInt(toID, 10)}, "to": idRef{strconv.FormatInt(fromID, 10)},
					"associationSpec": assocSpec{at.category, at.inverse}})
		}
		writeJSON(w, http.StatusOK, map[string]any{"status": "COMPLETE", "results": results,
			"startedAt": formatTime(start), "completedAt": formatTime(s.now())})
	case r.Method == http.MethodPut && len(rest) == 2:
		toID, err := parseID(rest[1])
		if err != nil || s.liveRecord(to, toID) == nil {
			s.writeError(w, newAPIError(http.StatusNotFound, catNotFound, "No %s with id %s exists", to.singular, rest[1]))
			return
		}
		var specs []assocSpec
		if e := decodeJSON(r, &specs); e != nil {
			s.writeError(w, e)
			return
		}
		types, e := checkSpecs(from, to, specs)
		if e != nil {
			s.writeError(w, e)
			return
		}
		now := s.now()
		for _, at := range types {
			s.associate(from, to, fromID, toID, at, now)
		}
		writeJSON(w, http.StatusCreated, s.labelsResult(from, to, fromID, toID))
	case r.Method == http.MethodDelete && len(rest) == 2:
		toID, err := parseID(rest[1])
		if err != nil {
			s.writeError(w, validationError("Invalid %s id %q", to.singular, rest[1]))
			return
		}
		s.assoc.remove(from.name, to.name, fromID, toID, 0)
		w.WriteHeader(http.StatusNoContent)
	default:
		s.notFoundRoute(w, r)
	}
}

// checkSpecs validates association type inputs for a pair.
func checkSpecs(from, to *objectType, specs []assocSpec) ([]assocType, *apiError) {
	if len(specs) == 0 {
		return nil, validationError("At least one association type is required")
	}
	var out []assocType
	for _, sp := range specs {
		at, ok := findAssocType(from.name, to.name, sp.AssociationTypeID)
		if !ok || (sp.AssociationCategory != "" && sp.AssociationCategory != at.category) {
			return nil, validationError("association type %s/%d is not valid from %s to %s: list the valid ones with GET /crm/v4/associations/%s/%s/labels",
				sp.AssociationCategory, sp.AssociationTypeID, from.name, to.name, from.name, to.name)
		}
		out = append(out, at)
	}
	return out, nil
}

func (s *Server) labelsResult(from, to *objectType, fromID, toID int64) map[string]any {
	labels := []string{}
	for _, tid := range s.assoc.types(from.name, to.name, fromID, toID) {
		if at, ok := findAssocType(from.name, to.name, tid); ok && at.label != "" {
			labels = append(labels, at.label)
		}
	}
	return map[string]any{"fromObjectTypeId": from.typeID, "fromObjectId": fromID,
		"toObjectTypeId": to.typeID, "toObjectId": toID, "labels": labels}
}

type batchAssocInput struct {
	From  idRef       `json:"from"`
	To    jsonIDs     `json:"to"`
	Types []assocSpec `json:"types"`
	ID    string      `json:"id"`
}

// handleAssociationBatch serves /crm/v4/associations/{from}/{to}/….
func (s *Server) handleAssociationBatch(w http.ResponseWriter, r *http.Request, c *caller, parts []string) {
	from, to, ok := s.pairTypes(w, parts[0], parts[1])
	if !ok {
		return
	}
	op := ""
	for _, p := range parts[2:] {
		op += "/" + p
	}
	if op == "/labels" && r.Method == http.MethodGet {
		if !s.requireScopes(w, c, from.readScope, from.schemaRead) {
			return
		}
		res := []wireAssocType{}
		for _, at := range assocTypes[pairKey{from.name, to.name}] {
			res = append(res, wireType(at))
		}
		writeJSON(w, http.StatusOK, map[string]any{"results": res})
		return
	}
	if r.Method != http.MethodPost {
		s.notFoundRoute(w, r)
		return
	}
	var body struct {
		Inputs []batchAssocInput `json:"inputs"`
	}
	if e := decodeJSON(r, &body); e != nil {
		s.writeError(w, e)
		return
	}
	if e := checkBatchSize(len(body.Inputs), 1000); e != nil {
		s.writeError(w, e)
		return
	}
	write := op != "/batch/read"
	scope := from.readScope
	if write {
		scope = from.writeScope
	}
	if !s.requireScopes(w, c, scope) {
		return
	}
	if write {
		s.lockWrite()
		defer s.mu.Unlock()
	} else {
		s.mu.RLock()
		defer s.mu.RUnlock()
	}
	start := s.now()
	var results []any
	var errs []batchError
	for _, in := range body.Inputs {
		fromS := in.From.ID
		if op == "/batch/read" {
			fromS = in.ID
		}
		fromID, err := parseID(fromS)
		if err != nil || s.liveRecord(from, fromID) == nil {
			errs = append(errs, s.batchErr(catNotFound, "crm.associations.INVALID_OBJECT_IDS",
				"No "+from.singular+" with id "+fromS+" exists", map[string][]string{"fromObjectId": {fromS}}))
			continue
		}
		switch op {
		case "/batch/read":
			targets := s.liveTargets(from, to, fromID)
			if len(targets) == 0 {
				errs = append(errs, s.batchErr(catNotFound, "crm.associations.NO_ASSOCIATIONS_FOUND",
					"No "+to.singular+" is associated with "+from.singular+" "+fromS+".",
					map[string][]string{"fromObjectId": {fromS}, "fromObjectType": {from.singular}, "toObjectType": {to.singular}}))
				continue
			}
			results = append(results, map[string]any{"from": idRef{fromS}, "to": targets})
		case "/batch/create", "/batch/associate/default", "/batch/archive", "/batch/labels/archive":
			if len(in.To) == 0 {
				errs = append(errs, s.batchErr(catValidation, "", "input for "+from.singular+" "+fromS+" names no target id", nil))
				continue
			}
			for _, toS := range in.To {
				toID, err := parseID(toS)
				if err != nil || (op != "/batch/archive" && op != "/batch/labels/archive" && s.liveRecord(to, toID) == nil) {
					errs = append(errs, s.batchErr(catNotFound, "crm.associations.INVALID_OBJECT_IDS",
						"No "+to.singular+" with id "+toS+" exists", map[string][]string{"toObjectId": {toS}}))
					continue
				}
				switch op {
				case "/batch/create":
					types, e := checkSpecs(from, to, in.Types)
					if e != nil {
						errs = append(errs, s.batchErr(catValidation, "", e.Message, nil))
						continue
					}
					for _, at := range types {
						s.associate(from, to, fromID, toID, at, start)
					}
					results = append(results, s.labelsResult(from, to, fromID, toID))
				case "/batch/associate/default":
					for _, at := range s.associateDefault(from, to, fromID, toID, start) {
						results = append(results, map[string]any{"from": idRef{fromS}, "to": idRef{toS},
							"associationSpec": assocSpec{at.category, at.typeID}})
					}
				case "/batch/archive":
					s.assoc.remove(from.name, to.name, fromID, toID, 0)
				case "/batch/labels/archive":
					types, e := checkSpecs(from, to, in.Types)
					if e != nil {
						errs = append(errs, s.batchErr(catValidation, "", e.Message, nil))
						continue
					}
					for _, at := range types {
						s.assoc.remove(from.name, to.name, fromID, toID, at.typeID)
					}
				}
			}
		default:
			s.notFoundRoute(w, r)
			return
		}
	}
	if op == "/batch/archive" || op == "/batch/labels/archive" {
		if len(errs) == 0 {
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	status := http.StatusOK
	if op == "/batch/create" || op == "/batch/associate/default" {
		status = http.StatusCreated
	}
	s.writeBatch(w, status, start, results, errs)
}
