package salesforce

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"healthsync/crm"
)

// csvLoadOrder loads parents before the records that refer to them.
var csvLoadOrder = []string{"User", "Account", "Contact", "Opportunity", "Task", "Event"}

// LoadCSV loads a Data Loader export from dir, as LoadExport does,
// without printing what it loaded.
func (s *Server) LoadCSV(dir string) error { return s.LoadExport(dir, io.Discard) }

// LoadExport loads the files of a Data Loader export (or any CSV files in
// its format) from dir: one file per object named after it (Account.csv,
// Contact.csv, Opportunity.csv, Task.csv, Event.csv, User.csv, any letter
// case), a header row of API field names (any case), one record per row;
// then field history from AccountHistory.csv and
// OpportunityFieldHistory.csv, and the org's opportunity stages from
// OpportunityStage.csv. It writes a warning line for each thing it
// skips or adds and one line per object with what it loaded to out.
//
// It takes what an export of a real org holds:
//   - standard fields the emulated schema lacks (BillingStreet,
//     MasterRecordId, CurrencyIsoCode, ...) are added with their types,
//     custom fields (CSAT__c) and other unknown columns with a type
//     inferred from their values (number, checkbox, date, date/time, a
//     lookup when every value is an ID of one served object, else text);
//   - Id columns keep their IDs, so references between files hold, and
//     references are resolved once every file is read (a ParentId may
//     point at a later row); a reference to an object the emulator does
//     not serve (a Task's WhoId to a Lead, a User's ProfileId) is kept as
//     a plain ID; one to a record missing from the export is cleared;
//     owner and audit references to users not in the export fall back to
//     the API user;
//   - the org's own stage names become the StageName picklist, closed
//     and won as OpportunityStage.csv says, else as the export's IsClosed
//     and IsWon columns say, else as the standard stages are, else by
//     name (Won, Lost, Closed);
//   - files of objects it does not serve (Lead.csv) are skipped.
//
// A bad value in a field of a known type fails the whole load with the
// file, line and column, and nothing of it is kept.
func (s *Server) LoadExport(dir string, out io.Writer) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("load csv: %w", err)
	}
	l := &exportLoad{s: s, out: out, files: map[string]*exportFile{}, loaded: map[string]int{}}
	var names []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.EqualFold(filepath.Ext(name), ".csv") {
			continue
		}
		names = append(names, name)
	}
	if len(names) == 0 {
		return fmt.Errorf("load csv: no .csv files in %s: name them after objects, e.g. Account.csv", dir)
	}
	sort.Strings(names)
	for _, name := range names {
		obj := strings.TrimSuffix(name, filepath.Ext(name))
		key := strings.ToLower(obj)
		if !l.serves(key) {
			fmt.Fprintf(out, "skipped %s: the emulator does not serve %s records\n", name, obj)
			continue
		}
		f, err := readExportFile(filepath.Join(dir, name))
		if err != nil {
			return fmt.Errorf("load csv: %w", err)
		}
		l.files[key] = f
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := l.run(); err != nil {
		l.undo()
		s.rebuildAll()
		return fmt.Errorf("load csv: %w", err)
	}
	s.rebuildAll()
	for _, obj := range append(append([]string{}, csvLoadOrder...), "AccountHistory", "OpportunityFieldHistory") {
		if n, ok := l.loaded[obj]; ok {
			fmt.Fprintf(out, "loaded %d %s\n", n, obj)
		}
	}
	return nil
}

// exportFile is one CSV file, read whole: types are inferred from every
// row before the first is stored.
type exportFile struct {
	path   string
	header []string
	rows   [][]string
}

func readExportFile(path string) (*exportFile, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	cr := csv.NewReader(fh)
	cr.FieldsPerRecord = 0
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: read header: %w", path, err)
	}
	for i, h := range header {
		header[i] = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
	}
	f := &exportFile{path: path, header: header}
	for line := 2; ; line++ {
		row, err := cr.Read()
		if err == io.EOF {
			return f, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		f.rows = append(f.rows, row)
	}
}

// exportLoad is one LoadExport under way.
type exportLoad struct {
	s       *Server
	out     io.Writer
	files   map[string]*exportFile // by lower-case object name
	loaded  map[string]int         // records loaded per object
	added   []*record              // for undo
	history []*record
	refs    []pendingRef
	lines   map[*record]string // "path:line" of each loaded record, for messages
	written map[*record]map[int]any
	cleared map[string]int // "path: column" → references cleared
	// oldStages are the org's stages before the load, for undo (nil:
	// the load did not change them).
	oldStages []stage
}

// pendingRef is a reference cell resolved once every file is loaded.
type pendingRef struct {
	rec  *record
	fld  *field
	idx  int
	id   string
	cell string
}

func (l *exportLoad) serves(key string) bool {
	switch key {
	case "accounthistory", "opportunityfieldhistory", "opportunitystage":
		return true
	}
	for _, o := range csvLoadOrder {
		if strings.EqualFold(o, key) {
			return true
		}
	}
	return false
}

func (l *exportLoad) run() error {
	l.lines = map[*record]string{}
	l.written = map[*record]map[int]any{}
	l.cleared = map[string]int{}
	if err := l.stages(); err != nil {
		return err
	}
	for _, obj := range csvLoadOrder {
		if f := l.files[strings.ToLower(obj)]; f != nil {
			if err := l.loadObject(obj, f); err != nil {
				return err
			}
		}
	}
	if err := l.resolve(); err != nil {
		return err
	}
	for _, obj := range []string{"AccountHistory", "OpportunityFieldHistory"} {
		if f := l.files[strings.ToLower(obj)]; f != nil {
			if err := l.loadHistory(obj, f); err != nil {
				return err
			}
		}
	}
	keys := make([]string, 0, len(l.cleared))
	for k := range l.cleared {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(l.out, "%s: cleared %d references to records not in the export\n", k, l.cleared[k])
	}
	return nil
}

func (l *exportLoad) undo() {
	if l.oldStages != nil {
		l.s.setStages(l.oldStages, l.s.clock.Now(), l.s.userID)
	}
	for _, r := range append(l.added, l.history...) {
		delete(r.t.byID, r.id)
		delete(l.s.db.byID, r.id)
		r.ver++
	}
}

// column is how one CSV column is loaded.
type column struct {
	fld  *field
	idx  int
	skip bool
}

var customName = regexp.MustCompile(`(?i)^[a-z][a-z0-9_]*__c$`)

// columns maps a file's header onto the object's fields, adding the
// fields the schema lacks.
func (l *exportLoad) columns(o *object, f *exportFile) ([]column, error) {
	cols := make([]column, len(f.header))
	base := filepath.Base(f.path)
	var added []string
	for i, h := range f.header {
		if fld, idx := o.field(h); fld != nil {
			cols[i] = column{fld: fld, idx: idx}
			continue
		}
		switch {
		case h == "":
			return nil, fmt.Errorf("%s:1: column %d has no name: name it after the field's API name", f.path, i+1)
		case strings.Contains(h, "."):
			fmt.Fprintf(l.out, "%s: column %s skipped: a relationship's field, not one of %s's\n", base, h, o.name)
			cols[i] = column{skip: true}
			continue
		}
		fld := standardField(o.name, h)
		how := "standard"
		if fld == nil {
			fld = inferField(h, f.rows, i, l.s.db)
			how = "inferred"
			if customName.MatchString(h) {
				fld.name = h[:len(h)-3] + "__c"
				fld.custom = true
				how = "custom"
			}
		}
		cols[i] = column{fld: fld, idx: o.addField(fld)}
		added = append(added, fmt.Sprintf("%s (%s %s)", fld.name, how, fld.typ))
	}
	if len(added) > 0 {
		fmt.Fprintf(l.out, "%s: added %d fields to %s: %s\n", base, len(added), o.name, strings.Join(added, ", "))
	}
	return cols, nil
}

// inferField makes a field for an unknown column from its values.
func inferField(name string, rows [][]string, col int, d *db) *field {
	f := &field{name: name, label: strings.ReplaceAll(strings.TrimSuffix(name, "__c"), "_", " "), createable: true, updateable: true, nillable: true}
	isBool, isNum, isDate, isTime, isText := true, true, true, true, false
	prefix, isRef := "", true
	scale, n := 0, 0
	for _, row := range rows {
		if col >= len(row) || row[col] == "" {
			continue
		}
		v := row[col]
		n++
		lv := strings.ToLower(v)
		isBool = isBool && (lv == "true" || lv == "false")
		if _, err := strconv.ParseFloat(v, 64); err != nil || (len(v) > 1 && v[0] == '0' && v[1] != '.') {
			isNum = false
		} else if i := strings.IndexByte(v, '.'); i >= 0 {
			scale = max(scale, len(v)-i-1)
		}
		isDate = isDate && len(v) == 10 && v[4] == '-' && v[7] == '-' && validTime(v)
		isTime = isTime && strings.Contains(v, "T") && validTime(v)
		isText = isText || strings.ContainsAny(v, "\n\r") || len([]rune(v)) > 255
		if c := canonicalID(v); len(c) == 18 && looksLikeID(v) && (prefix == "" || c[:3] == prefix) {
			prefix = c[:3]
		} else {
			isRef = false
		}
	}
	switch {
	case n == 0:
		f.typ, f.length = tString, 255
	case isBool:
		f.typ, f.nillable, f.defaultedOnCreate = tBoolean, false, true
	case isNum:
		f.typ, f.precision, f.scale = tDouble, 18, min(scale, 8)
	case isDate:
		f.typ = tDate
	case isTime:
		f.typ = tDateTime
	case isRef && d.objectOfPrefix(prefix) != nil:
		f.typ, f.length, f.referenceTo = tReference, 18, []string{d.objectOfPrefix(prefix).name}
		f.relationshipName = strings.TrimSuffix(strings.TrimSuffix(name, "__c"), "Id")
		if strings.HasSuffix(name, "__c") {
			f.relationshipName = strings.TrimSuffix(name, "__c") + "__r"
		}
	case isText:
		f.typ, f.length = tTextarea, 131072
	default:
		f.typ, f.length = tString, 255
	}
	return f
}

func validTime(v string) bool {
	_, err := crm.ParseTime(v)
	return err == nil
}

// looksLikeID reports whether v has the shape of a Salesforce ID.
func looksLikeID(v string) bool {
	if len(v) != 15 && len(v) != 18 {
		return false
	}
	for _, c := range v {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// objectOfPrefix is the served (non-tooling) object with a key prefix.
func (d *db) objectOfPrefix(prefix string) *object {
	for _, o := range d.schema {
		if o.prefix == prefix && !o.tooling && o.historyOf == "" {
			return o
		}
	}
	return nil
}

// loadable reports whether records of o come from an export (so a
// reference to one missing from it is dangling, not foreign).
func loadable(o *object) bool {
	for _, name := range csvLoadOrder {
		if name == o.name {
			return true
		}
	}
	return false
}

func (l *exportLoad) loadObject(obj string, f *exportFile) error {
	s := l.s
	o := s.db.schema[strings.ToLower(obj)]
	t := s.db.tables[strings.ToLower(obj)]
	cols, err := l.columns(o, f)
	if err != nil {
		return err
	}
	now := crm.Normalize(s.clock.Now())
	for n, row := range f.rows {
		line := n + 2
		vals := map[int]any{}
		id := ""
		var refs []pendingRef
		for i, cell := range row {
			c := cols[i]
			if c.skip {
				continue
			}
			fld := c.fld
			switch {
			case fld.typ == tID:
				if cid := canonicalID(cell); len(cid) == 18 && strings.HasPrefix(cid, o.prefix) {
					if s.db.lookup(cid) != nil {
						return fmt.Errorf("%s:%d: duplicate Id %s", f.path, line, cell)
					}
					id = cid
				}
			case fld.typ == tReference:
				if cell != "" {
					refs = append(refs, pendingRef{fld: fld, idx: c.idx, id: canonicalID(cell), cell: cell})
				}
			default:
				v, e := s.convertValue(o, fld, cell, true)
				if e != nil {
					return fmt.Errorf("%s:%d: column %s: %s", f.path, line, fld.name, e.err.Message)
				}
				vals[c.idx] = v
			}
		}
		for _, name := range []string{"SystemModstamp", "LastModifiedDate", "CreatedDate"} {
			if _, i := o.field(name); i >= 0 && vals[i] == nil {
				vals[i] = now
			}
		}
		r := s.db.add(t, vals, id)
		if _, i := o.field("OwnerId"); i >= 0 && r.get(i) == nil {
			r.set(i, s.userID)
		}
		l.added = append(l.added, r)
		l.lines[r] = fmt.Sprintf("%s:%d", f.path, line)
		l.written[r] = vals
		for _, p := range refs {
			p.rec = r
			l.refs = append(l.refs, p)
		}
	}
	l.loaded[o.name] = len(f.rows)
	return nil
}

// resolve sets the references once every record is in, then derives what
// Salesforce computes (names, closed/won, an activity's account).
func (l *exportLoad) resolve() error {
	s := l.s
	for _, p := range l.refs {
		target := s.db.lookup(p.id)
		switch {
		case target != nil:
			p.rec.set(p.idx, target.id)
		case p.fld.name == "OwnerId" || p.fld.name == "CreatedById" || p.fld.name == "LastModifiedById":
			p.rec.set(p.idx, s.userID)
		case len(p.id) != 18 || !looksLikeID(p.cell):
			return fmt.Errorf("%s: column %s: %q is not a Salesforce ID", l.lines[p.rec], p.fld.name, p.cell)
		default:
			if o := s.db.objectOfPrefix(p.id[:3]); o != nil && loadable(o) {
				l.cleared[filepath.Base(strings.Split(l.lines[p.rec], ":")[0])+": column "+p.fld.name]++
				continue
			}
			p.rec.set(p.idx, p.id) // an object the emulator does not serve: a plain ID
		}
	}
	for _, r := range l.added {
		if e := s.derive(r, l.written[r], true); e != nil {
			return fmt.Errorf("%s: %s", l.lines[r], e.err.Message)
		}
	}
	return nil
}

// stages takes the org's opportunity stages from OpportunityStage.csv, or
// from the StageName values of Opportunity.csv (closed and won as its
// IsClosed and IsWon columns say, else as the standard stage of that name
// is, else by the name). They become the StageName picklist.
func (l *exportLoad) stages() error {
	var out []stage
	if f := l.files["opportunitystage"]; f != nil {
		col := func(names ...string) int {
			for _, n := range names {
				for i, h := range f.header {
					if strings.EqualFold(h, n) {
						return i
					}
				}
			}
			return -1
		}
		name, closed, won, prob, fc, active, order := col("ApiName", "MasterLabel"), col("IsClosed"), col("IsWon"),
			col("DefaultProbability"), col("ForecastCategoryName"), col("IsActive"), col("SortOrder")
		label, idCol := col("MasterLabel"), col("Id")
		if name < 0 {
			return fmt.Errorf("%s:1: no MasterLabel or ApiName column: the stage names are needed", f.path)
		}
		get := func(row []string, i int) string {
			if i < 0 || i >= len(row) {
				return ""
			}
			return row[i]
		}
		rows := append([][]string(nil), f.rows...)
		if order >= 0 {
			sort.SliceStable(rows, func(i, j int) bool {
				a, _ := strconv.Atoi(get(rows[i], order))
				b, _ := strconv.Atoi(get(rows[j], order))
				return a < b
			})
		}
		for _, row := range rows {
			if strings.EqualFold(get(row, active), "false") {
				continue
			}
			st := stage{name: get(row, name), closed: strings.EqualFold(get(row, closed), "true"), won: strings.EqualFold(get(row, won), "true"),
				forecast: get(row, fc), label: get(row, label), id: get(row, idCol)}
			if st.won {
				st.closed = true // a won stage is closed, as Setup enforces
			}
			st.prob, _ = strconv.ParseFloat(get(row, prob), 64)
			if st.forecast == "" {
				st.forecast = forecastOf(st)
			}
			out = append(out, st)
		}
	} else if f := l.files["opportunity"]; f != nil {
		idx := map[string]int{}
		for i, h := range f.header {
			idx[strings.ToLower(h)] = i
		}
		si, ok := idx["stagename"]
		if !ok {
			return nil
		}
		ci, hasClosed := idx["isclosed"]
		wi, hasWon := idx["iswon"]
		seen := map[string]int{}
		for _, row := range f.rows {
			name := row[si]
			if name == "" {
				continue
			}
			k, ok := seen[strings.ToLower(name)]
			if !ok {
				k = len(out)
				seen[strings.ToLower(name)] = k
				out = append(out, stageByName(name))
			}
			if hasClosed && row[ci] != "" {
				out[k].closed = strings.EqualFold(row[ci], "true")
			}
			if hasWon && row[wi] != "" {
				out[k].won = strings.EqualFold(row[wi], "true")
			}
		}
		for i := range out {
			if out[i].won {
				out[i].closed = true
			}
			out[i].forecast = forecastOf(out[i])
			if out[i].closed {
				out[i].prob = map[bool]float64{true: 100, false: 0}[out[i].won]
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	l.oldStages = l.s.db.stages
	l.s.setStages(out, l.s.clock.Now(), l.s.userID)
	return nil
}

// stageByName is the standard stage of that name, or a stage judged by
// its name.
func stageByName(name string) stage {
	for _, st := range stagesProbability {
		if strings.EqualFold(st.name, name) {
			return st
		}
	}
	lower := strings.ToLower(name)
	st := stage{name: name, prob: 50}
	switch {
	case strings.Contains(lower, "won"):
		st.closed, st.won, st.prob = true, true, 100
	case strings.Contains(lower, "lost") || strings.Contains(lower, "closed"):
		st.closed, st.prob = true, 0
	}
	return st
}

func forecastOf(st stage) string {
	switch {
	case st.won:
		return "Closed"
	case st.closed:
		return "Omitted"
	}
	return "Pipeline"
}

// loadHistory loads AccountHistory.csv or OpportunityFieldHistory.csv:
// rows of records loaded from the export (others are skipped), values
// typed by DataType.
func (l *exportLoad) loadHistory(obj string, f *exportFile) error {
	s := l.s
	h := s.db.schema[strings.ToLower(obj)]
	base := filepath.Base(f.path)
	if !s.db.historyOn(h) {
		fmt.Fprintf(l.out, "skipped %s: field history of %s is not tracked in this org (see Options.FieldHistory)\n", base, h.historyOf)
		return nil
	}
	idx := map[string]int{}
	for i, hd := range f.header {
		idx[strings.ToLower(hd)] = i
	}
	parentField := strings.ToLower(historyObjects[strings.ToLower(h.historyOf)].parentField)
	for _, need := range []string{parentField, "field", "createddate"} {
		if _, ok := idx[need]; !ok {
			return fmt.Errorf("%s:1: no %s column: a history row needs its record, Field and CreatedDate", f.path, need)
		}
	}
	get := func(row []string, name string) string {
		if i, ok := idx[name]; ok && i < len(row) {
			return row[i]
		}
		return ""
	}
	var orphans, n int
	for k, row := range f.rows {
		line := k + 2
		parent := s.db.lookup(get(row, parentField))
		if parent == nil || !strings.EqualFold(parent.t.obj.name, h.historyOf) {
			orphans++
			continue
		}
		at, err := crm.ParseTime(get(row, "createddate"))
		if err != nil {
			return fmt.Errorf("%s:%d: column CreatedDate: %v", f.path, line, err)
		}
		by := s.db.boxedID(get(row, "createdbyid"))
		if by == nil {
			by = s.db.boxedID(s.userID)
		}
		dt := get(row, "datatype")
		r := s.db.addHistory(h, parent, at, by, get(row, "field"), dt, historyCSVValue(dt, get(row, "oldvalue")), historyCSVValue(dt, get(row, "newvalue")), false)
		if id := canonicalID(get(row, "id")); len(id) == 18 && strings.HasPrefix(id, historyPrefix) && s.db.lookup(id) == nil {
			delete(r.t.byID, r.id)
			r.id = id
			r.vals[0] = id
			r.t.byID[id] = r
		}
		if strings.EqualFold(get(row, "isdeleted"), "true") || parent.deleted {
			r.deleted, r.deletedAt = true, at
			r.vals[1] = true
		}
		l.history = append(l.history, r)
		n++
	}
	if orphans > 0 {
		fmt.Fprintf(l.out, "%s: skipped %d rows of %s records not in the export\n", base, orphans, h.historyOf)
	}
	l.loaded[h.name] = n
	return nil
}

// historyCSVValue types a history value of a CSV export by its DataType:
// numbers and booleans as such, date/times as times, the rest as text.
func historyCSVValue(dataType, v string) any {
	if v == "" {
		return nil
	}
	switch dataType {
	case "Currency", "Double", "Percent", "Number", "Int":
		if n, err := strconv.ParseFloat(v, 64); err == nil && !math.IsNaN(n) {
			return n
		}
	case "Boolean":
		if b, err := strconv.ParseBool(strings.ToLower(v)); err == nil {
			return b
		}
	case "DateTime":
		if t, err := crm.ParseTime(v); err == nil {
			return t
		}
	case "DateOnly":
		if t, err := crm.ParseTime(v); err == nil {
			return t.UTC().Format(time.DateOnly)
		}
	}
	return v
}
