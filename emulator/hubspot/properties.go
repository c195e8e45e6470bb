package hubspot

import (
	"net/http"
	"regexp"
	"strings"
)

var propNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// propertyInput is the body of a property create or update.
type propertyInput struct {
	Name           *string       `json:"name"`
	Label          *string       `json:"label"`
	Type           *string       `json:"type"`
	FieldType      *string       `json:"fieldType"`
	GroupName      *string       `json:"groupName"`
	Description    *string       `json:"description"`
	Options        *[]propOption `json:"options"`
	DisplayOrder   *int          `json:"displayOrder"`
	HasUniqueValue *bool         `json:"hasUniqueValue"`
	Hidden         *bool         `json:"hidden"`
	FormField      *bool         `json:"formField"`
}

type groupInput struct {
	Name         *string `json:"name"`
	Label        *string `json:"label"`
	DisplayOrder *int    `json:"displayOrder"`
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// handleProperties serves /crm/v3/properties/{type}[/groups][/{name}].
func (s *Server) handleProperties(w http.ResponseWriter, r *http.Request, c *caller, parts []string) {
	t, ok := lookupType(parts[0])
	if !ok {
		s.writeError(w, unknownTypeError(parts[0]))
		return
	}
	rest := parts[1:]
	write := r.Method != http.MethodGet
	scope := t.schemaRead
	if write {
		scope = t.schemaWrit
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
	tb := s.tables[t.name]
	if len(rest) > 0 && rest[0] == "groups" {
		s.handleGroups(w, r, tb, rest[1:])
		return
	}
	archived := r.URL.Query().Get("archived") == "true"
	switch {
	case len(rest) == 0 && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{"results": sortedProps(tb.props, archived)})
	case len(rest) == 0 && r.Method == http.MethodPost:
		var in propertyInput
		if e := decodeJSON(r, &in); e != nil {
			s.writeError(w, e)
			return
		}
		p, e := s.createProperty(tb, in)
		if e != nil {
			s.writeError(w, e)
			return
		}
		writeJSON(w, http.StatusCreated, p)
	case len(rest) == 1 && r.Method == http.MethodGet:
		p, ok := tb.props[rest[0]]
		if !ok || p.Archived != archived {
			s.writeError(w, newAPIError(http.StatusNotFound, catNotFound, "Unable to find property %s on %s", rest[0], t.name))
			return
		}
		writeJSON(w, http.StatusOK, p)
	case len(rest) == 1 && r.Method == http.MethodPatch:
		var in propertyInput
		if e := decodeJSON(r, &in); e != nil {
			s.writeError(w, e)
			return
		}
		p, e := s.updateProperty(tb, rest[0], in)
		if e != nil {
			s.writeError(w, e)
			return
		}
		writeJSON(w, http.StatusOK, p)
	case len(rest) == 1 && r.Method == http.MethodDelete:
		p, ok := tb.props[rest[0]]
		if !ok || p.Archived {
			s.writeError(w, newAPIError(http.StatusNotFound, catNotFound, "Unable to find property %s on %s", rest[0], t.name))
			return
		}
		if p.HubspotDefined {
			s.writeError(w, validationError("Property %s is defined by HubSpot and cannot be archived", p.Name))
			return
		}
		now := formatTime(s.now())
		p.Archived, p.ArchivedAt, p.UpdatedAt = true, now, now
		w.WriteHeader(http.StatusNoContent)
	default:
		s.notFoundRoute(w, r)
	}
}

// checkTypes validates a property's type, field type and options.
func checkTypes(typ, field string, options []propOption) *apiError {
	fields, ok := validFieldTypes[typ]
	if !ok {
		return validationError("type %q is not valid: use string, number, date, datetime, enumeration or bool", typ)
	}
	if !contains(fields, field) {
		return validationError("fieldType %q is not valid for type %q: use one of %s", field, typ, strings.Join(fields, ", "))
	}
	if typ == "enumeration" && len(options) == 0 {
		return validationError("an enumeration property needs options")
	}
	seen := map[string]bool{}
	for _, o := range options {
		if o.Value == "" || o.Label == "" {
			return validationError("every option needs a label and a value")
		}
		if seen[o.Value] {
			return validationError("option value %q appears twice", o.Value)
		}
		seen[o.Value] = true
	}
	return nil
}

func (s *Server) createProperty(tb *table, in propertyInput) (*propDef, *apiError) {
	name := str(in.Name)
	var missing []string
	for field, v := range map[string]*string{"name": in.Name, "label": in.Label, "type": in.Type, "fieldType": in.FieldType, "groupName": in.GroupName} {
		if str(v) == "" {
			missing = append(missing, field)
		}
	}
	if len(missing) > 0 {
		return nil, validationError("Missing required fields for a property: %s", strings.Join(dedupe(missing), ", "))
	}
	if !propNameRE.MatchString(name) {
		return nil, validationError("Property name %q is not valid: use lower-case letters, digits and underscores, starting with a letter", name)
	}
	if existing, ok := tb.props[name]; ok && !existing.Archived {
		return nil, newAPIError(http.StatusConflict, catConflict, "A property named '%s' already exists.", name)
	}
	if _, ok := tb.groups[str(in.GroupName)]; !ok {
		return nil, validationError("Property group %q does not exist on %s: create it first at /crm/v3/properties/%s/groups", str(in.GroupName), tb.typ.name, tb.typ.name)
	}
	var options []propOption
	if in.Options != nil {
		options = *in.Options
	}
	if e := checkTypes(str(in.Type), str(in.FieldType), options); e != nil {
		return nil, e
	}
	now := formatTime(s.now())
	p := &propDef{Name: name, Label: str(in.Label), Type: str(in.Type), FieldType: str(in.FieldType),
		GroupName: str(in.GroupName), Description: str(in.Description), Options: options, DisplayOrder: -1,
		CreatedAt: now, UpdatedAt: now, CreatedUserID: "9000101", FormField: in.FormField != nil && *in.FormField,
		HasUniqueValue: in.HasUniqueValue != nil && *in.HasUniqueValue, Hidden: in.Hidden != nil && *in.Hidden,
		ModificationMetadata: modificationMeta{Archivable: true}}
	if p.Options == nil {
		p.Options = []propOption{}
	}
	if in.DisplayOrder != nil {
		p.DisplayOrder = *in.DisplayOrder
	}
	tb.props[name] = p
	return p, nil
}

func (s *Server) updateProperty(tb *table, name string, in propertyInput) (*propDef, *apiError) {
	p, ok := tb.props[name]
	if !ok || p.Archived {
		return nil, newAPIError(http.StatusNotFound, catNotFound, "Unable to find property %s on %s", name, tb.typ.name)
	}
	if p.HubspotDefined && (in.Type != nil || in.FieldType != nil || in.Options != nil) {
		return nil, validationError("Property %s is defined by HubSpot: its type, field type and options cannot change", name)
	}
	next := *p
	if in.Label != nil {
		next.Label = *in.Label
	}
	if in.Description != nil {
		next.Description = *in.Description
	}
	if in.GroupName != nil {
		if _, ok := tb.groups[*in.GroupName]; !ok {
			return nil, validationError("Property group %q does not exist on %s", *in.GroupName, tb.typ.name)
		}
		next.GroupName = *in.GroupName
	}
	if in.Type != nil {
		next.Type = *in.Type
	}
	if in.FieldType != nil {
		next.FieldType = *in.FieldType
	}
	if in.Options != nil {
		next.Options = *in.Options
	}
	if in.DisplayOrder != nil {
		next.DisplayOrder = *in.DisplayOrder
	}
	if in.Hidden != nil {
		next.Hidden = *in.Hidden
	}
	if in.FormField != nil {
		next.FormField = *in.FormField
	}
	if e := checkTypes(next.Type, next.FieldType, next.Options); e != nil && !p.HubspotDefined {
		return nil, e
	}
	next.UpdatedAt = formatTime(s.now())
	*p = next
	return p, nil
}

func (s *Server) handleGroups(w http.ResponseWriter, r *http.Request, tb *table, rest []string) {
	switch {
	case len(rest) == 0 && r.Method == http.MethodGet:
		res := []*propGroup{}
		for _, g := range tb.groups {
			if !g.Archived {
				res = append(res, g)
			}
		}
		sortGroups(res)
		writeJSON(w, http.StatusOK, map[string]any{"results": res})
	case len(rest) == 0 && r.Method == http.MethodPost:
		var in groupInput
		if e := decodeJSON(r, &in); e != nil {
			s.writeError(w, e)
			return
		}
		name := str(in.Name)
		if !propNameRE.MatchString(name) || str(in.Label) == "" {
			s.writeError(w, validationError("A property group needs a name (lower-case letters, digits, underscores) and a label"))
			return
		}
		if g, ok := tb.groups[name]; ok && !g.Archived {
			s.writeError(w, newAPIError(http.StatusConflict, catConflict, "A property group named '%s' already exists.", name))
			return
		}
		g := &propGroup{Name: name, Label: str(in.Label), DisplayOrder: -1}
		if in.DisplayOrder != nil {
			g.DisplayOrder = *in.DisplayOrder
		}
		tb.groups[name] = g
		writeJSON(w, http.StatusCreated, g)
	case len(rest) == 1:
		g, ok := tb.groups[rest[0]]
		if !ok || g.Archived {
			s.writeError(w, newAPIError(http.StatusNotFound, catNotFound, "Unable to find property group %s on %s", rest[0], tb.typ.name))
			return
		}
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, http.StatusOK, g)
		case http.MethodPatch:
			var in groupInput
			if e := decodeJSON(r, &in); e != nil {
				s.writeError(w, e)
				return
			}
			if in.Label != nil {
				g.Label = *in.Label
			}
			if in.DisplayOrder != nil {
				g.DisplayOrder = *in.DisplayOrder
			}
			writeJSON(w, http.StatusOK, g)
		case http.MethodDelete:
			if g.Name == tb.typ.group {
				s.writeError(w, validationError("Property group %s is defined by HubSpot and cannot be archived", g.Name))
				return
			}
			g.Archived = true
			w.WriteHeader(http.StatusNoContent)
		default:
			s.notFoundRoute(w, r)
		}
	default:
		s.notFoundRoute(w, r)
	}
}

func sortGroups(gs []*propGroup) {
	for i := 1; i < len(gs); i++ {
		for j := i; j > 0 && gs[j].Name < gs[j-1].Name; j-- {
			gs[j], gs[j-1] = gs[j-1], gs[j]
		}
	}
}
