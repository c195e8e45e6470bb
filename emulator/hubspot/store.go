package hubspot

import (
	"fmt"
	"sort"
	"strconv"
	"time"
)

// record is one stored CRM object.
type record struct {
	id         int64
	props      map[string]string // only non-empty values
	createdAt  time.Time
	updatedAt  time.Time // equals the modified-date property
	archived   bool
	archivedAt time.Time
	viaAPI     bool // created through the HTTP API (not seeded)
	// createdBy is who created the record (the source of the values it
	// was created with); hist the property changes since (history.go).
	createdBy *historySource
	hist      []propChange
}

// modKey orders records by (modified date, id): the index incremental
// syncs page through.
type modKey struct {
	ms int64
	id int64
}

func (a modKey) less(b modKey) bool {
	if a.ms != b.ms {
		return a.ms < b.ms
	}
	return a.id < b.id
}

// table holds the records, schema and indexes of one object type.
type table struct {
	typ     *objectType
	records map[int64]*record
	ids     []int64  // live (non-archived) ids, ascending
	byMod   []modKey // live records ordered by (modified ms, id)
	props   map[string]*propDef
	groups  map[string]*propGroup
}

func newTable(t *objectType, created string) *table {
	props, groups := newSchema(t, created)
	return &table{typ: t, records: map[int64]*record{}, props: props, groups: groups}
}

func searchIDs(ids []int64, id int64) int {
	return sort.Search(len(ids), func(i int) bool { return ids[i] >= id })
}

func searchMod(keys []modKey, k modKey) int {
	return sort.Search(len(keys), func(i int) bool { return !keys[i].less(k) })
}

// index adds a live record to the indexes.
func (tb *table) index(r *record) {
	i := searchIDs(tb.ids, r.id)
	if i == len(tb.ids) || tb.ids[i] != r.id {
		tb.ids = append(tb.ids, 0)
		copy(tb.ids[i+1:], tb.ids[i:])
		tb.ids[i] = r.id
	}
	k := modKey{r.updatedAt.UnixMilli(), r.id}
	j := searchMod(tb.byMod, k)
	tb.byMod = append(tb.byMod, modKey{})
	copy(tb.byMod[j+1:], tb.byMod[j:])
	tb.byMod[j] = k
}

// unindex removes a record (with its current modified date) from the
// indexes.
func (tb *table) unindex(r *record) {
	if i := searchIDs(tb.ids, r.id); i < len(tb.ids) && tb.ids[i] == r.id {
		tb.ids = append(tb.ids[:i], tb.ids[i+1:]...)
	}
	k := modKey{r.updatedAt.UnixMilli(), r.id}
	if j := searchMod(tb.byMod, k); j < len(tb.byMod) && tb.byMod[j] == k {
		tb.byMod = append(tb.byMod[:j], tb.byMod[j+1:]...)
	}
}

// rebuild recomputes both indexes from scratch; bulk loaders call it once
// instead of indexing record by record.
func (tb *table) rebuild() {
	tb.ids = tb.ids[:0]
	tb.byMod = tb.byMod[:0]
	for id, r := range tb.records {
		if r.archived {
			continue
		}
		tb.ids = append(tb.ids, id)
		tb.byMod = append(tb.byMod, modKey{r.updatedAt.UnixMilli(), id})
	}
	sort.Slice(tb.ids, func(i, j int) bool { return tb.ids[i] < tb.ids[j] })
	sort.Slice(tb.byMod, func(i, j int) bool { return tb.byMod[i].less(tb.byMod[j]) })
}

// touch sets a record's modified date to now, keeping the index in order.
func (tb *table) touch(r *record, now time.Time) {
	if !r.archived {
		tb.unindex(r)
	}
	r.updatedAt = now
	r.props[tb.typ.modProp] = formatTime(now)
	if !r.archived {
		tb.index(r)
	}
}

// value returns a property value as HubSpot reports it; hs_object_id is
// derived from the id.
func (r *record) value(name string) (string, bool) {
	if name == "hs_object_id" {
		return strconv.FormatInt(r.id, 10), true
	}
	v, ok := r.props[name]
	return v, ok && v != ""
}

// formatTime formats t the way HubSpot returns datetimes.
func formatTime(t time.Time) string {
	return t.UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z")
}

// wireRecord is a CRM v3 object on the wire.
type wireRecord struct {
	ID           string                   `json:"id"`
	Properties   map[string]*string       `json:"properties"`
	CreatedAt    string                   `json:"createdAt"`
	UpdatedAt    string                   `json:"updatedAt"`
	Archived     bool                     `json:"archived"`
	ArchivedAt   string                   `json:"archivedAt,omitempty"`
	Associations map[string]wireAssocPage `json:"associations,omitempty"`
	// PropertiesWithHistory is set when a read asks for it.
	PropertiesWithHistory map[string][]wireHistory `json:"propertiesWithHistory,omitempty"`
}

type wireAssocPage struct {
	Results []wireAssocRef `json:"results"`
}

type wireAssocRef struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// render turns a record into its wire shape with the requested properties
// (nil means the type's defaults). As in HubSpot, the id, creation and
// modification dates always come back, requested properties that exist but
// have no value come back as null, and unknown ones are left out.
func (tb *table) render(r *record, props []string) wireRecord {
	if len(props) == 0 {
		props = tb.typ.defaults
	} else {
		props = append(props[:len(props):len(props)], "hs_object_id", tb.typ.createProp, tb.typ.modProp)
	}
	out := wireRecord{
		ID:         strconv.FormatInt(r.id, 10),
		Properties: make(map[string]*string, len(props)),
		CreatedAt:  formatTime(r.createdAt),
		UpdatedAt:  formatTime(r.updatedAt),
		Archived:   r.archived,
	}
	if r.archived {
		out.ArchivedAt = formatTime(r.archivedAt)
	}
	for _, p := range props {
		if _, known := tb.props[p]; !known {
			continue
		}
		if v, ok := r.value(p); ok {
			out.Properties[p] = &v
		} else {
			out.Properties[p] = nil
		}
	}
	return out
}

// parseID parses a HubSpot record id.
func parseID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("id %q is not a positive integer", s)
	}
	return id, nil
}
