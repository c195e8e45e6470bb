package store

import "errors"

var (
	// ErrNotFound means the requested row does not exist.
	ErrNotFound = errors.New("not found")
	// ErrNewerSchema means the database was migrated by a newer healthsync.
	ErrNewerSchema = errors.New("database schema is newer than this healthsync")
	// ErrDirtySchema means a previous migration failed halfway.
	ErrDirtySchema = errors.New("database schema is dirty")
	// ErrForeignDatabase means the database holds tables healthsync did not create.
	ErrForeignDatabase = errors.New("database belongs to another program")
	// ErrNotDatabase means the SQLite file is corrupt or not a database.
	ErrNotDatabase = errors.New("not a SQLite database")
	// ErrLocked means another process holds the SQLite database.
	ErrLocked = errors.New("database is used by another healthsync process")
	// ErrDirectory means the SQLite database path names a directory.
	ErrDirectory = errors.New("database path is a directory")
	// ErrDiskFull means SQLite could not write because the disk holding
	// the database is full.
	ErrDiskFull = errors.New("disk full")
	// ErrDiskIO means SQLite could not read or write its files.
	ErrDiskIO = errors.New("disk I/O failed")
	// ErrDecrypt means a stored secret could not be decrypted, usually
	// because the encryption key changed.
	ErrDecrypt = errors.New("cannot decrypt stored secret")
	// ErrInvalidRaw means a raw CRM record to store is not valid JSON, a
	// fault of the connector that delivered it.
	ErrInvalidRaw = errors.New("raw record is not valid JSON")
	// ErrBadKey means the configured encryption key is unusable.
	ErrBadKey = errors.New("bad encryption key")
)
