package salesforce

import (
	"sort"
	"strings"
	"time"

	"healthsync/crm"
)

// record is one row of an object. vals is indexed like the object's
// fields; a field added later reads as null until written.
type record struct {
	t       *table
	id      string
	stamp   int64 // SystemModstamp in Unix milliseconds, mirrored from vals
	deleted bool
	ver     uint32 // bumped whenever stamp changes; validates index entries
	vals    []any
	// deletedAt is when the record went to the recycle bin.
	deletedAt time.Time
}

// get reads the field at i; a formula field is computed now.
func (r *record) get(i int) any {
	if r.t != nil && r.t.obj.formulas > 0 && i >= 0 && i < len(r.t.obj.fields) {
		if fm := r.t.obj.fields[i].formula; fm != nil {
			return fm.value(r)
		}
	}
	if i < 0 || i >= len(r.vals) {
		return nil
	}
	return r.vals[i]
}

func (r *record) set(i int, v any) {
	if r.t != nil {
		r.t.gen++ // equality indexes built before are stale now
	}
	for len(r.vals) <= i {
		r.vals = append(r.vals, nil)
	}
	r.vals[i] = v
}

// getName reads a field by name; nil when absent.
func (r *record) getName(name string) any {
	_, i := r.t.obj.field(name)
	return r.get(i)
}

func (r *record) str(name string) string {
	s, _ := r.getName(name).(string)
	return s
}

// stampEntry is one position in a table's (SystemModstamp, Id) index. It is
// valid while ver equals the record's current ver.
type stampEntry struct {
	stamp int64
	rec   *record
	ver   uint32
}

// table holds the records of one object: a map by ID and an index sorted
// by (SystemModstamp, Id) that incremental queries walk from a binary
// search instead of scanning every row.
type table struct {
	obj   *object
	byID  map[string]*record
	index []stampEntry
	stale int
	// idxID, idxStamp, idxDeleted are field positions used on every write.
	idxID, idxStamp, idxDeleted, idxLastMod, idxLastModBy int
	// gen counts changes to the table's records; eq holds equality
	// indexes by field position, each valid for the gen it was built at.
	gen uint64
	eq  map[int]*eqIndex
}

// eqIndex maps a field's comparison key (IDs as stored, text lower-cased)
// to the records holding it, as Salesforce indexes Id, lookups and
// external-ID fields: a query `WHERE Field IN (...)` then costs the
// matches, not a scan of the table.
type eqIndex struct {
	gen  uint64
	keys map[string][]*record
}

// eqKey is the comparison key of a field value, as compareOp compares
// strings ("" and false when the value is not a string).
func eqKey(f *field, v any) (string, bool) {
	s, ok := v.(string)
	if !ok {
		return "", false
	}
	if f.typ == tID || f.typ == tReference {
		return s, true
	}
	return strings.ToLower(s), true
}

// lookupEq returns the records whose field at i holds one of keys,
// building (or rebuilding, after a change) the field's index first.
func (t *table) lookupEq(f *field, i int, keys []string) []*record {
	x := t.eq[i]
	if x == nil || x.gen != t.gen {
		x = &eqIndex{gen: t.gen, keys: map[string][]*record{}}
		for _, r := range t.byID {
			if k, ok := eqKey(f, r.get(i)); ok {
				x.keys[k] = append(x.keys[k], r)
			}
		}
		if t.eq == nil {
			t.eq = map[int]*eqIndex{}
		}
		t.eq[i] = x
	}
	var out []*record
	seen := map[string]bool{}
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			out = append(out, x.keys[k]...)
		}
	}
	return out
}

func newTable(o *object) *table {
	t := &table{obj: o, byID: map[string]*record{}}
	_, t.idxID = o.field("Id")
	_, t.idxStamp = o.field("SystemModstamp")
	_, t.idxDeleted = o.field("IsDeleted")
	_, t.idxLastMod = o.field("LastModifiedDate")
	_, t.idxLastModBy = o.field("LastModifiedById")
	return t
}

func entryLess(a, b stampEntry) bool {
	if a.stamp != b.stamp {
		return a.stamp < b.stamp
	}
	return a.rec.id < b.rec.id
}

// place (re)inserts r into the index at its current stamp.
func (t *table) place(r *record) {
	t.gen++
	if r.ver != 0 {
		t.stale++
	}
	r.ver++
	e := stampEntry{stamp: r.stamp, rec: r, ver: r.ver}
	n := len(t.index)
	if n == 0 || !entryLess(e, t.index[n-1]) {
		t.index = append(t.index, e)
	} else {
		i := sort.Search(n, func(i int) bool { return entryLess(e, t.index[i]) })
		t.index = append(t.index, stampEntry{})
		copy(t.index[i+1:], t.index[i:])
		t.index[i] = e
	}
	if t.stale > 1024 && t.stale > len(t.index)/2 {
		t.compact()
	}
}

func (t *table) compact() {
	out := t.index[:0]
	for _, e := range t.index {
		if e.ver == e.rec.ver && t.byID[e.rec.id] == e.rec {
			out = append(out, e)
		}
	}
	clear(t.index[len(out):])
	t.index = out
	t.stale = 0
}

// setStamp sets SystemModstamp (and LastModifiedDate) and re-indexes.
func (t *table) setStamp(r *record, ts time.Time, by string) {
	ts = crm.Normalize(ts)
	r.stamp = ts.UnixMilli()
	if t.idxStamp >= 0 {
		r.set(t.idxStamp, ts)
	}
	if t.idxLastMod >= 0 {
		r.set(t.idxLastMod, ts)
	}
	if by != "" && t.idxLastModBy >= 0 {
		r.set(t.idxLastModBy, by)
	}
	t.place(r)
}

// scan calls fn for each live index entry from the first with stamp >=
// from (math.MinInt64 for all), in (SystemModstamp, Id) order, until fn
// returns false.
func (t *table) scan(from int64, fn func(r *record) bool) {
	i := sort.Search(len(t.index), func(i int) bool { return t.index[i].stamp >= from })
	for ; i < len(t.index); i++ {
		e := t.index[i]
		if e.ver != e.rec.ver {
			continue
		}
		if !fn(e.rec) {
			return
		}
	}
}

// db is every table of the org, by lower-case object name, plus a global
// ID map for relationship lookups.
type db struct {
	schema map[string]*object
	tables map[string]*table
	byID   map[string]*record
	seq    map[string]int64 // next ID number per key prefix
	// tracking is the field history tracking; retentionMonths how long
	// history rows are served (negative: for ever).
	tracking        historyTracking
	retentionMonths int
	genFields       []genField
	interned        map[string]any
	// stages are the opportunity stages (the StageName picklist).
	stages []stage
}

func newDB() *db {
	d := &db{schema: newSchema(), tables: map[string]*table{}, byID: map[string]*record{}, seq: map[string]int64{},
		tracking: historyTracking{}, retentionMonths: defaultHistoryRetention, stages: stagesProbability}
	for k, o := range d.schema {
		d.tables[k] = newTable(o)
	}
	return d
}

func (d *db) table(name string) *table { return d.tables[strings.ToLower(name)] }

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newID returns the next 18-character ID with the object's key prefix:
// prefix (3) + pod "5g" + reserved "0" + 9 base-62 digits + checksum.
func (d *db) newID(prefix string) string {
	for {
		id := d.nextID(prefix)
		if d.lookup(id) == nil {
			return id
		}
	}
}

func (d *db) nextID(prefix string) string {
	d.seq[prefix]++
	n := d.seq[prefix] + 1_000_000 // look like an established org
	var digits [9]byte
	for i := 8; i >= 0; i-- {
		digits[i] = base62[n%62]
		n /= 62
	}
	id, _ := crm.SalesforceID18(prefix + "5g0" + string(digits[:]))
	return id
}

// canonicalID turns a 15- or 18-character ID into the 18-character form
// the store uses; other strings come back unchanged.
func canonicalID(s string) string {
	if len(s) == 15 {
		if id, err := crm.SalesforceID18(s); err == nil {
			return id
		}
	}
	if len(s) == 18 {
		// The checksum makes the 18-character form case-insensitive:
		// normalise the suffix and recompute.
		if id, err := crm.SalesforceID18(s[:15]); err == nil && strings.EqualFold(id, s) {
			return id
		}
	}
	return s
}

// lookup finds a live or deleted record by ID. History rows are kept out
// of byID (there are millions and nothing refers to them): their tables
// answer for the history prefix.
func (d *db) lookup(id string) *record {
	id = canonicalID(id)
	if r := d.byID[id]; r != nil || !strings.HasPrefix(id, historyPrefix) {
		return r
	}
	for _, h := range historyObjects {
		if r := d.tables[strings.ToLower(h.name)].byID[id]; r != nil {
			return r
		}
	}
	return nil
}

// insert adds a new record with vals set, stamps it and indexes it.
func (d *db) insert(t *table, vals map[int]any, now time.Time, by string) *record {
	id := d.newID(t.obj.prefix)
	r := &record{t: t, id: id, vals: make([]any, len(t.obj.fields))}
	for i, v := range vals {
		r.set(i, v)
	}
	r.set(t.idxID, id)
	if t.idxDeleted >= 0 {
		r.set(t.idxDeleted, false)
	}
	now = crm.Normalize(now)
	if _, i := t.obj.field("CreatedDate"); i >= 0 && r.get(i) == nil {
		r.set(i, now)
	}
	if _, i := t.obj.field("CreatedById"); i >= 0 && r.get(i) == nil && by != "" {
		r.set(i, by)
	}
	t.byID[id] = r
	d.byID[id] = r
	stamp := now
	if v, ok := r.get(t.idxStamp).(time.Time); ok && !v.IsZero() {
		stamp = v // loaded data keeps its own stamp
	}
	t.setStamp(r, stamp, by)
	if lm, ok := vals[t.idxLastMod].(time.Time); ok && t.idxLastMod >= 0 {
		r.set(t.idxLastMod, lm)
	}
	return r
}
