package crm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// Field history: the values an account's and an opportunity's fields had
// before their latest change, so that anything about a past date (a
// backtest score, a KPI for last year, "why was it yellow in March?")
// reads each field as it was then, never as it is now.
//
// History is kept as changes only, in canonical terms: a FieldChange says
// that field F of record R held Value until Until, when it changed to the
// next change's value (or, for the newest change, to the record's current
// value). A field without a change holds its current value for as long as
// its history is known: HistoryFrom says from when that is, per field.
// Before it the value is unknown, and AsOf leaves the field empty rather
// than show today's value for a past date.

// HistoryEntity names the kind of record a change belongs to.
type HistoryEntity string

// Entities with field history.
const (
	HistoryAccount     HistoryEntity = "account"
	HistoryOpportunity HistoryEntity = "opportunity"
)

// Canonical fields with history. Each is one field (or one pair that
// always changes together) of Account or Opportunity; their JSON values
// are the field's Go value encoded (numbers, RFC 3339 times, booleans,
// text; null when empty).
const (
	FieldARR              = "arr"
	FieldAdoption         = "adoption"
	FieldAdoptionPrevious = "adoption_previous"
	FieldCSMSentiment     = "csm_sentiment"
	FieldNPS              = "nps"
	FieldCSAT             = "csat"
	FieldRenewalDate      = "renewal_date"
	FieldCustomerSince    = "customer_since"
	FieldFirstValueAt     = "first_value_at"
	FieldChurned          = "churned"
	FieldChurnedAt        = "churned_at"
	FieldStatus           = "status" // the status field's value and its classification
	FieldSegment          = "segment"
	FieldLifecycleStage   = "lifecycle_stage"
	FieldType             = "type"

	FieldStage     = "stage"
	FieldAmount    = "amount"
	FieldCloseDate = "close_date"
	FieldIsClosed  = "is_closed"
	FieldIsWon     = "is_won"
	FieldKind      = "kind"
)

// FieldChange is one change of a field: the record's field held Value
// until Until, when it took its next value. Value is JSON (null: empty).
type FieldChange struct {
	Entity   HistoryEntity   `json:"entity"`
	RecordID string          `json:"record_id"`
	Field    string          `json:"field"`
	Until    time.Time       `json:"until"`
	Value    json.RawMessage `json:"value"`
}

// HistoryFrom says, per entity and field ("account.arr"), from when the
// field's history is complete: from the CRM's own field history, or from
// the first sync that stored the field. A field it does not name has no
// known history: its current value is all there is (AsOf leaves it as it
// is).
type HistoryFrom map[string]time.Time

// Key is the HistoryFrom key of a field of an entity.
func HistoryKey(e HistoryEntity, field string) string { return string(e) + "." + field }

// Since returns from when the field's history is complete and whether it
// is tracked at all.
func (h HistoryFrom) Since(e HistoryEntity, field string) (time.Time, bool) {
	t, ok := h[HistoryKey(e, field)]
	return t, ok
}

// ExactFrom is the latest of the times from which the given fields'
// histories are complete: figures that read all of them are exact from
// then on. Self-dating fields do not count (see SelfDating). Zero when
// none of them has a known history start.
func (h HistoryFrom) ExactFrom(e HistoryEntity, fields ...string) time.Time {
	var out time.Time
	for _, f := range fields {
		if SelfDating(f) {
			continue
		}
		if t, ok := h.Since(e, f); ok && t.After(out) {
			out = t
		}
	}
	return out
}

// History is the field history of one account and its opportunities, as
// the store streams it beside the account.
type History struct {
	// Changes are ordered by entity, record, field and Until.
	Changes []FieldChange
	// From is the connection's history start per field (shared between
	// accounts: do not modify).
	From HistoryFrom
}

// historyField reads and writes one canonical field of a T.
type historyField[T any] struct {
	name string
	get  func(*T) any
	set  func(*T, json.RawMessage) error
}

func numField[T any](name string, p func(*T) **float64) historyField[T] {
	return historyField[T]{name: name,
		get: func(x *T) any { return *p(x) },
		set: func(x *T, v json.RawMessage) error {
			var n *float64
			if err := json.Unmarshal(v, &n); err != nil {
				return err
			}
			*p(x) = n
			return nil
		}}
}

func timeField[T any](name string, p func(*T) **time.Time) historyField[T] {
	return historyField[T]{name: name,
		get: func(x *T) any {
			if t := *p(x); t != nil && !t.IsZero() {
				return t.UTC()
			}
			return nil
		},
		set: func(x *T, v json.RawMessage) error {
			var t *time.Time
			if err := json.Unmarshal(v, &t); err != nil {
				return err
			}
			if t != nil {
				u := Normalize(*t)
				t = &u
			}
			*p(x) = t
			return nil
		}}
}

func strField[T any, S ~string](name string, p func(*T) *S) historyField[T] {
	return historyField[T]{name: name,
		get: func(x *T) any {
			if s := *p(x); s != "" {
				return string(s)
			}
			return nil
		},
		set: func(x *T, v json.RawMessage) error {
			var s *string
			if err := json.Unmarshal(v, &s); err != nil {
				return err
			}
			*p(x) = ""
			if s != nil {
				*p(x) = S(*s)
			}
			return nil
		}}
}

func boolField[T any](name string, p func(*T) *bool) historyField[T] {
	return historyField[T]{name: name,
		get: func(x *T) any { return *p(x) },
		set: func(x *T, v json.RawMessage) error {
			var b *bool
			if err := json.Unmarshal(v, &b); err != nil {
				return err
			}
			*p(x) = b != nil && *b
			return nil
		}}
}

// statusValue is the pair the status field gives: its value and how the
// mapping classified it. They change together.
type statusValue struct {
	Value  string         `json:"value"`
	Status CustomerStatus `json:"status,omitempty"`
}

var accountFields = []historyField[Account]{
	numField(FieldARR, func(a *Account) **float64 { return &a.ARR }),
	numField(FieldAdoption, func(a *Account) **float64 { return &a.Adoption }),
	numField(FieldAdoptionPrevious, func(a *Account) **float64 { return &a.AdoptionPrevious }),
	numField(FieldCSMSentiment, func(a *Account) **float64 { return &a.CSMSentiment }),
	numField(FieldNPS, func(a *Account) **float64 { return &a.NPS }),
	numField(FieldCSAT, func(a *Account) **float64 { return &a.CSAT }),
	timeField(FieldRenewalDate, func(a *Account) **time.Time { return &a.RenewalDate }),
	timeField(FieldCustomerSince, func(a *Account) **time.Time { return &a.CustomerSince }),
	timeField(FieldFirstValueAt, func(a *Account) **time.Time { return &a.FirstValueAt }),
	boolField(FieldChurned, func(a *Account) *bool { return &a.Churned }),
	timeField(FieldChurnedAt, func(a *Account) **time.Time { return &a.ChurnedAt }),
	{name: FieldStatus,
		get: func(a *Account) any {
			if a.StatusValue == "" && a.Status == StatusUnknown {
				return nil
			}
			return statusValue{Value: a.StatusValue, Status: a.Status}
		},
		set: func(a *Account, v json.RawMessage) error {
			var s *statusValue
			if err := json.Unmarshal(v, &s); err != nil {
				return err
			}
			a.StatusValue, a.Status = "", StatusUnknown
			if s != nil {
				a.StatusValue, a.Status = s.Value, s.Status
			}
			return nil
		}},
	strField(FieldSegment, func(a *Account) *string { return &a.Segment }),
	strField(FieldLifecycleStage, func(a *Account) *string { return &a.LifecycleStage }),
	strField(FieldType, func(a *Account) *string { return &a.Type }),
}

var opportunityFields = []historyField[Opportunity]{
	strField(FieldStage, func(o *Opportunity) *string { return &o.Stage }),
	numField(FieldAmount, func(o *Opportunity) **float64 { return &o.Amount }),
	timeField(FieldCloseDate, func(o *Opportunity) **time.Time { return &o.CloseDate }),
	boolField(FieldIsClosed, func(o *Opportunity) *bool { return &o.IsClosed }),
	boolField(FieldIsWon, func(o *Opportunity) *bool { return &o.IsWon }),
	strField(FieldKind, func(o *Opportunity) *OpportunityKind { return &o.Kind }),
	strField(FieldType, func(o *Opportunity) *string { return &o.Type }),
}

// HistoryFields lists the canonical fields of an entity that keep history.
func HistoryFields(e HistoryEntity) []string {
	var out []string
	switch e {
	case HistoryAccount:
		for _, f := range accountFields {
			out = append(out, f.name)
		}
	case HistoryOpportunity:
		for _, f := range opportunityFields {
			out = append(out, f.name)
		}
	}
	return out
}

// FieldValues returns the JSON value of every history field of an
// account, by field name.
func (a Account) FieldValues() map[string]json.RawMessage { return values(accountFields, &a) }

// FieldValues returns the JSON value of every history field of an
// opportunity, by field name.
func (o Opportunity) FieldValues() map[string]json.RawMessage { return values(opportunityFields, &o) }

func values[T any](fields []historyField[T], x *T) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(fields))
	for _, f := range fields {
		out[f.name] = encodeValue(f.get(x))
	}
	return out
}

func encodeValue(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage("null")
	}
	return b
}

// SetField sets one history field of an account from its JSON value.
func (a *Account) SetField(field string, v json.RawMessage) error {
	return setField(accountFields, a, field, v)
}

// SetField sets one history field of an opportunity from its JSON value.
func (o *Opportunity) SetField(field string, v json.RawMessage) error {
	return setField(opportunityFields, o, field, v)
}

func setField[T any](fields []historyField[T], x *T, field string, v json.RawMessage) error {
	if len(v) == 0 {
		v = json.RawMessage("null")
	}
	for _, f := range fields {
		if f.name == field {
			if err := f.set(x, v); err != nil {
				return fmt.Errorf("field %s: value %s: %w", field, v, err)
			}
			return nil
		}
	}
	return fmt.Errorf("field %s: no such history field", field)
}

// ChangedFields compares the history fields of two versions of a record
// (before, after) and returns the old JSON value of each field that
// differs, by field name.
func ChangedFields(before, after map[string]json.RawMessage) map[string]json.RawMessage {
	var out map[string]json.RawMessage
	for f, old := range before {
		if nv, ok := after[f]; ok && !bytes.Equal(old, nv) {
			if out == nil {
				out = map[string]json.RawMessage{}
			}
			out[f] = old
		}
	}
	return out
}

// SameValue reports whether two JSON values of a field are equal.
func SameValue(a, b json.RawMessage) bool {
	if len(a) == 0 {
		a = json.RawMessage("null")
	}
	if len(b) == 0 {
		b = json.RawMessage("null")
	}
	return bytes.Equal(a, b)
}

// valueAt returns the value the field of the record held at t from the
// record's changes (any order): the value of the earliest change whose
// Until is after t, and the time that value took effect (the Until of the
// change before it, or zero). found is false when no change is after t:
// the current value holds.
func valueAt(changes []FieldChange, e HistoryEntity, id, field string, t time.Time) (v json.RawMessage, since time.Time, found bool) {
	var best *FieldChange
	for i := range changes {
		c := &changes[i]
		if c.Entity != e || c.RecordID != id || c.Field != field {
			continue
		}
		if c.Until.After(t) {
			if best == nil || c.Until.Before(best.Until) {
				best = c
			}
		} else if c.Until.After(since) {
			since = c.Until
		}
	}
	if best == nil {
		return nil, since, false
	}
	return best.Value, since, true
}

// SelfDating reports a field whose value is the date something happened
// (customer since, churned on, first value): read at a past date, it says
// whether that had happened by then, so its history start does not limit
// how far back figures that read it are exact.
func SelfDating(field string) bool {
	switch field {
	case FieldCustomerSince, FieldChurnedAt, FieldFirstValueAt:
		return true
	}
	return false
}

func dateBy(v any, t time.Time) bool {
	d, ok := v.(time.Time)
	return ok && !d.After(t)
}

// AccountAsOf returns the account as it was at t: every history field
// holds the value it had then. A field whose history starts after t (see
// HistoryFrom) is left empty: its value then is unknown, and today's value
// would let the future leak into the past. The account's ModifiedAt
// becomes the time its status field took the value it had at t, so the
// status rules read that value as holding then.
func AccountAsOf(a Account, h History, t time.Time) Account {
	id := string(a.ID)
	statusSince := time.Time{}
	for _, f := range accountFields {
		from, tracked := h.From.Since(HistoryAccount, f.name)
		if tracked && t.Before(from) {
			// Unknown then. A date that says when something happened
			// (customer since, churned on) dates itself: it stays when
			// that had happened by t.
			if !SelfDating(f.name) || !dateBy(f.get(&a), t) {
				_ = f.set(&a, json.RawMessage("null"))
			}
			continue
		}
		v, since, found := valueAt(h.Changes, HistoryAccount, id, f.name, t)
		if found {
			_ = f.set(&a, v)
		}
		if f.name == FieldStatus {
			statusSince = since
			if statusSince.IsZero() && tracked {
				statusSince = from
			}
		}
	}
	if a.ModifiedAt.After(t) {
		a.ModifiedAt = statusSince
	}
	return a
}

// OpportunityAsOf returns the opportunity as it was at t (see AccountAsOf).
// Before a field's history starts its current value stays: scoring
// already replays opportunities by their creation and close dates, which
// is the best there is without history.
func OpportunityAsOf(o Opportunity, h History, t time.Time) Opportunity {
	id := string(o.ID)
	for _, f := range opportunityFields {
		if from, tracked := h.From.Since(HistoryOpportunity, f.name); tracked && t.Before(from) {
			continue
		}
		if v, _, found := valueAt(h.Changes, HistoryOpportunity, id, f.name, t); found {
			_ = f.set(&o, v)
		}
	}
	if o.IsWon {
		o.IsClosed = true
	}
	return o
}

// SortChanges orders changes by entity, record, field and Until.
func SortChanges(cs []FieldChange) {
	sort.SliceStable(cs, func(i, j int) bool {
		a, b := cs[i], cs[j]
		if a.Entity != b.Entity {
			return a.Entity < b.Entity
		}
		if a.RecordID != b.RecordID {
			return a.RecordID < b.RecordID
		}
		if a.Field != b.Field {
			return a.Field < b.Field
		}
		return a.Until.Before(b.Until)
	})
}
