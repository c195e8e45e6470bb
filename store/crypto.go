package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"healthsync/internal/inputfile"
)

const keyLen = 32

// maxKeyFileSize bounds a key file: the key is 44 characters of base64
// or 64 of hex, so a file of kilobytes is not a key file.
const maxKeyFileSize = 4 << 10

// decodeKey accepts a 32-byte key as standard or URL base64 (with or
// without padding) or as 64 hex digits.
func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 2*keyLen {
		if k, err := hex.DecodeString(s); err == nil {
			return k, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil {
			if len(k) != keyLen {
				return nil, fmt.Errorf("%w: decodes to %d bytes, need %d (generate one with: openssl rand -base64 32)", ErrBadKey, len(k), keyLen)
			}
			return k, nil
		}
	}
	return nil, fmt.Errorf("%w: not base64 or hex of %d bytes (generate one with: openssl rand -base64 32)", ErrBadKey, keyLen)
}

// loadKey resolves the encryption key: the variable, the file it names, or
// for SQLite a generated key file beside the database.
func loadKey(cfg Config, loc Location) (key []byte, generatedAt string, err error) {
	if cfg.EncryptionKey != "" {
		k, err := decodeKey(cfg.EncryptionKey)
		if err != nil {
			return nil, "", fmt.Errorf("HEALTHSYNC_ENCRYPTION_KEY: %w", err)
		}
		return k, "", nil
	}
	path := cfg.EncryptionKeyFile
	if path == "" {
		if loc.Backend != SQLite {
			return nil, "", nil // no key: token storage fails with a clear message
		}
		path = filepath.Join(filepath.Dir(loc.Path), "healthsync.key")
	}
	// The generated file is not named by the variable: say which it is.
	source := "HEALTHSYNC_ENCRYPTION_KEY_FILE"
	if cfg.EncryptionKeyFile == "" {
		source = "generated beside the database"
	}
	data, err := inputfile.Read(path, inputfile.Rules{What: "key file", Max: maxKeyFileSize, Private: true})
	var refused *inputfile.Error
	switch {
	case err == nil:
		k, err := decodeKey(string(data))
		if err != nil {
			return nil, "", fmt.Errorf("key file %s (%s): %w", path, source, err)
		}
		return k, "", nil
	case errors.As(err, &refused):
		return nil, "", fmt.Errorf("key file (%s): %w", source, err)
	case errors.Is(err, fs.ErrNotExist) && cfg.EncryptionKeyFile == "":
		k := make([]byte, keyLen)
		if _, err := rand.Read(k); err != nil {
			return nil, "", fmt.Errorf("generate encryption key: %w", err)
		}
		if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(k)+"\n"), 0o600); err != nil {
			return nil, "", fmt.Errorf("write generated key file %s: %w", path, err)
		}
		return k, path, nil
	default:
		return nil, "", fmt.Errorf("read key file %s (%s): %w", path, source, err)
	}
}

// sealer encrypts and decrypts secrets with AES-256-GCM. The nonce is
// prepended to the ciphertext; the associated data binds a secret to its
// row so a ciphertext copied to another connection does not decrypt.
type sealer struct{ aead cipher.AEAD }

func newSealer(key []byte) (*sealer, error) {
	if key == nil {
		return nil, nil
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	return &sealer{aead: aead}, nil
}

func (s *sealer) seal(plain, ad []byte) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("nonce: %w", err)
	}
	return s.aead.Seal(nonce, nonce, plain, ad), nil
}

func (s *sealer) open(sealed, ad []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return nil, ErrDecrypt
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], ad)
	if err != nil {
		return nil, ErrDecrypt
	}
	return plain, nil
}
