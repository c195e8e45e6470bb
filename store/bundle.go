package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"healthsync/crm"
)

// Bundle is one account with everything linked to it: what scoring needs
// for one account at a time. The tasks healthsync itself created (their
// IDs are in its task records) come marked crm.Activity.Healthsync: they
// are its own follow-ups, not contact with the customer.
type Bundle struct {
	Account       crm.Account
	Contacts      []crm.Contact
	Opportunities []crm.Opportunity
	Activities    []crm.Activity
	// History is the field history of the account and its opportunities,
	// with the connection's history start per field.
	History crm.History
}

// byKey orders text the same way as Go's string comparison on both
// backends (Postgres would otherwise use the locale's collation).
func (s *Store) byKey(col string) string {
	if s.loc.Backend == Postgres {
		return col + ` COLLATE "C"`
	}
	return col
}

// linkedRows streams (account_id, data) rows ordered by account.
type linkedRows struct {
	rows    *sql.Rows
	ok      bool
	account string
	data    []byte
	err     error
}

func (s *Store) openLinked(ctx context.Context, table, connection, extraOrder string) (*linkedRows, error) {
	q := `SELECT account_id, data FROM ` + table + ` WHERE connection = ? ORDER BY ` + s.byKey("account_id") + extraOrder
	rows, err := s.query(ctx, q, connection)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", table, err)
	}
	l := &linkedRows{rows: rows}
	l.next()
	return l, nil
}

func (l *linkedRows) next() {
	l.ok = l.rows.Next()
	if !l.ok {
		l.err = l.rows.Err()
		return
	}
	var data string
	if err := l.rows.Scan(&l.account, &data); err != nil {
		l.ok, l.err = false, err
		return
	}
	l.data = []byte(data)
}

// take decodes every row of account into out (via add), skipping rows of
// accounts that sort before it (orphans whose account is unknown).
func (l *linkedRows) take(account string, add func([]byte) error) error {
	for l.ok && l.account < account {
		l.next()
	}
	for l.ok && l.account == account {
		if err := add(l.data); err != nil {
			return err
		}
		l.next()
	}
	return l.err
}

// ForEachAccount streams every account of a connection, in ID order, with
// its contacts, opportunities and activities (ordered by time) and the
// field history of the account and its opportunities, calling fn once per
// account. Memory is bounded by the largest account, not the org: the
// five tables are read as sorted streams and merged.
func (s *Store) ForEachAccount(ctx context.Context, connection string, fn func(Bundle) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	own, err := s.ownTaskIDs(ctx, connection)
	if err != nil {
		return err
	}
	accounts, err := s.query(ctx, `SELECT data FROM accounts WHERE connection = ? ORDER BY `+s.byKey("id"), connection)
	if err != nil {
		return fmt.Errorf("read accounts: %w", err)
	}
	defer accounts.Close()
	from, err := s.HistoryFrom(ctx, connection)
	if err != nil {
		return err
	}
	streams := make([]*linkedRows, 0, 3)
	defer func() {
		for _, l := range streams {
			l.rows.Close()
		}
	}()
	hist, err := s.openHistory(ctx, connection)
	if err != nil {
		return err
	}
	defer hist.rows.Close()
	for _, spec := range []struct{ table, order string }{
		{"contacts", ", " + s.byKey("id")},
		{"opportunities", ", " + s.byKey("id")},
		{"activities", ", occurred_at, " + s.byKey("id")},
	} {
		l, err := s.openLinked(ctx, spec.table, connection, spec.order)
		if err != nil {
			return err
		}
		streams = append(streams, l)
	}
	for accounts.Next() {
		var data string
		if err := accounts.Scan(&data); err != nil {
			return fmt.Errorf("read accounts: %w", err)
		}
		var b Bundle
		if err := json.Unmarshal([]byte(data), &b.Account); err != nil {
			return fmt.Errorf("decode account: %w", err)
		}
		id := string(b.Account.ID)
		if err := streams[0].take(id, func(d []byte) error { return appendJSON(d, &b.Contacts) }); err != nil {
			return fmt.Errorf("read contacts of %s: %w", id, err)
		}
		if err := streams[1].take(id, func(d []byte) error { return appendJSON(d, &b.Opportunities) }); err != nil {
			return fmt.Errorf("read opportunities of %s: %w", id, err)
		}
		if err := streams[2].take(id, func(d []byte) error { return appendJSON(d, &b.Activities) }); err != nil {
			return fmt.Errorf("read activities of %s: %w", id, err)
		}
		if b.History.Changes, err = hist.take(id); err != nil {
			return fmt.Errorf("read field history of %s: %w", id, err)
		}
		b.History.From = from
		markOwn(&b, own)
		if err := fn(b); err != nil {
			return err
		}
	}
	return accounts.Err()
}

func appendJSON[T any](data []byte, out *[]T) error {
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	*out = append(*out, v)
	return nil
}

// LoadBundle returns one account's bundle, found by ID or, failing that, by
// exact (case-insensitive) name. A name shared by several accounts is an
// error that lists their IDs.
func (s *Store) LoadBundle(ctx context.Context, connection, idOrName string) (Bundle, error) {
	id, err := s.resolveAccount(ctx, connection, idOrName)
	if err != nil {
		return Bundle{}, err
	}
	var b Bundle
	var data string
	if err := s.queryRow(ctx, `SELECT data FROM accounts WHERE connection = ? AND id = ?`, connection, id).Scan(&data); err != nil {
		return Bundle{}, fmt.Errorf("read account %s: %w", id, err)
	}
	if err := json.Unmarshal([]byte(data), &b.Account); err != nil {
		return Bundle{}, fmt.Errorf("decode account %s: %w", id, err)
	}
	for _, spec := range []struct {
		table, order string
		add          func([]byte) error
	}{
		{"contacts", "id", func(d []byte) error { return appendJSON(d, &b.Contacts) }},
		{"opportunities", "id", func(d []byte) error { return appendJSON(d, &b.Opportunities) }},
		{"activities", "occurred_at, id", func(d []byte) error { return appendJSON(d, &b.Activities) }},
	} {
		rows, err := s.query(ctx, `SELECT data FROM `+spec.table+` WHERE connection = ? AND account_id = ? ORDER BY `+spec.order, connection, id)
		if err != nil {
			return Bundle{}, fmt.Errorf("read %s of %s: %w", spec.table, id, err)
		}
		for rows.Next() {
			var d string
			if err := rows.Scan(&d); err != nil {
				rows.Close()
				return Bundle{}, fmt.Errorf("read %s of %s: %w", spec.table, id, err)
			}
			if err := spec.add([]byte(d)); err != nil {
				rows.Close()
				return Bundle{}, fmt.Errorf("read %s of %s: %w", spec.table, id, err)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return Bundle{}, fmt.Errorf("read %s of %s: %w", spec.table, id, err)
		}
	}
	own, err := s.ownTaskIDs(ctx, connection)
	if err != nil {
		return Bundle{}, err
	}
	markOwn(&b, own)
	if b.History.Changes, err = s.AccountHistory(ctx, connection, b.Account.ID); err != nil {
		return Bundle{}, err
	}
	if b.History.From, err = s.HistoryFrom(ctx, connection); err != nil {
		return Bundle{}, err
	}
	return b, nil
}

// ownTaskIDs returns the CRM IDs of the tasks healthsync created.
func (s *Store) ownTaskIDs(ctx context.Context, connection string) (map[crm.ActivityID]bool, error) {
	rows, err := s.query(ctx, `SELECT task_id FROM tasks WHERE connection = ? AND task_id <> ''`, connection)
	if err != nil {
		return nil, fmt.Errorf("read healthsync's task IDs: %w", err)
	}
	defer rows.Close()
	out := map[crm.ActivityID]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("read healthsync's task IDs: %w", err)
		}
		out[crm.ActivityID(id)] = true
	}
	return out, rows.Err()
}

// markOwn marks the activities that are tasks healthsync created.
func markOwn(b *Bundle, own map[crm.ActivityID]bool) {
	for i := range b.Activities {
		if own[b.Activities[i].ID] {
			b.Activities[i].Healthsync = true
		}
	}
}

func (s *Store) resolveAccount(ctx context.Context, connection, idOrName string) (string, error) {
	var id string
	err := s.queryRow(ctx, `SELECT id FROM accounts WHERE connection = ? AND id = ?`, connection, idOrName).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !notFound(err) {
		return "", fmt.Errorf("find account %q: %w", idOrName, err)
	}
	rows, err := s.query(ctx, `SELECT id FROM accounts WHERE connection = ? AND lower(name) = lower(?) ORDER BY id`, connection, idOrName)
	if err != nil {
		return "", fmt.Errorf("find account %q: %w", idOrName, err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		if err := rows.Scan(&id); err != nil {
			return "", fmt.Errorf("find account %q: %w", idOrName, err)
		}
		ids = append(ids, id)
	}
	switch len(ids) {
	case 0:
		return "", fmt.Errorf("account %q: %w (give its CRM ID or exact name)", idOrName, ErrNotFound)
	case 1:
		return ids[0], nil
	}
	return "", fmt.Errorf("account name %q is shared by %d accounts (%s): give the ID", idOrName, len(ids), strings.Join(ids, ", "))
}

// Users returns the connection's users by ID.
func (s *Store) Users(ctx context.Context, connection string) (map[crm.UserID]crm.User, error) {
	rows, err := s.query(ctx, `SELECT data FROM users WHERE connection = ?`, connection)
	if err != nil {
		return nil, fmt.Errorf("read users: %w", err)
	}
	defer rows.Close()
	out := map[crm.UserID]crm.User{}
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return nil, fmt.Errorf("read users: %w", err)
		}
		var u crm.User
		if err := json.Unmarshal([]byte(d), &u); err != nil {
			return nil, fmt.Errorf("decode user: %w", err)
		}
		out[u.ID] = u
	}
	return out, rows.Err()
}

// AccountHeader is an account's name and owner.
type AccountHeader struct {
	Name    string
	OwnerID crm.UserID
}

// ForEachAccountHeader streams the connection's account headers ordered by
// account ID, in the order ForEachLatestScore and ForEachLedger use.
func (s *Store) ForEachAccountHeader(ctx context.Context, connection string, fn func(crm.AccountID, AccountHeader) error) error {
	rows, err := s.query(ctx, `SELECT id, name, owner_id FROM accounts WHERE connection = ? ORDER BY `+s.byKey("id"), connection)
	if err != nil {
		return fmt.Errorf("read accounts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, name, owner string
		if err := rows.Scan(&id, &name, &owner); err != nil {
			return fmt.Errorf("read accounts: %w", err)
		}
		if err := fn(crm.AccountID(id), AccountHeader{Name: name, OwnerID: crm.UserID(owner)}); err != nil {
			return err
		}
	}
	return rows.Err()
}

// AccountHeaders returns every account's name and owner by ID.
func (s *Store) AccountHeaders(ctx context.Context, connection string) (map[crm.AccountID]AccountHeader, error) {
	rows, err := s.query(ctx, `SELECT id, name, owner_id FROM accounts WHERE connection = ?`, connection)
	if err != nil {
		return nil, fmt.Errorf("read accounts: %w", err)
	}
	defer rows.Close()
	out := map[crm.AccountID]AccountHeader{}
	for rows.Next() {
		var id, name, owner string
		if err := rows.Scan(&id, &name, &owner); err != nil {
			return nil, fmt.Errorf("read accounts: %w", err)
		}
		out[crm.AccountID(id)] = AccountHeader{Name: name, OwnerID: crm.UserID(owner)}
	}
	return out, rows.Err()
}
