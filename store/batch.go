package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/bits"
	"slices"
	"strings"
	stdsync "sync"
	"time"

	"healthsync/crm"
)

// postgresMaxParams is the most bind parameters one Postgres statement
// takes (its wire protocol counts them in 16 bits).
const postgresMaxParams = 65535

// BatchRows is the most rows one multi-row statement writes on Postgres
// (the ledger's and tasks'; a Batch writes a table's rows as arrays, see
// flushArrays); more rows take several statements, split into
// power-of-two row counts up to it, so only a few statement texts per
// table exist (pgx caches each one as a prepared statement). On SQLite
// every row is a statement of its own: see maxRows.
const BatchRows = 1024

// Batch buffers the raw and canonical rows one transaction writes for a
// connection and writes them on Flush, in key order: on Postgres with one
// statement per table (its rows as column arrays), on SQLite with one
// prepared statement per row (see maxRows).
//
// Within a batch the last write of a key wins, as if the writes had run one
// at a time in the order they were added: an upsert after a delete of the
// same entity leaves the upserted row, a delete after an upsert leaves no
// row. A Batch belongs to one goroutine.
type Batch struct {
	tx   *Tx
	conn string
	raw  pending
	ents map[Entity]*pending
	err  error // the first invalid write; Flush reports it and writes nothing
}

// pending holds the last write of every key of one table, in the order the
// keys were first written.
type pending struct {
	index map[string]int
	rows  []pendingRow
}

type pendingRow struct {
	key  string
	vals []any // the columns after connection; nil deletes the row
}

func (p *pending) put(key string, vals []any) {
	if i, ok := p.index[key]; ok {
		p.rows[i].vals = vals
		return
	}
	if p.index == nil {
		p.index = map[string]int{}
	}
	p.index[key] = len(p.rows)
	p.rows = append(p.rows, pendingRow{key: key, vals: vals})
}

func (p *pending) reset() {
	clear(p.index)
	p.rows = p.rows[:0]
}

// table describes how a batch writes one table.
type table struct {
	name string
	key  []string // conflict columns after connection
	cols []string // inserted columns after connection, key first
}

var (
	rawTable     = table{name: "raw_records", key: []string{"object", "id"}, cols: []string{"object", "id", "modified_at", "deleted", "raw", "fetched_at"}}
	entityTables = map[Entity]table{
		Accounts:      {name: "accounts", key: []string{"id"}, cols: []string{"id", "name", "owner_id", "modified_at", "data"}},
		Contacts:      {name: "contacts", key: []string{"id"}, cols: []string{"id", "account_id", "modified_at", "data"}},
		Opportunities: {name: "opportunities", key: []string{"id"}, cols: []string{"id", "account_id", "modified_at", "data"}},
		Activities:    {name: "activities", key: []string{"id"}, cols: []string{"id", "object", "account_id", "occurred_at", "modified_at", "data"}},
		Users:         {name: "users", key: []string{"id"}, cols: []string{"id", "modified_at", "data"}},
	}
	// entityOrder is the order a flush writes the canonical tables in, the
	// same in every transaction so concurrent writers lock rows in one order.
	entityOrder = []Entity{Accounts, Contacts, Opportunities, Activities, Users}
)

// Batch starts a batch of writes for connection in this transaction.
// Nothing is written until Flush.
func (t *Tx) Batch(connection string) *Batch {
	return &Batch{tx: t, conn: connection, ents: map[Entity]*pending{}}
}

// Len returns the number of rows the batch holds (after collapsing
// repeated writes of one key).
func (b *Batch) Len() int {
	n := len(b.raw.rows)
	for _, p := range b.ents {
		n += len(p.rows)
	}
	return n
}

func (b *Batch) fail(err error) {
	if b.err == nil {
		b.err = err
	}
}

// Row is one row of a raw or canonical table, encoded outside any
// transaction (EncodeRaw, EncodeAccount, ...) and added to a batch with
// Put: a pipeline encodes the next page while the page before is written.
type Row struct {
	ent  Entity // "" for a raw record
	key  string
	vals []any
}

// EncodeRaw encodes a raw record for Batch.Put. A record whose Raw is not
// valid JSON is an error that names it.
func EncodeRaw(r RawRecord) (Row, error) {
	if !json.Valid(r.Raw) {
		return Row{}, fmt.Errorf("store raw %s %s: %w; the page was not stored", r.Object, r.ID, ErrInvalidRaw)
	}
	return Row{key: r.Object + "\x00" + r.ID, vals: []any{r.Object, r.ID, ms(r.ModifiedAt), r.Deleted, string(r.Raw), time.Now().UnixMilli()}}, nil
}

// EncodeAccount encodes a canonical account for Batch.Put.
func EncodeAccount(a crm.Account) (Row, error) {
	return encodeEntity(Accounts, string(a.ID), a, func(data string) []any {
		return []any{string(a.ID), a.Name, string(a.OwnerID), ms(a.ModifiedAt), data}
	})
}

// EncodeContact encodes a canonical contact for Batch.Put.
func EncodeContact(c crm.Contact) (Row, error) {
	return encodeEntity(Contacts, string(c.ID), c, func(data string) []any {
		return []any{string(c.ID), string(c.AccountID), ms(c.ModifiedAt), data}
	})
}

// EncodeOpportunity encodes a canonical opportunity for Batch.Put.
func EncodeOpportunity(o crm.Opportunity) (Row, error) {
	return encodeEntity(Opportunities, string(o.ID), o, func(data string) []any {
		return []any{string(o.ID), string(o.AccountID), ms(o.ModifiedAt), data}
	})
}

// EncodeActivity encodes a canonical activity for Batch.Put. object is
// the CRM object it came from (Task, Event, calls, ...), so a deletion of
// that object can find it.
func EncodeActivity(object string, a crm.Activity) (Row, error) {
	return encodeEntity(Activities, string(a.ID), a, func(data string) []any {
		return []any{string(a.ID), object, string(a.AccountID), ms(a.OccurredAt), ms(a.ModifiedAt), data}
	})
}

// EncodeUser encodes a canonical user for Batch.Put.
func EncodeUser(u crm.User) (Row, error) {
	return encodeEntity(Users, string(u.ID), u, func(data string) []any {
		return []any{string(u.ID), ms(u.ModifiedAt), data}
	})
}

func encodeEntity(e Entity, id string, v any, cols func(data string) []any) (Row, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return Row{}, fmt.Errorf("encode %s %s: %w", e, id, err)
	}
	return Row{ent: e, key: id, vals: cols(string(data))}, nil
}

// Put adds an encoded row, replacing the stored one with the same key.
func (b *Batch) Put(r Row) {
	if r.ent == "" {
		b.raw.put(r.key, r.vals)
		return
	}
	b.put(r.ent, r.key, r.vals)
}

// add puts what an Encode function returned, or keeps its error for Flush.
func (b *Batch) add(r Row, err error) {
	if err != nil {
		b.fail(err)
		return
	}
	b.Put(r)
}

// UpsertRaw adds a raw record, replacing the stored one with the same
// object and ID. A record whose Raw is not valid JSON makes Flush fail
// without writing anything.
func (b *Batch) UpsertRaw(r RawRecord) { b.add(EncodeRaw(r)) }

// UpsertAccount adds the canonical account.
func (b *Batch) UpsertAccount(a crm.Account) { b.add(EncodeAccount(a)) }

// UpsertContact adds the canonical contact.
func (b *Batch) UpsertContact(c crm.Contact) { b.add(EncodeContact(c)) }

// UpsertOpportunity adds the canonical opportunity.
func (b *Batch) UpsertOpportunity(o crm.Opportunity) { b.add(EncodeOpportunity(o)) }

// UpsertActivity adds the canonical activity (see EncodeActivity).
func (b *Batch) UpsertActivity(object string, a crm.Activity) { b.add(EncodeActivity(object, a)) }

// UpsertUser adds the canonical user.
func (b *Batch) UpsertUser(u crm.User) { b.add(EncodeUser(u)) }

// Delete adds the removal of a canonical entity. Deleting a row that is not
// there is not an error (deletions are replayed after a crash).
func (b *Batch) Delete(e Entity, id string) {
	if !e.valid() {
		b.fail(fmt.Errorf("delete: unknown entity %q", e))
		return
	}
	b.put(e, id, nil)
}

func (b *Batch) put(e Entity, id string, vals []any) {
	p := b.ents[e]
	if p == nil {
		p = &pending{}
		b.ents[e] = p
	}
	p.put(id, vals)
}

// Flush writes everything the batch holds and empties it. When a write
// added to the batch was invalid, Flush returns that error and writes
// nothing. When a statement fails, part of the batch may be written: return
// the error so the transaction rolls back.
func (b *Batch) Flush(ctx context.Context) error {
	defer b.reset()
	if b.err != nil {
		return b.err
	}
	if err := b.flushTable(ctx, rawTable, &b.raw); err != nil {
		return err
	}
	for _, e := range entityOrder {
		if p := b.ents[e]; p != nil {
			if err := b.flushTable(ctx, entityTables[e], p); err != nil {
				return err
			}
		}
	}
	return nil
}

func (b *Batch) reset() {
	b.err = nil
	b.raw.reset()
	for _, p := range b.ents {
		p.reset()
	}
}

// flushTable writes one table's pending rows: deletions, then upserts, each
// in key order so that concurrent transactions lock rows in the same order.
// After collapsing, every key has one write, so the order of the two
// statements does not change the outcome.
func (b *Batch) flushTable(ctx context.Context, t table, p *pending) error {
	if len(p.rows) == 0 {
		return nil
	}
	// Sorting in place is safe: the batch is reset after the flush.
	slices.SortFunc(p.rows, func(x, y pendingRow) int { return strings.Compare(x.key, y.key) })
	var dels, ups []pendingRow
	for _, r := range p.rows {
		if r.vals == nil {
			dels = append(dels, r)
		} else {
			ups = append(ups, r)
		}
	}
	backend := b.tx.s.loc.Backend
	if backend == Postgres {
		return b.flushArrays(ctx, t, dels, ups)
	}
	for part := range chunks(dels, maxRows(backend, 1)) {
		args := make([]any, 0, 1+len(part))
		args = append(args, b.conn)
		for _, r := range part {
			args = append(args, r.key)
		}
		if err := b.tx.execBound(ctx, statement(backend, t, false, len(part)), args...); err != nil {
			return fmt.Errorf("delete %s %s: %w", t.name, span(part[0].key, part[len(part)-1].key), err)
		}
	}
	width := 1 + len(t.cols)
	for part := range chunks(ups, maxRows(backend, width)) {
		args := make([]any, 0, width*len(part))
		for _, r := range part {
			args = append(args, b.conn)
			args = append(args, r.vals...)
		}
		if err := b.tx.execBound(ctx, statement(backend, t, true, len(part)), args...); err != nil {
			return fmt.Errorf("store %s %s: %w", t.name, span(keyText(part[0].key), keyText(part[len(part)-1].key)), err)
		}
	}
	return nil
}

// flushArrays writes a table's deletions and upserts on Postgres with one
// statement each, whatever their number: the rows go as one array per
// column (unnest), so a page of 2,000 records is one round trip per table
// instead of one per power-of-two chunk, and the server plans a statement
// of a few parameters instead of a VALUES list of thousands (plans are
// made for every execution: see openPostgres).
func (b *Batch) flushArrays(ctx context.Context, t table, dels, ups []pendingRow) error {
	if len(dels) > 0 {
		keys := make([]string, len(dels))
		for i, r := range dels {
			keys[i] = r.key
		}
		q := "DELETE FROM " + t.name + " WHERE connection = $1 AND " + t.key[0] + " = ANY($2::text[])"
		if _, err := b.tx.tx.ExecContext(ctx, q, b.conn, keys); err != nil {
			return fmt.Errorf("delete %s %s: %w", t.name, span(dels[0].key, dels[len(dels)-1].key), err)
		}
	}
	if len(ups) == 0 {
		return nil
	}
	cols := make([]any, len(t.cols))
	for i := range t.cols {
		switch ups[0].vals[i].(type) {
		case int64:
			col := make([]int64, len(ups))
			for j, r := range ups {
				col[j] = r.vals[i].(int64)
			}
			cols[i] = col
		case bool:
			col := make([]bool, len(ups))
			for j, r := range ups {
				col[j] = r.vals[i].(bool)
			}
			cols[i] = col
		default:
			col := make([]string, len(ups))
			for j, r := range ups {
				col[j] = r.vals[i].(string)
			}
			cols[i] = col
		}
	}
	args := append([]any{b.conn}, cols...)
	if _, err := b.tx.tx.ExecContext(ctx, arrayUpsert(t, cols), args...); err != nil {
		return fmt.Errorf("store %s %s: %w", t.name, span(keyText(ups[0].key), keyText(ups[len(ups)-1].key)), err)
	}
	return nil
}

// arrayUpsert is the Postgres upsert of t from one array parameter per
// column (after connection, $1), typed like cols.
func arrayUpsert(t table, cols []any) string {
	var q strings.Builder
	q.WriteString("INSERT INTO " + t.name + " (connection, " + strings.Join(t.cols, ", ") + ") SELECT $1")
	for _, c := range t.cols {
		if c == "data" {
			q.WriteString(", u." + c + "::jsonb")
		} else {
			q.WriteString(", u." + c)
		}
	}
	q.WriteString(" FROM unnest(")
	for i := range t.cols {
		if i > 0 {
			q.WriteString(", ")
		}
		typ := "text[]"
		switch cols[i].(type) {
		case []int64:
			typ = "bigint[]"
		case []bool:
			typ = "boolean[]"
		}
		fmt.Fprintf(&q, "$%d::%s", i+2, typ)
	}
	q.WriteString(") AS u(" + strings.Join(t.cols, ", ") + ")")
	q.WriteString(onConflictUpdate(t))
	return q.String()
}

// onConflictUpdate is the upsert clause of t: on its key, every other
// column takes the new row's value.
func onConflictUpdate(t table) string {
	var q strings.Builder
	q.WriteString(" ON CONFLICT (connection, " + strings.Join(t.key, ", ") + ") DO UPDATE SET ")
	first := true
	for _, c := range t.cols {
		if slices.Contains(t.key, c) {
			continue
		}
		if !first {
			q.WriteString(", ")
		}
		first = false
		q.WriteString(c + " = excluded." + c)
	}
	return q.String()
}

// execBound runs a batch statement whose placeholders are already the
// backend's.
//
// On SQLite the statement is prepared once per connection and kept
// (Store.prepared): modernc.org/sqlite compiles every statement it is
// handed text for, and a 1,024-row upsert of 7,000 parameters took as long
// to compile as to run. database/sql keeps a prepared statement per
// connection and hands the transaction the one on its connection. The
// texts are few (statement: power-of-two row counts per table), so the
// cache is bounded. On Postgres pgx already keeps a prepared statement per
// connection and text (its default statement cache), without the extra
// round trips of preparing per transaction.
func (t *Tx) execBound(ctx context.Context, q string, args ...any) error {
	if t.s.loc.Backend != SQLite {
		_, err := t.tx.ExecContext(ctx, q, args...)
		return err
	}
	if st := t.bound[q]; st != nil {
		_, err := st.ExecContext(ctx, args...)
		return err
	}
	st, err := t.s.prepared(ctx, q)
	switch {
	case err != nil:
		return err
	case st == nil:
		_, err = t.tx.ExecContext(ctx, q, args...)
	default:
		bound := t.tx.StmtContext(ctx, st)
		if t.bound == nil {
			t.bound = map[string]*sql.Stmt{}
		}
		t.bound[q] = bound
		_, err = bound.ExecContext(ctx, args...)
	}
	return err
}

// prepared returns the store's prepared statement of q, preparing it on
// first use; nil (and no error) when it cannot be prepared now.
//
// Preparing takes a second connection from the pool (the transaction holds
// its own); when the pool has a limit and it is reached (a test limits it
// to one) waiting for one would deadlock, so the caller runs q unprepared.
func (s *Store) prepared(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := s.stmts.Load(q); ok {
		return st.(*sql.Stmt), nil
	}
	if st := s.db.Stats(); st.MaxOpenConnections > 0 && st.InUse >= st.MaxOpenConnections {
		return nil, nil
	}
	s.prepMu.Lock()
	defer s.prepMu.Unlock()
	if st, ok := s.stmts.Load(q); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	s.stmts.Store(q, st)
	return st, nil
}

// span names the rows of a statement by its first and last key in a
// message.
func span(first, last string) string {
	if first == last {
		return first
	}
	return first + " … " + last
}

// keyText shows a pending key (object NUL id for raw records) in a message.
func keyText(k string) string { return strings.ReplaceAll(k, "\x00", " ") }

// maxRows is the most rows of width parameters one statement writes on
// backend: on Postgres the largest power of two that fits, at most
// BatchRows; on SQLite one.
//
// On SQLite a statement that writes several rows keeps a statement
// journal: before it first changes a page that existed when it began, it
// copies the page out, so that a failure can undo the statement alone. A
// sync's pages change pages all over the tables' B-trees, so a 1,024-row
// upsert copied thousands of pages, each with a write of its own: at
// 100,000 accounts 60 s of a 300 s full sync (20% of its CPU), and with
// the journal in memory a 1,024-row upsert ran 1.8× slower. A one-row
// statement needs no journal, and its cost per row, prepared once per
// connection (execBound), is no higher: 2,048 upserts of 800-byte rows into
// an empty table took 28 ms as one-row statements and 29 ms as 1,024-row
// ones, into a table of 400,000 rows 62 against 82 ms. The transaction
// still commits or rolls back the whole page.
func maxRows(backend Backend, width int) int {
	if backend == SQLite {
		return 1
	}
	n := min(BatchRows, (postgresMaxParams-1)/width) // -1: a DELETE's connection parameter
	return 1 << (bits.Len(uint(n)) - 1)
}

// chunks splits rows into pieces of max rows and then power-of-two sizes
// for the rest (1337 with max 1024: 1024, 256, 32, 16, 8, 1), so statements
// come in few distinct sizes.
func chunks[T any](rows []T, max int) func(yield func([]T) bool) {
	return func(yield func([]T) bool) {
		for len(rows) > 0 {
			n := max
			if len(rows) < max {
				n = 1 << (bits.Len(uint(len(rows))) - 1)
			}
			if !yield(rows[:n]) {
				return
			}
			rows = rows[n:]
		}
	}
}

// statements caches the text of batch statements by backend, table,
// kind and row count; chunks keeps their number small.
var statements stdsync.Map // stmtKey -> string

type stmtKey struct {
	backend Backend
	table   string
	upsert  bool
	rows    int
}

// statement returns a multi-row upsert (or a delete by key) of n rows of t,
// with placeholders for backend.
func statement(backend Backend, t table, upsert bool, n int) string {
	k := stmtKey{backend, t.name, upsert, n}
	if q, ok := statements.Load(k); ok {
		return q.(string)
	}
	var s string
	if upsert {
		s = multiRow(backend, "INSERT INTO "+t.name+" (connection, "+strings.Join(t.cols, ", ")+") VALUES ", 1+len(t.cols), n, onConflictUpdate(t))
	} else {
		// Only canonical tables are deleted from, by their one-column key.
		s = rebind(backend, "DELETE FROM "+t.name+" WHERE connection = ? AND "+t.key[0]+" IN (?"+strings.Repeat(", ?", n-1)+")")
	}
	statements.Store(k, s)
	return s
}
