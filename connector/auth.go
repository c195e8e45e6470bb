package connector

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/oauth2"
)

// ErrNoRefresh is returned by an Authorizer that cannot get a new token
// (a static token): the 401 is returned to the caller as it is.
var ErrNoRefresh = errors.New("token cannot be refreshed")

// Authorizer supplies the token the HTTP stack sends, and a new one when
// the CRM rejects it. oauth.Source implements it; StaticToken and
// FromTokenSource adapt simpler sources.
type Authorizer interface {
	// AccessToken returns a valid token, refreshing it ahead of expiry.
	AccessToken(ctx context.Context) (*oauth2.Token, error)
	// ForceRefresh returns a token other than rejected: a new one, or the
	// one another goroutine already got. Concurrent callers share one
	// refresh.
	ForceRefresh(ctx context.Context, rejected *oauth2.Token) (*oauth2.Token, error)
}

// StaticToken is an Authorizer for a token that never changes (a HubSpot
// private-app token). ForceRefresh returns ErrNoRefresh.
func StaticToken(token string) Authorizer {
	return staticToken{tok: &oauth2.Token{AccessToken: token, TokenType: "Bearer"}}
}

type staticToken struct{ tok *oauth2.Token }

func (s staticToken) AccessToken(context.Context) (*oauth2.Token, error) {
	if s.tok.AccessToken == "" {
		return nil, errors.New("access token is empty")
	}
	return s.tok, nil
}

func (s staticToken) ForceRefresh(context.Context, *oauth2.Token) (*oauth2.Token, error) {
	return nil, ErrNoRefresh
}

// String never shows the token.
func (s staticToken) String() string { return "StaticToken([redacted])" }

// FromTokenSource adapts an oauth2.TokenSource (which refreshes on expiry
// but cannot be forced to refresh): ForceRefresh returns ErrNoRefresh.
func FromTokenSource(ts oauth2.TokenSource) Authorizer { return tokenSource{ts} }

type tokenSource struct{ ts oauth2.TokenSource }

func (t tokenSource) AccessToken(context.Context) (*oauth2.Token, error) {
	tok, err := t.ts.Token()
	if err != nil {
		return nil, fmt.Errorf("get token: %w", err)
	}
	return tok, nil
}

func (t tokenSource) ForceRefresh(context.Context, *oauth2.Token) (*oauth2.Token, error) {
	return nil, ErrNoRefresh
}
