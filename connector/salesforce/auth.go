package salesforce

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"healthsync/connector/oauth"
)

// Scopes are the OAuth scopes healthsync asks for: the REST API and a
// refresh token.
var Scopes = []string{"api", "refresh_token"}

// oauthConfig is the connected app as the oauth package needs it.
func oauthConfig(cfg Config, client *http.Client) *oauth.Config {
	base := cfg.loginBase()
	return &oauth.Config{
		Connector:    "salesforce",
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		AuthURL:      base + "/services/oauth2/authorize",
		TokenURL:     base + "/services/oauth2/token",
		Scopes:       Scopes,
		HTTPClient:   client,

		UnreachableHint: loginHint,
	}
}

// LoginOptions tunes Login. The zero value is usable.
type LoginOptions struct {
	// Out gets the authorize URL (default os.Stderr).
	Out io.Writer
	// OpenBrowser opens the authorize URL (default: the desktop's browser).
	// Tests drive the login page with an http.Client here.
	OpenBrowser func(ctx context.Context, url string) error
	// Timeout bounds the wait for the callback (default 5 minutes).
	Timeout time.Duration
	// HTTP calls the token endpoint (default: a client with a 60 s timeout).
	HTTP *http.Client
}

// Login runs `healthsync auth salesforce`: the web-server flow with PKCE
// and state through a loopback callback on 127.0.0.1
// (HEALTHSYNC_SALESFORCE_CALLBACK_PORT, random when 0), against the login
// host of cfg (production, sandbox or My Domain). The token, with the
// org's instance URL, is saved in tokens under connection (the store
// encrypts it). It returns the token (which prints redacted).
func Login(ctx context.Context, cfg Config, tokens oauth.TokenStore, connection string, opts LoginOptions) (*oauth.Token, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("salesforce config: %w", err)
	}
	if tokens == nil {
		return nil, errors.New("salesforce login: no token store to save the token in")
	}
	if connection == "" {
		connection = "salesforce"
	}
	tok, err := oauth.Login(ctx, oauthConfig(cfg, opts.HTTP), oauth.LoginOptions{
		ListenAddr:  "127.0.0.1:" + strconv.Itoa(cfg.CallbackPort),
		Timeout:     opts.Timeout,
		Out:         opts.Out,
		OpenBrowser: opts.OpenBrowser,
	})
	if err != nil {
		return nil, fmt.Errorf("salesforce %w", err)
	}
	if tok.InstanceURL == "" {
		return nil, errors.New("salesforce login: the token response has no instance_url")
	}
	if tok.RefreshToken == "" {
		return nil, errors.New("salesforce login: no refresh token was issued: add the \"Perform requests at any time (refresh_token, offline_access)\" scope to the connected app")
	}
	blob, err := tok.MarshalBlob()
	if err != nil {
		return nil, err
	}
	if err := tokens.SaveToken(ctx, connection, blob); err != nil {
		return nil, fmt.Errorf("salesforce login: save token: %w", err)
	}
	return tok, nil
}
