package connector

import (
	"context"
	"errors"

	"golang.org/x/oauth2"
)

// ErrNoRefresh is returned by an Authorizer that cannot get a new token
// (a static token): the 401 is returned to the caller as it is.
var ErrNoRefresh = errors.New("token cannot be refreshed")

// Authorizer supplies the token the HTTP stack sends, and a new one when
// the CRM rejects it. oauth.Source implements it; StaticToken adapts a
// token that never changes.
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
