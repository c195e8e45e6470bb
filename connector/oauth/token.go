package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"golang.org/x/oauth2"
)

// TokenStore persists one connection's token as an opaque blob. The store encrypts it.
type TokenStore interface {
	LoadToken(ctx context.Context, connection string) ([]byte, error) // (nil, nil) when none stored
	SaveToken(ctx context.Context, connection string, blob []byte) error
}

// Token is a connection's OAuth token as healthsync stores it. It prints
// redacted: fmt never shows the access or refresh token.
type Token struct {
	AccessToken  string    `json:"access_token"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	TokenType    string    `json:"token_type,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"` // zero: valid until the CRM rejects it (Salesforce)
	InstanceURL  string    `json:"instance_url,omitempty"`
	ID           string    `json:"id,omitempty"` // Salesforce identity URL
	Scopes       []string  `json:"scopes,omitempty"`
	IssuedAt     time.Time `json:"issued_at,omitzero"`
	// Extra holds other string members of the token response.
	Extra map[string]string `json:"extra,omitempty"`
}

// blobVersion is the version of the stored JSON.
const blobVersion = 1

type blob struct {
	Version int `json:"v"`
	Token
}

// MarshalBlob encodes t as the blob a TokenStore keeps.
func (t *Token) MarshalBlob() ([]byte, error) {
	b, err := json.Marshal(blob{Version: blobVersion, Token: *t})
	if err != nil {
		return nil, fmt.Errorf("encode token: %w", err)
	}
	return b, nil
}

// UnmarshalBlob decodes a blob written by MarshalBlob.
func UnmarshalBlob(data []byte) (*Token, error) {
	var b blob
	if err := json.Unmarshal(data, &b); err != nil {
		// The error of encoding/json can quote the input: do not wrap it.
		return nil, fmt.Errorf("decode stored token: not valid JSON (%d bytes)", len(data))
	}
	if b.Version != blobVersion {
		return nil, fmt.Errorf("decode stored token: unknown version %d", b.Version)
	}
	if b.AccessToken == "" && b.RefreshToken == "" {
		return nil, fmt.Errorf("decode stored token: it holds neither an access nor a refresh token")
	}
	return &b.Token, nil
}

// OAuth2 returns the token as an *oauth2.Token (with instance_url and id as
// extras).
func (t *Token) OAuth2() *oauth2.Token {
	o := &oauth2.Token{AccessToken: t.AccessToken, TokenType: t.TokenType, RefreshToken: t.RefreshToken, Expiry: t.Expiry}
	extra := map[string]any{}
	for k, v := range t.Extra {
		extra[k] = v
	}
	if t.InstanceURL != "" {
		extra["instance_url"] = t.InstanceURL
	}
	if t.ID != "" {
		extra["id"] = t.ID
	}
	if len(extra) > 0 {
		o = o.WithExtra(extra)
	}
	return o
}

// expiresWithin reports whether the token expires within d of now.
func (t *Token) expiresWithin(now time.Time, d time.Duration) bool {
	return !t.Expiry.IsZero() && !now.Add(d).Before(t.Expiry)
}

// String implements fmt.Stringer without the secrets.
func (t Token) String() string {
	exp := "until rejected"
	if !t.Expiry.IsZero() {
		exp = t.Expiry.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("Token{type=%s instance=%s expiry=%s access=[redacted] refresh=%s}",
		t.TokenType, t.InstanceURL, exp, map[bool]string{true: "[redacted]", false: "none"}[t.RefreshToken != ""])
}

// GoString implements fmt.GoStringer without the secrets.
func (t Token) GoString() string { return t.String() }

// clone returns a deep copy.
func (t *Token) clone() *Token {
	c := *t
	c.Scopes = append([]string(nil), t.Scopes...)
	if t.Extra != nil {
		c.Extra = make(map[string]string, len(t.Extra))
		for k, v := range t.Extra {
			c.Extra[k] = v
		}
	}
	return &c
}
