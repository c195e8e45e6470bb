package mapping

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrNoSystem means neither the mapping file nor the caller said which
// CRM the mapping is for.
var ErrNoSystem = errors.New(`no CRM chosen: set "crm: {system: salesforce}" (or hubspot) in the mapping file, or HEALTHSYNC_CRM`)

// Error is one problem in the mapping file, at a position in it.
type Error struct {
	File   string
	Line   int // 1-based; 0 when the problem has no single position
	Column int // 1-based; 0 when unknown
	Msg    string
}

// Error formats the problem as file:line:column: message.
func (e *Error) Error() string {
	switch {
	case e.Line == 0:
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	case e.Column == 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
}

// Errors is every problem found while loading a mapping file, in file
// order. Load returns it as its error so all problems are reported at once.
type Errors []*Error

// Error lists the problems one per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

func (es Errors) sort() {
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].Line != es[j].Line {
			return es[i].Line < es[j].Line
		}
		return es[i].Column < es[j].Column
	})
}

// FieldProblem is one raw value that could not be mapped.
type FieldProblem struct {
	Field string // the CRM field
	Value string // the raw value as received (JSON text)
	Want  string // what was expected
}

// RecordError reports the raw values of one record that could not be
// mapped. The mapped entity is still returned with those fields left
// empty, so the caller can keep it and record the problem.
type RecordError struct {
	Object   string
	ID       string
	Problems []FieldProblem
}

// Error names the record, each field, its value and what was expected.
func (e *RecordError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "map %s %s:", e.Object, e.ID)
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString(";")
		}
		fmt.Fprintf(&b, " field %s: value %s: want %s", p.Field, p.Value, p.Want)
	}
	return b.String()
}
