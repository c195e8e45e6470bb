package hubspot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"healthsync/crm"
)

// propInput is a request's property map. HubSpot wants strings but accepts
// JSON numbers, booleans and null too; they are turned into their string
// form (null clears the value).
type propInput map[string]string

// UnmarshalJSON implements json.Unmarshaler.
func (p *propInput) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("properties must be an object of property names to values: %w", err)
	}
	out := make(propInput, len(raw))
	for k, v := range raw {
		v = bytes.TrimSpace(v)
		switch {
		case bytes.Equal(v, []byte("null")):
			out[k] = ""
		case len(v) > 0 && v[0] == '"':
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return fmt.Errorf("property %q: %w", k, err)
			}
			out[k] = s
		case len(v) > 0 && (v[0] == '{' || v[0] == '['):
			return fmt.Errorf("property %q: value must be a string, number or boolean", k)
		default:
			out[k] = string(v)
		}
	}
	*p = out
	return nil
}

// readOnlyNames are properties whose values the API never takes.
func readOnly(p *propDef) bool { return p.ModificationMetadata.ReadOnlyValue }

// normalizeValue checks a value against its property definition and
// returns the form it is stored in. ok is false with a HubSpot error code
// and message when the value is invalid.
func (s *Server) normalizeValue(t *objectType, p *propDef, v string) (string, *propertyError) {
	if v == "" {
		return "", nil
	}
	bad := func(code, msg string) (string, *propertyError) {
		return "", &propertyError{Error: code, Name: p.Name, Message: msg, Localized: msg}
	}
	switch p.Type {
	case "number":
		v = strings.TrimSpace(v)
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return bad("INVALID_DECIMAL", fmt.Sprintf("%s was not a valid number.", strconv.Quote(v)))
		}
		return v, nil
	case "bool":
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true":
			return "true", nil
		case "false":
			return "false", nil
		}
		return bad("INVALID_BOOLEAN", fmt.Sprintf("%s was not a valid boolean (use true or false).", strconv.Quote(v)))
	case "datetime":
		t, err := crm.ParseTime(v)
		if err != nil {
			return bad("INVALID_DATETIME", fmt.Sprintf("%s was not a valid datetime: use epoch milliseconds or ISO 8601.", strconv.Quote(v)))
		}
		return formatTime(t), nil
	case "date":
		t, err := crm.ParseTime(v)
		if err != nil || !t.Equal(crm.Date(t)) {
			return bad("INVALID_DATE", fmt.Sprintf("%s is not a valid date: use YYYY-MM-DD or epoch milliseconds of midnight UTC.", strconv.Quote(v)))
		}
		return t.Format("2006-01-02"), nil
	case "enumeration":
		if p.ExternalOptions {
			return s.checkExternalOption(t, p, v)
		}
		values := []string{v}
		if p.FieldType == "checkbox" {
			values = strings.Split(v, ";")
		}
		for _, one := range values {
			if !hasOption(p, one) {
				return bad("INVALID_OPTION", fmt.Sprintf("%s was not one of the allowed options: %s",
					strconv.Quote(one), optionList(p)))
			}
		}
		return v, nil
	}
	return v, nil
}

func hasOption(p *propDef, v string) bool {
	for _, o := range p.Options {
		if o.Value == v {
			return true
		}
	}
	return false
}

func optionList(p *propDef) string {
	vals := make([]string, 0, len(p.Options))
	for _, o := range p.Options {
		vals = append(vals, fmt.Sprintf("[label: %s, value: %s]", o.Label, o.Value))
	}
	return "[" + strings.Join(vals, ", ") + "]"
}

// checkExternalOption validates owner ids, pipelines and deal stages.
func (s *Server) checkExternalOption(t *objectType, p *propDef, v string) (string, *propertyError) {
	bad := func(msg string) (string, *propertyError) {
		return "", &propertyError{Error: "INVALID_OPTION", Name: p.Name, Message: msg, Localized: msg}
	}
	switch p.Name {
	case "hubspot_owner_id":
		if _, ok := s.owners[v]; !ok {
			return bad(fmt.Sprintf("%s is not a valid owner id", strconv.Quote(v)))
		}
	case "pipeline":
		if s.pipeline(v) == nil {
			return bad(fmt.Sprintf("%s is not a valid pipeline id", strconv.Quote(v)))
		}
	case "dealstage":
		if _, _, ok := s.stage(v); !ok {
			return bad(fmt.Sprintf("%s was not one of the allowed options", strconv.Quote(v)))
		}
	}
	return v, nil
}

// applyProps validates and applies property writes to a record's property
// map (a fresh copy is returned; nothing changes on error). Unknown and
// read-only properties are errors, as in HubSpot.
func (s *Server) applyProps(tb *table, current map[string]string, in propInput, system bool) (map[string]string, *apiError) {
	next := make(map[string]string, len(current)+len(in))
	for k, v := range current {
		next[k] = v
	}
	var errs []propertyError
	for name, v := range in {
		p, ok := tb.props[name]
		if !ok || p.Archived {
			msg := fmt.Sprintf("Property %s does not exist", strconv.Quote(name))
			errs = append(errs, propertyError{Error: "PROPERTY_DOESNT_EXIST", Name: name, Message: msg, Localized: msg})
			continue
		}
		if readOnly(p) && !system {
			msg := fmt.Sprintf("%s is a read only property; its value cannot be set.", strconv.Quote(name))
			errs = append(errs, propertyError{Error: "READ_ONLY_VALUE", Name: name, Message: msg, Localized: msg})
			continue
		}
		norm, perr := s.normalizeValue(tb.typ, p, v)
		if perr != nil {
			errs = append(errs, *perr)
			continue
		}
		if norm == "" {
			delete(next, name)
		} else {
			next[name] = norm
		}
	}
	if len(errs) > 0 {
		sortPropErrors(errs)
		return nil, propertyValidationError(errs)
	}
	if tb.typ.name == "deals" {
		s.deriveDealProps(next)
	}
	return next, nil
}

func sortPropErrors(errs []propertyError) {
	for i := 1; i < len(errs); i++ {
		for j := i; j > 0 && errs[j].Name < errs[j-1].Name; j-- {
			errs[j], errs[j-1] = errs[j-1], errs[j]
		}
	}
}

// deriveDealProps keeps the calculated closed/won flags and probability in
// line with the deal stage, as HubSpot does.
func (s *Server) deriveDealProps(props map[string]string) {
	st, _, ok := s.stage(props["dealstage"])
	if !ok {
		delete(props, "hs_is_closed")
		delete(props, "hs_is_closed_won")
		return
	}
	props["hs_is_closed"] = strconv.FormatBool(st.closed)
	props["hs_is_closed_won"] = strconv.FormatBool(st.closed && st.probability == 1)
	props["hs_deal_stage_probability"] = strconv.FormatFloat(st.probability, 'f', -1, 64)
}

// timeValue parses a stored or filter datetime value to epoch ms.
func timeValue(v string) (int64, bool) {
	if v == "" {
		return 0, false
	}
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		return ms, true
	}
	t, err := crm.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return t.UnixMilli(), true
}

// epoch is the fixed creation time of HubSpot-defined schema objects.
var epoch = time.Date(2019, 8, 6, 2, 43, 1, 0, time.UTC)
