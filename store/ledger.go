package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	stdsync "sync"
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
	return t.RecordWrites(ctx, connection, []LedgerEntry{e})
}

// AsyncCommit lets this transaction's commit return before Postgres has
// flushed it to disk (synchronous_commit off for it alone): a crash of the
// database server may then lose it, and the last few like it, but never
// corrupts anything or mixes them up. It is for records a later run
// rebuilds when they are missing: the ledger of confirmed writes (a lost
// entry makes the next apply write the same value once more), not cursors
// or task keys. apply commits the ledger once per write call, and a flush
// to disk per call made Postgres apply 1.9× slower than SQLite's, whose
// commits do not wait for the disk (synchronous=NORMAL). On SQLite it does
// nothing.
func (t *Tx) AsyncCommit(ctx context.Context) error {
	if t.s.loc.Backend != Postgres {
		return nil
	}
	if err := t.exec(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
		return fmt.Errorf("relax the commit's flush: %w", err)
	}
	return nil
}

// RecordWrites stores that the fields of es were written, with a few
// multi-row statements instead of one per field (an apply of 10,000
// accounts records about 100,000). Of two entries for the same field the
// later wins. Only call it after the CRM confirmed the writes.
func (t *Tx) RecordWrites(ctx context.Context, connection string, es []LedgerEntry) error {
	rows := lastByKey(es, func(e LedgerEntry) string { return e.Object + "\x00" + e.RecordID + "\x00" + e.Field })
	const width = 6
	backend := t.s.loc.Backend
	for part := range chunks(rows, maxRows(backend, width)) {
		args := make([]any, 0, width*len(part))
		for _, e := range part {
			args = append(args, connection, e.Object, e.RecordID, e.Field, e.Value, ms(e.WrittenAt))
		}
		q := multiRow(backend, "INSERT INTO writeback_ledger (connection, object, record_id, field, value, written_at) VALUES ", width, len(part),
			" ON CONFLICT (connection, object, record_id, field) DO UPDATE SET value = excluded.value, written_at = excluded.written_at")
		if err := t.execBound(ctx, q, args...); err != nil {
			first, last := part[0], part[len(part)-1]
			return fmt.Errorf("record writes %s.%s of %s: %w", first.Object, first.Field, span(first.RecordID, last.RecordID), err)
		}
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
	return t.PutTasks(ctx, connection, []TaskRecord{r})
}

// PutTasks inserts or updates task records as PutTask does, with a few
// multi-row statements. Of two records with the same key the later wins.
func (t *Tx) PutTasks(ctx context.Context, connection string, rs []TaskRecord) error {
	rows := lastByKey(rs, func(r TaskRecord) string { return r.Key })
	const width = 9
	backend := t.s.loc.Backend
	for part := range chunks(rows, maxRows(backend, width)) {
		args := make([]any, 0, width*len(part))
		for _, r := range part {
			args = append(args, connection, r.Key, r.TaskID, r.AccountID, r.OwnerID, r.Flag, r.Status, ms(r.CreatedAt), nullMs(r.ClosedAt))
		}
		q := multiRow(backend, "INSERT INTO tasks (connection, key, task_id, account_id, owner_id, flag, status, created_at, closed_at) VALUES ", width, len(part),
			` ON CONFLICT (connection, key) DO UPDATE SET task_id = excluded.task_id, status = excluded.status, closed_at = excluded.closed_at,
			owner_id = CASE WHEN excluded.owner_id = '' THEN tasks.owner_id ELSE excluded.owner_id END`)
		if err := t.execBound(ctx, q, args...); err != nil {
			return fmt.Errorf("record tasks %s: %w", span(part[0].Key, part[len(part)-1].Key), err)
		}
	}
	return nil
}

// lastByKey keeps the last of the items with the same key, in key order:
// one multi-row upsert may not touch a row twice (Postgres refuses), and
// key order makes concurrent writers lock rows in the same order.
func lastByKey[T any](items []T, key func(T) string) []T {
	if len(items) == 1 {
		return items
	}
	index := make(map[string]int, len(items))
	keys := make([]string, 0, len(items))
	out := make([]T, 0, len(items))
	for _, it := range items {
		k := key(it)
		if i, ok := index[k]; ok {
			out[i] = it
			continue
		}
		index[k] = len(out)
		keys = append(keys, k)
		out = append(out, it)
	}
	order := make([]int, len(out))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(keys[a], keys[b]) })
	sorted := make([]T, len(out))
	for i, j := range order {
		sorted[i] = out[j]
	}
	return sorted
}

// multiRow is head, n rows of width placeholders and tail, with the
// backend's placeholders; the texts are cached like the batch statements.
func multiRow(backend Backend, head string, width, n int, tail string) string {
	k := multiRowKey{backend, head, n}
	if q, ok := multiRows.Load(k); ok {
		return q.(string)
	}
	row := "(?" + strings.Repeat(", ?", width-1) + ")"
	var q strings.Builder
	q.WriteString(head)
	q.WriteString(row)
	for range n - 1 {
		q.WriteString(", ")
		q.WriteString(row)
	}
	q.WriteString(tail)
	s := rebind(backend, q.String())
	multiRows.Store(k, s)
	return s
}

var multiRows stdsync.Map // multiRowKey -> string

type multiRowKey struct {
	backend Backend
	head    string
	rows    int
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
