package hubspot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// Search limits from HubSpot's CRM search documentation.
const (
	maxFilterGroups    = 5
	maxFiltersPerGroup = 6
	maxFiltersTotal    = 18
	maxSearchLimit     = 200
	maxSearchResults   = 10000
	defaultSearchLimit = 10
)

// scalar is a JSON string, number or boolean taken as its string form.
type scalar string

// UnmarshalJSON implements json.Unmarshaler.
func (v *scalar) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*v = scalar(s)
		return nil
	}
	if len(b) > 0 && (b[0] == '{' || b[0] == '[') {
		return fmt.Errorf("expected a string, number or boolean, got %s", b)
	}
	if bytes.Equal(b, []byte("null")) {
		*v = ""
		return nil
	}
	*v = scalar(b)
	return nil
}

type searchFilter struct {
	PropertyName string   `json:"propertyName"`
	Operator     string   `json:"operator"`
	Value        *scalar  `json:"value"`
	HighValue    *scalar  `json:"highValue"`
	Values       []scalar `json:"values"`
}

type searchSort struct {
	PropertyName string `json:"propertyName"`
	Direction    string `json:"direction"`
}

// UnmarshalJSON accepts {"propertyName","direction"} and the string form
// "prop" / "-prop" older clients send.
func (s *searchSort) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		if p, ok := strings.CutPrefix(str, "-"); ok {
			*s = searchSort{PropertyName: p, Direction: "DESCENDING"}
		} else {
			*s = searchSort{PropertyName: str, Direction: "ASCENDING"}
		}
		return nil
	}
	type plain searchSort
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*s = searchSort(p)
	return nil
}

type searchBody struct {
	FilterGroups []struct {
		Filters []searchFilter `json:"filters"`
	} `json:"filterGroups"`
	Sorts      []searchSort `json:"sorts"`
	Query      string       `json:"query"`
	Properties []string     `json:"properties"`
	Limit      *scalar      `json:"limit"`
	After      *scalar      `json:"after"`
}

// cond is one compiled filter.
type cond struct {
	prop    string
	op      string
	numeric bool
	lo, hi  float64
	str     string
	strHi   string
	set     map[string]bool
	numSet  map[float64]bool
}

var operators = map[string]bool{"EQ": true, "NEQ": true, "LT": true, "LTE": true, "GT": true, "GTE": true,
	"BETWEEN": true, "IN": true, "NOT_IN": true, "HAS_PROPERTY": true, "NOT_HAS_PROPERTY": true,
	"CONTAINS_TOKEN": true, "NOT_CONTAINS_TOKEN": true}

func isNumericType(p *propDef) bool {
	return p.Type == "number" || p.Type == "datetime" || p.Type == "date"
}

// numValue parses a filter or stored value of a numeric-like property.
func numValue(p *propDef, v string) (float64, bool) {
	if p.Type == "datetime" || p.Type == "date" {
		ms, ok := timeValue(v)
		return float64(ms), ok
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	return f, err == nil
}

// compileFilter checks a filter and turns it into a cond.
func compileFilter(tb *table, gi, fi int, f searchFilter) (cond, *apiError) {
	where := fmt.Sprintf("filterGroups[%d].filters[%d]", gi, fi)
	p, ok := tb.props[f.PropertyName]
	if f.PropertyName == "" {
		return cond{}, validationError("%s: propertyName is required", where)
	}
	if !ok || p.Archived {
		return cond{}, validationError("%s: property %q does not exist on %s", where, f.PropertyName, tb.typ.name)
	}
	if !operators[f.Operator] {
		return cond{}, validationError("%s: operator %q is not valid: use one of EQ, NEQ, LT, LTE, GT, GTE, BETWEEN, IN, NOT_IN, HAS_PROPERTY, NOT_HAS_PROPERTY, CONTAINS_TOKEN, NOT_CONTAINS_TOKEN", where, f.Operator)
	}
	c := cond{prop: f.PropertyName, op: f.Operator, numeric: isNumericType(p)}
	parse := func(v *scalar, what string) (float64, string, *apiError) {
		if v == nil {
			return 0, "", validationError("%s: operator %s needs %s", where, f.Operator, what)
		}
		if c.numeric {
			n, ok := numValue(p, string(*v))
			if !ok {
				return 0, "", validationError("%s: %q is not a valid %s value for %s (use a number, or epoch milliseconds for dates)", where, string(*v), p.Type, f.PropertyName)
			}
			return n, "", nil
		}
		return 0, strings.ToLower(string(*v)), nil
	}
	var e *apiError
	switch f.Operator {
	case "EQ", "NEQ", "LT", "LTE", "GT", "GTE", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN":
		if f.Operator == "CONTAINS_TOKEN" || f.Operator == "NOT_CONTAINS_TOKEN" {
			if f.Value == nil {
				return cond{}, validationError("%s: operator %s needs value", where, f.Operator)
			}
			c.str = strings.ToLower(string(*f.Value))
			return c, nil
		}
		c.lo, c.str, e = parse(f.Value, "value")
	case "BETWEEN":
		if c.lo, c.str, e = parse(f.Value, "value"); e == nil {
			c.hi, c.strHi, e = parse(f.HighValue, "highValue")
		}
	case "IN", "NOT_IN":
		if len(f.Values) == 0 {
			return cond{}, validationError("%s: operator %s needs a non-empty values list", where, f.Operator)
		}
		c.set, c.numSet = map[string]bool{}, map[float64]bool{}
		for i := range f.Values {
			n, s, pe := parse(&f.Values[i], "values")
			if pe != nil {
				return cond{}, pe
			}
			c.set[s] = true
			c.numSet[n] = true
		}
	}
	return c, e
}

// fieldNum and fieldStr read a record value for a condition; the modified
// date and the id come from the record itself, not its property map.
func (tb *table) fieldNum(r *record, prop string) (float64, bool) {
	switch prop {
	case "hs_object_id":
		return float64(r.id), true
	case tb.typ.modProp:
		return float64(r.updatedAt.UnixMilli()), true
	}
	v, ok := r.props[prop]
	if !ok || v == "" {
		return 0, false
	}
	return numValue(tb.props[prop], v)
}

func tokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

func tokenMatch(value, pattern string) bool {
	pattern = strings.Trim(pattern, " ")
	for _, tok := range tokens(value) {
		switch {
		case strings.HasPrefix(pattern, "*") && strings.HasSuffix(pattern, "*") && len(pattern) > 1:
			if strings.Contains(tok, strings.Trim(pattern, "*")) {
				return true
			}
		case strings.HasPrefix(pattern, "*"):
			if strings.HasSuffix(tok, pattern[1:]) {
				return true
			}
		case strings.HasSuffix(pattern, "*"):
			if strings.HasPrefix(tok, pattern[:len(pattern)-1]) {
				return true
			}
		case tok == pattern:
			return true
		}
	}
	// A pattern of several tokens (an email, a domain) matches the whole value.
	return strings.Contains(strings.ToLower(value), strings.Trim(pattern, "*")) && strings.ContainsAny(pattern, "@.-")
}

func (tb *table) eval(r *record, c *cond) bool {
	switch c.op {
	case "HAS_PROPERTY":
		_, ok := r.value(c.prop)
		return ok
	case "NOT_HAS_PROPERTY":
		_, ok := r.value(c.prop)
		return !ok
	case "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN":
		v, _ := r.value(c.prop)
		return tokenMatch(v, c.str) == (c.op == "CONTAINS_TOKEN")
	}
	if c.numeric {
		n, ok := tb.fieldNum(r, c.prop)
		if !ok {
			return c.op == "NEQ" || c.op == "NOT_IN"
		}
		switch c.op {
		case "EQ":
			return n == c.lo
		case "NEQ":
			return n != c.lo
		case "LT":
			return n < c.lo
		case "LTE":
			return n <= c.lo
		case "GT":
			return n > c.lo
		case "GTE":
			return n >= c.lo
		case "BETWEEN":
			return n >= c.lo && n <= c.hi
		case "IN":
			return c.numSet[n]
		case "NOT_IN":
			return !c.numSet[n]
		}
		return false
	}
	v, ok := r.value(c.prop)
	if !ok {
		return c.op == "NEQ" || c.op == "NOT_IN"
	}
	v = strings.ToLower(v)
	switch c.op {
	case "EQ":
		return v == c.str
	case "NEQ":
		return v != c.str
	case "LT":
		return v < c.str
	case "LTE":
		return v <= c.str
	case "GT":
		return v > c.str
	case "GTE":
		return v >= c.str
	case "BETWEEN":
		return v >= c.str && v <= c.strHi
	case "IN":
		return c.set[v]
	case "NOT_IN":
		return !c.set[v]
	}
	return false
}

// query is a compiled search.
type query struct {
	groups [][]cond
	text   []string
}

func (tb *table) matches(r *record, q *query) bool {
	for _, tok := range q.text {
		found := false
		for _, p := range tb.typ.textProps {
			if v, ok := r.props[p]; ok && tokenMatch(v, tok+"*") {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	if len(q.groups) == 0 {
		return true
	}
	for _, g := range q.groups {
		ok := true
		for i := range g {
			if !tb.eval(r, &g[i]) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// bounds derives a range [lo, hi] on one numeric property outside which no
// record can match: the union over the filter groups of each group's
// range. ok is false when some group does not bound the property.
func (q *query) bounds(prop string) (lo, hi float64, ok bool) {
	if len(q.groups) == 0 {
		return 0, 0, false
	}
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, g := range q.groups {
		glo, ghi, gok := groupBounds(g, prop)
		if !gok {
			return 0, 0, false
		}
		lo, hi = math.Min(lo, glo), math.Max(hi, ghi)
	}
	return lo, hi, true
}

// groupBounds is the range one AND group allows on a property.
func groupBounds(g []cond, prop string) (lo, hi float64, ok bool) {
	lo, hi = math.Inf(-1), math.Inf(1)
	for _, c := range g {
		if c.prop != prop || !c.numeric {
			continue
		}
		switch c.op {
		case "EQ":
			lo, hi, ok = math.Max(lo, c.lo), math.Min(hi, c.lo), true
		case "GT":
			lo, ok = math.Max(lo, math.Floor(c.lo)+1), true
		case "GTE":
			lo, ok = math.Max(lo, math.Ceil(c.lo)), true
		case "LT":
			hi, ok = math.Min(hi, math.Ceil(c.lo)-1), true
		case "LTE":
			hi, ok = math.Min(hi, math.Floor(c.lo)), true
		case "BETWEEN":
			lo, hi, ok = math.Max(lo, math.Ceil(c.lo)), math.Min(hi, math.Floor(c.hi)), true
		case "IN":
			least, most := math.Inf(1), math.Inf(-1)
			for v := range c.numSet {
				least, most = math.Min(least, v), math.Max(most, v)
			}
			lo, hi, ok = math.Max(lo, least), math.Min(hi, most), true
		}
	}
	return lo, hi, ok
}

func clampInt64(f float64) int64 {
	switch {
	case f <= math.MinInt64:
		return math.MinInt64
	case f >= math.MaxInt64:
		return math.MaxInt64
	}
	return int64(f)
}

// search serves POST /crm/v3/objects/{type}/search.
func (s *Server) search(w http.ResponseWriter, r *http.Request, t *objectType) {
	var body searchBody
	if e := decodeJSON(r, &body); e != nil {
		s.writeError(w, e)
		return
	}
	limit, after := defaultSearchLimit, 0
	if body.Limit != nil {
		n, err := strconv.Atoi(string(*body.Limit))
		if err != nil || n < 0 {
			s.writeError(w, validationError("limit must be an integer between 1 and %d, got %q", maxSearchLimit, string(*body.Limit)))
			return
		}
		if n > maxSearchLimit {
			s.writeError(w, validationError("limit must be at most %d, got %d", maxSearchLimit, n))
			return
		}
		if n > 0 {
			limit = n
		}
	}
	if body.After != nil && *body.After != "" {
		n, err := strconv.Atoi(string(*body.After))
		if err != nil || n < 0 {
			s.writeError(w, validationError("after must be the paging value a previous search returned (an integer), got %q", string(*body.After)))
			return
		}
		after = n
	}
	if after >= maxSearchResults {
		s.writeError(w, validationError("Cannot page past %d results: after=%d. A search returns at most %d results; narrow the filters instead (for example hs_lastmodifieddate and hs_object_id greater than the last record seen).",
			maxSearchResults, after, maxSearchResults))
		return
	}
	if n := len(body.FilterGroups); n > maxFilterGroups {
		s.writeError(w, validationError("Too many filter groups: %d were given, at most %d are allowed.", n, maxFilterGroups))
		return
	}
	if len(body.Sorts) > 1 {
		s.writeError(w, validationError("Too many sorts: %d were given, only one sort is supported.", len(body.Sorts)))
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	tb := s.tables[t.name]
	q := &query{text: tokens(body.Query)}
	total := 0
	for gi, g := range body.FilterGroups {
		if len(g.Filters) == 0 {
			s.writeError(w, validationError("filterGroups[%d] has no filters: remove it or add at least one filter", gi))
			return
		}
		if len(g.Filters) > maxFiltersPerGroup {
			s.writeError(w, validationError("Too many filters in filterGroups[%d]: %d were given, at most %d are allowed per group.", gi, len(g.Filters), maxFiltersPerGroup))
			return
		}
		total += len(g.Filters)
		var conds []cond
		for fi, f := range g.Filters {
			c, e := compileFilter(tb, gi, fi, f)
			if e != nil {
				s.writeError(w, e)
				return
			}
			conds = append(conds, c)
		}
		q.groups = append(q.groups, conds)
	}
	if total > maxFiltersTotal {
		s.writeError(w, validationError("Too many filters: %d were given, at most %d are allowed across all filter groups.", total, maxFiltersTotal))
		return
	}
	sortProp, desc := "hs_object_id", false
	if len(body.Sorts) == 1 {
		sortProp = body.Sorts[0].PropertyName
		if p, ok := tb.props[sortProp]; !ok || p.Archived {
			s.writeError(w, validationError("sorts[0]: property %q does not exist on %s", sortProp, t.name))
			return
		}
		switch strings.ToUpper(body.Sorts[0].Direction) {
		case "", "ASCENDING", "ASC":
		case "DESCENDING", "DESC":
			desc = true
		default:
			s.writeError(w, validationError("sorts[0]: direction %q is not valid: use ASCENDING or DESCENDING", body.Sorts[0].Direction))
			return
		}
	}
	page, count := s.runSearch(tb, q, sortProp, desc, after, limit)
	results := make([]wireRecord, 0, len(page))
	for _, rec := range page {
		results = append(results, tb.render(rec, body.Properties))
	}
	out := map[string]any{"total": count, "results": results}
	switch {
	case s.faultsNow().LoopPaging && len(results) > 0:
		out["paging"] = map[string]any{"next": map[string]string{"after": strconv.Itoa(after)}} // this very page again
	case after+limit < count:
		out["paging"] = map[string]any{"next": map[string]string{"after": strconv.Itoa(after + limit)}}
	}
	writeJSON(w, http.StatusOK, out)
}

// runSearch finds the matching records in order and returns the page
// [after, after+limit) (never past the 10,000th result) and the total.
// Searches a sync sends are answered from the indexes (keySearch); the
// others by reading the records in range (scanSearch).
func (s *Server) runSearch(tb *table, q *query, sortProp string, desc bool, after, limit int) ([]*record, int) {
	if page, count, ok := s.keySearch(tb, q, sortProp, desc, after, limit); ok {
		return page, count
	}
	return s.scanSearch(tb, q, sortProp, desc, after, limit)
}

// scanSearch is runSearch reading every record in the range the filters
// bound.
func (s *Server) scanSearch(tb *table, q *query, sortProp string, desc bool, after, limit int) ([]*record, int) {
	end := min(after+limit, maxSearchResults)
	var page []*record
	count := 0
	visit := func(rec *record) {
		if !tb.matches(rec, q) {
			return
		}
		if count >= after && count < end {
			page = append(page, rec)
		}
		count++
	}
	modLo, modHi, modBound := q.bounds(tb.typ.modProp)
	modRange := func() []modKey {
		keys := tb.byMod
		if modBound {
			i := searchMod(keys, modKey{clampInt64(modLo), math.MinInt64})
			j := searchMod(keys, modKey{clampInt64(modHi), math.MaxInt64})
			if j < i {
				j = i
			}
			keys = keys[i:j]
		}
		return keys
	}
	switch {
	case sortProp == tb.typ.modProp:
		keys := modRange()
		for i := range keys {
			k := keys[i]
			if desc {
				k = keys[len(keys)-1-i]
			}
			visit(tb.records[k.id])
		}
		return page, count
	case sortProp == "hs_object_id" && !modBound:
		ids := tb.ids
		if lo, hi, ok := q.bounds("hs_object_id"); ok {
			i := searchIDs(ids, clampInt64(lo))
			j := searchIDs(ids, clampInt64(hi)+1)
			if hi == math.Inf(1) {
				j = len(ids)
			}
			if j < i {
				j = i
			}
			ids = ids[i:j]
		}
		for i := range ids {
			id := ids[i]
			if desc {
				id = ids[len(ids)-1-i]
			}
			visit(tb.records[id])
		}
		return page, count
	}
	// General case: gather the matches from the narrowest range, then sort.
	var matched []*record
	if modBound {
		for _, k := range modRange() {
			if rec := tb.records[k.id]; tb.matches(rec, q) {
				matched = append(matched, rec)
			}
		}
	} else {
		for _, id := range tb.ids {
			if rec := tb.records[id]; tb.matches(rec, q) {
				matched = append(matched, rec)
			}
		}
	}
	p := tb.props[sortProp]
	numeric := p != nil && isNumericType(p)
	sort.Slice(matched, func(i, j int) bool {
		a, b := matched[i], matched[j]
		c, missing := tb.compare(a, b, sortProp, numeric)
		if c != 0 {
			// Records without a value come last in either direction.
			return (c < 0) != (desc && !missing)
		}
		return (a.id < b.id) != desc
	})
	count = len(matched)
	if after < count {
		page = matched[after:min(end, count)]
	}
	return page, count
}

// compare orders two records by a property. missing reports that the
// order comes from one record lacking a value (it sorts after the other).
func (tb *table) compare(a, b *record, prop string, numeric bool) (c int, missing bool) {
	if numeric {
		x, okA := tb.fieldNum(a, prop)
		y, okB := tb.fieldNum(b, prop)
		switch {
		case !okA && !okB:
			return 0, false
		case !okA:
			return 1, true
		case !okB:
			return -1, true
		case x < y:
			return -1, false
		case x > y:
			return 1, false
		}
		return 0, false
	}
	x, okA := a.value(prop)
	y, okB := b.value(prop)
	switch {
	case !okA && !okB:
		return 0, false
	case !okA:
		return 1, true
	case !okB:
		return -1, true
	}
	return strings.Compare(strings.ToLower(x), strings.ToLower(y)), false
}
