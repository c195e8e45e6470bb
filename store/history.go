package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"healthsync/crm"
)

// Field history (crm.FieldChange): the value a history field of an
// account or opportunity held until it changed. Only changes are stored;
// a field's current value is in its canonical row, and history_from says
// from when each field's history is complete.

// HistorySource says where a field's history start came from.
type HistorySource string

// Sources of a history start.
const (
	// HistoryFromSync: the history starts at the first sync that stored
	// the field (the CRM keeps no history of it, or it was not read).
	HistoryFromSync HistorySource = "sync"
	// HistoryFromCRM: the history was backfilled from the CRM's own field
	// history and starts where that does.
	HistoryFromCRM HistorySource = "crm"
)

// HistoryChange is one change to store: a crm.FieldChange and the account
// its record belongs to.
type HistoryChange struct {
	crm.FieldChange
	AccountID crm.AccountID
}

var historyTable = table{name: "field_history", key: []string{"entity", "record_id", "field", "until_at"},
	cols: []string{"entity", "record_id", "field", "until_at", "account_id", "value"}}

// PutHistory stores changes; a change of the same record, field and time
// as a stored one replaces it.
func (t *Tx) PutHistory(ctx context.Context, connection string, changes []HistoryChange) error {
	if len(changes) == 0 {
		return nil
	}
	p := &pending{}
	for _, c := range changes {
		if c.Entity != crm.HistoryAccount && c.Entity != crm.HistoryOpportunity {
			return fmt.Errorf("store history: unknown entity %q", c.Entity)
		}
		v := c.Value
		if len(v) == 0 {
			v = json.RawMessage("null")
		}
		until := ms(c.Until)
		key := string(c.Entity) + "\x00" + c.RecordID + "\x00" + c.Field + "\x00" + fmt.Sprintf("%020d", until)
		p.put(key, []any{string(c.Entity), c.RecordID, c.Field, until, string(c.AccountID), string(v)})
	}
	b := &Batch{tx: t, conn: connection}
	if err := b.flushTable(ctx, historyTable, p); err != nil {
		return fmt.Errorf("store field history: %w", err)
	}
	return nil
}

// TrackChanges compares the history fields of accounts and opportunities
// about to be stored with their stored canonical rows and stores the old
// value of every field that changed, effective at the new version's
// ModifiedAt. fields names, per entity, the mapped history fields: only
// those are compared, and each gets its history start (now) the first
// time it is seen. A version older than the stored one (read again out of
// order) records nothing. Call it in the transaction that stores them,
// before the batch is flushed.
func (t *Tx) TrackChanges(ctx context.Context, connection string, accounts []crm.Account, opps []crm.Opportunity, fields map[crm.HistoryEntity][]string, now time.Time) error {
	// A field seen for the first time (newly mapped, or its history
	// forgotten because its source changed) has no earlier value to
	// record: its history starts now.
	started, err := t.startedFields(ctx, connection)
	if err != nil {
		return err
	}
	full := fields
	fields = map[crm.HistoryEntity][]string{
		crm.HistoryAccount:     onlyStarted(fields[crm.HistoryAccount], started[crm.HistoryAccount]),
		crm.HistoryOpportunity: onlyStarted(fields[crm.HistoryOpportunity], started[crm.HistoryOpportunity]),
	}
	var changes []HistoryChange
	if len(accounts) > 0 && len(fields[crm.HistoryAccount]) > 0 {
		ids := make([]string, len(accounts))
		for i, a := range accounts {
			ids[i] = string(a.ID)
		}
		old := map[string]crm.Account{}
		if err := t.storedRows(ctx, connection, "accounts", ids, func(id string, data []byte) error {
			var a crm.Account
			if err := json.Unmarshal(data, &a); err != nil {
				return fmt.Errorf("decode account %s: %w", id, err)
			}
			old[id] = a
			return nil
		}); err != nil {
			return err
		}
		for _, a := range accounts {
			prev, ok := old[string(a.ID)]
			if !ok || a.ModifiedAt.Before(prev.ModifiedAt) {
				continue
			}
			changes = appendChanges(changes, crm.HistoryAccount, string(a.ID), a.ID, prev.FieldValues(), a.FieldValues(), fields[crm.HistoryAccount], a.ModifiedAt)
		}
	}
	if len(opps) > 0 && len(fields[crm.HistoryOpportunity]) > 0 {
		ids := make([]string, len(opps))
		for i, o := range opps {
			ids[i] = string(o.ID)
		}
		old := map[string]crm.Opportunity{}
		if err := t.storedRows(ctx, connection, "opportunities", ids, func(id string, data []byte) error {
			var o crm.Opportunity
			if err := json.Unmarshal(data, &o); err != nil {
				return fmt.Errorf("decode opportunity %s: %w", id, err)
			}
			old[id] = o
			return nil
		}); err != nil {
			return err
		}
		for _, o := range opps {
			prev, ok := old[string(o.ID)]
			if !ok || o.ModifiedAt.Before(prev.ModifiedAt) {
				continue
			}
			changes = appendChanges(changes, crm.HistoryOpportunity, string(o.ID), o.AccountID, prev.FieldValues(), o.FieldValues(), fields[crm.HistoryOpportunity], o.ModifiedAt)
		}
	}
	if err := t.PutHistory(ctx, connection, changes); err != nil {
		return err
	}
	fields = full
	if len(accounts) > 0 {
		if err := t.startHistory(ctx, connection, crm.HistoryAccount, fields[crm.HistoryAccount], now); err != nil {
			return err
		}
	}
	if len(opps) > 0 {
		if err := t.startHistory(ctx, connection, crm.HistoryOpportunity, fields[crm.HistoryOpportunity], now); err != nil {
			return err
		}
	}
	return nil
}

func onlyStarted(fields []string, started map[string]bool) []string {
	var out []string
	for _, f := range fields {
		if started[f] {
			out = append(out, f)
		}
	}
	return out
}

// startedFields returns the fields with a history start, per entity.
func (t *Tx) startedFields(ctx context.Context, connection string) (map[crm.HistoryEntity]map[string]bool, error) {
	rows, err := t.tx.QueryContext(ctx, rebind(t.s.loc.Backend, `SELECT entity, field FROM history_from WHERE connection = ?`), connection)
	if err != nil {
		return nil, fmt.Errorf("read history starts: %w", err)
	}
	defer rows.Close()
	out := map[crm.HistoryEntity]map[string]bool{}
	for rows.Next() {
		var e, f string
		if err := rows.Scan(&e, &f); err != nil {
			return nil, fmt.Errorf("read history starts: %w", err)
		}
		if out[crm.HistoryEntity(e)] == nil {
			out[crm.HistoryEntity(e)] = map[string]bool{}
		}
		out[crm.HistoryEntity(e)][f] = true
	}
	return out, rows.Err()
}

func appendChanges(out []HistoryChange, e crm.HistoryEntity, id string, account crm.AccountID, before, after map[string]json.RawMessage, fields []string, at time.Time) []HistoryChange {
	for _, f := range fields {
		if old, nv := before[f], after[f]; !crm.SameValue(old, nv) {
			out = append(out, HistoryChange{AccountID: account, FieldChange: crm.FieldChange{Entity: e, RecordID: id, Field: f, Until: at, Value: old}})
		}
	}
	return out
}

// storedRows reads the data of the stored canonical rows of ids.
func (t *Tx) storedRows(ctx context.Context, connection, tbl string, ids []string, fn func(id string, data []byte) error) error {
	err := t.queryIn(ctx, `SELECT id, data FROM `+tbl+` WHERE connection = ? AND id`, []any{connection}, ids, func(rows *sql.Rows) error {
		var id, data string
		if err := rows.Scan(&id, &data); err != nil {
			return err
		}
		return fn(id, []byte(data))
	})
	if err != nil {
		return fmt.Errorf("read stored %s: %w", tbl, err)
	}
	return nil
}

// startHistory records that the history of fields starts at from, for
// those without a start yet.
func (t *Tx) startHistory(ctx context.Context, connection string, e crm.HistoryEntity, fields []string, from time.Time) error {
	if len(fields) == 0 {
		return nil
	}
	q := `INSERT INTO history_from (connection, entity, field, from_at, source) VALUES (?, ?, ?, ?, ?)` +
		strings.Repeat(`, (?, ?, ?, ?, ?)`, len(fields)-1) + ` ON CONFLICT (connection, entity, field) DO NOTHING`
	args := make([]any, 0, 5*len(fields))
	for _, f := range fields {
		args = append(args, connection, string(e), f, ms(from), string(HistoryFromSync))
	}
	if err := t.exec(ctx, q, args...); err != nil {
		return fmt.Errorf("record history start of %s fields: %w", e, err)
	}
	return nil
}

// SetHistoryFrom records that the history of fields of e is complete from
// from on, as source says: an earlier start than the stored one replaces
// it, a later one is ignored.
func (t *Tx) SetHistoryFrom(ctx context.Context, connection string, e crm.HistoryEntity, fields []string, from time.Time, source HistorySource) error {
	for _, f := range fields {
		err := t.exec(ctx, `INSERT INTO history_from (connection, entity, field, from_at, source) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (connection, entity, field) DO UPDATE SET from_at = excluded.from_at, source = excluded.source
			WHERE excluded.from_at < history_from.from_at`, connection, string(e), f, ms(from), string(source))
		if err != nil {
			return fmt.Errorf("record history start of %s.%s: %w", e, f, err)
		}
	}
	return nil
}

// ForgetHistory removes the history of fields of e (all fields when none
// are named) and their starts, so a new backfill or the next sync starts
// it again: a field whose mapping changed no longer means what its
// history says.
func (t *Tx) ForgetHistory(ctx context.Context, connection string, e crm.HistoryEntity, fields ...string) error {
	if len(fields) == 0 {
		if err := t.exec(ctx, `DELETE FROM field_history WHERE connection = ? AND entity = ?`, connection, string(e)); err != nil {
			return fmt.Errorf("forget %s history: %w", e, err)
		}
		if err := t.exec(ctx, `DELETE FROM history_from WHERE connection = ? AND entity = ?`, connection, string(e)); err != nil {
			return fmt.Errorf("forget %s history: %w", e, err)
		}
		return nil
	}
	for _, f := range fields {
		if err := t.exec(ctx, `DELETE FROM field_history WHERE connection = ? AND entity = ? AND field = ?`, connection, string(e), f); err != nil {
			return fmt.Errorf("forget history of %s.%s: %w", e, f, err)
		}
		if err := t.exec(ctx, `DELETE FROM history_from WHERE connection = ? AND entity = ? AND field = ?`, connection, string(e), f); err != nil {
			return fmt.Errorf("forget history of %s.%s: %w", e, f, err)
		}
	}
	return nil
}

// HistoryStart is a field's history start and where it came from.
type HistoryStart struct {
	Entity crm.HistoryEntity
	Field  string
	From   time.Time
	Source HistorySource
}

// HistoryStarts returns every field's history start of a connection,
// ordered by entity and field.
func (s *Store) HistoryStarts(ctx context.Context, connection string) ([]HistoryStart, error) {
	rows, err := s.query(ctx, `SELECT entity, field, from_at, source FROM history_from WHERE connection = ? ORDER BY entity, field`, connection)
	if err != nil {
		return nil, fmt.Errorf("read history starts: %w", err)
	}
	defer rows.Close()
	var out []HistoryStart
	for rows.Next() {
		var (
			h      HistoryStart
			e, src string
			from   int64
		)
		if err := rows.Scan(&e, &h.Field, &from, &src); err != nil {
			return nil, fmt.Errorf("read history starts: %w", err)
		}
		h.Entity, h.From, h.Source = crm.HistoryEntity(e), fromMs(from), HistorySource(src)
		out = append(out, h)
	}
	return out, rows.Err()
}

// HistoryFrom returns from when each field's history is complete.
func (s *Store) HistoryFrom(ctx context.Context, connection string) (crm.HistoryFrom, error) {
	starts, err := s.HistoryStarts(ctx, connection)
	if err != nil {
		return nil, err
	}
	out := crm.HistoryFrom{}
	for _, h := range starts {
		out[crm.HistoryKey(h.Entity, h.Field)] = h.From
	}
	return out, nil
}

// ValueAsOf returns the value field of record id held at t, when a stored
// change says so (found); when none does, the record's current value
// holds (and was known from the field's history start on). One indexed
// query.
func (s *Store) ValueAsOf(ctx context.Context, connection string, e crm.HistoryEntity, id, field string, t time.Time) (value json.RawMessage, found bool, err error) {
	var v string
	err = s.queryRow(ctx, `SELECT value FROM field_history WHERE connection = ? AND entity = ? AND record_id = ? AND field = ? AND until_at > ?
		ORDER BY until_at LIMIT 1`, connection, string(e), id, field, ms(t)).Scan(&v)
	switch {
	case notFound(err):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("read %s %s %s as of %s: %w", e, id, field, t.Format(time.RFC3339), err)
	}
	return json.RawMessage(v), true, nil
}

// RecordHistory returns the stored changes of one record, ordered by
// field and time.
func (s *Store) RecordHistory(ctx context.Context, connection string, e crm.HistoryEntity, id string) ([]crm.FieldChange, error) {
	rows, err := s.query(ctx, `SELECT field, until_at, value FROM field_history WHERE connection = ? AND entity = ? AND record_id = ? ORDER BY field, until_at`,
		connection, string(e), id)
	if err != nil {
		return nil, fmt.Errorf("read history of %s %s: %w", e, id, err)
	}
	defer rows.Close()
	var out []crm.FieldChange
	for rows.Next() {
		c := crm.FieldChange{Entity: e, RecordID: id}
		var (
			until int64
			v     string
		)
		if err := rows.Scan(&c.Field, &until, &v); err != nil {
			return nil, fmt.Errorf("read history of %s %s: %w", e, id, err)
		}
		c.Until, c.Value = fromMs(until), json.RawMessage(v)
		out = append(out, c)
	}
	return out, rows.Err()
}

// AccountHistory returns the stored changes of an account and its
// opportunities, ordered as crm.History wants them.
func (s *Store) AccountHistory(ctx context.Context, connection string, account crm.AccountID) ([]crm.FieldChange, error) {
	rows, err := s.query(ctx, `SELECT entity, record_id, field, until_at, value FROM field_history WHERE connection = ? AND account_id = ?
		ORDER BY entity, `+s.byKey("record_id")+`, field, until_at`, connection, string(account))
	if err != nil {
		return nil, fmt.Errorf("read history of account %s: %w", account, err)
	}
	defer rows.Close()
	var out []crm.FieldChange
	for rows.Next() {
		c, err := scanChange(rows)
		if err != nil {
			return nil, fmt.Errorf("read history of account %s: %w", account, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func scanChange(rows *sql.Rows) (crm.FieldChange, error) {
	var (
		c        crm.FieldChange
		e, v     string
		until    int64
		recordID string
	)
	if err := rows.Scan(&e, &recordID, &c.Field, &until, &v); err != nil {
		return c, err
	}
	c.Entity, c.RecordID, c.Until, c.Value = crm.HistoryEntity(e), recordID, fromMs(until), json.RawMessage(v)
	return c, nil
}

// HistoryStats counts the stored changes and the bytes of their values.
type HistoryStats struct {
	Changes     int
	ValueBytes  int64
	Records     int
	OldestUntil time.Time
}

// HistoryStats returns how much field history a connection keeps.
func (s *Store) HistoryStats(ctx context.Context, connection string) (HistoryStats, error) {
	var (
		st     HistoryStats
		oldest sql.NullInt64
		bytes  sql.NullInt64
	)
	err := s.queryRow(ctx, `SELECT count(*), sum(length(value)), min(until_at) FROM field_history WHERE connection = ?`, connection).Scan(&st.Changes, &bytes, &oldest)
	if err != nil {
		return st, fmt.Errorf("count field history: %w", err)
	}
	if err := s.queryRow(ctx, `SELECT count(*) FROM (SELECT DISTINCT entity, record_id FROM field_history WHERE connection = ?) r`, connection).Scan(&st.Records); err != nil {
		return st, fmt.Errorf("count field history: %w", err)
	}
	st.ValueBytes = bytes.Int64
	if oldest.Valid {
		st.OldestUntil = fromMs(oldest.Int64)
	}
	return st, nil
}

// historyRows streams (account_id, change) rows ordered by account, for
// ForEachAccount.
type historyRows struct {
	rows    *sql.Rows
	ok      bool
	account string
	change  crm.FieldChange
	err     error
}

func (s *Store) openHistory(ctx context.Context, connection string) (*historyRows, error) {
	rows, err := s.query(ctx, `SELECT account_id, entity, record_id, field, until_at, value FROM field_history WHERE connection = ?
		ORDER BY `+s.byKey("account_id")+`, entity, `+s.byKey("record_id")+`, field, until_at`, connection)
	if err != nil {
		return nil, fmt.Errorf("read field history: %w", err)
	}
	h := &historyRows{rows: rows}
	h.next()
	return h, nil
}

func (h *historyRows) next() {
	h.ok = h.rows.Next()
	if !h.ok {
		h.err = h.rows.Err()
		return
	}
	var (
		e, v, rec string
		until     int64
	)
	if err := h.rows.Scan(&h.account, &e, &rec, &h.change.Field, &until, &v); err != nil {
		h.ok, h.err = false, err
		return
	}
	h.change.Entity, h.change.RecordID, h.change.Until, h.change.Value = crm.HistoryEntity(e), rec, fromMs(until), json.RawMessage(v)
}

// take returns the changes of account, skipping those of accounts that
// sort before it (records whose account is gone).
func (h *historyRows) take(account string) ([]crm.FieldChange, error) {
	for h.ok && h.account < account {
		h.next()
	}
	var out []crm.FieldChange
	for h.ok && h.account == account {
		out = append(out, h.change)
		h.next()
	}
	return out, h.err
}
