package hubspot

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// assocColumnPrefix starts the header of a CSV column listing associated
// record ids: "associations.companies" holds company ids separated by ";".
const assocColumnPrefix = "associations."

type pendingAssoc struct {
	where            string
	fromType, toType string
	fromID, toID     string
}

// LoadCSV loads records of one object type from CSV. The header row names
// HubSpot internal property names (name, domain, hs_timestamp, ...);
// hs_object_id keeps a record's id (so other files can refer to it),
// createdate/hs_createdate and the last-modified property set history, and
// "associations.<type>" columns list associated record ids separated by
// ";". Associated records must already be loaded; LoadCSVDir loads a whole
// export in the right order.
func (s *Server) LoadCSV(objectType string, r io.Reader) error {
	pending, err := s.loadCSV(objectType, objectType+".csv", r)
	if err != nil {
		return err
	}
	return s.applyPending(pending)
}

// LoadCSVDir loads every <type>.csv file of a directory (companies.csv,
// contacts.csv, deals.csv, calls.csv, emails.csv, meetings.csv, notes.csv,
// tasks.csv; missing ones are skipped), then their associations.
func (s *Server) LoadCSVDir(dir string) error {
	var pending []pendingAssoc
	found := 0
	for _, t := range objectTypes {
		path := filepath.Join(dir, t.name+".csv")
		f, err := os.Open(path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("load CSV: %w", err)
		}
		p, err := s.loadCSV(t.name, path, f)
		f.Close()
		if err != nil {
			return err
		}
		found++
		pending = append(pending, p...)
	}
	if found == 0 {
		return fmt.Errorf("load CSV: no <object>.csv files in %s: name them companies.csv, contacts.csv, deals.csv, calls.csv, emails.csv, meetings.csv, notes.csv or tasks.csv", dir)
	}
	return s.applyPending(pending)
}

func (s *Server) loadCSV(objectType, name string, r io.Reader) ([]pendingAssoc, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tb, err := s.tableOf(objectType)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", name, err)
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("load %s: read the header row: %w", name, err)
	}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		header[i] = h
		if to, ok := strings.CutPrefix(h, assocColumnPrefix); ok {
			if _, known := lookupType(to); !known {
				return nil, fmt.Errorf("load %s: column %d %q: unknown object type %q", name, i+1, h, to)
			}
			continue
		}
		if _, ok := tb.props[h]; !ok {
			return nil, fmt.Errorf("load %s: column %d %q is not a %s property: use HubSpot internal property names (e.g. %s)",
				name, i+1, h, tb.typ.singular, strings.Join(tb.typ.defaults, ", "))
		}
	}
	var pending []pendingAssoc
	line := 1
	defer tb.rebuild()
	for {
		row, err := cr.Read()
		if err == io.EOF {
			break
		}
		line++
		if err != nil {
			return nil, fmt.Errorf("load %s: line %d: %w", name, line, err)
		}
		if len(row) != len(header) {
			return nil, fmt.Errorf("load %s: line %d has %d fields, the header has %d", name, line, len(row), len(header))
		}
		props := map[string]string{}
		var id int64
		var assocs [][2]string
		for i, v := range row {
			h := header[i]
			switch {
			case h == "hs_object_id":
				if v = strings.TrimSpace(v); v != "" {
					if id, err = parseID(v); err != nil {
						return nil, fmt.Errorf("load %s: line %d: hs_object_id: %w", name, line, err)
					}
				}
			case strings.HasPrefix(h, assocColumnPrefix):
				for _, target := range strings.Split(v, ";") {
					if target = strings.TrimSpace(target); target != "" {
						assocs = append(assocs, [2]string{strings.TrimPrefix(h, assocColumnPrefix), target})
					}
				}
			default:
				props[h] = v
			}
		}
		rec, err := s.load(tb, props, id)
		if err != nil {
			return nil, fmt.Errorf("%s: line %d: %w", name, line, err)
		}
		rec.createdBy = sourceImport
		for _, a := range assocs {
			pending = append(pending, pendingAssoc{where: fmt.Sprintf("%s: line %d", name, line),
				fromType: tb.typ.name, toType: a[0], fromID: strconv.FormatInt(rec.id, 10), toID: a[1]})
		}
	}
	return pending, nil
}

func (s *Server) applyPending(pending []pendingAssoc) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range pending {
		if err := s.associateLocked(p.fromType, p.fromID, p.toType, p.toID); err != nil {
			return fmt.Errorf("load CSV: %s: %w", p.where, err)
		}
	}
	return nil
}
