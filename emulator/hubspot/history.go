package hubspot

import (
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"healthsync/crm"

	"healthsync/emulator/gen"
)

// Property history, as HubSpot serves it with propertiesWithHistory on
// single, list and batch reads: per requested property, every value it
// has had, newest first, each with its timestamp and the source that set
// it ({"value","timestamp","sourceType","sourceId"?,"updatedByUserId"?}).
// Search does not return history.
//
// A record keeps only the changes made after its creation (hist); the
// value a property got when the record was created is the record's
// current value when the property never changed since, or is recorded
// as the property's first entry before its first change. Records that
// never change cost nothing.

// maxHistoryReads is how many records one read may return with property
// history: a list page's limit, a batch read's inputs.
const maxHistoryReads = 50

// historySource is who set a value: HubSpot's sourceType, sourceId and
// updatedByUserId.
type historySource struct {
	typ    string
	id     string
	userID int64
}

// Sources of values the emulator records.
var (
	sourceImport     = &historySource{typ: "IMPORT"}
	sourceCalculated = &historySource{typ: "CALCULATED"}
)

// propChange is one recorded value of a property; value "" means the
// value was cleared.
type propChange struct {
	name  string
	value string
	at    int64 // epoch ms
	src   *historySource
}

// wireHistory is one entry of propertiesWithHistory.
type wireHistory struct {
	Value           string `json:"value"`
	Timestamp       string `json:"timestamp"`
	SourceType      string `json:"sourceType"`
	SourceID        string `json:"sourceId,omitempty"`
	UpdatedByUserID int64  `json:"updatedByUserId,omitempty"`
}

// apiSource is the source of writes through the API: the app (an
// integration), as HubSpot records changes made with an app's token.
func (s *Server) apiSource() *historySource {
	return &historySource{typ: "INTEGRATION", id: strconv.FormatInt(s.appID(), 10)}
}

// appID is the emulated app's id, as token information reports it.
func (s *Server) appID() int64 { return 1000000 + s.opts.PortalID%1000 }

// uiSource is the source of in-process writes (Create, Update): the
// portal's first user, editing in HubSpot.
func (s *Server) uiSource() *historySource { return userSource(9000000 + 101) }

// userSource is the source of a change a user makes in HubSpot.
func userSource(userID int64) *historySource {
	return &historySource{typ: "CRM_UI", id: "userId:" + strconv.FormatInt(userID, 10), userID: userID}
}

// hasChange reports whether rec recorded a change of name.
func (rec *record) hasChange(name string) bool {
	for i := range rec.hist {
		if rec.hist[i].name == name {
			return true
		}
	}
	return false
}

// recordChange records that name went from old to new at at. The first
// change of a property also records the value it had since the record's
// creation.
func (rec *record) recordChange(name, old, new string, at time.Time, src *historySource) {
	if old == new {
		return
	}
	if !rec.hasChange(name) && old != "" {
		rec.hist = append(rec.hist, propChange{name: name, value: old, at: rec.createdAt.UnixMilli(), src: rec.createdBy})
	}
	rec.hist = append(rec.hist, propChange{name: name, value: new, at: at.UnixMilli(), src: src})
}

// recordChanges records every property that differs between before and
// the record's properties now; written names the properties the caller
// wrote (the others changed as a consequence: calculated).
func (tb *table) recordChanges(rec *record, before map[string]string, written propInput, at time.Time, src *historySource) {
	names := make([]string, 0, len(before)+len(rec.props))
	for k := range before {
		names = append(names, k)
	}
	for k := range rec.props {
		if _, ok := before[k]; !ok {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		if k == tb.typ.modProp || k == tb.typ.createProp {
			continue
		}
		from := src
		if _, ok := written[k]; !ok {
			from = sourceCalculated
		}
		rec.recordChange(k, before[k], rec.props[k], at, from)
	}
}

// history renders a property's history, newest first.
func (tb *table) history(rec *record, name string) []wireHistory {
	out := []wireHistory{}
	src := rec.createdBy
	if src == nil {
		src = sourceImport
	}
	switch {
	case name == tb.typ.modProp:
		return append(out, wireHistory{Value: formatTime(rec.updatedAt), Timestamp: formatTime(rec.updatedAt), SourceType: sourceCalculated.typ})
	case name == "hs_object_id" || name == tb.typ.createProp:
		v, _ := rec.value(name)
		return append(out, wireHistory{Value: v, Timestamp: formatTime(rec.createdAt), SourceType: src.typ, SourceID: src.id, UpdatedByUserID: src.userID})
	}
	for i := len(rec.hist) - 1; i >= 0; i-- {
		c := rec.hist[i]
		if c.name == name {
			out = append(out, wireHistory{Value: c.value, Timestamp: formatTime(time.UnixMilli(c.at)), SourceType: c.src.typ, SourceID: c.src.id, UpdatedByUserID: c.src.userID})
		}
	}
	if len(out) == 0 {
		if v, ok := rec.value(name); ok {
			out = append(out, wireHistory{Value: v, Timestamp: formatTime(rec.createdAt), SourceType: src.typ, SourceID: src.id, UpdatedByUserID: src.userID})
		}
	}
	return out
}

// withHistory adds propertiesWithHistory for the requested properties
// that exist (unknown ones are ignored, as HubSpot ignores them).
func (tb *table) withHistory(out *wireRecord, rec *record, names []string) {
	if len(names) == 0 {
		return
	}
	out.PropertiesWithHistory = map[string][]wireHistory{}
	for _, n := range names {
		if p, ok := tb.props[n]; ok && !p.Archived {
			out.PropertiesWithHistory[n] = tb.history(rec, n)
		}
	}
}

// sortHistory orders a record's recorded changes by time (loads may add
// them out of order); equal times keep their order.
func (rec *record) sortHistory() {
	sort.SliceStable(rec.hist, func(i, j int) bool { return rec.hist[i].at < rec.hist[j].at })
}

// tooManyForHistory is the answer to a read of more records with history
// than HubSpot allows.
func tooManyForHistory(n int, batch bool) *apiError {
	if batch {
		return validationError("The maximum number of inputs supported in a batch request for property histories is %d. Please reduce the number of items and try again", maxHistoryReads)
	}
	return newAPIError(http.StatusBadRequest, catValidation, "limit %d is too high when requesting propertiesWithHistory: at most %d records can be read per page with property history", n, maxHistoryReads)
}

// genCompanyProps maps the generator's account history fields to the
// customer-success properties LoadOrg writes, and genDealProps its
// opportunity fields to deal properties.
var genCompanyProps = map[gen.Field]string{
	gen.FieldARR: "arr", gen.FieldAdoption: "adoption_rate", gen.FieldAdoptionPrev: "adoption_rate_previous",
	gen.FieldSentiment: "csm_sentiment", gen.FieldNPS: "nps_score", gen.FieldRenewalDate: "renewal_date",
	gen.FieldChurned: "churned", gen.FieldType: "lifecyclestage",
}

var genDealProps = map[gen.Field]string{gen.FieldStage: "dealstage", gen.FieldAmount: "amount", gen.FieldCloseDate: "closedate"}

// genPropValue is a generator value as the property holds it.
func genPropValue(f gen.Field, v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case float64:
		if f == gen.FieldNPS {
			return strconv.Itoa(int(x))
		}
		return num(x)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		if f == gen.FieldCloseDate {
			return formatTime(x) // closedate is a datetime property
		}
		return date(x)
	case string:
		switch f {
		case gen.FieldType:
			return map[string]string{"Prospect": "opportunity", "Customer": "customer", "Former Customer": "other"}[x]
		case gen.FieldStage:
			if st, ok := dealStages[x]; ok {
				return st
			}
			return "appointmentscheduled"
		}
		return x
	}
	return ""
}

// loadGenHistory records a generated account's history on its company
// and deals (the org's opportunity i is deal deals[i]); changes are made
// by the record's owner in HubSpot's UI. A record's modified date moves
// to its newest change, as a change moves it. The caller rebuilds the
// indexes.
func (s *Server) loadGenHistory(org *gen.Org, hist []gen.Change, company *record, companyOwner *historySource, deals []int64, owner func(int32) *historySource) {
	companies, dealsTable := s.tables["companies"], s.tables["deals"]
	for _, c := range hist {
		tb, rec, prop, src := companies, company, genCompanyProps[c.Field], companyOwner
		if c.Opportunity >= 0 {
			tb, rec, prop = dealsTable, dealsTable.records[deals[c.Opportunity]], genDealProps[c.Field]
			src = owner(org.Opportunities[c.Opportunity].Owner)
		}
		if rec == nil || prop == "" || (rec.archived && c.At.After(rec.archivedAt)) {
			continue // an archived record changes no more
		}
		if c.Opportunity >= 0 && c.Old == nil && c.At.Equal(rec.createdAt) {
			continue // the value the deal was created with
		}
		rec.recordChange(prop, genPropValue(c.Field, c.Old), genPropValue(c.Field, c.New), c.At, src)
		if c.At.After(rec.updatedAt) {
			rec.updatedAt = c.At
			rec.props[tb.typ.modProp] = formatTime(c.At)
		}
	}
}

// loadHistoryCSV loads property history entries of loaded records from a
// <type>_property_history.csv file (hs_object_id, property, value,
// timestamp, and optionally sourceType, sourceId, updatedByUserId). The
// newest entry of a property ends at the record's current value: when the
// file's newest differs, the current value is recorded at the record's
// modified date.
func (s *Server) loadHistoryCSV(objectType, name string, r io.Reader, out io.Writer) (int, error) {
	s.lockWrite()
	defer s.mu.Unlock()
	tb, err := s.tableOf(objectType)
	if err != nil {
		return 0, fmt.Errorf("load %s: %w", name, err)
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return 0, fmt.Errorf("load %s: read the header row: %w", name, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	if _, ok := col["objectid"]; ok {
		col["hs_object_id"] = col["objectid"]
	}
	for _, need := range []string{"hs_object_id", "property", "value", "timestamp"} {
		if _, ok := col[need]; !ok {
			return 0, fmt.Errorf("load %s: no %s column: a history entry needs hs_object_id, property, value and timestamp", name, need)
		}
	}
	get := func(row []string, k string) string {
		if i, ok := col[k]; ok && i < len(row) {
			return strings.TrimSpace(row[i])
		}
		return ""
	}
	touched := map[*record]bool{}
	orphans, n := 0, 0
	for line := 2; ; line++ {
		row, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("load %s: line %d: %w", name, line, err)
		}
		id, err := parseID(get(row, "hs_object_id"))
		rec := tb.records[id]
		if err != nil || rec == nil {
			orphans++
			continue
		}
		prop := get(row, "property")
		if p, ok := tb.props[prop]; !ok || p.Archived {
			return 0, fmt.Errorf("load %s: line %d: property %q does not exist on %s", name, line, prop, tb.typ.name)
		}
		at, err := crm.ParseTime(get(row, "timestamp"))
		if err != nil {
			return 0, fmt.Errorf("load %s: line %d: timestamp: %w", name, line, err)
		}
		src := sourceImport
		if typ := get(row, "sourcetype"); typ != "" {
			uid, _ := strconv.ParseInt(get(row, "updatedbyuserid"), 10, 64)
			src = &historySource{typ: typ, id: get(row, "sourceid"), userID: uid}
		}
		rec.hist = append(rec.hist, propChange{name: prop, value: get(row, "value"), at: at.UnixMilli(), src: src})
		touched[rec] = true
		n++
	}
	for rec := range touched {
		rec.sortHistory()
		latest := map[string]string{}
		for _, c := range rec.hist {
			latest[c.name] = c.value
		}
		for prop, v := range latest {
			if cur := rec.props[prop]; cur != v {
				rec.hist = append(rec.hist, propChange{name: prop, value: cur, at: rec.updatedAt.UnixMilli(), src: sourceImport})
			}
		}
	}
	if orphans > 0 {
		fmt.Fprintf(out, "%s: skipped %d entries of %s not loaded\n", filepath.Base(name), orphans, tb.typ.name)
	}
	return n, nil
}
