package salesforce

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"healthsync/crm"
)

// writeErr is a failed record write: HTTP status for single-record calls
// and the Salesforce error.
type writeErr struct {
	status int
	err    apiError
}

func wErr(status int, code, msg string, fields ...string) *writeErr {
	return &writeErr{status: status, err: errOf(code, msg, fields...)}
}

// isCustomFieldGranted reports whether user may edit a custom field added
// through the Tooling API: a FieldPermissions row with edit on a
// permission set assigned to the user. A formula field, which nobody
// edits, needs read only.
func (s *Server) isCustomFieldGranted(userID string, o *object, f *field) bool {
	if !f.needsFLS {
		return true
	}
	perm := "PermissionsEdit"
	if f.formula != nil {
		perm = "PermissionsRead"
	}
	full := strings.ToLower(o.name + "." + f.name)
	assigned := map[string]bool{}
	for _, a := range s.db.table("PermissionSetAssignment").byID {
		if !a.deleted && a.str("AssigneeId") == userID {
			assigned[a.str("PermissionSetId")] = true
		}
	}
	for _, fp := range s.db.table("FieldPermissions").byID {
		if fp.deleted || strings.ToLower(fp.str("Field")) != full || !assigned[fp.str("ParentId")] {
			continue
		}
		if ok, _ := fp.getName(perm).(bool); ok {
			return true
		}
	}
	return false
}

func noSuchColumn(name, obj string) *writeErr {
	return wErr(400, "INVALID_FIELD", fmt.Sprintf("No such column '%s' on sobject of type %s", name, obj))
}

// convertValue turns a decoded JSON value (or CSV text when fromCSV) into
// the stored representation of field f.
func (s *Server) convertValue(o *object, f *field, v any, fromCSV bool) (any, *writeErr) {
	if fromCSV {
		str, _ := v.(string)
		if str == "" || str == "#N/A" {
			return nil, nil
		}
		switch {
		case f.typ == tBoolean:
			b, err := strconv.ParseBool(strings.ToLower(str))
			if err != nil {
				return nil, wErr(400, "INVALID_FIELD_FOR_INSERT_UPDATE", fmt.Sprintf("%s: invalid boolean: %s", f.label, str), f.name)
			}
			return b, nil
		case f.isNumber():
			n, err := strconv.ParseFloat(str, 64)
			if err != nil {
				return nil, wErr(400, "INVALID_TYPE_ON_FIELD_IN_RECORD", fmt.Sprintf("%s: value not of required type: %s", f.label, str), f.name)
			}
			v = n
		default:
			v = str
		}
	}
	if v == nil {
		if !f.nillable && f.typ != tBoolean {
			return nil, wErr(400, "REQUIRED_FIELD_MISSING", fmt.Sprintf("Required fields are missing: [%s]", f.name), f.name)
		}
		if f.typ == tBoolean {
			return false, nil
		}
		return nil, nil
	}
	bad := func() *writeErr {
		return wErr(400, "JSON_PARSER_ERROR", fmt.Sprintf("Cannot deserialize instance of %s from %s value %v or request may be missing a required field", typeName(f), jsonKind(v), v))
	}
	switch {
	case f.typ == tBoolean:
		b, ok := v.(bool)
		if !ok {
			if str, isStr := v.(string); isStr {
				if pb, err := strconv.ParseBool(strings.ToLower(str)); err == nil {
					return pb, nil
				}
			}
			return nil, bad()
		}
		return b, nil
	case f.isNumber():
		var n float64
		switch x := v.(type) {
		case float64:
			n = x
		case json.Number:
			p, err := x.Float64()
			if err != nil {
				return nil, bad()
			}
			n = p
		case string:
			p, err := strconv.ParseFloat(x, 64)
			if err != nil {
				return nil, bad()
			}
			n = p
		default:
			return nil, bad()
		}
		if math.IsNaN(n) || math.IsInf(n, 0) {
			return nil, bad()
		}
		if f.typ == tInt {
			if n != math.Trunc(n) {
				return nil, bad()
			}
		} else if f.precision > 0 {
			limit := math.Pow(10, float64(f.precision-f.scale))
			if math.Abs(n) >= limit {
				return nil, wErr(400, "NUMBER_OUTSIDE_VALID_RANGE", fmt.Sprintf("%s: value outside of valid range on numeric field: %v", f.label, n), f.name)
			}
			p := math.Pow(10, float64(f.scale))
			n = math.Round(n*p) / p
		}
		return n, nil
	case f.typ == tDate || f.typ == tDateTime:
		str, ok := v.(string)
		if !ok {
			return nil, bad()
		}
		t, err := crm.ParseTime(str)
		if err != nil || isDigits(str) {
			return nil, bad()
		}
		if f.typ == tDate {
			return crm.Date(t), nil
		}
		return t, nil
	case f.typ == tReference || f.typ == tID:
		str, ok := v.(string)
		if !ok {
			return nil, bad()
		}
		if str == "" {
			return nil, nil
		}
		id := canonicalID(str)
		target := s.db.lookup(id)
		if len(id) != 18 {
			return nil, wErr(400, "MALFORMED_ID", fmt.Sprintf("%s: id value of incorrect type: %s", f.label, str), f.name)
		}
		if target == nil || target.deleted {
			return nil, wErr(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", f.name)
		}
		okType := false
		for _, to := range f.referenceTo {
			if strings.EqualFold(to, target.t.obj.name) {
				okType = true
			}
		}
		if !okType {
			return nil, wErr(400, "FIELD_INTEGRITY_EXCEPTION", fmt.Sprintf("%s: id value of incorrect type: %s", f.label, str), f.name)
		}
		return id, nil
	default: // text
		var str string
		switch x := v.(type) {
		case string:
			str = x
		case float64:
			str = strconv.FormatFloat(x, 'f', -1, 64)
		case json.Number:
			str = x.String()
		case bool:
			str = strconv.FormatBool(x)
		default:
			return nil, bad()
		}
		if f.length > 0 && len([]rune(str)) > f.length {
			return nil, wErr(400, "STRING_TOO_LONG", fmt.Sprintf("%s: data value too large: %s (max length=%d)", f.label, truncate(str, 40), f.length), f.name)
		}
		if str == "" {
			if !f.nillable {
				return nil, wErr(400, "REQUIRED_FIELD_MISSING", fmt.Sprintf("Required fields are missing: [%s]", f.name), f.name)
			}
			return nil, nil
		}
		return str, nil
	}
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "VALUE_STRING"
	case bool:
		return "VALUE_TRUE"
	case float64, json.Number:
		return "VALUE_NUMBER_FLOAT"
	case map[string]any:
		return "START_OBJECT"
	case []any:
		return "START_ARRAY"
	}
	return "VALUE_NULL"
}

// prepare validates fields for a create (insert) or update of o and
// returns converted values by field index.
func (s *Server) prepare(userID string, o *object, fields map[string]any, insert, fromCSV bool) (map[int]any, *writeErr) {
	out := make(map[int]any, len(fields))
	var readOnlyNames []string
	// Check in a stable order so the first error is deterministic.
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if k == "attributes" || strings.EqualFold(k, "Id") {
			continue
		}
		f, i := o.field(k)
		if f == nil || (f.needsFLS && !s.isCustomFieldGranted(userID, o, f)) {
			// A custom field the user has no permission on is invisible to
			// writes, as if it did not exist.
			return nil, noSuchColumn(k, o.name)
		}
		if (insert && !f.createable) || (!insert && !f.updateable) {
			readOnlyNames = append(readOnlyNames, f.name)
			continue
		}
		v, err := s.convertValue(o, f, fields[k], fromCSV)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	if len(readOnlyNames) > 0 {
		return nil, wErr(400, "INVALID_FIELD_FOR_INSERT_UPDATE", fmt.Sprintf("Unable to create/update fields: %s. Please check the security settings of this field and verify that it is read/write for your profile or permission set.", strings.Join(readOnlyNames, ", ")), readOnlyNames...)
	}
	if insert {
		var missing []string
		for i, f := range o.fields {
			if f.nillable || f.typ == tBoolean || !f.createable || f.defaultedOnCreate || f.defaultPick != "" {
				continue
			}
			if out[i] == nil {
				missing = append(missing, f.name)
			}
		}
		if len(missing) > 0 {
			return nil, wErr(400, "REQUIRED_FIELD_MISSING", fmt.Sprintf("Required fields are missing: [%s]", strings.Join(missing, ", ")), missing...)
		}
	}
	return out, nil
}

// createRecord inserts a record of object name. Callers hold s.mu.
func (s *Server) createRecord(userID, name string, fields map[string]any, fromCSV bool) (string, *writeErr) {
	o := s.db.schema[strings.ToLower(name)]
	if o == nil || o.tooling {
		return "", wErr(404, "NOT_FOUND", "The requested resource does not exist")
	}
	if o.historyOf != "" {
		return "", wErr(400, "INVALID_TYPE_FOR_OPERATION", fmt.Sprintf("entity type %s does not support insert", o.name))
	}
	if !o.createable {
		return "", wErr(400, "INVALID_TYPE", fmt.Sprintf("sObject type '%s' is not supported.", o.name))
	}
	vals, e := s.prepare(userID, o, fields, true, fromCSV)
	if e != nil {
		return "", e
	}
	if e := s.checkUnique(o, vals, ""); e != nil {
		return "", e
	}
	t := s.db.tables[strings.ToLower(o.name)]
	now := s.clock.Now()
	for i, f := range o.fields {
		if _, set := vals[i]; set {
			continue
		}
		switch {
		case f.name == "OwnerId":
			vals[i] = userID
		case f.defaultPick != "":
			vals[i] = f.defaultPick
		case f.typ == tBoolean:
			vals[i] = false
		}
	}
	if f, i := o.field("CreatedById"); f != nil {
		vals[i] = userID
	}
	if f, i := o.field("CreatedDate"); f != nil {
		vals[i] = crm.Normalize(now)
	}
	if f, i := o.field("TaskSubtype"); f != nil && vals[i] == nil {
		vals[i] = "Task"
	}
	if f, i := o.field("EventSubtype"); f != nil && vals[i] == nil {
		vals[i] = "Event"
	}
	r := s.db.insert(t, vals, now, userID)
	if e := s.derive(r, vals, true); e != nil {
		// Undo the insert: derived-field validation failed.
		delete(t.byID, r.id)
		delete(s.db.byID, r.id)
		r.ver++
		return "", e
	}
	s.created[o.name] = append(s.created[o.name], r.id)
	s.recordCreated(r, userID, now)
	return r.id, nil
}

// updateRecord applies fields to the record id of object name. Callers
// hold s.mu.
func (s *Server) updateRecord(userID, name, id string, fields map[string]any, fromCSV bool) *writeErr {
	o := s.db.schema[strings.ToLower(name)]
	if o == nil || o.tooling {
		return wErr(404, "NOT_FOUND", "The requested resource does not exist")
	}
	if o.historyOf != "" {
		return wErr(400, "INVALID_TYPE_FOR_OPERATION", fmt.Sprintf("entity type %s does not support update", o.name))
	}
	r, e := s.findForWrite(o, id)
	if e != nil {
		return e
	}
	vals, e := s.prepare(userID, o, fields, false, fromCSV)
	if e != nil {
		return e
	}
	if e := s.checkUnique(o, vals, r.id); e != nil {
		return e
	}
	old := append([]any(nil), r.vals...)
	for i, v := range vals {
		r.set(i, v)
	}
	if e := s.derive(r, vals, false); e != nil {
		r.vals = old
		return e
	}
	now := s.clock.Now()
	r.t.setStamp(r, now, userID)
	s.recordChanges(r, old, userID, now)
	return nil
}

// findForWrite resolves an ID in a write request.
func (s *Server) findForWrite(o *object, id string) (*record, *writeErr) {
	cid := canonicalID(id)
	if len(cid) != 18 || !strings.HasPrefix(cid, o.prefix) {
		if len(cid) == 18 || len(id) == 15 {
			return nil, wErr(400, "MALFORMED_ID", fmt.Sprintf("%s ID: id value of incorrect type: %s", o.label, id), "Id")
		}
		return nil, wErr(404, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: "+id)
	}
	r := s.db.byID[cid]
	if r == nil {
		return nil, wErr(404, "NOT_FOUND", "The requested resource does not exist")
	}
	if r.deleted {
		return nil, wErr(404, "ENTITY_IS_DELETED", "entity is deleted")
	}
	return r, nil
}

// deleteRecord moves a record to the recycle bin (IsDeleted = true). An
// account takes its contacts, opportunities and activities with it.
// Callers hold s.mu.
func (s *Server) deleteRecord(userID, name, id string) *writeErr {
	o := s.db.schema[strings.ToLower(name)]
	if o == nil || o.tooling {
		return wErr(404, "NOT_FOUND", "The requested resource does not exist")
	}
	if !o.deletable {
		return wErr(400, "INVALID_TYPE", fmt.Sprintf("sObject type '%s' is not supported.", o.name))
	}
	r, e := s.findForWrite(o, id)
	if e != nil {
		return e
	}
	now := s.clock.Now()
	s.softDelete(r, now, userID)
	if o.name == "Account" {
		for _, child := range []string{"Contact", "Opportunity", "Task", "Event"} {
			t := s.db.table(child)
			for _, c := range t.byID {
				if !c.deleted && c.str("AccountId") == r.id {
					s.softDelete(c, now, userID)
				}
			}
		}
	}
	return nil
}

func (s *Server) softDelete(r *record, now time.Time, userID string) {
	if !r.t.obj.hasIsDeleted {
		delete(r.t.byID, r.id)
		delete(s.db.byID, r.id)
		r.ver++
		return
	}
	r.deleted = true
	r.deletedAt = crm.Normalize(now)
	r.set(r.t.idxDeleted, true)
	r.t.setStamp(r, now, userID)
	s.deleteHistory(r)
}

// checkUnique enforces the uniqueness rules of the permission objects.
func (s *Server) checkUnique(o *object, vals map[int]any, selfID string) *writeErr {
	var keys []string
	switch o.name {
	case "PermissionSetAssignment":
		keys = []string{"AssigneeId", "PermissionSetId"}
	case "FieldPermissions":
		keys = []string{"ParentId", "Field"}
	case "PermissionSet":
		keys = []string{"Name"}
	default:
		return nil
	}
	want := make([]string, len(keys))
	for i, k := range keys {
		_, idx := o.field(k)
		v, _ := vals[idx].(string)
		want[i] = strings.ToLower(v)
	}
	for _, r := range s.db.tables[strings.ToLower(o.name)].byID {
		if r.deleted || r.id == selfID {
			continue
		}
		same := true
		for i, k := range keys {
			if strings.ToLower(r.str(k)) != want[i] {
				same = false
			}
		}
		if same {
			return wErr(400, "DUPLICATE_VALUE", fmt.Sprintf("duplicate value found: %s duplicates value on record with id: %s", keys[0], r.id), keys[0])
		}
	}
	return nil
}

// derive maintains fields Salesforce computes: full names, opportunity
// probability and closed/won flags, task closure and the activity's
// AccountId, and validates permission records.
func (s *Server) derive(r *record, written map[int]any, insert bool) *writeErr {
	o := r.t.obj
	wrote := func(name string) bool {
		_, i := o.field(name)
		_, ok := written[i]
		return ok
	}
	setName := func(name string, v any) {
		if _, i := o.field(name); i >= 0 {
			r.set(i, v)
		}
	}
	switch o.name {
	case "Contact", "User":
		name := strings.TrimSpace(r.str("FirstName") + " " + r.str("LastName"))
		setName("Name", name)
	case "Opportunity":
		stage := r.str("StageName")
		for _, st := range s.db.stages {
			if !strings.EqualFold(st.name, stage) {
				continue
			}
			if wrote("StageName") && !wrote("Probability") {
				setName("Probability", st.prob)
			}
			setName("IsClosed", st.closed)
			setName("IsWon", st.won)
			setName("ForecastCategory", map[string]string{"Pipeline": "Pipeline", "Closed": "Closed", "Omitted": "Omitted"}[st.forecast])
			if wrote("StageName") && !wrote("ForecastCategoryName") {
				setName("ForecastCategoryName", st.forecast)
			}
		}
	case "Task", "Event":
		if o.name == "Task" {
			closed := false
			for _, st := range taskStatuses {
				if strings.EqualFold(st.name, r.str("Status")) {
					closed = st.closed
				}
			}
			was, _ := r.getName("IsClosed").(bool)
			setName("IsClosed", closed)
			if closed && (!was || insert) && r.getName("CompletedDateTime") == nil {
				setName("CompletedDateTime", crm.Normalize(s.clock.Now()))
			}
			if !closed {
				setName("CompletedDateTime", nil)
			}
			setName("IsHighPriority", strings.EqualFold(r.str("Priority"), "High"))
		} else {
			start, _ := r.getName("StartDateTime").(time.Time)
			if at, ok := r.getName("ActivityDateTime").(time.Time); ok && start.IsZero() {
				start = at
				setName("StartDateTime", at)
			}
			if start.IsZero() {
				return wErr(400, "REQUIRED_FIELD_MISSING", "Required fields are missing: [StartDateTime]", "StartDateTime")
			}
			setName("ActivityDateTime", start)
			setName("ActivityDate", crm.Date(start))
			dur, _ := r.getName("DurationInMinutes").(float64)
			end, hasEnd := r.getName("EndDateTime").(time.Time)
			switch {
			case wrote("DurationInMinutes") || !hasEnd:
				setName("EndDateTime", start.Add(time.Duration(dur)*time.Minute))
			case hasEnd:
				setName("DurationInMinutes", math.Round(end.Sub(start).Minutes()))
			}
		}
		setName("AccountId", s.activityAccount(r))
	case "FieldPermissions":
		parent := s.db.lookup(r.str("ParentId"))
		if parent == nil || parent.t.obj.name != "PermissionSet" {
			return wErr(400, "FIELD_INTEGRITY_EXCEPTION", "Parent ID: id value of incorrect type", "ParentId")
		}
		objName, fieldName, ok := strings.Cut(r.str("Field"), ".")
		target := s.db.schema[strings.ToLower(objName)]
		if !ok || target == nil || !strings.EqualFold(objName, r.str("SobjectType")) {
			return wErr(400, "INVALID_FIELD_FOR_INSERT_UPDATE", fmt.Sprintf("Field Name: bad value for restricted picklist field: %s", r.str("Field")), "Field")
		}
		f, _ := target.field(fieldName)
		if f == nil || !f.custom {
			return wErr(400, "INVALID_FIELD_FOR_INSERT_UPDATE", fmt.Sprintf("Field Name: bad value for restricted picklist field: %s", r.str("Field")), "Field")
		}
		setName("Field", target.name+"."+f.name)
		setName("SobjectType", target.name)
		edit, _ := r.getName("PermissionsEdit").(bool)
		read, _ := r.getName("PermissionsRead").(bool)
		if edit && !read {
			return wErr(400, "FIELD_INTEGRITY_EXCEPTION", fmt.Sprintf("Permission Edit %s depends on permission(s): Read %s", f.label, f.label))
		}
		if edit && f.formula != nil {
			// Formula fields are read-only for every user: a permission
			// set grants read on them, never edit.
			return wErr(400, "FIELD_INTEGRITY_EXCEPTION", fmt.Sprintf("Permission Edit %s cannot be granted: %s is a formula field and read-only", f.label, target.name+"."+f.name), "PermissionsEdit")
		}
	}
	return nil
}

// activityAccount derives a task's or event's AccountId: the account of
// WhatId (itself, or an opportunity's account), else the WhoId contact's.
func (s *Server) activityAccount(r *record) any {
	if what := s.db.lookup(r.str("WhatId")); what != nil {
		switch what.t.obj.name {
		case "Account":
			return what.id
		case "Opportunity":
			if a := what.str("AccountId"); a != "" {
				return a
			}
		}
	}
	if who := s.db.lookup(r.str("WhoId")); who != nil && who.t.obj.name == "Contact" {
		if a := who.str("AccountId"); a != "" {
			return a
		}
	}
	return nil
}
