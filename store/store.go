package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	stdsync "sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Store is the one API over both backends. It is safe for concurrent use.
type Store struct {
	db      *sql.DB
	loc     Location
	sealer  *sealer
	lock    *sqliteLock   // SQLite only: the single-process lock
	keyPath string        // a key file generated on this open, if any
	ckpt    *checkpointer // SQLite only: checkpoints the WAL outside commits
	stmts   stdsync.Map   // SQLite only: batch statement text -> *sql.Stmt
	prepMu  stdsync.Mutex // one preparation of a text at a time
	// warnings are problems found on open that do not stop the store,
	// such as a database file others can read.
	warnings []string
}

// Options tune Open.
type Options struct {
	// Shared opens a SQLite database without taking the single-process
	// lock, for read-only commands (explain, report) that may run beside a
	// worker.
	Shared bool
}

// Open connects to the configured database and checks that it is
// reachable and, for SQLite, that the file is a database. It does not
// migrate: call Migrate.
func Open(ctx context.Context, cfg Config, opts Options) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	loc, err := cfg.Location()
	if err != nil {
		return nil, err
	}
	s := &Store{loc: loc}
	switch loc.Backend {
	case SQLite:
		err = s.openSQLite(ctx, opts)
	case Postgres:
		err = s.openPostgres(ctx)
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	key, generated, err := loadKey(cfg, loc)
	if err != nil {
		s.Close()
		return nil, err
	}
	if s.sealer, err = newSealer(key); err != nil {
		s.Close()
		return nil, err
	}
	s.keyPath = generated
	return s, nil
}

func (s *Store) openSQLite(ctx context.Context, opts Options) error {
	path := s.loc.Path
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("%w: HEALTHSYNC_DATABASE_URL names %s, which is a directory; give the path of the database file in it, such as %s (created on first use)",
			ErrDirectory, path, filepath.Join(path, "healthsync.db"))
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create database directory %s: %w", dir, err)
	}
	// What an earlier version or a hand-made file left readable by others
	// is reported, not silently changed: the file may be shared on purpose.
	s.warnings = wideFiles(path)
	if opts.Shared {
		if err := createPrivate(path); err != nil {
			return err
		}
	} else {
		lock, err := lockDatabase(path)
		if err != nil {
			return err
		}
		s.lock = lock
	}
	db, err := sql.Open("sqlite", sqliteDSN(path))
	if err != nil {
		return fmt.Errorf("open sqlite %s: %w", path, err)
	}
	s.db = db
	// Probe the file: a corrupt or foreign non-database file fails here.
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&n); err != nil {
		if strings.Contains(err.Error(), "not a database") || strings.Contains(err.Error(), "malformed") {
			return fmt.Errorf("%w: %s is corrupt or not a SQLite file; nothing was changed. Point HEALTHSYNC_DATABASE_URL at a new file, or restore this one from a backup", ErrNotDatabase, path)
		}
		return fmt.Errorf("open sqlite %s: %w", path, s.fault(err))
	}
	var page int64
	if err := db.QueryRowContext(ctx, "PRAGMA page_size").Scan(&page); err != nil {
		return fmt.Errorf("open sqlite %s: read the page size: %w", path, s.fault(err))
	}
	s.ckpt = startCheckpointer(db, page)
	return nil
}

func (s *Store) openPostgres(ctx context.Context) error {
	cfg, err := pgx.ParseConfig(s.loc.DSN)
	if err != nil {
		return fmt.Errorf("open postgres at %s: %v; check HEALTHSYNC_DATABASE_URL", RedactDSN(s.loc.DSN), redactErr(err, s.loc.DSN))
	}
	// A plan for each execution, not a generic one cached per connection:
	// during a first sync the tables grow from empty within minutes, before
	// autovacuum has analysed them, and a generic plan chosen while they
	// were small (a sequential scan) made every page's lookup by primary
	// key scan the whole table, slowing a 270k-record sync to a crawl.
	if _, set := cfg.RuntimeParams["plan_cache_mode"]; !set {
		cfg.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	}
	db := stdlib.OpenDB(*cfg)
	s.db = db
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(4)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		return fmt.Errorf("connect to postgres at %s: %v; check that the server runs and HEALTHSYNC_DATABASE_URL is right", RedactDSN(s.loc.DSN), redactErr(err, s.loc.DSN))
	}
	return nil
}

// RedactDSN returns a connection URL with its password replaced, safe to
// print.
func RedactDSN(dsn string) string {
	i := strings.Index(dsn, "://")
	at := strings.LastIndex(dsn, "@")
	if i < 0 || at < i {
		return dsn
	}
	userinfo := dsn[i+3 : at]
	if c := strings.IndexByte(userinfo, ':'); c >= 0 {
		userinfo = userinfo[:c] + ":xxxxx"
	}
	return dsn[:i+3] + userinfo + dsn[at:]
}

// redactErr removes a DSN's password from an error text.
func redactErr(err error, dsn string) string {
	msg := err.Error()
	i := strings.Index(dsn, "://")
	at := strings.LastIndex(dsn, "@")
	if i >= 0 && at > i {
		if c := strings.IndexByte(dsn[i+3:at], ':'); c >= 0 {
			if pw := dsn[i+3+c+1 : at]; pw != "" {
				msg = strings.ReplaceAll(msg, pw, "xxxxx")
			}
		}
	}
	return msg
}

// Close releases the database and, for SQLite, the process lock.
func (s *Store) Close() error {
	var err error
	// Before the database: the checkpointer uses it.
	s.ckpt.stop()
	s.stmts.Range(func(_, st any) bool {
		st.(*sql.Stmt).Close()
		return true
	})
	if s.db != nil {
		err = s.db.Close()
	}
	if s.lock != nil {
		// After the database: closing a descriptor of the file drops
		// every POSIX lock this process holds on it, SQLite's included.
		s.lock.release()
		s.lock = nil
	}
	return err
}

// Warnings are problems found when the store was opened that do not stop
// it, each a sentence with its fix: a SQLite file (or its -wal or -shm)
// that group or other users can read. Commands print them.
func (s *Store) Warnings() []string { return s.warnings }

// Backend says which database engine the store uses.
func (s *Store) Backend() Backend { return s.loc.Backend }

// Where describes the database for messages: the SQLite file path or the
// Postgres URL without its password.
func (s *Store) Where() string {
	if s.loc.Backend == SQLite {
		return s.loc.Path
	}
	return RedactDSN(s.loc.DSN)
}

// GeneratedKeyFile is the path of an encryption key file this Open created
// (SQLite default), or "".
func (s *Store) GeneratedKeyFile() string { return s.keyPath }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s database: %w", s.loc.Backend, err)
	}
	return nil
}

// rebind turns ? placeholders into $n for Postgres.
func rebind(b Backend, q string) string {
	if b != Postgres {
		return q
	}
	var out strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			out.WriteByte('$')
			out.WriteString(strconv.Itoa(n))
			continue
		}
		out.WriteByte(q[i])
	}
	return out.String()
}

// Tx is a store transaction. Everything written through one Tx commits or
// rolls back together.
type Tx struct {
	tx *sql.Tx
	s  *Store
	// bound holds the store's prepared statements bound to this
	// transaction (execBound), by text: a page's thousands of one-row
	// statements bind each once.
	bound map[string]*sql.Stmt
}

// InTx runs fn in a transaction and commits it when fn returns nil. Any
// error, or a panic, rolls everything back.
func (s *Store) InTx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	sqlTx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", s.fault(err))
	}
	defer func() {
		if p := recover(); p != nil {
			sqlTx.Rollback()
			panic(p)
		}
		if err != nil {
			sqlTx.Rollback()
		}
	}()
	if s.loc.Backend == SQLite {
		// A connection setting, kept by the connection: see sqliteParams.
		if _, err = sqlTx.ExecContext(ctx, writerCacheSize); err != nil {
			return fmt.Errorf("begin transaction: %w", s.fault(err))
		}
	}
	if err = fn(&Tx{tx: sqlTx, s: s}); err != nil {
		return s.fault(err)
	}
	if err = sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", s.fault(err))
	}
	s.ckpt.afterCommit(ctx)
	return nil
}

func (t *Tx) exec(ctx context.Context, q string, args ...any) error {
	_, err := t.tx.ExecContext(ctx, rebind(t.s.loc.Backend, q), args...)
	return err
}

func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return s.db.QueryContext(ctx, rebind(s.loc.Backend, q), args...)
}

func (s *Store) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return s.db.QueryRowContext(ctx, rebind(s.loc.Backend, q), args...)
}

func (s *Store) exec(ctx context.Context, q string, args ...any) error {
	_, err := s.db.ExecContext(ctx, rebind(s.loc.Backend, q), args...)
	s.ckpt.afterCommit(ctx)
	return s.fault(err)
}

// ms converts a time to epoch milliseconds; the zero time is 0.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMs converts epoch milliseconds to a UTC time; 0 is the zero time.
func fromMs(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func nullMs(t *time.Time) sql.NullInt64 {
	if t == nil || t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

func fromNullMs(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMs(v.Int64)
	return &t
}

var errNoRows = sql.ErrNoRows

func notFound(err error) bool { return errors.Is(err, errNoRows) }

// sqliteURIPath escapes a file path for a SQLite "file:" URI, where '?'
// starts the query, '#' the fragment and '%' an escape.
func sqliteURIPath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
}
