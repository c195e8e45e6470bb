package mapping

import (
	"fmt"
	"slices"
	"strings"

	"healthsync/connector"
	"healthsync/crm"
)

// Severity of a Problem found by Validate.
type Severity string

// Severities. An error stops `healthsync check` (and a sync would fail or
// write wrongly); a warning is worth fixing but harmless.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Problem is one mismatch between the mapping and a CRM object's fields.
type Problem struct {
	Severity Severity
	Object   string // CRM object
	Field    string // CRM field
	Key      string // the mapping key naming it: fields.account.adoption, outputs.score
	File     string // the mapping file
	Line     int    // where the file sets Key; 0 when it is a built-in default
	Message  string // what is wrong and what to do
}

// String formats the problem on one line.
func (p Problem) String() string {
	where := p.Key + " (built-in default)"
	if p.Line > 0 {
		where = fmt.Sprintf("%s (%s:%d)", p.Key, p.File, p.Line)
	}
	return fmt.Sprintf("%-7s %s.%s  %s: %s", strings.ToUpper(string(p.Severity)), p.Object, p.Field, where, p.Message)
}

// DescribeObjects returns the CRM objects `healthsync check` must
// describe: every synced object, plus the account and task objects the
// outputs are written to.
func (m *Mapping) DescribeObjects() []string {
	out := m.Objects()
	for _, o := range []string{m.AccountObject(), m.TaskObject()} {
		if !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return out
}

// Validate compares every field the mapping names on object with the
// object's fields as the CRM's describe (Salesforce) or properties
// (HubSpot) API reports them: inputs must exist and hold a compatible
// type; outputs must exist, be updateable and not calculated. A field
// that is missing but only a built-in default gives a warning on HubSpot
// (which ignores unknown properties) and an error on Salesforce (whose
// queries fail on them).
func (m *Mapping) Validate(object string, fields []connector.Field) []Problem {
	find := fieldFinder(m.sys, fields)
	var out []Problem
	add := func(sev Severity, key, field, format string, args ...any) {
		p := Problem{Severity: sev, Object: object, Field: field, Key: key, File: m.file, Message: fmt.Sprintf(format, args...)}
		if pos, ok := m.pos[key]; ok {
			p.Line = pos.Line
		}
		out = append(out, p)
	}

	if v, ok := m.fieldStruct(object); ok && !(m.sys == crm.HubSpot && object == HSOwners) {
		prefix := m.keyPrefix(object)
		for _, fi := range structFields(v.Type()).list {
			name := v.FieldByIndex(fi.index).String()
			if name == "" {
				continue
			}
			key := prefix + "." + fi.name
			if strings.Contains(name, ".") {
				add(SeverityWarning, key, name, "a field of a related record: not checked against %s's describe", object)
				continue
			}
			f, ok := find(name)
			_, userSet := m.pos[key]
			if !ok {
				sev := SeverityWarning
				if userSet || fi.required || m.sys == crm.Salesforce {
					sev = SeverityError
				}
				hint := fmt.Sprintf("create it, or set %s to the right field (or to \"\" to stop reading it)", key)
				add(sev, key, name, "no such field on %s%s; %s", object, closestField(name, fields), hint)
				continue
			}
			if !typeFits(m.sys, fi.kind, f.Type) {
				add(SeverityError, key, name, "is of type %s, but %s needs %s", f.Type, key, kindWords(fi.kind))
			}
		}
	}

	out = append(out, m.ValidateOutputs(object, fields)...)
	if s := m.cfg.Tasks.Snooze.Field; s != "" && object == m.TaskObject() {
		if _, ok := find(s); !ok {
			add(SeverityWarning, "tasks.snooze.field", s, "no such field on %s: snoozing by date is off until it exists (`healthsync install` creates it)", object)
		}
	}
	return out
}

// ValidateOutputs checks every field healthsync writes on object against
// the object's describe (properties), before anything is written: each
// must exist (else: run install), be writable and of the output's type,
// and be healthsync's own: a custom field that install created (its help
// text names healthsync; on HubSpot, a property of the healthsync group)
// or one the mapping lists under outputs.owned_fields. A standard field
// or another app's field is an error, never a write. Day counters must be
// formula fields.
func (m *Mapping) ValidateOutputs(object string, fields []connector.Field) []Problem {
	find := fieldFinder(m.sys, fields)
	var out []Problem
	add := func(key, field, format string, args ...any) {
		p := Problem{Severity: SeverityError, Object: object, Field: field, Key: key, File: m.file, Message: fmt.Sprintf(format, args...)}
		if pos, ok := m.pos[key]; ok {
			p.Line = pos.Line
		}
		out = append(out, p)
	}
	owned := lowerSet(m.cfg.Outputs.OwnedFields)
	checkOwner := func(key, field string, f connector.Field) bool {
		switch {
		case !f.Custom:
			add(key, field, "is a standard %s field: it holds the customer's data, and healthsync writes only to fields it owns; name a new field and run `healthsync install`", object)
		case !ownedByHealthsync(f) && !owned[strings.ToLower(field)]:
			add(key, field, "was not created by `healthsync install` (its label and %s do not name healthsync) and is not listed under outputs.owned_fields: it may hold another app's data, so healthsync will not write it. Name a field install creates, or, if you made it for healthsync, list it under outputs.owned_fields", ownerMarkWords(m.sys))
		default:
			return true
		}
		return false
	}
	for _, o := range m.Outputs() {
		if o.Object != object {
			continue
		}
		spec := outputSpec(o)
		f, ok := find(o.Field)
		if !ok {
			add(o.path, o.Field, "no such field on %s%s: run `healthsync install` to create it, or name an existing field in %s", object, closestField(o.Field, fields), o.path)
			continue
		}
		if !checkOwner(o.path, o.Field, f) {
			continue
		}
		if !f.Updateable || f.Calculated {
			add(o.path, o.Field, "is not writable (read-only, formula or roll-up, or no field-level edit access for the API user): grant edit access or name another field")
		}
		if !outputTypeFits(m.sys, spec.Type, f.Type) {
			add(o.path, o.Field, "is of type %s, but %s writes %s", f.Type, o.Name, spec.Type)
		}
	}
	for _, c := range m.Counters() {
		if c.Object != object {
			continue
		}
		f, ok := find(c.Field)
		switch {
		case !ok:
			add(c.path, c.Field, "no such field on %s: run `healthsync install` to create the formula field (%s)", object, c.Formula())
		case !checkOwner(c.path, c.Field, f):
		case !f.Calculated:
			add(c.path, c.Field, "is a plain field, not a formula: healthsync never writes day counters; delete it and run `healthsync install` to create it as a formula field (%s)", c.Formula())
		}
	}
	return out
}

// ownedByHealthsync reports whether the CRM's own metadata says
// healthsync install created the field: help text or a label naming
// healthsync, or HubSpot's healthsync property group.
func ownedByHealthsync(f connector.Field) bool {
	return strings.EqualFold(f.Group, "healthsync") || strings.Contains(strings.ToLower(f.Help), "healthsync") ||
		strings.Contains(strings.ToLower(f.Label), "healthsync")
}

func ownerMarkWords(sys crm.System) string {
	if sys == crm.HubSpot {
		return "description (and its property group is not healthsync)"
	}
	return "help text"
}

// fieldFinder looks fields up by name as the CRM compares them
// (Salesforce case-insensitively).
func fieldFinder(sys crm.System, fields []connector.Field) func(string) (connector.Field, bool) {
	byName := map[string]connector.Field{}
	for _, f := range fields {
		key := f.Name
		if sys == crm.Salesforce {
			key = strings.ToLower(key)
		}
		byName[key] = f
	}
	return func(name string) (connector.Field, bool) {
		if sys == crm.Salesforce {
			name = strings.ToLower(name)
		}
		f, ok := byName[name]
		return f, ok
	}
}

func (m *Mapping) keyPrefix(object string) string {
	kind, _ := m.Entity(object)
	if kind == KindActivity {
		return "fields.activity." + object
	}
	return "fields." + string(kind)
}

func closestField(name string, fields []connector.Field) string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Name
	}
	return didYouMean(name, names)
}

func kindWords(kind string) string {
	switch kind {
	case "number":
		return "a number"
	case "int":
		return "a whole number"
	case "bool":
		return "a checkbox (true/false)"
	case "date":
		return "a date"
	case "datetime":
		return "a date/time"
	case "sentiment":
		return "a picklist, text or number"
	case "id":
		return "an id or reference"
	}
	return "text"
}

// CRM type names by portable kind.
var (
	sfNumeric = []string{"double", "currency", "percent", "int", "long"}
	sfText    = []string{"string", "textarea", "picklist", "multipicklist", "combobox", "email", "phone", "url", "encryptedstring"}
	sfDates   = []string{"date", "datetime"}
)

func typeFits(sys crm.System, kind, crmType string) bool {
	t := strings.ToLower(crmType)
	if sys == crm.HubSpot {
		switch kind {
		case "number", "int":
			return t == "number"
		case "bool":
			return t == "bool" || t == "enumeration"
		case "date", "datetime":
			return t == "date" || t == "datetime"
		case "sentiment":
			return t != "bool" && t != "date" && t != "datetime"
		}
		return true
	}
	switch kind {
	case "number", "int":
		return slices.Contains(sfNumeric, t)
	case "bool":
		return t == "boolean"
	case "date", "datetime":
		return slices.Contains(sfDates, t)
	case "sentiment":
		return slices.Contains(sfNumeric, t) || slices.Contains(sfText, t)
	case "id":
		return t == "id" || t == "reference" || slices.Contains(sfText, t)
	}
	return true
}

func outputTypeFits(sys crm.System, want connector.FieldType, crmType string) bool {
	t := strings.ToLower(crmType)
	if sys == crm.HubSpot {
		switch want {
		case connector.FieldNumber:
			return t == "number"
		case connector.FieldText, connector.FieldLongText:
			return t == "string"
		case connector.FieldDate:
			return t == "date" || t == "datetime"
		case connector.FieldDateTime:
			return t == "datetime"
		}
		return false
	}
	switch want {
	case connector.FieldNumber:
		return slices.Contains(sfNumeric, t)
	case connector.FieldText:
		return t == "string" || t == "textarea"
	case connector.FieldLongText:
		return t == "textarea"
	case connector.FieldDate:
		return t == "date"
	case connector.FieldDateTime:
		return t == "datetime"
	}
	return false
}

// HasErrors reports whether any problem is an error.
func HasErrors(problems []Problem) bool {
	for _, p := range problems {
		if p.Severity == SeverityError {
			return true
		}
	}
	return false
}

// Report renders the problems of a `healthsync check` as a readable
// report: errors first, then warnings, each group ordered by object and
// field, and a summary line. checked is the number of objects described.
func Report(problems []Problem, checked int) string {
	var b strings.Builder
	sorted := slices.Clone(problems)
	slices.SortStableFunc(sorted, func(a, b Problem) int {
		if a.Severity != b.Severity {
			if a.Severity == SeverityError {
				return -1
			}
			return 1
		}
		if c := strings.Compare(a.Object, b.Object); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	var errs, warns int
	for _, p := range sorted {
		b.WriteString(p.String())
		b.WriteByte('\n')
		if p.Severity == SeverityError {
			errs++
		} else {
			warns++
		}
	}
	switch {
	case errs == 0 && warns == 0:
		fmt.Fprintf(&b, "mapping OK: every field checked on %d objects\n", checked)
	default:
		fmt.Fprintf(&b, "%d %s, %d %s on %d objects checked\n", errs, plural(errs, "error"), warns, plural(warns, "warning"), checked)
	}
	return b.String()
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
