package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// LedgerEntry is what healthsync last wrote to one field of one CRM record.
// Value is the canonical text of the written value.
type LedgerEntry struct {
	Object    string
	RecordID  string
	Field     string
	Value     string
	WrittenAt time.Time
}

// RecordWrite stores that a field was written. Only call it after the CRM
// confirmed the write: the ledger never claims a write that failed.
func (t *Tx) RecordWrite(ctx context.Context, connection string, e LedgerEntry) error {
	err := t.exec(ctx, `INSERT INTO writeback_ledger (connection, object, record_id, field, value, written_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (connection, object, record_id, field) DO UPDATE SET value = excluded.value, written_at = excluded.written_at`,
		connection, e.Object, e.RecordID, e.Field, e.Value, ms(e.WrittenAt))
	if err != nil {
		return fmt.Errorf("record write %s.%s of %s: %w", e.Object, e.Field, e.RecordID, err)
	}
	return nil
}

// ForEachLedger streams the ledger of one object, ordered by record and
// field.
func (s *Store) ForEachLedger(ctx context.Context, connection, object string, fn func(LedgerEntry) error) error {
	rows, err := s.query(ctx, `SELECT record_id, field, value, written_at FROM writeback_ledger WHERE connection = ? AND object = ?
		ORDER BY `+s.byKey("record_id")+`, `+s.byKey("field"), connection, object)
	if err != nil {
		return fmt.Errorf("read ledger: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		e := LedgerEntry{Object: object}
		var at int64
		if err := rows.Scan(&e.RecordID, &e.Field, &e.Value, &at); err != nil {
			return fmt.Errorf("read ledger: %w", err)
		}
		e.WrittenAt = fromMs(at)
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Ledger returns what was last written to one record, by field.
func (s *Store) Ledger(ctx context.Context, connection, object, recordID string) (map[string]LedgerEntry, error) {
	rows, err := s.query(ctx, `SELECT field, value, written_at FROM writeback_ledger WHERE connection = ? AND object = ? AND record_id = ?`,
		connection, object, recordID)
	if err != nil {
		return nil, fmt.Errorf("read ledger of %s: %w", recordID, err)
	}
	defer rows.Close()
	out := map[string]LedgerEntry{}
	for rows.Next() {
		e := LedgerEntry{Object: object, RecordID: recordID}
		var at int64
		if err := rows.Scan(&e.Field, &e.Value, &at); err != nil {
			return nil, fmt.Errorf("read ledger of %s: %w", recordID, err)
		}
		e.WrittenAt = fromMs(at)
		out[e.Field] = e
	}
	return out, rows.Err()
}

// Task status values in the store.
const (
	TaskPending = "pending" // planned, creation not yet confirmed
	TaskOpen    = "open"
	TaskClosed  = "closed"
)

// TaskRecord is a follow-up task healthsync created (or is creating) for one
// flag episode. Key is deterministic (account + flag + episode).
type TaskRecord struct {
	Key       string
	TaskID    string // the CRM's ID; "" while pending
	AccountID string
	// OwnerID is the CRM user the task was assigned to; the daily task
	// budget counts per owner.
	OwnerID   string
	Flag      string
	Status    string
	CreatedAt time.Time
	ClosedAt  *time.Time
}

// PutTask inserts or updates a task record. An update keeps the record's
// created_at, and its owner when r names none.
func (t *Tx) PutTask(ctx context.Context, connection string, r TaskRecord) error {
	err := t.exec(ctx, `INSERT INTO tasks (connection, key, task_id, account_id, owner_id, flag, status, created_at, closed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (connection, key) DO UPDATE SET task_id = excluded.task_id, status = excluded.status, closed_at = excluded.closed_at,
			owner_id = CASE WHEN excluded.owner_id = '' THEN tasks.owner_id ELSE excluded.owner_id END`,
		connection, r.Key, r.TaskID, r.AccountID, r.OwnerID, r.Flag, r.Status, ms(r.CreatedAt), nullMs(r.ClosedAt))
	if err != nil {
		return fmt.Errorf("record task %s: %w", r.Key, err)
	}
	return nil
}

func scanTask(sc interface{ Scan(...any) error }) (TaskRecord, error) {
	var (
		r       TaskRecord
		created int64
		closed  sql.NullInt64
	)
	if err := sc.Scan(&r.Key, &r.TaskID, &r.AccountID, &r.OwnerID, &r.Flag, &r.Status, &created, &closed); err != nil {
		return TaskRecord{}, err
	}
	r.CreatedAt, r.ClosedAt = fromMs(created), fromNullMs(closed)
	return r, nil
}

const taskColumns = `key, task_id, account_id, owner_id, flag, status, created_at, closed_at`

// Task returns the task record with key, or ErrNotFound.
func (s *Store) Task(ctx context.Context, connection, key string) (TaskRecord, error) {
	r, err := scanTask(s.queryRow(ctx, `SELECT `+taskColumns+` FROM tasks WHERE connection = ? AND key = ?`, connection, key))
	switch {
	case notFound(err):
		return TaskRecord{}, fmt.Errorf("task %s: %w", key, ErrNotFound)
	case err != nil:
		return TaskRecord{}, fmt.Errorf("read task %s: %w", key, err)
	}
	return r, nil
}

// Tasks returns the task records of a connection, optionally only those
// with the given status, ordered by account, flag and creation.
func (s *Store) Tasks(ctx context.Context, connection, status string) ([]TaskRecord, error) {
	q := `SELECT ` + taskColumns + ` FROM tasks WHERE connection = ?`
	args := []any{connection}
	if status != "" {
		q += ` AND status = ?`
		args = append(args, status)
	}
	rows, err := s.query(ctx, q+` ORDER BY `+s.byKey("account_id")+`, flag, created_at`, args...)
	if err != nil {
		return nil, fmt.Errorf("read tasks: %w", err)
	}
	defer rows.Close()
	var out []TaskRecord
	for rows.Next() {
		r, err := scanTask(rows)
		if err != nil {
			return nil, fmt.Errorf("read tasks: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// DeleteTask forgets a task record (a pending creation that the CRM
// rejected, so the next run tries again).
func (t *Tx) DeleteTask(ctx context.Context, connection, key string) error {
	if err := t.exec(ctx, `DELETE FROM tasks WHERE connection = ? AND key = ?`, connection, key); err != nil {
		return fmt.Errorf("delete task %s: %w", key, err)
	}
	return nil
}
