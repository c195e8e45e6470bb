package salesforce

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"healthsync/crm"
	"healthsync/emulator/gen"
)

// Field history, as Salesforce's field history tracking keeps it: each
// tracked object has a history object (AccountHistory,
// OpportunityFieldHistory) with one row per change of a tracked field
// (Field, DataType, OldValue, NewValue, CreatedDate, CreatedById) and a
// "created" row when a record is created. Rows are read-only; they are
// written when a tracked field changes through the API (REST, composite,
// Bulk ingest, upserts), loaded with a generated org or from
// AccountHistory.csv / OpportunityFieldHistory.csv, and kept for
// Options.HistoryRetention.

// DefaultFieldHistory is the field history tracking of the emulated org
// when Options.FieldHistory is nil: the fields a health score and the
// pipeline reports read.
var DefaultFieldHistory = map[string][]string{
	"Account": {"ARR__c", "Adoption__c", "Adoption_Previous__c", "CSM_Sentiment__c", "NPS__c",
		"Renewal_Date__c", "Churned__c", "Type"},
	"Opportunity": {"StageName", "Amount", "CloseDate"},
}

// historyObjects maps each object whose fields can be tracked to its
// history object and the history object's reference to it.
var historyObjects = map[string]struct{ name, parentField string }{
	"account":     {"AccountHistory", "AccountId"},
	"opportunity": {"OpportunityFieldHistory", "OpportunityId"},
}

// historyDataTypes are the DataType values of history rows.
var historyDataTypes = []string{"Boolean", "Currency", "DateOnly", "DateTime", "Double", "DynamicEnum",
	"Email", "EntityId", "MultiLineText", "Percent", "Phone", "Text", "Url"}

// historyPrefix is the key prefix of every history object.
const historyPrefix = "017"

// defaultHistoryRetention is how long Salesforce keeps field history for
// the API without Field Audit Trail: 24 months (18 in the UI).
const defaultHistoryRetention = 24

// historySchema adds the history objects to a schema.
func historySchema(objs map[string]*object, add func(*object, ...*field) *object) {
	for parentKey, h := range historyObjects {
		parent := objs[parentKey]
		label := parent.label + " History"
		if parent.name == "Opportunity" {
			label = "Opportunity Field History"
		}
		o := add(&object{name: h.name, label: label, labelPlural: label, prefix: historyPrefix, hasIsDeleted: true, historyOf: parent.name},
			fID(),
			readOnly(&field{name: "IsDeleted", label: "Deleted", typ: tBoolean, defaultedOnCreate: true}),
			readOnly(&field{name: h.parentField, label: parent.label + " ID", typ: tReference, length: 18, referenceTo: []string{parent.name}, relationshipName: parent.name}),
			readOnly(&field{name: "CreatedById", label: "Created By ID", typ: tReference, length: 18, referenceTo: []string{"User"}, relationshipName: "CreatedBy", defaultedOnCreate: true}),
			readOnly(&field{name: "CreatedDate", label: "Created Date", typ: tDateTime, defaultedOnCreate: true}),
			readOnly(&field{name: "Field", label: "Changed Field", typ: tPicklist, length: 255}),
			readOnly(&field{name: "DataType", label: "Data Type", typ: tPicklist, length: 40, nillable: true, picklist: historyDataTypes}),
			readOnly(&field{name: "OldValue", label: "Old Value", typ: tAnyType, length: 255, nillable: true}),
			readOnly(&field{name: "NewValue", label: "New Value", typ: tAnyType, length: 255, nillable: true}),
		)
		parent.history = o
	}
}

// historyTracking is which fields of which objects are tracked: lower-case
// object name to lower-case field names.
type historyTracking map[string]map[string]bool

func newHistoryTracking(cfg map[string][]string) historyTracking {
	if cfg == nil {
		cfg = DefaultFieldHistory
	}
	t := historyTracking{}
	for obj, fields := range cfg {
		if _, ok := historyObjects[strings.ToLower(obj)]; !ok {
			continue
		}
		for _, f := range fields {
			t.track(obj, f, true)
		}
	}
	return t
}

func (t historyTracking) track(obj, field string, on bool) {
	k := strings.ToLower(obj)
	if t[k] == nil {
		t[k] = map[string]bool{}
	}
	if on {
		t[k][strings.ToLower(field)] = true
	} else {
		delete(t[k], strings.ToLower(field))
	}
}

// tracks reports whether field f of o is tracked.
func (d *db) tracks(o *object, f *field) bool {
	return o.history != nil && d.tracking[strings.ToLower(o.name)][strings.ToLower(f.name)]
}

// historyOn reports whether a history object is visible: its parent
// object tracks at least one field (with none, Salesforce does not serve
// it and a query answers INVALID_TYPE).
func (d *db) historyOn(h *object) bool {
	return h.historyOf == "" || len(d.tracking[strings.ToLower(h.historyOf)]) > 0
}

// SetFieldHistory turns history tracking of fields of object (Account or
// Opportunity) on or off, as an admin does in Setup. Turning the last
// tracked field of an object off hides its history object; rows written
// before stay and show again when tracking is turned back on.
func (s *Server) SetFieldHistory(object string, on bool, fields ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.db.schema[strings.ToLower(object)]
	if o == nil || o.history == nil {
		return fmt.Errorf("field history of %s: the emulator tracks Account and Opportunity fields only", object)
	}
	for _, f := range fields {
		fld, _ := o.field(f)
		if fld == nil {
			return fmt.Errorf("field history of %s: no field %s", o.name, f)
		}
		if on && !trackable(fld) {
			return fmt.Errorf("field history of %s: Salesforce does not track %s: it is derived or set by the system (IsClosed and IsWon follow StageName)", o.name, fld.name)
		}
		s.db.tracking.track(o.name, f, on)
	}
	return nil
}

// trackable reports whether Setup offers field history tracking of f:
// not for fields no user can set (formulas, roll-ups, system fields, and
// Opportunity's IsClosed and IsWon, which follow StageName).
func trackable(f *field) bool {
	return f.createable || f.updateable
}

// historyFieldName is the Field value of a change of f: the API name, but
// a standard lookup's relationship name (Owner, Parent) and an account's
// name as TextName, as Salesforce records them.
func historyFieldName(o *object, f *field) string {
	switch {
	case o.name == "Account" && f.name == "Name":
		return "TextName"
	case f.typ == tReference && !f.custom && f.relationshipName != "":
		return f.relationshipName
	}
	return f.name
}

// historyDataType is the DataType of a change of f.
func historyDataType(f *field) string {
	switch f.typ {
	case tBoolean:
		return "Boolean"
	case tCurrency:
		return "Currency"
	case tPercent:
		return "Percent"
	case tDouble, tInt:
		return "Double"
	case tDate:
		return "DateOnly"
	case tDateTime:
		return "DateTime"
	case tPicklist, tCombobox:
		return "DynamicEnum"
	case tReference:
		return "EntityId"
	case tTextarea:
		return "MultiLineText"
	case tEmail:
		return "Email"
	case tPhone:
		return "Phone"
	case tURL:
		return "Url"
	}
	return "Text"
}

// historyValue is how a history row holds a value of f: numbers, booleans
// and text as they are, dates as "YYYY-MM-DD" text and date/times as
// times, so the REST API renders each in its own JSON type and Bulk CSV
// as the value's text. Long text is not kept (Salesforce records that it
// changed, not the values).
func historyValue(f *field, v any) any {
	if v == nil {
		return nil
	}
	switch f.typ {
	case tTextarea:
		return nil
	case tDate:
		if t, ok := v.(time.Time); ok {
			return t.UTC().Format("2006-01-02")
		}
	}
	return v
}

// addHistory adds one history row of parent; sorted says whether to keep
// the index in order now (API writes) or leave it to rebuild (loads).
// Millions of rows are loaded with a large org, so the values they share
// are boxed once: the parent's and the user's IDs come boxed from their
// records, field names and data types from a small table.
func (d *db) addHistory(h *object, parent *record, at time.Time, by any, fieldName, dataType string, old, new any, sorted bool) *record {
	t := d.tables[strings.ToLower(h.name)]
	id := d.newID(h.prefix)
	at = crm.Normalize(at)
	r := &record{t: t, id: id, vals: []any{id, false, parent.get(parent.t.idxID), by, at, d.intern(fieldName), d.intern(dataType), old, new}}
	r.stamp = at.UnixMilli()
	if parent.deleted { // history goes to the recycle bin with its record
		r.deleted, r.deletedAt = true, parent.deletedAt
		r.vals[1] = true
	}
	t.byID[id] = r
	if sorted {
		t.place(r)
	} else {
		r.ver++
		t.index = append(t.index, stampEntry{stamp: r.stamp, rec: r, ver: r.ver})
	}
	return r
}

// intern boxes a field name or data type once ("" is nil).
func (d *db) intern(s string) any {
	if s == "" {
		return nil
	}
	v, ok := d.interned[s]
	if !ok {
		if d.interned == nil {
			d.interned = map[string]any{}
		}
		v = s
		d.interned[s] = v
	}
	return v
}

// boxedID is a record's ID as its record holds it (boxed), or nil.
func (d *db) boxedID(id string) any {
	if r := d.lookup(id); r != nil {
		return r.get(r.t.idxID)
	}
	return nil
}

// recordCreated writes the "created" row of a new record of a tracked
// object.
func (s *Server) recordCreated(r *record, userID string, at time.Time) {
	o := r.t.obj
	if o.history == nil || !s.db.historyOn(o.history) {
		return
	}
	s.db.addHistory(o.history, r, at, s.db.boxedID(userID), "created", "", nil, nil, true)
}

// recordChanges writes a row for each tracked field whose value differs
// between old (the record's values before a write) and r now. A lookup
// change writes two rows, as Salesforce does: the IDs (EntityId) and the
// names (Text).
func (s *Server) recordChanges(r *record, old []any, userID string, at time.Time) {
	o := r.t.obj
	if o.history == nil || !s.db.historyOn(o.history) {
		return
	}
	by := s.db.boxedID(userID)
	for i, f := range o.fields {
		if !s.db.tracks(o, f) {
			continue
		}
		var before any
		if i < len(old) {
			before = old[i]
		}
		after := r.get(i)
		if sameValue(before, after) {
			continue
		}
		name := historyFieldName(o, f)
		if f.typ == tReference {
			s.db.addHistory(o.history, r, at, by, name, "Text", s.db.nameOf(before), s.db.nameOf(after), true)
		}
		s.db.addHistory(o.history, r, at, by, name, historyDataType(f), historyValue(f, before), historyValue(f, after), true)
	}
}

// nameOf is the Name of the record with ID id (nil when there is none).
func (d *db) nameOf(id any) any {
	s, _ := id.(string)
	if r := d.lookup(s); r != nil {
		if n := r.getName("Name"); n != nil {
			return n
		}
	}
	return nil
}

func sameValue(a, b any) bool {
	if ta, ok := a.(time.Time); ok {
		tb, ok := b.(time.Time)
		return ok && ta.Equal(tb)
	}
	return a == b
}

// deleteHistory moves the history of a deleted record to the recycle bin
// with it (queryAll still shows the rows, with IsDeleted true).
func (s *Server) deleteHistory(parent *record) {
	h := parent.t.obj.history
	if h == nil {
		return
	}
	t := s.db.tables[strings.ToLower(h.name)]
	_, pi := h.field(historyObjects[strings.ToLower(parent.t.obj.name)].parentField)
	for _, r := range t.lookupEq(h.fields[pi], pi, []string{parent.id}) {
		if !r.deleted {
			r.deleted = true
			r.deletedAt = parent.deletedAt
			r.set(t.idxDeleted, true)
		}
	}
}

// historyField describes a history object's Field picklist: "created"
// and the tracked fields of the parent object.
func (s *Server) historyFieldPicklist(h *object) []picklistEntry {
	parent := s.db.schema[strings.ToLower(h.historyOf)]
	names := []string{"created"}
	for _, f := range parent.fields {
		if s.db.tracks(parent, f) {
			names = append(names, historyFieldName(parent, f))
		}
	}
	sort.Strings(names[1:])
	out := make([]picklistEntry, 0, len(names))
	for _, n := range names {
		out = append(out, picklistEntry{Active: true, Label: n, Value: n})
	}
	return out
}

// genAccountFields maps the generator's history fields to the demo
// org's account and opportunity fields.
var genHistoryFields = map[gen.Field]string{
	gen.FieldARR: "ARR__c", gen.FieldAdoption: "Adoption__c", gen.FieldAdoptionPrev: "Adoption_Previous__c",
	gen.FieldSentiment: "CSM_Sentiment__c", gen.FieldNPS: "NPS__c", gen.FieldRenewalDate: "Renewal_Date__c",
	gen.FieldChurned: "Churned__c", gen.FieldType: "Type",
	gen.FieldStage: "StageName", gen.FieldAmount: "Amount", gen.FieldCloseDate: "CloseDate",
}

// genHistoryField is the field of o a generator field maps to (nil when
// the org has none), looked up once per object and field.
func (d *db) genHistoryField(o *object, f gen.Field) *field {
	for _, m := range d.genFields {
		if m.o == o && m.f == f {
			return m.fld
		}
	}
	fld, _ := o.field(genHistoryFields[f])
	d.genFields = append(d.genFields, genField{o, f, fld})
	return fld
}

// genField caches genHistoryField (a load holds the server's lock).
type genField struct {
	o   *object
	f   gen.Field
	fld *field
}

// genHistoryValue turns a generator value into the field's stored value.
func genHistoryValue(f gen.Field, v any) any {
	switch x := v.(type) {
	case float64:
		if f == gen.FieldAdoption || f == gen.FieldAdoptionPrev {
			return round2(x * 100)
		}
	case time.Time:
		return crm.Date(x)
	}
	return v
}

// loadGenHistory writes the history rows of one generated account and its
// opportunities (loaded already): a "created" row for records created
// within the history window, then each change of a tracked field. The
// index is left for rebuild to sort.
func (s *Server) loadGenHistory(b *gen.Bundle) {
	if b.HistoryFrom.IsZero() {
		return
	}
	d := s.db
	acct := d.schema["account"]
	opp := d.schema["opportunity"]
	a := b.Account
	user := func(i int32) any {
		id, _ := s.genRef("User", i).(string)
		return d.boxedID(id)
	}
	record := func(obj string, i int32) *record {
		id, _ := s.genRef(obj, i).(string)
		return d.lookup(id)
	}
	if r := record("Account", a.Index); r != nil && d.historyOn(acct.history) && !a.Created.Before(b.HistoryFrom) {
		d.addHistory(acct.history, r, a.Created, user(a.Owner), "created", "", nil, nil, false)
	}
	for _, o := range b.Opportunities {
		if r := record("Opportunity", o.Index); r != nil && d.historyOn(opp.history) && !o.Created.Before(b.HistoryFrom) {
			d.addHistory(opp.history, r, o.Created, user(o.Owner), "created", "", nil, nil, false)
		}
	}
	acctRec, acctOwner := record("Account", a.Index), user(a.Owner)
	for _, c := range b.History {
		o, r, by := acct, acctRec, acctOwner
		if c.Opportunity >= 0 {
			o, r = opp, record("Opportunity", c.Opportunity)
			for _, op := range b.Opportunities {
				if op.Index == c.Opportunity {
					by = user(op.Owner)
					// A value set when the opportunity was created is no
					// change: its "created" row stands for it.
					if c.Old == nil && c.At.Equal(op.Created) {
						r = nil
					}
				}
			}
		}
		f := d.genHistoryField(o, c.Field)
		if r == nil || f == nil || !d.tracks(o, f) || !d.historyOn(o.history) || (r.deleted && c.At.After(r.deletedAt)) {
			continue // a deleted record changes no more
		}
		old, new := genHistoryValue(c.Field, c.Old), genHistoryValue(c.Field, c.New)
		d.addHistory(o.history, r, c.At, by, historyFieldName(o, f), historyDataType(f), historyValue(f, old), historyValue(f, new), false)
		// A change modifies the record: keep its SystemModstamp at or
		// after its newest change, as on a real org.
		if crm.Normalize(c.At).UnixMilli() > r.stamp {
			at := crm.Normalize(c.At)
			r.stamp = at.UnixMilli()
			r.set(r.t.idxStamp, at)
			r.set(r.t.idxLastMod, at)
			r.t.index = append(r.t.index, stampEntry{stamp: r.stamp, rec: r, ver: r.ver + 1})
			r.ver++
		}
	}
}

// historyRetentionFrom is the oldest CreatedDate a history query returns.
func (d *db) historyRetentionFrom(now time.Time) int64 {
	if d.retentionMonths < 0 {
		return -1 << 63
	}
	return now.AddDate(0, -d.retentionMonths, 0).UnixMilli()
}

// HistoryRows returns the history rows of a record (deleted ones too),
// oldest first, as field maps; tests use it to check what the API wrote.
func (s *Server) HistoryRows(object, id string) []map[string]any {
	s.mu.RLock()
	defer s.mu.RUnlock()
	o := s.db.schema[strings.ToLower(object)]
	if o == nil || o.history == nil {
		return nil
	}
	h := o.history
	_, pi := h.field(historyObjects[strings.ToLower(o.name)].parentField)
	var out []map[string]any
	s.db.tables[strings.ToLower(h.name)].scan(-1<<63, func(r *record) bool {
		if r.get(pi) == canonicalID(id) {
			out = append(out, fieldsOf(r))
		}
		return true
	})
	return out
}
