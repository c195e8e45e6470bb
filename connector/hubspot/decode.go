package hubspot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"healthsync/connector"
	"healthsync/crm"
)

// Answers are decoded into the types of pull.go and assoc.go; the methods
// here refuse the answers that would otherwise decode into something that
// looks valid but is not: an empty object, null, or another endpoint's JSON
// would read as an empty last page; an association without its target's
// ID would link an activity to nothing.

// UnmarshalJSON reads a search or list answer, which always holds a
// results array (empty on an empty page).
func (p *pageResponse) UnmarshalJSON(b []byte) error {
	type plain pageResponse
	var v plain
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if v.Results == nil {
		return errors.New("the answer has no results array")
	}
	*p = pageResponse(v)
	return nil
}

// UnmarshalJSON reads a v4 association batch read answer: a results array
// (empty when nothing is associated) whose entries name the record they
// are from and each target's ID. Entries for the same record are merged
// and a target named twice is kept once.
func (a *assocBatchResponse) UnmarshalJSON(b []byte) error {
	type plain assocBatchResponse
	var v plain
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if v.Results == nil {
		return errors.New("the answer has no results array")
	}
	merged := v.Results[:0:0]
	at := map[string]int{}       // from ID → index in merged
	seen := map[[2]string]bool{} // (from ID, to ID) already kept
	for i, r := range v.Results {
		if r.From.ID == "" {
			return fmt.Errorf("association result %d has no from.id", i)
		}
		j, ok := at[r.From.ID]
		if !ok {
			j = len(merged)
			at[r.From.ID] = j
			r2 := r
			r2.To = nil
			merged = append(merged, r2)
		}
		for _, t := range r.To {
			if t.ToObjectID == "" {
				return fmt.Errorf("an association of %s has no toObjectId", r.From.ID)
			}
			k := [2]string{r.From.ID, t.ToObjectID.String()}
			if !seen[k] {
				seen[k] = true
				merged[j].To = append(merged[j].To, t)
			}
		}
	}
	v.Results = merged
	*a = assocBatchResponse(v)
	return nil
}

// decodeRecord reads one result of a search or list answer. A result that
// is not a JSON object is the error: the answer is not what HubSpot sends.
// Anything else comes back as a record, with problem set when it cannot
// be stored: no id, a property or updatedAt that is not a string (HubSpot
// sends every property as a string or null), or no readable modification
// stamp. The record keeps what could be read (its ID and stamp when
// readable), so the caller can still page by key after it. The result is
// decoded once: the record keeps the decoded JSON (fields) for the
// mapping, which then does not decode it again.
func decodeRecord(o object, raw json.RawMessage) (r record, problem string, err error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return record{}, "", fmt.Errorf("a %s result is not a JSON object", o.singular)
	}
	r.raw, r.fields = raw, m
	var problems []string
	idv, ok := m["id"]
	id, idProblem := readID(idv, ok)
	if idProblem != "" {
		problems = append(problems, idProblem)
	}
	r.ID = id
	if p, ok := m["properties"]; ok && p != nil {
		props, isObj := p.(map[string]any)
		if !isObj {
			problems = append(problems, "properties is "+whatIs(p)+", not an object")
		} else {
			r.Properties = make(map[string]*string, len(props))
			var wrong []string
			for name, v := range props {
				switch v := v.(type) {
				case string:
					r.Properties[name] = &v
				case nil:
					r.Properties[name] = nil
				default:
					wrong = append(wrong, "property "+name+" is "+whatIs(v))
				}
			}
			if len(wrong) > 0 {
				sort.Strings(wrong)
				problems = append(problems, strings.Join(wrong, ", ")+", HubSpot sends strings")
			}
		}
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"updatedAt", &r.UpdatedAt}, {"archivedAt", &r.ArchivedAt}} {
		v, present := m[f.name]
		if s, isStr := v.(string); isStr {
			*f.dst = s
		} else if present && v != nil {
			problems = append(problems, f.name+" is "+whatIs(v)+", HubSpot sends a string")
		}
	}
	stamp := r.prop(o.modProp)
	if stamp == "" {
		stamp = r.UpdatedAt
	}
	if t, err := crm.ParseTime(stamp); err != nil {
		problems = append(problems, fmt.Sprintf("%s %q is not a date (%v)", o.modProp, connector.Excerpt([]byte(stamp), 40), err))
	} else {
		r.modified = t
	}
	return r, strings.Join(problems, "; "), nil
}

// readID reads a result's decoded id member (present: the member is
// there): the ID, or what is wrong with it.
func readID(v any, present bool) (id, problem string) {
	id, isStr := v.(string)
	switch {
	case present && v != nil && !isStr:
		return "", "id is " + whatIs(v) + ", HubSpot sends a string"
	case strings.TrimSpace(id) == "":
		return "", "it has no id"
	}
	return id, ""
}

// whatIs says what a decoded JSON value (decoded with UseNumber) is, for
// a message: "null", "a string", "a number (12345)", "a boolean (true)",
// "an object", "an array".
func whatIs(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return fmt.Sprintf("a boolean (%t)", v)
	case json.Number:
		return "a number (" + connector.Excerpt([]byte(v), 24) + ")"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	return fmt.Sprintf("a %T", v)
}

// identify returns text that helps find a record whose id is unusable:
// its hs_object_id and name-like properties, shortened; nothing from
// properties that could hold a credential or personal data.
func identify(r record) string {
	var parts []string
	for _, name := range []string{"hs_object_id", "name", "dealname", "domain", "hs_task_subject"} {
		if v := strings.TrimSpace(r.prop(name)); v != "" {
			parts = append(parts, fmt.Sprintf("%s %q", name, connector.Excerpt([]byte(v), 40)))
		}
	}
	return strings.Join(parts, ", ")
}

// skipped says why the result at position n (1-based) of where (the
// answer, e.g. "search page 2") cannot be stored, naming the object, with
// the record's ID when it has one (the engine names it), and otherwise
// what identifies it in the reason.
func skipped(o object, where string, n int, r record, problem string) connector.Skipped {
	at := fmt.Sprintf("HubSpot %s result %d of %s", o.name, n, where)
	if r.ID != "" {
		return connector.Skipped{ID: r.ID, Reason: at + ": " + problem}
	}
	if id := identify(r); id != "" {
		at += " (" + id + ")"
	}
	return connector.Skipped{Reason: at + ": " + problem}
}
