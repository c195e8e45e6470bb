package salesforce

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// fieldPath is a resolved field reference such as Name or Account.Owner.Email.
type fieldPath struct {
	rels  []int     // reference-field indexes to follow, from the queried object
	relOf []*object // the object each rels index belongs to
	name  string    // canonical name of the final field
	fld   *field    // the final field's metadata
	idx   int       // index of the final field in its object (when !poly)
	poly  bool      // some step is polymorphic: resolve the final field by name
	segs  []string  // canonical segments: relationship names then the field name
}

func (fp *fieldPath) value(d *db, r *record) any {
	cur := r
	for _, i := range fp.rels {
		id, _ := cur.get(i).(string)
		if id == "" {
			return nil
		}
		cur = d.byID[id]
		if cur == nil || cur.deleted {
			return nil
		}
	}
	if fp.poly {
		return cur.getName(fp.name)
	}
	return cur.get(fp.idx)
}

func invalidField(pos int, name, obj string) *soqlError {
	return &soqlError{code: "INVALID_FIELD", pos: pos, msg: fmt.Sprintf("No such column '%s' on entity '%s'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.", name, obj)}
}

// resolvePath checks a dotted path against the schema.
func (d *db) resolvePath(o *object, path string, pos int) (*fieldPath, error) {
	segs := strings.Split(path, ".")
	if len(segs) > 1 && strings.EqualFold(segs[0], o.name) {
		if _, isRel := o.byRel[strings.ToLower(segs[0])]; !isRel {
			segs = segs[1:]
		}
	}
	fp := &fieldPath{}
	cur := o
	for i, s := range segs {
		if s == "" {
			return nil, malformed(pos, "unexpected token: '%s'", path)
		}
		if i == len(segs)-1 {
			f, idx := cur.field(s)
			if f == nil {
				return nil, invalidField(pos, s, cur.name)
			}
			fp.name, fp.fld, fp.idx = f.name, f, idx
			fp.segs = append(fp.segs, f.name)
			return fp, nil
		}
		ri, ok := cur.byRel[strings.ToLower(s)]
		if !ok {
			return nil, &soqlError{code: "INVALID_FIELD", pos: pos, msg: fmt.Sprintf("Didn't understand relationship '%s' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.", s)}
		}
		rf := cur.fields[ri]
		fp.rels = append(fp.rels, ri)
		fp.relOf = append(fp.relOf, cur)
		fp.segs = append(fp.segs, rf.relationshipName)
		if len(rf.referenceTo) > 1 {
			fp.poly = true
		}
		next := d.schema[strings.ToLower(rf.referenceTo[0])]
		if next == nil {
			return nil, invalidField(pos, s, cur.name)
		}
		cur = next
	}
	return nil, malformed(pos, "unexpected token: '%s'", path)
}

// selNode is one key of a rendered record: a field, or a parent
// relationship with its own selected fields.
type selNode struct {
	key      string
	path     *fieldPath // leaf: the field
	relIdx   int        // relationship: reference field index in the parent object
	children []*selNode
}

type orderSpec struct {
	fp        *fieldPath
	desc      bool
	nullsLast bool
}

type compiledQuery struct {
	obj        *object
	t          *table
	sel        []*selNode
	columns    []*fieldPath // select list in order, for CSV
	countOnly  bool         // SELECT COUNT()
	countField *fieldPath   // SELECT COUNT(field)
	countAlias string
	pred       func(*record) bool
	order      []orderSpec
	limit      int
	offset     int
	stampFrom  int64
	indexOrder bool
	// eqField and eqKeys narrow the scan to an equality index when the
	// WHERE clause requires a field of the object to equal one of eqKeys.
	eqField *fieldPath
	eqKeys  []string
}

// compile checks a parsed query against the schema. tooling says which API
// the query came through.
func (d *db) compile(q *soqlQuery, now time.Time, tooling bool) (*compiledQuery, error) {
	o := d.schema[strings.ToLower(q.from)]
	if o == nil || (o.tooling && !tooling) || (tooling && !o.tooling && !o.alsoTooling) || !d.historyOn(o) {
		return nil, &soqlError{code: "INVALID_TYPE", pos: q.fromPos, msg: fmt.Sprintf("sObject type '%s' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.", q.from)}
	}
	cq := &compiledQuery{obj: o, t: d.tables[strings.ToLower(o.name)], limit: q.limit, offset: q.offset, stampFrom: math.MinInt64}
	seen := map[string]bool{}
	for _, s := range q.selects {
		if s.count {
			if len(q.selects) > 1 && s.path == "" {
				return nil, malformed(s.pos, "COUNT() must be the only element in the SELECT list")
			}
			if s.path == "" {
				cq.countOnly = true
				continue
			}
			fp, err := d.resolvePath(o, s.path, s.pos)
			if err != nil {
				return nil, err
			}
			if len(q.selects) > 1 {
				return nil, malformed(s.pos, "field '%s' can not be grouped in a query call (GROUP BY is not supported by this emulator)", q.selects[1].path)
			}
			cq.countField, cq.countAlias = fp, s.alias
			if cq.countAlias == "" {
				cq.countAlias = "expr0"
			}
			continue
		}
		fp, err := d.resolvePath(o, s.path, s.pos)
		if err != nil {
			return nil, err
		}
		key := strings.ToLower(strings.Join(fp.segs, "."))
		if seen[key] {
			return nil, malformed(s.pos, "duplicate field selected: %s", strings.Join(fp.segs, "."))
		}
		seen[key] = true
		cq.columns = append(cq.columns, fp)
		cq.sel = addSel(cq.sel, fp, 0)
	}
	if q.where != nil {
		pred, err := d.compileExpr(o, q.where, now)
		if err != nil {
			return nil, err
		}
		cq.pred = pred
		cq.stampFrom = stampLowerBound(q.where, o.stampField())
		cq.eqField, cq.eqKeys = d.equalityBound(o, q.where, now)
	}
	if o.historyOf != "" {
		// Rows older than the retention are gone.
		cq.stampFrom = max(cq.stampFrom, d.historyRetentionFrom(now))
	}
	for _, ob := range q.order {
		fp, err := d.resolvePath(o, ob.path, ob.pos)
		if err != nil {
			return nil, err
		}
		cq.order = append(cq.order, orderSpec{fp: fp, desc: ob.desc, nullsLast: ob.nullsLast})
	}
	cq.indexOrder = len(cq.order) == 0
	if n := len(cq.order); n > 0 && n <= 2 && cq.order[0].fp.name == o.stampField() && len(cq.order[0].fp.rels) == 0 && !cq.order[0].desc {
		cq.indexOrder = n == 1 || (cq.order[1].fp.name == "Id" && len(cq.order[1].fp.rels) == 0 && !cq.order[1].desc)
	}
	if cq.countOnly || cq.countField != nil {
		if len(cq.order) > 0 {
			return nil, malformed(q.order[0].pos, "ORDER BY is not allowed with an aggregate query without GROUP BY")
		}
	}
	return cq, nil
}

func addSel(nodes []*selNode, fp *fieldPath, depth int) []*selNode {
	if depth == len(fp.rels) {
		return append(nodes, &selNode{key: fp.name, path: fp})
	}
	key := fp.segs[depth]
	for _, n := range nodes {
		if n.path == nil && n.key == key {
			n.children = addSel(n.children, fp, depth+1)
			return nodes
		}
	}
	n := &selNode{key: key, relIdx: fp.rels[depth]}
	n.children = addSel(nil, fp, depth+1)
	return append(nodes, n)
}

// stampLowerBound finds a "SystemModstamp >= literal" (or >) condition that
// every match must satisfy, so the scan can start there.
// conjuncts are the terms a WHERE clause requires all of: the terms of a
// top-level AND, or the one comparison (nil for anything else).
func conjuncts(e expr) []expr {
	switch x := e.(type) {
	case andExpr:
		return x.xs
	case cmpExpr:
		return []expr{x}
	}
	return nil
}

func stampLowerBound(e expr, stampField string) int64 {
	best := int64(math.MinInt64)
	for _, x := range conjuncts(e) {
		c, ok := x.(cmpExpr)
		if !ok || !strings.EqualFold(c.path, stampField) || (c.op != ">" && c.op != ">=") || c.val.kind != tokDateTime {
			continue
		}
		if ms := c.val.t.UnixMilli(); ms > best {
			best = ms
		}
	}
	return best
}

// equalityBound finds a conjunct of the WHERE clause that requires a
// direct string field to equal one of a list of values (Field = 'x' or
// Field IN ('x', ...)), for the equality index. The full predicate is
// still applied to what the index returns.
func (d *db) equalityBound(o *object, e expr, now time.Time) (*fieldPath, []string) {
	for _, x := range conjuncts(e) {
		c, ok := x.(cmpExpr)
		if !ok || (c.op != "=" && c.op != "IN") {
			continue
		}
		fp, err := d.resolvePath(o, c.path, c.pos)
		if err != nil || len(fp.rels) > 0 || fp.poly {
			continue
		}
		f := fp.fld
		if f.typ != tID && f.typ != tReference && !f.isText() {
			continue
		}
		vals := c.vals
		if c.op == "=" {
			vals = []token{c.val}
		}
		keys := make([]string, 0, len(vals))
		for _, v := range vals {
			op, err := d.operand(f, v, now)
			if err != nil || op.null || op.isRange || op.like != nil {
				keys = nil
				break
			}
			keys = append(keys, op.str)
		}
		if keys != nil {
			return fp, keys
		}
	}
	return nil, nil
}

func typeName(f *field) string {
	switch f.typ {
	case tDateTime:
		return "dateTime"
	case tReference, tID:
		return "id"
	}
	return f.typ
}

func badValue(t token, f *field) *soqlError {
	return &soqlError{code: "INVALID_FIELD", pos: t.pos, msg: fmt.Sprintf("value of filter criterion for field '%s' must be of type %s and should not be enclosed in quotes", f.name, typeName(f))}
}

// operand is a literal converted to the field's type.
type operand struct {
	null    bool
	str     string // lower-cased for text, canonical for IDs
	num     float64
	b       bool
	t       time.Time
	isRange bool
	lo, hi  time.Time
	like    *likePattern
}

func (d *db) operand(f *field, t token, now time.Time) (operand, error) {
	if t.kind == tokIdent {
		switch strings.ToUpper(t.text) {
		case "NULL":
			return operand{null: true}, nil
		case "TRUE", "FALSE":
			if f.typ != tBoolean {
				return operand{}, badValue(t, f)
			}
			return operand{b: strings.EqualFold(t.text, "TRUE")}, nil
		}
	}
	switch {
	case f.typ == tBoolean:
		return operand{}, badValue(t, f)
	case f.typ == tID || f.typ == tReference:
		if t.kind != tokString {
			return operand{}, badValue(t, f)
		}
		return operand{str: canonicalID(t.str)}, nil
	case f.isText():
		if t.kind != tokString {
			return operand{}, badValue(t, f)
		}
		return operand{str: strings.ToLower(t.str)}, nil
	case f.isNumber():
		if t.kind != tokNumber {
			return operand{}, badValue(t, f)
		}
		return operand{num: t.num}, nil
	case f.typ == tDate || f.typ == tDateTime:
		switch {
		case t.kind == tokDateLiteral:
			lo, hi := dateRange(t, now)
			return operand{isRange: true, lo: lo, hi: hi}, nil
		case t.kind == tokDate && f.typ == tDate, t.kind == tokDateTime && f.typ == tDateTime:
			return operand{t: t.t}, nil
		}
		return operand{}, badValue(t, f)
	}
	return operand{}, badValue(t, f)
}

// dateRange turns a relative date literal into [lo, hi) in UTC.
func dateRange(t token, now time.Time) (time.Time, time.Time) {
	now = now.UTC()
	d := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	week := d.AddDate(0, 0, -int(d.Weekday()))
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	year := time.Date(now.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	n := t.n
	switch t.text[:strings.IndexByte(t.text+":", ':')] {
	case "YESTERDAY":
		return d.AddDate(0, 0, -1), d
	case "TOMORROW":
		return d.AddDate(0, 0, 1), d.AddDate(0, 0, 2)
	case "LAST_WEEK":
		return week.AddDate(0, 0, -7), week
	case "THIS_WEEK":
		return week, week.AddDate(0, 0, 7)
	case "NEXT_WEEK":
		return week.AddDate(0, 0, 7), week.AddDate(0, 0, 14)
	case "LAST_MONTH":
		return month.AddDate(0, -1, 0), month
	case "THIS_MONTH":
		return month, month.AddDate(0, 1, 0)
	case "NEXT_MONTH":
		return month.AddDate(0, 1, 0), month.AddDate(0, 2, 0)
	case "LAST_90_DAYS":
		return d.AddDate(0, 0, -90), d.AddDate(0, 0, 1)
	case "NEXT_90_DAYS":
		return d.AddDate(0, 0, 1), d.AddDate(0, 0, 91)
	case "THIS_YEAR":
		return year, year.AddDate(1, 0, 0)
	case "LAST_YEAR":
		return year.AddDate(-1, 0, 0), year
	case "NEXT_YEAR":
		return year.AddDate(1, 0, 0), year.AddDate(2, 0, 0)
	case "LAST_N_DAYS":
		return d.AddDate(0, 0, -n), d.AddDate(0, 0, 1)
	case "NEXT_N_DAYS":
		return d.AddDate(0, 0, 1), d.AddDate(0, 0, n+1)
	case "N_DAYS_AGO":
		return d.AddDate(0, 0, -n), d.AddDate(0, 0, -n+1)
	case "LAST_N_WEEKS":
		return week.AddDate(0, 0, -7*n), week
	case "NEXT_N_WEEKS":
		return week.AddDate(0, 0, 7), week.AddDate(0, 0, 7+7*n)
	case "LAST_N_MONTHS":
		return month.AddDate(0, -n, 0), month
	case "NEXT_N_MONTHS":
		return month.AddDate(0, 1, 0), month.AddDate(0, 1+n, 0)
	case "LAST_N_YEARS":
		return year.AddDate(-n, 0, 0), year
	case "NEXT_N_YEARS":
		return year.AddDate(1, 0, 0), year.AddDate(1+n, 0, 0)
	}
	return d, d.AddDate(0, 0, 1) // TODAY
}

func (d *db) compileExpr(o *object, e expr, now time.Time) (func(*record) bool, error) {
	switch x := e.(type) {
	case andExpr, orExpr:
		var xs []expr
		isAnd := false
		if a, ok := x.(andExpr); ok {
			xs, isAnd = a.xs, true
		} else {
			xs = x.(orExpr).xs
		}
		preds := make([]func(*record) bool, len(xs))
		for i, sub := range xs {
			p, err := d.compileExpr(o, sub, now)
			if err != nil {
				return nil, err
			}
			preds[i] = p
		}
		if isAnd {
			return func(r *record) bool {
				for _, p := range preds {
					if !p(r) {
						return false
					}
				}
				return true
			}, nil
		}
		return func(r *record) bool {
			for _, p := range preds {
				if p(r) {
					return true
				}
			}
			return false
		}, nil
	case notExpr:
		p, err := d.compileExpr(o, x.x, now)
		if err != nil {
			return nil, err
		}
		return func(r *record) bool { return !p(r) }, nil
	case cmpExpr:
		return d.compileCmp(o, x, now)
	}
	return nil, malformed(0, "unsupported condition")
}

func (d *db) compileCmp(o *object, c cmpExpr, now time.Time) (func(*record) bool, error) {
	fp, err := d.resolvePath(o, c.path, c.pos)
	if err != nil {
		return nil, err
	}
	f := fp.fld
	if f.typ == tAnyType {
		return nil, &soqlError{code: "INVALID_FIELD", pos: c.pos, msg: fmt.Sprintf("field '%s' can not be filtered in a query call", f.name)}
	}
	switch c.op {
	case "INCLUDES", "EXCLUDES":
		return nil, &soqlError{code: "INVALID_FIELD", pos: c.pos, msg: fmt.Sprintf("%s can only be used with a multi-select picklist; %s is of type %s", c.op, f.name, f.typ)}
	case "IN", "NOTIN":
		ops := make([]operand, len(c.vals))
		for i, v := range c.vals {
			op, err := d.operand(f, v, now)
			if err != nil {
				return nil, err
			}
			ops[i] = op
		}
		neg := c.op == "NOTIN"
		return func(r *record) bool {
			v := fp.value(d, r)
			for _, op := range ops {
				if compareOp(f, v, "=", op) {
					return !neg
				}
			}
			return neg
		}, nil
	case "LIKE":
		if !f.isText() && f.typ != tID && f.typ != tReference {
			return nil, &soqlError{code: "INVALID_FIELD", pos: c.pos, msg: fmt.Sprintf("invalid operator on %s field: LIKE", typeName(f))}
		}
		if c.val.kind != tokString {
			return nil, badValue(c.val, f)
		}
		lp := compileLike(c.val.str)
		return func(r *record) bool {
			s, ok := fp.value(d, r).(string)
			return ok && lp.match(strings.ToLower(s))
		}, nil
	}
	op, err := d.operand(f, c.val, now)
	if err != nil {
		return nil, err
	}
	if op.null && c.op != "=" && c.op != "!=" {
		return nil, malformed(c.val.pos, "unexpected token: 'null' (only = and != compare with null)")
	}
	if f.typ == tBoolean && c.op != "=" && c.op != "!=" {
		return nil, &soqlError{code: "INVALID_FIELD", pos: c.pos, msg: fmt.Sprintf("invalid operator on boolean field: %s", c.op)}
	}
	operator := c.op
	return func(r *record) bool { return compareOp(f, fp.value(d, r), operator, op) }, nil
}

// compareOp evaluates "value op operand" with SOQL's semantics: text is
// compared case-insensitively, null equals only null, and ordering
// comparisons with null are false.
func compareOp(f *field, v any, op string, o operand) bool {
	if o.null {
		if op == "=" {
			return v == nil
		}
		return v != nil
	}
	if v == nil {
		return op == "!="
	}
	var c int
	switch x := v.(type) {
	case string:
		if f.typ == tID || f.typ == tReference {
			c = strings.Compare(x, o.str)
		} else {
			c = strings.Compare(strings.ToLower(x), o.str)
		}
	case float64:
		c = cmpFloat(x, o.num)
	case bool:
		if x == o.b {
			c = 0
		} else {
			c = 1
		}
	case time.Time:
		if o.isRange {
			switch op {
			case "=":
				return !x.Before(o.lo) && x.Before(o.hi)
			case "!=":
				return x.Before(o.lo) || !x.Before(o.hi)
			case "<":
				return x.Before(o.lo)
			case "<=":
				return x.Before(o.hi)
			case ">":
				return !x.Before(o.hi)
			case ">=":
				return !x.Before(o.lo)
			}
			return false
		}
		c = x.Compare(o.t)
	default:
		return false
	}
	switch op {
	case "=":
		return c == 0
	case "!=":
		return c != 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	}
	return false
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// likePattern is a compiled LIKE pattern: % any run, _ one character,
// case-insensitive.
type likePattern struct{ parts []likePart }

type likePart struct {
	lit  string
	kind byte // 'l' literal, '%' any run, '_' one character
}

func compileLike(p string) *likePattern {
	lp := &likePattern{}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			lp.parts = append(lp.parts, likePart{lit: strings.ToLower(lit.String()), kind: 'l'})
			lit.Reset()
		}
	}
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '\\' && i+1 < len(p):
			i++
			lit.WriteByte(p[i])
		case c == '%' || c == '_':
			flush()
			lp.parts = append(lp.parts, likePart{kind: c})
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return lp
}

func (lp *likePattern) match(s string) bool { return likeMatch(lp.parts, s) }

func likeMatch(parts []likePart, s string) bool {
	for len(parts) > 0 {
		p := parts[0]
		switch p.kind {
		case 'l':
			if !strings.HasPrefix(s, p.lit) {
				return false
			}
			s = s[len(p.lit):]
		case '_':
			if s == "" {
				return false
			}
			_, size := firstRune(s)
			s = s[size:]
		case '%':
			rest := parts[1:]
			if len(rest) == 0 {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if likeMatch(rest, s[i:]) {
					return true
				}
			}
			return false
		}
		parts = parts[1:]
	}
	return s == ""
}

func firstRune(s string) (rune, int) {
	for i, r := range s {
		if i > 0 {
			return r, i
		}
	}
	return 0, len(s)
}

// execute runs a compiled query and returns the matching records in order.
func (d *db) execute(cq *compiledQuery, all bool) []*record {
	var out []*record
	want := -1
	if cq.indexOrder && cq.limit >= 0 {
		want = max(cq.offset, 0) + cq.limit
	}
	visit := func(r *record) bool {
		if r.deleted && !all {
			return true
		}
		if cq.pred != nil && !cq.pred(r) {
			return true
		}
		out = append(out, r)
		return want < 0 || len(out) < want
	}
	switch {
	case want == 0:
	case cq.eqField != nil:
		rs := cq.t.lookupEq(cq.eqField.fld, cq.eqField.idx, cq.eqKeys)
		// Visit in the (SystemModstamp, Id) order a scan would have.
		sort.Slice(rs, func(i, j int) bool {
			if rs[i].stamp != rs[j].stamp {
				return rs[i].stamp < rs[j].stamp
			}
			return rs[i].id < rs[j].id
		})
		for _, r := range rs {
			if r.stamp < cq.stampFrom || cq.t.byID[r.id] != r {
				continue
			}
			if !visit(r) {
				break
			}
		}
	default:
		cq.t.scan(cq.stampFrom, visit)
	}
	if !cq.indexOrder {
		sort.SliceStable(out, func(i, j int) bool { return d.orderLess(cq.order, out[i], out[j]) })
	}
	if cq.offset > 0 {
		if cq.offset >= len(out) {
			out = nil
		} else {
			out = out[cq.offset:]
		}
	}
	if cq.limit >= 0 && len(out) > cq.limit {
		out = out[:cq.limit]
	}
	return out
}

func (d *db) orderLess(order []orderSpec, a, b *record) bool {
	for _, o := range order {
		va, vb := o.fp.value(d, a), o.fp.value(d, b)
		if va == nil || vb == nil {
			if va == nil && vb == nil {
				continue
			}
			// nil sorts first unless NULLS LAST.
			return (va == nil) != o.nullsLast
		}
		c := compareValues(va, vb)
		if c == 0 {
			continue
		}
		if o.desc {
			return c > 0
		}
		return c < 0
	}
	return a.id < b.id
}

func compareValues(a, b any) int {
	switch x := a.(type) {
	case string:
		y, _ := b.(string)
		return strings.Compare(strings.ToLower(x), strings.ToLower(y))
	case float64:
		y, _ := b.(float64)
		return cmpFloat(x, y)
	case bool:
		y, _ := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case time.Time:
		y, _ := b.(time.Time)
		return x.Compare(y)
	}
	return 0
}
