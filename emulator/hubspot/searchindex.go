package hubspot

import (
	"fmt"
	"math"
	"sort"
	"strings"
	stdsync "sync"
)

// A search sorted by the modified date or by id is answered from the
// table's indexes (byMod: (modified ms, id); ids) in O(log n + page) when
// its filters are what a sync sends: every filter group is a range of the
// sort key (modified = T AND hs_object_id > L, modified > T, id > L, ...)
// AND the same other filters. The records matching those other filters
// (e.g. hs_timestamp >= a date) are found once per distinct set of them
// and kept, in index order, until the portal next changes; each page is
// then a binary search in that list. Anything else takes the general path
// (runSearch), which reads every record in range.

// matchCache keeps, per table, sort key and set of non-key filters, the
// keys of the records matching those filters, in index order. It is valid
// for one generation of the portal (Server.gen, bumped by every write).
type matchCache struct {
	mu      stdsync.Mutex
	gen     uint64
	entries map[string]*cachedMatches
}

type cachedMatches struct {
	byMod []modKey // when sorted by the modified date
	ids   []int64  // when sorted by id
}

// maxCachedQueries bounds the match cache; past it, it starts over.
const maxCachedQueries = 16

// lockWrite takes the portal's write lock and starts a new generation:
// every cached match list is stale from here on.
func (s *Server) lockWrite() {
	s.mu.Lock()
	s.gen.Add(1)
}

// keyInterval is a range of the sort order, inclusive at both ends.
type keyInterval struct{ lo, hi modKey }

// keySearch answers a search sorted by sortProp (the modified date or
// hs_object_id) from the indexes. ok is false when the filters are not
// ranges of the sort key AND one common set of other filters.
func (s *Server) keySearch(tb *table, q *query, sortProp string, desc bool, after, limit int) (page []*record, count int, ok bool) {
	byMod := sortProp == tb.typ.modProp
	if !byMod && sortProp != "hs_object_id" {
		return nil, 0, false
	}
	isKey := func(c *cond) bool {
		if !c.numeric || (c.prop != "hs_object_id" && !(byMod && c.prop == tb.typ.modProp)) {
			return false
		}
		switch c.op {
		case "EQ", "GT", "GTE", "LT", "LTE", "BETWEEN":
			return true
		}
		return false
	}
	var rest []cond
	textSig := "text:" + strings.Join(q.text, " ")
	restSig := textSig
	var intervals []keyInterval
	if len(q.groups) == 0 {
		intervals = []keyInterval{{modKey{math.MinInt64, math.MinInt64}, modKey{math.MaxInt64, math.MaxInt64}}}
	}
	for gi, g := range q.groups {
		var key, other []cond
		for i := range g {
			if isKey(&g[i]) {
				key = append(key, g[i])
			} else {
				other = append(other, g[i])
			}
		}
		sig := textSig
		for _, c := range other {
			sig += "\x00" + c.signature()
		}
		if gi == 0 {
			rest, restSig = other, sig
		} else if sig != restSig {
			return nil, 0, false
		}
		iv, ok, empty := groupInterval(key, tb.typ.modProp, byMod)
		if !ok {
			return nil, 0, false
		}
		if !empty {
			intervals = append(intervals, iv)
		}
	}
	// The candidates: every live record, or those matching the other
	// filters.
	var mods []modKey
	var ids []int64
	if len(rest) == 0 && len(q.text) == 0 {
		mods, ids = tb.byMod, tb.ids
	} else {
		m := s.cachedMatches(tb, byMod, restSig, &query{groups: [][]cond{rest}, text: q.text})
		mods, ids = m.byMod, m.ids
	}
	// Each interval as positions [from, to) in the candidates, merged.
	type span struct{ from, to int }
	var spans []span
	for _, iv := range intervals {
		var from, to int
		if byMod {
			from, to = searchMod(mods, iv.lo), searchModAfter(mods, iv.hi)
		} else {
			from, to = searchIDs(ids, iv.lo.id), searchIDsAfter(ids, iv.hi.id)
		}
		if from < to {
			spans = append(spans, span{from, to})
		}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].from < spans[j].from })
	merged := spans[:0]
	for _, sp := range spans {
		if n := len(merged); n > 0 && sp.from <= merged[n-1].to {
			merged[n-1].to = max(merged[n-1].to, sp.to)
			continue
		}
		merged = append(merged, sp)
	}
	for _, sp := range merged {
		count += sp.to - sp.from
	}
	end := min(after+limit, maxSearchResults, count)
	at := func(pos int) *record {
		if byMod {
			return tb.records[mods[pos].id]
		}
		return tb.records[ids[pos]]
	}
	// The i-th match in the asked order, for i in [after, end).
	for i := after; i < end; i++ {
		k := i
		if desc {
			k = count - 1 - i
		}
		for _, sp := range merged {
			if n := sp.to - sp.from; k >= n {
				k -= n
				continue
			}
			page = append(page, at(sp.from+k))
			break
		}
	}
	return page, count, true
}

// groupInterval turns one group's sort-key filters into an interval of
// the sort order: for the modified date, one date with a range of ids, or
// a range of dates with any id; for ids, a range of ids. ok is false when
// the filters are no interval (a range of dates AND of ids); empty when
// no record can match.
func groupInterval(key []cond, modProp string, byMod bool) (iv keyInterval, ok, empty bool) {
	idLo, idHi, _ := groupBounds(key, "hs_object_id")
	if !byMod {
		lo, hi, isEmpty := intRange(idLo, idHi)
		return keyInterval{modKey{0, lo}, modKey{0, hi}}, true, isEmpty
	}
	mLo, mHi, _ := groupBounds(key, modProp)
	mlo, mhi, mEmpty := intRange(mLo, mHi)
	ilo, ihi, iEmpty := intRange(idLo, idHi)
	switch {
	case mEmpty || iEmpty:
		return keyInterval{}, true, true
	case mlo == mhi:
		return keyInterval{modKey{mlo, ilo}, modKey{mlo, ihi}}, true, false
	case ilo == math.MinInt64 && ihi == math.MaxInt64:
		return keyInterval{modKey{mlo, math.MinInt64}, modKey{mhi, math.MaxInt64}}, true, false
	}
	return keyInterval{}, false, false
}

// intRange turns a range of groupBounds (unbounded when it found no
// filter: -Inf..+Inf after intersecting) into whole numbers; empty when
// lo > hi.
func intRange(lo, hi float64) (int64, int64, bool) {
	if math.IsNaN(lo) || math.IsNaN(hi) {
		return 0, 0, true
	}
	l, h := clampInt64(math.Ceil(lo)), clampInt64(math.Floor(hi))
	return l, h, l > h
}

// searchModAfter is the position after the last key <= k.
func searchModAfter(keys []modKey, k modKey) int {
	return sort.Search(len(keys), func(i int) bool { return k.less(keys[i]) })
}

// searchIDsAfter is the position after the last id <= id.
func searchIDsAfter(ids []int64, id int64) int {
	return sort.Search(len(ids), func(i int) bool { return ids[i] > id })
}

// cachedMatches returns the keys of tb's live records matching q (the
// non-key filters of a search), in index order, computing them once per
// generation of the portal. The caller holds the read lock.
func (s *Server) cachedMatches(tb *table, byMod bool, sig string, q *query) *cachedMatches {
	key := fmt.Sprintf("%s\x00%t\x00%s", tb.typ.name, byMod, sig)
	gen := s.gen.Load()
	c := &s.matches
	c.mu.Lock()
	if c.entries == nil || c.gen != gen || len(c.entries) >= maxCachedQueries {
		c.gen, c.entries = gen, map[string]*cachedMatches{}
	}
	if m := c.entries[key]; m != nil {
		c.mu.Unlock()
		return m
	}
	c.mu.Unlock()
	m := &cachedMatches{}
	if byMod {
		for _, k := range tb.byMod {
			if tb.matches(tb.records[k.id], q) {
				m.byMod = append(m.byMod, k)
			}
		}
	} else {
		for _, id := range tb.ids {
			if tb.matches(tb.records[id], q) {
				m.ids = append(m.ids, id)
			}
		}
	}
	c.mu.Lock()
	if c.gen == gen {
		c.entries[key] = m
	}
	c.mu.Unlock()
	return m
}

// signature identifies a compiled filter, for telling two filter groups'
// non-key filters apart.
func (c *cond) signature() string {
	var set []string
	for v := range c.set {
		set = append(set, v)
	}
	sort.Strings(set)
	var nums []float64
	for v := range c.numSet {
		nums = append(nums, v)
	}
	sort.Float64s(nums)
	return fmt.Sprintf("%s|%s|%t|%v|%v|%q|%q|%q|%v", c.prop, c.op, c.numeric, c.lo, c.hi, c.str, c.strHi, set, nums)
}
