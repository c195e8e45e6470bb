package store

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// Config selects and opens the database. It is read from the environment
// with go-envconfig.
type Config struct {
	// DatabaseURL is sqlite:///path/to/file.db, a plain file path, or
	// postgres://user@host:port/db?sslmode=disable. Empty means the embedded
	// default file (see DefaultDataDir).
	DatabaseURL string `env:"HEALTHSYNC_DATABASE_URL" json:"-"`
	// EncryptionKey is the 32-byte token encryption key, base64 or hex.
	EncryptionKey string `env:"HEALTHSYNC_ENCRYPTION_KEY" json:"-"`
	// EncryptionKeyFile names a file holding the key. With SQLite and no
	// key configured, a key file is generated beside the database.
	EncryptionKeyFile string `env:"HEALTHSYNC_ENCRYPTION_KEY_FILE"`
}

// Backend names a database engine.
type Backend string

// Backends.
const (
	SQLite   Backend = "sqlite"
	Postgres Backend = "postgres"
)

// Location is a parsed database URL.
type Location struct {
	Backend Backend
	// Path is the SQLite file; DSN the Postgres connection string.
	Path string
	DSN  string
}

// DefaultDataDir is where the embedded default database and its generated
// key file live: $XDG_DATA_HOME/healthsync, or ~/.local/share/healthsync.
func DefaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "healthsync")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "healthsync")
	}
	return "."
}

// Location parses DatabaseURL.
func (c Config) Location() (Location, error) {
	raw := strings.TrimSpace(c.DatabaseURL)
	switch {
	case raw == "":
		return Location{Backend: SQLite, Path: filepath.Join(DefaultDataDir(), "healthsync.db")}, nil
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		if _, err := url.Parse(raw); err != nil {
			return Location{}, fmt.Errorf("HEALTHSYNC_DATABASE_URL is not a valid postgres URL (%s): use postgres://user@host:5432/db?sslmode=disable", redactURLError(err))
		}
		return Location{Backend: Postgres, DSN: raw}, nil
	case strings.HasPrefix(raw, "sqlite://"):
		p := strings.TrimPrefix(raw, "sqlite://")
		if p == "" || p == "/" {
			return Location{}, errors.New("HEALTHSYNC_DATABASE_URL sqlite:// names no file: use sqlite:///absolute/path.db or a plain file path")
		}
		if i := strings.IndexByte(p, '?'); i >= 0 {
			p = p[:i]
		}
		return Location{Backend: SQLite, Path: p}, nil
	case strings.Contains(raw, "://"):
		scheme := raw[:strings.Index(raw, "://")]
		return Location{}, fmt.Errorf("HEALTHSYNC_DATABASE_URL has unsupported scheme %q: use sqlite:///path.db, a file path, or postgres://…", scheme)
	}
	return Location{Backend: SQLite, Path: raw}, nil
}

// Validate checks the configuration without touching the database.
func (c Config) Validate() error {
	if _, err := c.Location(); err != nil {
		return err
	}
	if c.EncryptionKey != "" && c.EncryptionKeyFile != "" {
		return errors.New("both HEALTHSYNC_ENCRYPTION_KEY and HEALTHSYNC_ENCRYPTION_KEY_FILE are set: set only one")
	}
	if c.EncryptionKey != "" {
		if _, err := decodeKey(c.EncryptionKey); err != nil {
			return fmt.Errorf("HEALTHSYNC_ENCRYPTION_KEY: %w", err)
		}
	}
	return nil
}

// redactURLError keeps url.Parse's reason but drops the URL, which may hold
// a password.
func redactURLError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return "unparseable"
}
