package mapping

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"healthsync/connector"
	"healthsync/crm"
)

// HistoryField is a canonical field with history and the CRM fields its
// value is read from: its history can come from the CRM's field history
// only when the CRM keeps the history of all of them.
type HistoryField struct {
	Field   string
	Sources []string
}

// HistoryEntity says which history entity an object's records are.
func (m *Mapping) HistoryEntity(object string) (crm.HistoryEntity, bool) {
	kind, ok := m.Entity(object)
	switch {
	case !ok:
		return "", false
	case kind == KindAccount:
		return crm.HistoryAccount, true
	case kind == KindOpportunity:
		return crm.HistoryOpportunity, true
	}
	return "", false
}

// HistoryFields returns the mapped history fields of an entity with their
// CRM source fields, in crm.HistoryFields order. A field the mapping does
// not read (and that no rule derives from a mapped one) is left out.
func (m *Mapping) HistoryFields(e crm.HistoryEntity) []HistoryField {
	var out []HistoryField
	add := func(field string, sources ...string) {
		var src []string
		for _, s := range sources {
			if s != "" && !slices.Contains(src, s) {
				src = append(src, s)
			}
		}
		if len(src) > 0 {
			out = append(out, HistoryField{Field: field, Sources: src})
		}
	}
	switch e {
	case crm.HistoryAccount:
		f := m.cfg.Fields.Account
		add(crm.FieldARR, f.ARR)
		add(crm.FieldAdoption, f.Adoption)
		add(crm.FieldAdoptionPrevious, f.AdoptionPrevious)
		add(crm.FieldCSMSentiment, f.CSMSentiment)
		add(crm.FieldNPS, f.NPS)
		add(crm.FieldCSAT, f.CSAT)
		add(crm.FieldRenewalDate, f.RenewalDate)
		add(crm.FieldCustomerSince, f.CustomerSince)
		add(crm.FieldFirstValueAt, f.FirstValueAt)
		if f.Churned != "" {
			add(crm.FieldChurned, f.Churned)
		} else {
			add(crm.FieldChurned, f.ChurnedAt)
		}
		add(crm.FieldChurnedAt, f.ChurnedAt)
		add(crm.FieldStatus, f.Status)
		add(crm.FieldSegment, f.Segment)
		add(crm.FieldLifecycleStage, f.LifecycleStage)
		add(crm.FieldType, f.Type)
	case crm.HistoryOpportunity:
		f := m.cfg.Fields.Opportunity
		add(crm.FieldStage, f.Stage)
		add(crm.FieldAmount, f.Amount)
		add(crm.FieldCloseDate, f.CloseDate)
		add(crm.FieldIsClosed, f.IsClosed, f.IsWon)
		add(crm.FieldIsWon, f.IsWon)
		add(crm.FieldKind, f.Type, f.RecordType)
		add(crm.FieldType, f.Type)
	}
	return out
}

// HistoryFieldNames returns the names of the mapped history fields of e.
func (m *Mapping) HistoryFieldNames(e crm.HistoryEntity) []string {
	var out []string
	for _, f := range m.HistoryFields(e) {
		out = append(out, f.Field)
	}
	return out
}

// HistorySources returns the CRM fields of object that the mapped history
// fields read, each once, sorted: the fields whose CRM history a backfill
// asks for. Relationship paths (Owner.Name) have no history of their own
// and are left out.
func (m *Mapping) HistorySources(object string) []string {
	e, ok := m.HistoryEntity(object)
	if !ok {
		return nil
	}
	var out []string
	for _, f := range m.HistoryFields(e) {
		for _, s := range f.Sources {
			if !strings.Contains(s, ".") && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Backfillable returns the mapped history fields of e whose sources are
// all tracked by the CRM (tracked reports a CRM field, in any case).
func (m *Mapping) Backfillable(e crm.HistoryEntity, tracked func(string) bool) (yes, no []HistoryField) {
	for _, f := range m.HistoryFields(e) {
		all := true
		for _, s := range f.Sources {
			if strings.Contains(s, ".") || !tracked(s) {
				all = false
			}
		}
		if all {
			yes = append(yes, f)
		} else {
			no = append(no, f)
		}
	}
	return yes, no
}

// HistoryChanges turns a record's field history in CRM terms (field API
// names, raw values) into canonical changes, through the same conversions
// as Map: the record as it was at each change is the stored raw record
// with the history's values in place of the current ones, mapped. Only
// the canonical fields named in fields are returned, and each should read
// only CRM fields whose history the values hold (see Backfillable): any
// other field would be read at today's value.
//
// Bad values (that do not read as the field's type), values dated after
// the record's modification and values of fields not asked for are left
// out and reported as problems, one sentence each; they never fail the
// record. The newest historical value of a field that differs from the
// current one closes with a change at the record's modification time.
func (m *Mapping) HistoryChanges(rec connector.Record, values []connector.FieldValue, fields []string) ([]crm.FieldChange, []string) {
	e, ok := m.HistoryEntity(rec.Object)
	if !ok || len(fields) == 0 {
		return nil, nil
	}
	var problems []string
	wanted := map[string]string{} // lower-case CRM field -> the mapping's spelling
	for _, f := range m.HistoryFields(e) {
		if slices.Contains(fields, f.Field) {
			for _, s := range f.Sources {
				wanted[strings.ToLower(s)] = s
			}
		}
	}
	modified := crm.Normalize(rec.ModifiedAt)
	byField := map[string][]connector.FieldValue{}
	for _, v := range values {
		lf := strings.ToLower(v.Field)
		if _, ok := wanted[lf]; !ok {
			continue
		}
		if v.At.IsZero() {
			problems = append(problems, fmt.Sprintf("history of %s %s: a value of %s without a date; left out", rec.Object, rec.ID, v.Field))
			continue
		}
		if !modified.IsZero() && crm.Normalize(v.At).After(modified) {
			problems = append(problems, fmt.Sprintf("history of %s %s: %s changed on %s, after the record's last modification (%s); left out",
				rec.Object, rec.ID, v.Field, crm.Normalize(v.At).Format(time.RFC3339), modified.Format(time.RFC3339)))
			continue
		}
		v.At = crm.Normalize(v.At)
		byField[lf] = append(byField[lf], v)
	}
	if len(byField) == 0 {
		return nil, problems
	}
	base, err := readerOf(m.sys, rec)
	if err != nil {
		return nil, append(problems, fmt.Sprintf("history of %s %s: %v", rec.Object, rec.ID, err))
	}
	state := map[string]json.RawMessage{}
	var times []time.Time
	for lf, vs := range byField {
		sort.SliceStable(vs, func(i, j int) bool { return vs[i].At.Before(vs[j].At) })
		byField[lf] = vs
		if vs[0].Old != nil {
			state[lf] = vs[0].Old
		} else {
			state[lf] = vs[0].Value
		}
		for _, v := range vs {
			times = append(times, v.At)
		}
	}
	problems = append(problems, brokenChains(rec, byField)...)
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	times = slices.CompactFunc(times, func(a, b time.Time) bool { return a.Equal(b) })

	seen := map[string]bool{}
	snapshot := func() map[string]json.RawMessage {
		top := overlay(m.sys, base.top, wanted, state)
		out, recErr := snapshotOf(m, connector.Record{Object: rec.Object, ID: rec.ID, ModifiedAt: rec.ModifiedAt, Fields: top}, fields)
		if recErr != nil {
			for _, p := range recErr.Problems {
				msg := fmt.Sprintf("history of %s %s: field %s: value %s is not %s", rec.Object, rec.ID, p.Field, p.Value, p.Want)
				if !seen[msg] {
					seen[msg] = true
					problems = append(problems, msg+"; read as empty")
				}
			}
		}
		return out
	}
	prev := snapshot()
	if prev == nil {
		return nil, append(problems, fmt.Sprintf("history of %s %s: the stored record does not read as a record", rec.Object, rec.ID))
	}
	var out []crm.FieldChange
	emit := func(at time.Time, next map[string]json.RawMessage) {
		for _, f := range fields {
			if !crm.SameValue(prev[f], next[f]) {
				out = append(out, crm.FieldChange{Entity: e, RecordID: rec.ID, Field: f, Until: at, Value: prev[f]})
			}
		}
		prev = next
	}
	for _, at := range times {
		// A snapshot is mapped only when a value changed at this time: the
		// first version of a field (a value set, then read back as it is)
		// changes nothing, and mapping the record again for it was most of
		// a HubSpot backfill's work.
		changed := false
		for lf, vs := range byField {
			for _, v := range vs {
				if v.At.Equal(at) {
					changed = changed || !bytes.Equal(state[lf], v.Value)
					state[lf] = v.Value
				}
			}
		}
		if changed {
			emit(at, snapshot())
		}
	}
	// The history ends at the current values; a change it missed (made
	// while the field was not tracked) took effect by the last
	// modification.
	if cur, _ := snapshotOf(m, rec, fields); cur != nil && !modified.IsZero() && modified.After(times[len(times)-1]) {
		emit(modified, cur)
	}
	return out, problems
}

// brokenChains reports each field whose history does not chain: a change
// whose old value is not what the change before it set (timestamps out of
// order, or rows missing). The values stay as dated; the problem says the
// figures that read them may be off.
func brokenChains(rec connector.Record, byField map[string][]connector.FieldValue) []string {
	keys := make([]string, 0, len(byField))
	for k := range byField {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		vs := byField[k]
		for i := 1; i < len(vs); i++ {
			prev, v := vs[i-1], vs[i]
			if v.Old == nil || v.At.Equal(prev.At) || sameRaw(v.Old, prev.Value) {
				continue
			}
			out = append(out, fmt.Sprintf("history of %s %s: %s changed on %s from %s, but the change before it (%s) set %s: the CRM's history of it is out of order or incomplete; its values are kept as dated",
				rec.Object, rec.ID, v.Field, v.At.Format(time.RFC3339), rawText(v.Old), prev.At.Format(time.RFC3339), rawText(prev.Value)))
			break
		}
	}
	return out
}

// sameRaw reports whether two raw JSON values are the same value (numbers
// by value, so 12000 and 12000.0 agree).
func sameRaw(a, b json.RawMessage) bool {
	if crm.SameValue(a, b) {
		return true
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	if fx, ok := x.(float64); ok {
		fy, ok := y.(float64)
		return ok && fx == fy
	}
	return reflect.DeepEqual(x, y)
}

// rawText is a raw value for a message ("empty" for null).
func rawText(v json.RawMessage) string {
	if len(v) == 0 || string(v) == "null" {
		return "empty"
	}
	return string(v)
}

// snapshotOf maps rec as it is and returns its values of fields (nil when
// it does not map as an account or opportunity), with the record's
// problems when some of its values do not read as their types (read as
// empty).
func snapshotOf(m *Mapping, rec connector.Record, fields []string) (map[string]json.RawMessage, *RecordError) {
	ent, err := m.Map(rec)
	var recErr *RecordError
	if err != nil && !errors.As(err, &recErr) {
		return nil, nil
	}
	var all map[string]json.RawMessage
	switch {
	case ent.Account != nil:
		all = ent.Account.FieldValues()
	case ent.Opportunity != nil:
		all = ent.Opportunity.FieldValues()
	default:
		return nil, nil
	}
	out := make(map[string]json.RawMessage, len(fields))
	for _, f := range fields {
		out[f] = all[f]
	}
	return out, recErr
}

// overlay returns the raw record top with the CRM fields of state (lower
// case, spelled as in names) set to their values: Salesforce fields at the
// top level (matching the record's own spelling), HubSpot properties under
// "properties". It is the record as decoding its JSON would give it
// (connector.Record.Fields), so the mapping reads it without a round trip
// through JSON for every point of a record's history.
func overlay(sys crm.System, top map[string]any, names map[string]string, state map[string]json.RawMessage) map[string]any {
	out := make(map[string]any, len(top))
	for k, v := range top {
		out[k] = v
	}
	target := out
	if sys == crm.HubSpot {
		props := map[string]any{}
		if p, ok := top["properties"].(map[string]any); ok {
			for k, v := range p {
				props[k] = v
			}
		}
		out["properties"] = props
		target = props
	}
	for lf, v := range state {
		key := names[lf]
		for k := range target {
			if strings.EqualFold(k, key) {
				key = k
				break
			}
		}
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.UseNumber()
		var val any
		if len(v) > 0 {
			if err := dec.Decode(&val); err != nil {
				val = jsonText(string(v))
			}
		}
		target[key] = val
	}
	return out
}

// jsonText is s as it reads back from JSON: each byte of invalid UTF-8
// replaced by U+FFFD, as json.Marshal writes it.
func jsonText(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	b, _ := json.Marshal(s)
	_ = json.Unmarshal(b, &s)
	return s
}
