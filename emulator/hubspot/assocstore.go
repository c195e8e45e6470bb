package hubspot

import "sort"

// assocStore keeps associations in both directions: edges[pair][from][to]
// holds the type ids from "from" to "to".
type assocStore struct {
	edges map[pairKey]map[int64]map[int64][]int
}

func newAssocStore() *assocStore {
	return &assocStore{edges: map[pairKey]map[int64]map[int64][]int{}}
}

func (a *assocStore) addOne(p pairKey, from, to int64, typeID int) bool {
	m := a.edges[p]
	if m == nil {
		m = map[int64]map[int64][]int{}
		a.edges[p] = m
	}
	tos := m[from]
	if tos == nil {
		tos = map[int64][]int{}
		m[from] = tos
	}
	for _, t := range tos[to] {
		if t == typeID {
			return false
		}
	}
	tos[to] = append(tos[to], typeID)
	sort.Ints(tos[to])
	return true
}

// add records an association of the given type and its inverse.
func (a *assocStore) add(fromType, toType string, from, to int64, at assocType) {
	a.addOne(pairKey{fromType, toType}, from, to, at.typeID)
	a.addOne(pairKey{toType, fromType}, to, from, at.inverse)
}

func (a *assocStore) removeOne(p pairKey, from, to int64, typeID int) {
	tos := a.edges[p][from]
	if tos == nil {
		return
	}
	if typeID == 0 {
		delete(tos, to)
		return
	}
	kept := tos[to][:0]
	for _, t := range tos[to] {
		if t != typeID {
			kept = append(kept, t)
		}
	}
	if len(kept) == 0 {
		delete(tos, to)
	} else {
		tos[to] = kept
	}
}

// remove deletes associations between two records: all types when typeID
// is 0, otherwise that type and its inverse.
func (a *assocStore) remove(fromType, toType string, from, to int64, typeID int) {
	inverse := 0
	if typeID != 0 {
		if at, ok := findAssocType(fromType, toType, typeID); ok {
			inverse = at.inverse
		}
		if inverse == 0 {
			return
		}
	}
	a.removeOne(pairKey{fromType, toType}, from, to, typeID)
	a.removeOne(pairKey{toType, fromType}, to, from, inverse)
}

// targets lists the records a record is associated with, by ascending id.
func (a *assocStore) targets(fromType, toType string, from int64) []int64 {
	tos := a.edges[pairKey{fromType, toType}][from]
	out := make([]int64, 0, len(tos))
	for id := range tos {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func (a *assocStore) types(fromType, toType string, from, to int64) []int {
	return a.edges[pairKey{fromType, toType}][from][to]
}
