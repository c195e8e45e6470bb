package salesforce

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

func (s *Server) handleTooling(w http.ResponseWriter, r *http.Request, rc *reqCtx, parts []string) {
	if len(parts) == 0 {
		writeErrors(w, http.StatusNotFound, errNotFound)
		return
	}
	switch parts[0] {
	case "query", "queryAll":
		s.handleQuery(w, r, rc, parts, true)
	case "sobjects":
		s.handleSObjects(w, r, rc, parts[1:], true)
	default:
		writeErrors(w, http.StatusNotFound, errNotFound)
	}
}

var customFieldName = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9_]*)\.([A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*)__c$`)

// createCustomField serves POST /tooling/sobjects/CustomField: it adds the
// field to the object's schema. The API user may edit it only after a
// FieldPermissions record grants edit.
func (s *Server) createCustomField(w http.ResponseWriter, rc *reqCtx, body map[string]any) {
	full, _ := body["FullName"].(string)
	meta, _ := body["Metadata"].(map[string]any)
	m := customFieldName.FindStringSubmatch(full)
	if m == nil {
		writeError(w, http.StatusBadRequest, "INVALID_FIELD_FOR_INSERT_UPDATE", fmt.Sprintf("Invalid FullName %q: use Object.Field_Name__c", full), "FullName")
		return
	}
	if meta == nil {
		writeError(w, http.StatusBadRequest, "REQUIRED_FIELD_MISSING", "Required fields are missing: [Metadata]", "Metadata")
		return
	}
	str := func(k string) string { v, _ := meta[k].(string); return v }
	num := func(k string, def int) int {
		if v, ok := meta[k].(float64); ok {
			return int(v)
		}
		return def
	}
	label := str("label")
	if label == "" {
		writeError(w, http.StatusBadRequest, "FIELD_INTEGRITY_EXCEPTION", "Required field is missing: label", "label")
		return
	}
	f := &field{name: m[2] + "__c", label: label, custom: true, createable: true, updateable: true, nillable: true, needsFLS: true,
		helpText: str("inlineHelpText"), description: str("description")}
	formulaText := str("formula")
	typ := str("type")
	if formulaText != "" {
		switch typ {
		case "Number", "Currency", "Percent", "Date", "DateTime":
		default:
			writeError(w, http.StatusBadRequest, "FIELD_INTEGRITY_EXCEPTION", fmt.Sprintf("Formula fields of type %q are not supported by this emulator: use Number, Currency, Percent, Date or DateTime", typ), "type")
			return
		}
	}
	switch typ {
	case "Number", "Currency", "Percent":
		f.typ = map[string]string{"Number": tDouble, "Currency": tCurrency, "Percent": tPercent}[typ]
		f.precision, f.scale = num("precision", 18), num("scale", 0)
		if f.precision < 1 || f.precision > 18 || f.scale < 0 || f.scale > f.precision {
			writeError(w, http.StatusBadRequest, "FIELD_INTEGRITY_EXCEPTION", "Number fields need precision 1..18 and scale 0..precision", "precision")
			return
		}
	case "Text":
		f.typ, f.length = tString, num("length", 0)
		if f.length < 1 || f.length > 255 {
			writeError(w, http.StatusBadRequest, "FIELD_INTEGRITY_EXCEPTION", "Length: Text fields need a length between 1 and 255", "length")
			return
		}
	case "TextArea":
		f.typ, f.length = tTextarea, 255
	case "LongTextArea", "Html":
		f.typ, f.length = tTextarea, num("length", 32768)
		if f.length < 256 || f.length > 131072 {
			writeError(w, http.StatusBadRequest, "FIELD_INTEGRITY_EXCEPTION", "Length: long text fields need a length between 256 and 131072", "length")
			return
		}
	case "Checkbox":
		f.typ, f.nillable, f.defaultedOnCreate = tBoolean, false, true
	case "Date":
		f.typ = tDate
	case "DateTime":
		f.typ = tDateTime
	case "Email":
		f.typ, f.length = tEmail, 80
	case "Phone":
		f.typ, f.length = tPhone, 40
	case "Url":
		f.typ, f.length = tURL, 255
	case "Picklist":
		f.typ, f.length = tPicklist, 255
		if vs, ok := meta["valueSet"].(map[string]any); ok {
			if def, ok := vs["valueSetDefinition"].(map[string]any); ok {
				if vals, ok := def["value"].([]any); ok {
					for _, v := range vals {
						if vm, ok := v.(map[string]any); ok {
							if name, _ := vm["fullName"].(string); name != "" {
								f.picklist = append(f.picklist, name)
							}
						}
					}
				}
			}
		}
	default:
		writeError(w, http.StatusBadRequest, "FIELD_INTEGRITY_EXCEPTION", fmt.Sprintf("Invalid type: %q: use Number, Currency, Percent, Text, TextArea, LongTextArea, Checkbox, Date, DateTime, Email, Phone, Url or Picklist", typ), "type")
		return
	}
	if ext, _ := meta["externalId"].(bool); ext {
		f.externalID = true
	}
	trackHistory, _ := meta["trackHistory"].(bool)
	blankAs := str("formulaTreatBlanksAs")
	if formulaText != "" && blankAs != "" && blankAs != "BlankAsZero" && blankAs != "BlankAsBlank" {
		writeError(w, http.StatusBadRequest, "FIELD_INTEGRITY_EXCEPTION", fmt.Sprintf("formulaTreatBlanksAs: bad value %q: use BlankAsZero or BlankAsBlank", blankAs), "formulaTreatBlanksAs")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.db.schema[strings.ToLower(m[1])]
	if o == nil || o.tooling {
		writeError(w, http.StatusBadRequest, "FIELD_INTEGRITY_EXCEPTION", fmt.Sprintf("Entity '%s' is not a valid entity for custom fields", m[1]), "FullName")
		return
	}
	if existing, _ := o.field(f.name); existing != nil {
		writeError(w, http.StatusBadRequest, "DUPLICATE_VALUE", "duplicate value found: <unknown> duplicates value on record with id: <unknown>")
		return
	}
	if formulaText != "" {
		want := map[string]fType{tDate: ftDate, tDateTime: ftDateTime}[f.typ] // ftNumber otherwise
		// The Metadata API's default is BlankAsZero.
		fm, ferr := compileFormula(o, formulaText, want, f.scale, blankAs != "BlankAsBlank", s.clock.Now)
		if ferr != nil {
			writeError(w, http.StatusBadRequest, "FIELD_INTEGRITY_EXCEPTION", ferr.msg, "formula")
			return
		}
		// A formula field is read-only: no user may create or edit its
		// values, a permission set may only grant read.
		f.formula, f.calculated, f.createable, f.updateable = fm, true, false, false
	}
	cf := s.db.table("CustomField")
	rec := s.db.insert(cf, s.vals("CustomField", map[string]any{
		"DeveloperName": m[2], "TableEnumOrId": o.name, "FullName": o.name + "." + f.name,
		"Description": str("description"), "InlineHelpText": str("inlineHelpText"),
	}), s.clock.Now(), rc.userID)
	for _, k := range []string{"Description", "InlineHelpText"} {
		if _, i := cf.obj.field(k); rec.get(i) == "" {
			rec.set(i, nil)
		}
	}
	f.toolingID = rec.id
	o.addField(f)
	if trackHistory && o.history != nil {
		s.db.tracking.track(o.name, f.name, true)
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": rec.id, "success": true, "errors": []any{}, "warnings": []any{}, "infos": []any{}})
}
