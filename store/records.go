package store

import (
	"context"
	"database/sql"
	"fmt"
	"math/bits"
	"strings"
	"time"

	"healthsync/crm"
)

// RawRecord is a CRM record as received. Raw is stored verbatim.
type RawRecord struct {
	Object     string
	ID         string
	ModifiedAt time.Time
	Deleted    bool
	Raw        []byte
}

// Entity names a canonical table.
type Entity string

// Canonical entities.
const (
	Accounts      Entity = "accounts"
	Contacts      Entity = "contacts"
	Opportunities Entity = "opportunities"
	Activities    Entity = "activities"
	Users         Entity = "users"
)

func (e Entity) valid() bool {
	switch e {
	case Accounts, Contacts, Opportunities, Activities, Users:
		return true
	}
	return false
}

// UpsertRaw stores a raw record, replacing the stored one with the same
// object and ID. Upserting the same record twice leaves one row. To store
// many, use a Batch.
func (t *Tx) UpsertRaw(ctx context.Context, connection string, r RawRecord) error {
	b := t.Batch(connection)
	b.UpsertRaw(r)
	return b.Flush(ctx)
}

// UpsertAccount stores the canonical account.
func (t *Tx) UpsertAccount(ctx context.Context, connection string, a crm.Account) error {
	b := t.Batch(connection)
	b.UpsertAccount(a)
	return b.Flush(ctx)
}

// UpsertContact stores the canonical contact.
func (t *Tx) UpsertContact(ctx context.Context, connection string, c crm.Contact) error {
	b := t.Batch(connection)
	b.UpsertContact(c)
	return b.Flush(ctx)
}

// UpsertOpportunity stores the canonical opportunity.
func (t *Tx) UpsertOpportunity(ctx context.Context, connection string, o crm.Opportunity) error {
	b := t.Batch(connection)
	b.UpsertOpportunity(o)
	return b.Flush(ctx)
}

// UpsertActivity stores the canonical activity. object is the CRM object it
// came from (Task, Event, calls, ...), so a deletion of that object can
// find it.
func (t *Tx) UpsertActivity(ctx context.Context, connection, object string, a crm.Activity) error {
	b := t.Batch(connection)
	b.UpsertActivity(object, a)
	return b.Flush(ctx)
}

// UpsertUser stores the canonical user.
func (t *Tx) UpsertUser(ctx context.Context, connection string, u crm.User) error {
	b := t.Batch(connection)
	b.UpsertUser(u)
	return b.Flush(ctx)
}

// Delete removes canonical entities. Deleting a row that is not there is
// not an error (deletions are replayed after a crash).
func (t *Tx) Delete(ctx context.Context, connection string, e Entity, ids ...string) error {
	if !e.valid() {
		return fmt.Errorf("delete: unknown entity %q", e)
	}
	b := t.Batch(connection)
	for _, id := range ids {
		b.Delete(e, id)
	}
	return b.Flush(ctx)
}

// Cursor is the stored incremental watermark of one object.
type Cursor struct {
	ModifiedAt time.Time
	LastID     string
	// FieldsHash identifies the set of fields downloaded under this
	// cursor, so a mapping that needs new fields can trigger a re-pull.
	FieldsHash string
	UpdatedAt  time.Time
}

// SetCursor advances (or sets) an object's cursor inside the transaction
// that stores the rows it covers.
func (t *Tx) SetCursor(ctx context.Context, connection, object string, c Cursor) error {
	err := t.exec(ctx, `INSERT INTO cursors (connection, object, modified_at, last_id, fields_hash, updated_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (connection, object) DO UPDATE SET modified_at = excluded.modified_at, last_id = excluded.last_id,
			fields_hash = excluded.fields_hash, updated_at = excluded.updated_at`,
		connection, object, ms(c.ModifiedAt), c.LastID, c.FieldsHash, time.Now().UnixMilli())
	if err != nil {
		return fmt.Errorf("set cursor %s: %w", object, err)
	}
	return nil
}

// ResetCursor forgets an object's cursor so the next sync pulls it fully.
func (t *Tx) ResetCursor(ctx context.Context, connection, object string) error {
	if err := t.exec(ctx, `DELETE FROM cursors WHERE connection = ? AND object = ?`, connection, object); err != nil {
		return fmt.Errorf("reset cursor %s: %w", object, err)
	}
	return nil
}

// Cursor returns an object's cursor; the zero Cursor when none is stored.
func (s *Store) Cursor(ctx context.Context, connection, object string) (Cursor, error) {
	var (
		c        Cursor
		mod, upd int64
	)
	err := s.queryRow(ctx, `SELECT modified_at, last_id, fields_hash, updated_at FROM cursors WHERE connection = ? AND object = ?`,
		connection, object).Scan(&mod, &c.LastID, &c.FieldsHash, &upd)
	switch {
	case notFound(err):
		return Cursor{}, nil
	case err != nil:
		return Cursor{}, fmt.Errorf("read cursor %s: %w", object, err)
	}
	c.ModifiedAt, c.UpdatedAt = fromMs(mod), fromMs(upd)
	return c, nil
}

// Cursors returns every stored cursor of a connection by object.
func (s *Store) Cursors(ctx context.Context, connection string) (map[string]Cursor, error) {
	rows, err := s.query(ctx, `SELECT object, modified_at, last_id, fields_hash, updated_at FROM cursors WHERE connection = ?`, connection)
	if err != nil {
		return nil, fmt.Errorf("read cursors: %w", err)
	}
	defer rows.Close()
	out := map[string]Cursor{}
	for rows.Next() {
		var (
			obj      string
			c        Cursor
			mod, upd int64
		)
		if err := rows.Scan(&obj, &mod, &c.LastID, &c.FieldsHash, &upd); err != nil {
			return nil, fmt.Errorf("read cursors: %w", err)
		}
		c.ModifiedAt, c.UpdatedAt = fromMs(mod), fromMs(upd)
		out[obj] = c
	}
	return out, rows.Err()
}

// SetState stores a small per-connection value (the mapping hash, the time
// of the last reconciliation, ...).
func (t *Tx) SetState(ctx context.Context, connection, key, value string) error {
	err := t.exec(ctx, `INSERT INTO state (connection, key, value) VALUES (?, ?, ?)
		ON CONFLICT (connection, key) DO UPDATE SET value = excluded.value`, connection, key, value)
	if err != nil {
		return fmt.Errorf("set state %s: %w", key, err)
	}
	return nil
}

// State reads a per-connection value; "" when unset.
func (s *Store) State(ctx context.Context, connection, key string) (string, error) {
	var v string
	err := s.queryRow(ctx, `SELECT value FROM state WHERE connection = ? AND key = ?`, connection, key).Scan(&v)
	if err != nil && !notFound(err) {
		return "", fmt.Errorf("read state %s: %w", key, err)
	}
	return v, nil
}

// ForEachRaw streams the stored raw records of an object in ID order, for
// re-mapping without a download. Deleted records are included with their
// flag set.
func (s *Store) ForEachRaw(ctx context.Context, connection, object string, fn func(RawRecord) error) error {
	rows, err := s.query(ctx, `SELECT id, modified_at, deleted, raw FROM raw_records WHERE connection = ? AND object = ? ORDER BY id`, connection, object)
	if err != nil {
		return fmt.Errorf("read raw %s: %w", object, err)
	}
	defer rows.Close()
	for rows.Next() {
		r := RawRecord{Object: object}
		var (
			mod int64
			raw string
		)
		if err := rows.Scan(&r.ID, &mod, &r.Deleted, &raw); err != nil {
			return fmt.Errorf("read raw %s: %w", object, err)
		}
		r.ModifiedAt, r.Raw = fromMs(mod), []byte(raw)
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// RawIDs streams the IDs of the live (not deleted) raw records of an
// object, in ID order, for hard-delete reconciliation.
func (s *Store) RawIDs(ctx context.Context, connection, object string, fn func(id string) error) error {
	rows, err := s.query(ctx, `SELECT id FROM raw_records WHERE connection = ? AND object = ? AND deleted = ? ORDER BY id`, connection, object, false)
	if err != nil {
		return fmt.Errorf("read raw ids %s: %w", object, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return fmt.Errorf("read raw ids %s: %w", object, err)
		}
		if err := fn(id); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Counts returns the number of canonical rows per entity for a connection.
func (s *Store) Counts(ctx context.Context, connection string) (map[Entity]int, error) {
	out := map[Entity]int{}
	for _, e := range []Entity{Accounts, Contacts, Opportunities, Activities, Users} {
		var n int
		if err := s.queryRow(ctx, `SELECT count(*) FROM `+string(e)+` WHERE connection = ?`, connection).Scan(&n); err != nil {
			return nil, fmt.Errorf("count %s: %w", e, err)
		}
		out[e] = n
	}
	return out, nil
}

// RawCount returns the number of stored raw records of an object, counting
// deleted ones only when withDeleted is set.
func (s *Store) RawCount(ctx context.Context, connection, object string, withDeleted bool) (int, error) {
	q := `SELECT count(*) FROM raw_records WHERE connection = ? AND object = ?`
	args := []any{connection, object}
	if !withDeleted {
		q += ` AND deleted = ?`
		args = append(args, false)
	}
	var n int
	if err := s.queryRow(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count raw %s: %w", object, err)
	}
	return n, nil
}

// ExistingRaw reports which of ids already have a stored raw record of
// object, so a sync can count new, changed and deleted records apart: an ID
// maps to true when its stored record is live, false when it is stored as
// deleted, and is absent when never stored.
func (t *Tx) ExistingRaw(ctx context.Context, connection, object string, ids []string) (map[string]bool, error) {
	out := make(map[string]bool, len(ids))
	err := t.queryIn(ctx, `SELECT id, deleted FROM raw_records WHERE connection = ? AND object = ? AND id`, []any{connection, object}, ids,
		func(rows *sql.Rows) error {
			var (
				id      string
				deleted bool
			)
			if err := rows.Scan(&id, &deleted); err != nil {
				return err
			}
			out[id] = !deleted
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("look up stored %s: %w", object, err)
	}
	return out, nil
}

// RawRecords returns the stored raw records of object with the given IDs
// (deleted ones flagged), by ID; IDs not stored are absent.
func (t *Tx) RawRecords(ctx context.Context, connection, object string, ids []string) (map[string]RawRecord, error) {
	out := make(map[string]RawRecord, len(ids))
	err := t.queryIn(ctx, `SELECT id, modified_at, deleted, raw FROM raw_records WHERE connection = ? AND object = ? AND id`, []any{connection, object}, ids,
		func(rows *sql.Rows) error {
			r := RawRecord{Object: object}
			var (
				mod int64
				raw string
			)
			if err := rows.Scan(&r.ID, &mod, &r.Deleted, &raw); err != nil {
				return err
			}
			r.ModifiedAt, r.Raw = fromMs(mod), []byte(raw)
			out[r.ID] = r
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("read stored %s: %w", object, err)
	}
	return out, nil
}

// ContactAccounts returns the account of each of the given contacts that
// is stored, for linking activities that name only a contact.
func (t *Tx) ContactAccounts(ctx context.Context, connection string, ids []crm.ContactID) (map[crm.ContactID]crm.AccountID, error) {
	out := make(map[crm.ContactID]crm.AccountID, len(ids))
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = string(id)
	}
	err := t.queryIn(ctx, `SELECT id, account_id FROM contacts WHERE connection = ? AND id`, []any{connection}, keys,
		func(rows *sql.Rows) error {
			var id, acc string
			if err := rows.Scan(&id, &acc); err != nil {
				return err
			}
			out[crm.ContactID(id)] = crm.AccountID(acc)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("look up contacts' accounts: %w", err)
	}
	return out, nil
}

// MarkRawDeleted flags stored raw records as deleted (hard deletes found
// by reconciliation) without touching their stored JSON. IDs not stored
// are ignored.
func (t *Tx) MarkRawDeleted(ctx context.Context, connection, object string, ids ...string) error {
	backend := t.s.loc.Backend
	for part := range chunks(ids, maxRows(backend, 1)) {
		q := `UPDATE raw_records SET deleted = ? WHERE connection = ? AND object = ? AND id IN (?` + strings.Repeat(", ?", len(part)-1) + `)`
		args := append([]any{true, connection, object}, toAny(part)...)
		if err := t.exec(ctx, q, args...); err != nil {
			return fmt.Errorf("mark %s %s deleted: %w", object, span(part[0], part[len(part)-1]), err)
		}
	}
	return nil
}

// queryIn runs query (which ends with the column to match, e.g. "... AND
// id") with args and the keys, calling scan for every row: on Postgres
// one query with the keys as an array, on SQLite IN lists in chunks of 512
// so its parameter limit is not reached.
func (t *Tx) queryIn(ctx context.Context, query string, args []any, keys []string, scan func(*sql.Rows) error) error {
	if len(keys) == 0 {
		return nil
	}
	if t.s.loc.Backend == Postgres {
		// One query for any number of keys: the keys as one array.
		all := append(append(make([]any, 0, len(args)+1), args...), keys)
		rows, err := t.tx.QueryContext(ctx, rebind(Postgres, query+` = ANY(?::text[])`), all...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	// Chunks of 512 keys, the last padded with its last key to a power of
	// two (a key twice in IN matches its row once): a few statement texts,
	// each prepared once per connection (see execBound).
	const chunk = 512
	for start := 0; start < len(keys); start += chunk {
		part := keys[start:min(start+chunk, len(keys))]
		n := 1 << bits.Len(uint(len(part)-1))
		all := append(append(make([]any, 0, len(args)+n), args...), toAny(part)...)
		for len(all) < len(args)+n {
			all = append(all, part[len(part)-1])
		}
		q := rebind(t.s.loc.Backend, query+` IN (?`+strings.Repeat(", ?", n-1)+`)`)
		var rows *sql.Rows
		st, err := t.s.prepared(ctx, q)
		switch {
		case err != nil:
		case st != nil:
			rows, err = t.tx.StmtContext(ctx, st).QueryContext(ctx, all...)
		default:
			rows, err = t.tx.QueryContext(ctx, q, all...)
		}
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := scan(rows); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
