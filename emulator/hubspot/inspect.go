package hubspot

import (
	"fmt"
	"strconv"
	"time"

	"healthsync/crm"
)

// Record is a copy of a stored record, for in-process inspection.
type Record struct {
	ID         string
	Type       string // plural object type: "companies", "tasks", ...
	Properties map[string]string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	Archived   bool
}

// Association is one association between two records.
type Association struct {
	FromType string
	FromID   string
	ToType   string
	ToID     string
	TypeIDs  []int // HubSpot association type ids, from → to
}

func snapshot(t *objectType, r *record) Record {
	props := make(map[string]string, len(r.props)+1)
	for k, v := range r.props {
		props[k] = v
	}
	props["hs_object_id"] = strconv.FormatInt(r.id, 10)
	return Record{ID: strconv.FormatInt(r.id, 10), Type: t.name, Properties: props,
		CreatedAt: r.createdAt, UpdatedAt: r.updatedAt, Archived: r.archived}
}

func (s *Server) tableOf(objectType string) (*table, error) {
	t, ok := lookupType(objectType)
	if !ok {
		return nil, fmt.Errorf("%w: %q (use companies, contacts, deals, calls, emails, meetings, notes or tasks)", ErrUnknownObjectType, objectType)
	}
	return s.tables[t.name], nil
}

// Record returns a copy of one record (archived ones included).
func (s *Server) Record(objectType, id string) (Record, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	tb, err := s.tableOf(objectType)
	if err != nil {
		return Record{}, err
	}
	n, err := parseID(id)
	if err != nil {
		return Record{}, fmt.Errorf("read %s %s: %w", tb.typ.singular, id, err)
	}
	r := tb.records[n]
	if r == nil {
		return Record{}, fmt.Errorf("read %s %s: %w", tb.typ.singular, id, ErrNotFound)
	}
	return snapshot(tb.typ, r), nil
}

// Records returns copies of all live records of a type, by ascending id.
func (s *Server) Records(objectType string) ([]Record, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	tb, err := s.tableOf(objectType)
	if err != nil {
		return nil, err
	}
	out := make([]Record, 0, len(tb.ids))
	for _, id := range tb.ids {
		out = append(out, snapshot(tb.typ, tb.records[id]))
	}
	return out, nil
}

// Count returns the number of live records of a type.
func (s *Server) Count(objectType string) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	tb, err := s.tableOf(objectType)
	if err != nil {
		return 0
	}
	return len(tb.ids)
}

// CreatedTasks returns the tasks created through the API (not loaded), by
// ascending id: what a writeback created.
func (s *Server) CreatedTasks() []Record {
	s.mu.RLock()
	defer s.mu.RUnlock()
	tb := s.tables["tasks"]
	var out []Record
	for _, id := range tb.ids {
		if r := tb.records[id]; r.viaAPI {
			out = append(out, snapshot(tb.typ, r))
		}
	}
	return out
}

// Associations lists a record's associations to one object type.
func (s *Server) Associations(fromType, fromID, toType string) ([]Association, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	from, err := s.tableOf(fromType)
	if err != nil {
		return nil, err
	}
	to, err := s.tableOf(toType)
	if err != nil {
		return nil, err
	}
	id, err := parseID(fromID)
	if err != nil {
		return nil, fmt.Errorf("list associations: %w", err)
	}
	var out []Association
	for _, target := range s.liveTargets(from.typ, to.typ, id) {
		a := Association{FromType: from.typ.name, FromID: fromID, ToType: to.typ.name, ToID: strconv.FormatInt(target.ToObjectID, 10)}
		for _, t := range target.AssociationTypes {
			a.TypeIDs = append(a.TypeIDs, t.TypeID)
		}
		out = append(out, a)
	}
	return out, nil
}

// Create stores a record in-process (not counted as an API call, not
// rate-limited) and returns its id. Properties are validated as the API
// validates them, except that the read-only creation and modification dates
// may be given to load history; missing ones take the clock's now.
func (s *Server) Create(objectType string, props map[string]string) (string, error) {
	s.lockWrite()
	defer s.mu.Unlock()
	tb, err := s.tableOf(objectType)
	if err != nil {
		return "", err
	}
	rec, err := s.load(tb, props, 0)
	if err != nil {
		return "", err
	}
	rec.createdBy = s.uiSource()
	tb.index(rec)
	return strconv.FormatInt(rec.id, 10), nil
}

// load validates and inserts one record with optional historic dates; the
// caller indexes it.
func (s *Server) load(tb *table, props map[string]string, id int64) (*record, error) {
	if id != 0 {
		if _, dup := tb.records[id]; dup {
			return nil, fmt.Errorf("load %s: id %d already exists", tb.typ.singular, id)
		}
	}
	in := propInput{}
	var created, modified time.Time
	for k, v := range props {
		switch k {
		case "hs_object_id":
			continue
		case tb.typ.createProp:
			if v != "" {
				t, err := crm.ParseTime(v)
				if err != nil {
					return nil, fmt.Errorf("load %s: %s: %w", tb.typ.singular, k, err)
				}
				created = t
			}
			continue
		case tb.typ.modProp:
			if v != "" {
				t, err := crm.ParseTime(v)
				if err != nil {
					return nil, fmt.Errorf("load %s: %s: %w", tb.typ.singular, k, err)
				}
				modified = t
			}
			continue
		}
		in[k] = v
	}
	next, e := s.applyProps(tb, nil, in, true)
	if e != nil {
		return nil, fmt.Errorf("load %s: %s", tb.typ.singular, e.Message)
	}
	now := s.now()
	if created.IsZero() {
		created = now
	}
	if modified.IsZero() || modified.Before(created) {
		modified = created
	}
	return s.insert(tb, next, created, modified, id), nil
}

// Associate links two records with their default association type (and
// the inverse) in-process; modification dates stay as they are.
func (s *Server) Associate(fromType, fromID, toType, toID string) error {
	s.lockWrite()
	defer s.mu.Unlock()
	return s.associateLocked(fromType, fromID, toType, toID)
}

func (s *Server) associateLocked(fromType, fromID, toType, toID string) error {
	from, err := s.tableOf(fromType)
	if err != nil {
		return err
	}
	to, err := s.tableOf(toType)
	if err != nil {
		return err
	}
	at, ok := defaultAssocType(from.typ.name, to.typ.name)
	if !ok {
		return fmt.Errorf("associate %s with %s: HubSpot has no association between these types", from.typ.name, to.typ.name)
	}
	f, err := parseID(fromID)
	if err != nil {
		return fmt.Errorf("associate: %w", err)
	}
	t, err := parseID(toID)
	if err != nil {
		return fmt.Errorf("associate: %w", err)
	}
	if from.records[f] == nil || to.records[t] == nil {
		return fmt.Errorf("associate %s %s with %s %s: %w", from.typ.singular, fromID, to.typ.singular, toID, ErrNotFound)
	}
	s.assoc.add(from.typ.name, to.typ.name, f, t, at)
	if p, ok := s.primaryType(from.typ, to.typ); ok {
		contact, company := f, t
		if from.typ.name != "contacts" {
			contact, company = t, f
		}
		c := s.tables["contacts"].records[contact]
		if c.props["associatedcompanyid"] == "" {
			s.assoc.add(from.typ.name, to.typ.name, f, t, p)
			c.props["associatedcompanyid"] = strconv.FormatInt(company, 10)
		}
	}
	return nil
}

// Update changes a record's properties in-process, as a user editing it in
// HubSpot would: values are validated, read-only ones refused, and the
// modified date moves to the clock's now when something changed.
func (s *Server) Update(objectType, id string, props map[string]string) error {
	s.lockWrite()
	defer s.mu.Unlock()
	tb, err := s.tableOf(objectType)
	if err != nil {
		return err
	}
	n, err := parseID(id)
	if err != nil {
		return fmt.Errorf("update %s: %w", tb.typ.singular, err)
	}
	r := tb.records[n]
	if r == nil || r.archived {
		return fmt.Errorf("update %s %s: %w", tb.typ.singular, id, ErrNotFound)
	}
	if e := s.update(tb, r, propInput(props), s.now(), s.uiSource()); e != nil {
		return fmt.Errorf("update %s %s: %s", tb.typ.singular, id, e.Message)
	}
	return nil
}

// Archive moves a record to the recycle bin in-process, as a user deleting
// it in HubSpot would.
func (s *Server) Archive(objectType, id string) error {
	s.lockWrite()
	defer s.mu.Unlock()
	tb, err := s.tableOf(objectType)
	if err != nil {
		return err
	}
	n, err := parseID(id)
	if err != nil {
		return fmt.Errorf("archive %s: %w", tb.typ.singular, err)
	}
	r := tb.records[n]
	if r == nil || r.archived {
		return fmt.Errorf("archive %s %s: %w", tb.typ.singular, id, ErrNotFound)
	}
	s.archive(tb, r, s.now())
	return nil
}

// Unassociate removes every association between two records in-process;
// modification dates stay as they are (as in HubSpot).
func (s *Server) Unassociate(fromType, fromID, toType, toID string) error {
	s.lockWrite()
	defer s.mu.Unlock()
	from, err := s.tableOf(fromType)
	if err != nil {
		return err
	}
	to, err := s.tableOf(toType)
	if err != nil {
		return err
	}
	f, err := parseID(fromID)
	if err != nil {
		return fmt.Errorf("unassociate: %w", err)
	}
	t, err := parseID(toID)
	if err != nil {
		return fmt.Errorf("unassociate: %w", err)
	}
	s.assoc.remove(from.typ.name, to.typ.name, f, t, 0)
	return nil
}
