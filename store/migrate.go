package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/golang-migrate/migrate/v4"
	"github.com/golang-migrate/migrate/v4/database"
	migratepgx "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	migratesqlite "github.com/golang-migrate/migrate/v4/database/sqlite"
	"github.com/golang-migrate/migrate/v4/source/iofs"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

const migrationsTable = "schema_migrations"

// MigrationStatus reports a database's schema version.
type MigrationStatus struct {
	Current uint // 0 when never migrated
	Latest  uint // the newest version this binary carries
	Dirty   bool
}

func (s *Store) migrationsDir() string { return "migrations/" + string(s.loc.Backend) }

// latestVersion is the highest migration version embedded for the backend.
func (s *Store) latestVersion() (uint, error) {
	entries, err := fs.ReadDir(migrationFiles, s.migrationsDir())
	if err != nil {
		return 0, fmt.Errorf("read embedded migrations: %w", err)
	}
	var latest uint
	for _, e := range entries {
		head, _, _ := strings.Cut(e.Name(), "_")
		v, err := strconv.ParseUint(head, 10, 32)
		if err != nil {
			return 0, fmt.Errorf("embedded migration %s: bad version prefix", e.Name())
		}
		latest = max(latest, uint(v))
	}
	return latest, nil
}

// newMigrate builds a migrate instance on its own database handle, because
// golang-migrate closes the handle it is given.
func (s *Store) newMigrate() (*migrate.Migrate, error) {
	src, err := iofs.New(migrationFiles, s.migrationsDir())
	if err != nil {
		return nil, fmt.Errorf("load embedded migrations: %w", err)
	}
	var (
		db     *sql.DB
		driver database.Driver
	)
	switch s.loc.Backend {
	case SQLite:
		db, err = sql.Open("sqlite", "file:"+sqliteURIPath(s.loc.Path)+"?_pragma=busy_timeout(10000)")
		if err == nil {
			driver, err = migratesqlite.WithInstance(db, &migratesqlite.Config{MigrationsTable: migrationsTable})
		}
	case Postgres:
		db, err = sql.Open("pgx", s.loc.DSN)
		if err == nil {
			driver, err = migratepgx.WithInstance(db, &migratepgx.Config{MigrationsTable: migrationsTable})
		}
	}
	if err != nil {
		if db != nil {
			db.Close()
		}
		return nil, fmt.Errorf("prepare migrations: %w", err)
	}
	m, err := migrate.NewWithInstance("iofs", src, string(s.loc.Backend), driver)
	if err != nil {
		driver.Close()
		return nil, fmt.Errorf("prepare migrations: %w", err)
	}
	return m, nil
}

// tables lists the tables in the store's schema.
func (s *Store) tables(ctx context.Context) (map[string]bool, error) {
	q := "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
	if s.loc.Backend == Postgres {
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
	}
	rows, err := s.db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("list tables: %w", err)
		}
		out[name] = true
	}
	return out, rows.Err()
}

// Status reports the schema version without changing anything.
func (s *Store) Status(ctx context.Context) (MigrationStatus, error) {
	latest, err := s.latestVersion()
	if err != nil {
		return MigrationStatus{}, err
	}
	st := MigrationStatus{Latest: latest}
	tables, err := s.tables(ctx)
	if err != nil {
		return st, err
	}
	if !tables[migrationsTable] {
		if len(tables) > 0 {
			return st, fmt.Errorf("%w: %s already holds tables healthsync did not create (e.g. %s); nothing was changed. Use a new database or file for healthsync", ErrForeignDatabase, s.Where(), anyKey(tables))
		}
		return st, nil
	}
	var (
		version int64
		dirty   bool
	)
	err = s.db.QueryRowContext(ctx, "SELECT version, dirty FROM "+migrationsTable+" LIMIT 1").Scan(&version, &dirty)
	switch {
	case notFound(err):
		return st, nil
	case err != nil:
		return st, fmt.Errorf("read schema version: %w", err)
	}
	st.Current, st.Dirty = uint(version), dirty
	return st, nil
}

func anyKey(m map[string]bool) string {
	for k := range m {
		return k
	}
	return ""
}

// Migrate brings the schema up to the newest version this binary carries.
// It refuses, changing nothing, a database from a newer healthsync, one left
// dirty by a failed migration, and one that belongs to another program.
func (s *Store) Migrate(ctx context.Context) (MigrationStatus, error) {
	st, err := s.Status(ctx)
	if err != nil {
		return st, err
	}
	if st.Dirty {
		return st, fmt.Errorf("%w: migration to version %d failed halfway on %s. Check the database against store/migrations, then mark the last good version with `healthsync migrate --force VERSION` and run `healthsync migrate` again", ErrDirtySchema, st.Current, s.Where())
	}
	if st.Current > st.Latest {
		return st, fmt.Errorf("%w: %s is at schema version %d, this binary knows up to %d; upgrade healthsync (nothing was changed)", ErrNewerSchema, s.Where(), st.Current, st.Latest)
	}
	if st.Current == st.Latest {
		return st, nil
	}
	m, err := s.newMigrate()
	if err != nil {
		return st, err
	}
	defer m.Close()
	if err := m.Up(); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return st, fmt.Errorf("migrate %s: %w", s.Where(), s.fault(migrateCause(err)))
	}
	return s.Status(ctx)
}

// migrateCause unwraps golang-migrate's database.Error, which does not
// unwrap itself, so a full disk during a migration is named as such.
func migrateCause(err error) error {
	var de *database.Error
	if errors.As(err, &de) && de.OrigErr != nil {
		return fmt.Errorf("%s: %w", err.Error(), de.OrigErr)
	}
	return err
}

// ForceVersion marks the schema as being at version without running any
// migration: the way out of a dirty state after a manual repair.
func (s *Store) ForceVersion(ctx context.Context, version int) error {
	latest, err := s.latestVersion()
	if err != nil {
		return err
	}
	if version < 0 || uint(version) > latest {
		return fmt.Errorf("force version %d: must be between 0 and %d", version, latest)
	}
	m, err := s.newMigrate()
	if err != nil {
		return err
	}
	defer m.Close()
	if err := m.Force(version); err != nil {
		return fmt.Errorf("force version %d: %w", version, err)
	}
	return nil
}
