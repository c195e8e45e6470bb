package mapping

import (
	"encoding/json"
	"reflect"
	"strings"
)

// SchemaID is the $id of the mapping file's JSON Schema.
const SchemaID = "urn:healthsync:mapping:v1"

// Schema returns the JSON Schema (draft-07) of the mapping file, generated
// by reflection from the same struct definitions the loader decodes into,
// so the two cannot disagree. Editors use it for completion and checks
// (yaml-language-server: `# yaml-language-server: $schema=healthsync.schema.json`).
func Schema() ([]byte, error) {
	s := schemaFor(reflect.TypeFor[File](), map[reflect.Type]bool{})
	s["$schema"] = "http://json-schema.org/draft-07/schema#"
	s["$id"] = SchemaID
	s["title"] = "healthsync mapping file (healthsync.yaml)"
	s["description"] = "How healthsync reads a CRM and writes health scores back. Every key is optional: an empty file uses the defaults for a standard Salesforce org or HubSpot portal."
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func schemaFor(t reflect.Type, seen map[reflect.Type]bool) map[string]any {
	switch t {
	case patternType:
		return map[string]any{"type": "string", "format": "regex", "description": "A regular expression (RE2 syntax)."}
	case durationType:
		return map[string]any{"type": "string", "pattern": `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`, "description": "A duration such as 720h or 90m."}
	}
	if t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(unmarshaler) {
		return map[string]any{}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return schemaFor(t.Elem(), seen)
	case reflect.Struct:
		if seen[t] {
			return map[string]any{"type": "object"}
		}
		seen[t] = true
		defer delete(seen, t)
		props := map[string]any{}
		for _, fi := range structFields(t).list {
			ft := t.FieldByIndex(fi.index).Type
			ps := schemaFor(ft, seen)
			if fi.enum != "" {
				ps["enum"] = strings.Split(fi.enum, ",")
			}
			if fi.doc != "" {
				doc := fi.doc
				if fi.kind != "" {
					doc += " (CRM field holding " + kindWords(fi.kind) + ")"
				}
				ps["description"] = doc
			}
			props[fi.name] = ps
		}
		return map[string]any{"type": "object", "additionalProperties": false, "properties": props}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": schemaFor(t.Elem(), seen)}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": schemaFor(t.Elem(), seen)}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return map[string]any{"type": "integer"}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer", "minimum": 0}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	}
	return map[string]any{}
}
