package mapping

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"healthsync/connector"
	"healthsync/crm"
)

// reader reads typed values out of one raw record and collects the values
// it could not convert, so one bad field never hides another.
type reader struct {
	sys      crm.System
	top      map[string]any
	props    map[string]any // HubSpot properties; nil for Salesforce
	problems []FieldProblem
}

// readerOf reads a record from the fields the connector decoded, or
// decodes its raw JSON when it has none.
func readerOf(sys crm.System, rec connector.Record) (*reader, error) {
	if rec.Fields == nil {
		return newReader(sys, rec.Raw)
	}
	r := &reader{sys: sys, top: rec.Fields}
	if sys == crm.HubSpot {
		if p, ok := rec.Fields["properties"].(map[string]any); ok {
			r.props = p
		}
	}
	return r, nil
}

func newReader(sys crm.System, raw json.RawMessage) (*reader, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var top map[string]any
	if err := dec.Decode(&top); err != nil || top == nil {
		return nil, fmt.Errorf("raw record is not a JSON object")
	}
	r := &reader{sys: sys, top: top}
	if sys == crm.HubSpot {
		if p, ok := top["properties"].(map[string]any); ok {
			r.props = p
		}
	}
	return r, nil
}

// lookup finds a field's raw value: Salesforce fields by API name,
// following parent relationships (Owner.Email); HubSpot properties, then
// top-level members (owners have no properties).
func (r *reader) lookup(field string) any {
	if field == "" {
		return nil
	}
	if r.sys == crm.HubSpot {
		if v, ok := r.props[field]; ok {
			return v
		}
		return r.top[field]
	}
	var cur any = r.top
	for part := range strings.SplitSeq(field, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = obj[part]
	}
	return cur
}

func (r *reader) problem(field string, v any, want string) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(fmt.Sprintf("%v", v))
	}
	s := string(b)
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	r.problems = append(r.problems, FieldProblem{Field: field, Value: s, Want: want})
}

// str reads a text value. Numbers and booleans are accepted as their text.
func (r *reader) str(field string) string {
	switch v := r.lookup(field).(type) {
	case nil:
		return ""
	case string:
		return strings.TrimSpace(v)
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	default:
		r.problem(field, v, "a text value")
		return ""
	}
}

// id reads an identifier (text or a whole number).
func (r *reader) id(field string) string { return r.str(field) }

// num reads a number; HubSpot sends numbers as strings. Empty is nil.
func (r *reader) num(field string) *float64 {
	var s string
	switch v := r.lookup(field).(type) {
	case nil:
		return nil
	case json.Number:
		s = v.String()
	case string:
		s = strings.TrimSpace(v)
		if s == "" {
			return nil
		}
	default:
		r.problem(field, v, "a number")
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		r.problem(field, r.lookup(field), "a number")
		return nil
	}
	return &f
}

// integer reads a whole number.
func (r *reader) integer(field string) *int {
	f := r.num(field)
	if f == nil {
		return nil
	}
	if *f != math.Trunc(*f) || math.Abs(*f) > 1e15 {
		r.problem(field, r.lookup(field), "a whole number")
		return nil
	}
	i := int(*f)
	return &i
}

// boolean reads a checkbox; HubSpot sends "true"/"false". set is false
// when the record holds no value.
func (r *reader) boolean(field string) (value, set bool) {
	switch v := r.lookup(field).(type) {
	case nil:
		return false, false
	case bool:
		return v, true
	case string:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "":
			return false, false
		case "true", "yes", "1":
			return true, true
		case "false", "no", "0":
			return false, true
		}
		r.problem(field, v, "true or false")
	case json.Number:
		switch v.String() {
		case "1":
			return true, true
		case "0":
			return false, true
		}
		r.problem(field, v, "true or false")
	default:
		r.problem(field, v, "true or false")
	}
	return false, false
}

// instant reads a datetime: ISO 8601 or epoch milliseconds.
func (r *reader) instant(field string) *time.Time {
	var s string
	switch v := r.lookup(field).(type) {
	case nil:
		return nil
	case string:
		s = strings.TrimSpace(v)
		if s == "" {
			return nil
		}
	case json.Number:
		s = v.String()
	default:
		r.problem(field, v, "a date or datetime (ISO 8601 or epoch milliseconds)")
		return nil
	}
	t, err := crm.ParseTime(s)
	if err != nil {
		r.problem(field, r.lookup(field), "a date or datetime (ISO 8601 or epoch milliseconds)")
		return nil
	}
	return &t
}

// date reads a calendar date as midnight UTC.
func (r *reader) date(field string) *time.Time {
	t := r.instant(field)
	if t == nil {
		return nil
	}
	d := crm.Date(*t)
	return &d
}

// associations returns the IDs of the records of objectType associated
// with a HubSpot record, primary association first. It reads the CRM v3
// shape {"associations":{"companies":{"results":[{"id","type"}]}}} and
// accepts v4's toObjectId in place of id.
func (r *reader) associations(objectType string) []string {
	assoc, ok := r.top["associations"].(map[string]any)
	if !ok {
		return nil
	}
	group, ok := assoc[objectType].(map[string]any)
	if !ok {
		return nil
	}
	results, _ := group["results"].([]any)
	var primary, others []string
	for _, item := range results {
		obj, ok := item.(map[string]any)
		if !ok {
			continue
		}
		id := idText(obj["id"])
		if id == "" {
			id = idText(obj["toObjectId"])
		}
		if id == "" {
			continue
		}
		typ, _ := obj["type"].(string)
		if typ != "" && !strings.HasSuffix(typ, "_unlabeled") && !strings.HasPrefix(strings.ToLower(typ), "unlabeled") {
			primary = append(primary, id)
		} else {
			others = append(others, id)
		}
	}
	out := append(primary, others...)
	// the same record can be associated under several labels
	seen := map[string]bool{}
	uniq := out[:0]
	for _, id := range out {
		if !seen[id] {
			seen[id] = true
			uniq = append(uniq, id)
		}
	}
	return uniq
}

func idText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	return ""
}
