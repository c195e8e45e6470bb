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

	"healthsync/crm"
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
	pending, _, err := s.loadCSV(objectType, objectType+".csv", r, io.Discard)
	if err != nil {
		return err
	}
	return s.applyPending(pending)
}

// LoadCSVDir loads an export directory as LoadExport does, without
// printing what it loaded.
func (s *Server) LoadCSVDir(dir string) error { return s.LoadExport(dir, io.Discard) }

// historyFileSuffix names a file of property history: companies_property_history.csv.
const historyFileSuffix = "_property_history"

// LoadExport loads every <type>.csv file of a directory (companies.csv,
// contacts.csv, deals.csv, calls.csv, emails.csv, meetings.csv, notes.csv,
// tasks.csv; missing ones are skipped), then their associations, then
// property history from <type>_property_history.csv files (columns
// hs_object_id, property, value, timestamp and optionally sourceType,
// sourceId, updatedByUserId, as HubSpot's property history holds them).
// Columns naming properties the portal lacks are added as custom
// properties with a type inferred from their values (number, checkbox,
// date, date/time, else text). It writes a line to out for each file it
// skips and each property it adds, and one per object type with how many
// records it loaded.
func (s *Server) LoadExport(dir string, out io.Writer) error {
	var pending []pendingAssoc
	found := 0
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("load CSV: %w", err)
	}
	known := map[string]bool{}
	for _, t := range objectTypes {
		known[t.name+".csv"], known[t.name+historyFileSuffix+".csv"] = true, true
	}
	for _, e := range entries {
		if n := e.Name(); !e.IsDir() && strings.EqualFold(filepath.Ext(n), ".csv") && !known[n] {
			fmt.Fprintf(out, "skipped %s: name files after the object types the emulator serves (companies.csv, contacts.csv, deals.csv, calls.csv, emails.csv, meetings.csv, notes.csv, tasks.csv)\n", n)
		}
	}
	counts := map[string]int{}
	for _, t := range objectTypes {
		path := filepath.Join(dir, t.name+".csv")
		f, err := os.Open(path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("load CSV: %w", err)
		}
		p, n, err := s.loadCSV(t.name, path, f, out)
		f.Close()
		if err != nil {
			return err
		}
		found++
		counts[t.name] = n
		pending = append(pending, p...)
	}
	if found == 0 {
		return fmt.Errorf("load CSV: no <object>.csv files in %s: name them companies.csv, contacts.csv, deals.csv, calls.csv, emails.csv, meetings.csv, notes.csv or tasks.csv", dir)
	}
	if err := s.applyPending(pending); err != nil {
		return err
	}
	for _, t := range objectTypes {
		path := filepath.Join(dir, t.name+historyFileSuffix+".csv")
		f, err := os.Open(path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("load CSV: %w", err)
		}
		n, err := s.loadHistoryCSV(t.name, path, f, out)
		f.Close()
		if err != nil {
			return err
		}
		counts[t.name+" property history entries"] = n
	}
	for _, t := range objectTypes {
		for _, k := range []string{t.name, t.name + " property history entries"} {
			if n, ok := counts[k]; ok {
				fmt.Fprintf(out, "loaded %d %s\n", n, k)
			}
		}
	}
	return nil
}

// loadCSV loads one object type's file and returns the associations its
// rows ask for and how many records it loaded.
func (s *Server) loadCSV(objectType, name string, r io.Reader, out io.Writer) ([]pendingAssoc, int, error) {
	s.lockWrite()
	defer s.mu.Unlock()
	tb, err := s.tableOf(objectType)
	if err != nil {
		return nil, 0, fmt.Errorf("load %s: %w", name, err)
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, 0, fmt.Errorf("load %s: read the header row: %w", name, err)
	}
	rows, err := cr.ReadAll()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, 0, fmt.Errorf("load %s: line %d: %w", name, pe.Line, err)
		}
		return nil, 0, fmt.Errorf("load %s: %w", name, err)
	}
	var added []string
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		header[i] = h
		if to, ok := strings.CutPrefix(h, assocColumnPrefix); ok {
			if _, known := lookupType(to); !known {
				return nil, 0, fmt.Errorf("load %s: column %d %q: unknown object type %q", name, i+1, h, to)
			}
			continue
		}
		if p, ok := tb.props[h]; ok && !p.Archived {
			continue
		}
		if !propNameRE.MatchString(h) {
			return nil, 0, fmt.Errorf("load %s: column %d %q is not a %s property name: use HubSpot internal property names (e.g. %s), lower-case letters, digits and underscores",
				name, i+1, h, tb.typ.singular, strings.Join(tb.typ.defaults, ", "))
		}
		p := inferProperty(h, rows, i)
		s.ensureProps(tb, tb.typ.group, "", []propDef{p})
		added = append(added, h+" ("+p.Type+")")
	}
	if len(added) > 0 {
		fmt.Fprintf(out, "%s: added %d custom %s properties: %s\n", filepath.Base(name), len(added), tb.typ.singular, strings.Join(added, ", "))
	}
	var pending []pendingAssoc
	line := 1
	defer tb.rebuild()
	for _, row := range rows {
		line++
		if len(row) != len(header) {
			return nil, 0, fmt.Errorf("load %s: line %d has %d fields, the header has %d", name, line, len(row), len(header))
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
						return nil, 0, fmt.Errorf("load %s: line %d: hs_object_id: %w", name, line, err)
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
			return nil, 0, fmt.Errorf("%s: line %d: %w", name, line, err)
		}
		rec.createdBy = sourceImport
		for _, a := range assocs {
			pending = append(pending, pendingAssoc{where: fmt.Sprintf("%s: line %d", name, line),
				fromType: tb.typ.name, toType: a[0], fromID: strconv.FormatInt(rec.id, 10), toID: a[1]})
		}
	}
	return pending, len(rows), nil
}

func (s *Server) applyPending(pending []pendingAssoc) error {
	s.lockWrite()
	defer s.mu.Unlock()
	for _, p := range pending {
		if err := s.associateLocked(p.fromType, p.fromID, p.toType, p.toID); err != nil {
			return fmt.Errorf("load CSV: %s: %w", p.where, err)
		}
	}
	return nil
}

// inferProperty makes a custom property for an unknown column from its
// values: number, checkbox, date, date/time (ISO 8601) or text.
func inferProperty(name string, rows [][]string, col int) propDef {
	isBool, isNum, isDate, isTime, n := true, true, true, true, 0
	for _, row := range rows {
		if col >= len(row) || strings.TrimSpace(row[col]) == "" {
			continue
		}
		v := strings.TrimSpace(row[col])
		n++
		lv := strings.ToLower(v)
		isBool = isBool && (lv == "true" || lv == "false")
		if _, err := strconv.ParseFloat(v, 64); err != nil || (len(v) > 1 && v[0] == '0' && v[1] != '.') {
			isNum = false
		}
		_, err := crm.ParseTime(v)
		isDate = isDate && err == nil && len(v) == 10 && v[4] == '-'
		isTime = isTime && err == nil && strings.Contains(v, "T")
	}
	label := strings.ReplaceAll(name, "_", " ")
	label = strings.ToUpper(label[:1]) + label[1:]
	p := propDef{Name: name, Label: label, Type: "string", FieldType: "text", Description: "Added by the emulator's CSV load"}
	switch {
	case n == 0:
	case isBool:
		p.Type, p.FieldType = "bool", "booleancheckbox"
		p.Options = []propOption{{Label: "Yes", Value: "true"}, {Label: "No", Value: "false", DisplayOrder: 1}}
	case isNum:
		p.Type, p.FieldType = "number", "number"
	case isDate:
		p.Type, p.FieldType = "date", "date"
	case isTime:
		p.Type, p.FieldType = "datetime", "date"
	}
	return p
}
