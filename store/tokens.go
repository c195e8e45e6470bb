package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

var errNoKey = errors.New("no encryption key: set HEALTHSYNC_ENCRYPTION_KEY (32 bytes, base64: openssl rand -base64 32) or HEALTHSYNC_ENCRYPTION_KEY_FILE; with Postgres every replica needs the same key")

// SaveToken stores a connection's token blob, sealed with AES-256-GCM. It
// implements oauth.TokenStore. The blob never reaches the database in clear.
func (s *Store) SaveToken(ctx context.Context, connection string, blob []byte) error {
	if s.sealer == nil {
		return fmt.Errorf("save token: %w", errNoKey)
	}
	sealed, err := s.sealer.seal(blob, []byte("oauth_tokens:"+connection))
	if err != nil {
		return fmt.Errorf("save token: %w", err)
	}
	err = s.exec(ctx, `INSERT INTO oauth_tokens (connection, sealed, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (connection) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at`,
		connection, sealed, time.Now().UnixMilli())
	if err != nil {
		return fmt.Errorf("save token: %w", err)
	}
	return nil
}

// LoadToken returns a connection's token blob, or nil when none is stored.
// A blob sealed under another key fails with ErrDecrypt and a message
// saying what to do; the stored row is left as it is.
func (s *Store) LoadToken(ctx context.Context, connection string) ([]byte, error) {
	var sealed []byte
	err := s.queryRow(ctx, `SELECT sealed FROM oauth_tokens WHERE connection = ?`, connection).Scan(&sealed)
	switch {
	case notFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("load token: %w", err)
	}
	if s.sealer == nil {
		return nil, fmt.Errorf("load token: %w", errNoKey)
	}
	blob, err := s.sealer.open(sealed, []byte("oauth_tokens:"+connection))
	if err != nil {
		return nil, fmt.Errorf("load token of %s: %w: the encryption key differs from the one it was stored with; restore the original HEALTHSYNC_ENCRYPTION_KEY, or run `healthsync auth` again to replace the token", connection, err)
	}
	return blob, nil
}

// DeleteToken forgets a connection's token.
func (s *Store) DeleteToken(ctx context.Context, connection string) error {
	if err := s.exec(ctx, `DELETE FROM oauth_tokens WHERE connection = ?`, connection); err != nil {
		return fmt.Errorf("delete token: %w", err)
	}
	return nil
}
