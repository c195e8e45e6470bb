package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"healthsync/connector"
)

// Config is an OAuth client of one CRM: its credentials and endpoints. The
// connectors fill it (Salesforce: {login host}/services/oauth2/authorize and
// /token; HubSpot: app.hubspot.com/oauth/authorize and
// api.hubapi.com/oauth/v1/token).
type Config struct {
	// Connector names the CRM in messages: "re-authorize with
	// `healthsync auth <Connector>`".
	Connector    string
	ClientID     string
	ClientSecret string `json:"-"`
	AuthURL      string
	TokenURL     string
	Scopes       []string
	// HTTPClient calls the token endpoint; nil means a client with a 60 s
	// timeout.
	HTTPClient *http.Client
	// Now is the clock for issued-at and expiry; nil means time.Now.
	Now func() time.Time
	// UnreachableHint is what a token endpoint that cannot be reached
	// tells the user to check, e.g. "check HEALTHSYNC_SALESFORCE_LOGIN_URL".
	UnreachableHint string
}

// Validate reports missing settings.
func (c *Config) Validate() error {
	var errs []error
	if c.ClientID == "" {
		errs = append(errs, errors.New("OAuth client ID is empty"))
	}
	for name, u := range map[string]string{"authorize URL": c.AuthURL, "token URL": c.TokenURL} {
		if u == "" {
			errs = append(errs, fmt.Errorf("OAuth %s is empty", name))
			continue
		}
		if p, err := url.Parse(u); err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			errs = append(errs, fmt.Errorf("OAuth %s %q is not an http(s) URL", name, u))
		}
	}
	return errors.Join(errs...)
}

// AuthCodeURL builds the authorize URL of the authorization-code flow with
// PKCE (S256).
func (c *Config) AuthCodeURL(redirectURI, state, challenge string, extra url.Values) string {
	v := url.Values{}
	v.Set("response_type", "code")
	v.Set("client_id", c.ClientID)
	v.Set("redirect_uri", redirectURI)
	if len(c.Scopes) > 0 {
		v.Set("scope", strings.Join(c.Scopes, " "))
	}
	v.Set("state", state)
	v.Set("code_challenge", challenge)
	v.Set("code_challenge_method", "S256")
	for k, vals := range extra {
		for _, x := range vals {
			v.Add(k, x)
		}
	}
	sep := "?"
	if strings.Contains(c.AuthURL, "?") {
		sep = "&"
	}
	return c.AuthURL + sep + v.Encode()
}

// Exchange trades an authorization code (and its PKCE verifier) for a token.
func (c *Config) Exchange(ctx context.Context, code, verifier, redirectURI string) (*Token, error) {
	form := url.Values{}
	form.Set("grant_type", "authorization_code")
	form.Set("code", code)
	form.Set("redirect_uri", redirectURI)
	form.Set("code_verifier", verifier)
	c.addClient(form)
	tok, err := postToken(ctx, c.httpClient(), c.TokenURL, c.UnreachableHint, form, c.now(), code, verifier, c.ClientSecret)
	if err != nil {
		return nil, fmt.Errorf("exchange authorization code: %w", err)
	}
	return tok, nil
}

// Refresh trades a refresh token for a new token. A refresh token the CRM
// no longer accepts (invalid_grant, HubSpot's BAD_REFRESH_TOKEN) gives an
// error wrapping connector.ErrReauthorize.
func (c *Config) Refresh(ctx context.Context, refreshToken string) (*Token, error) {
	form := url.Values{}
	form.Set("grant_type", "refresh_token")
	form.Set("refresh_token", refreshToken)
	c.addClient(form)
	tok, err := postToken(ctx, c.httpClient(), c.TokenURL, c.UnreachableHint, form, c.now(), refreshToken, c.ClientSecret)
	if err != nil {
		var apiErr *connector.APIError
		if errors.As(err, &apiErr) && (apiErr.Code == "invalid_grant" || apiErr.Code == "BAD_REFRESH_TOKEN") {
			return nil, reauthorize(c.Connector, fmt.Sprintf("%s refresh token rejected", c.Connector), apiErr)
		}
		return nil, fmt.Errorf("refresh %s token: %w", c.Connector, err)
	}
	return tok, nil
}

// RefreshGrant returns the Grant that refreshes a Source's token with its
// refresh token. A response without a new refresh token keeps the old one
// (Salesforce without rotation); one with a new one replaces it (rotation).
func (c *Config) RefreshGrant() Grant { return refreshGrant{c} }

type refreshGrant struct{ c *Config }

func (g refreshGrant) Grant(ctx context.Context, current *Token) (*Token, error) {
	if current == nil || current.RefreshToken == "" {
		return nil, reauthorize(g.c.Connector, fmt.Sprintf("no %s refresh token stored", g.c.Connector), nil)
	}
	return g.c.Refresh(ctx, current.RefreshToken)
}

func (c *Config) addClient(form url.Values) {
	form.Set("client_id", c.ClientID)
	if c.ClientSecret != "" {
		form.Set("client_secret", c.ClientSecret)
	}
}

func (c *Config) httpClient() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return defaultClient
}

func (c *Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

var defaultClient = &http.Client{Timeout: 60 * time.Second}

// maxTokenBody bounds a token endpoint's answer.
const maxTokenBody = 1 << 20

// maxExpiresIn bounds a token response's expires_in.
const maxExpiresIn = 365 * 24 * time.Hour

// postToken posts a form to a token endpoint and parses the answer. The
// secrets sent are removed from any error; an endpoint that cannot be
// reached is named, with hint (what to check).
func postToken(ctx context.Context, client *http.Client, tokenURL, hint string, form url.Values, now time.Time, secrets ...string) (*Token, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		var unreachable *connector.UnreachableError
		if errors.As(connector.Unreachable(req.URL, err, hint), &unreachable) {
			// Its message holds the host and the cause, no secret.
			return nil, fmt.Errorf("POST %s: %w", redactURL(tokenURL), unreachable)
		}
		return nil, fmt.Errorf("POST %s: %s", redactURL(tokenURL), connector.RedactSecrets(err.Error(), secrets...))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenBody))
	if err != nil {
		return nil, fmt.Errorf("read token response: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := connector.DecodeOAuth(resp.StatusCode, resp.Header, body)
		e.RedactSecrets(secrets...)
		return nil, e
	}
	return parseTokenResponse(resp.StatusCode, resp.Header, body, now)
}

// parseTokenResponse reads a token endpoint's JSON answer: the standard
// members, Salesforce's instance_url, id and issued_at (milliseconds as a
// string) and HubSpot's expires_in.
func parseTokenResponse(status int, h http.Header, body []byte, now time.Time) (*Token, error) {
	var raw map[string]any
	if err := json.Unmarshal(body, &raw); err != nil {
		// The body holds secrets: say only what is wrong with it.
		return nil, &connector.APIError{Status: status, Code: connector.CodeMalformedResponse,
			Message: fmt.Sprintf("token response is not JSON (%s, %d bytes)", h.Get("Content-Type"), len(body))}
	}
	str := func(k string) string {
		switch v := raw[k].(type) {
		case string:
			return v
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64)
		}
		return ""
	}
	t := &Token{
		AccessToken:  str("access_token"),
		RefreshToken: str("refresh_token"),
		TokenType:    str("token_type"),
		InstanceURL:  str("instance_url"),
		ID:           str("id"),
	}
	if t.AccessToken == "" {
		return nil, &connector.APIError{Status: status, Code: connector.CodeMalformedResponse,
			Message: "token response has no access_token"}
	}
	if s := str("scope"); s != "" {
		t.Scopes = strings.Fields(s)
	} else if list, ok := raw["scopes"].([]any); ok { // HubSpot lists them
		for _, v := range list {
			if s, ok := v.(string); ok {
				t.Scopes = append(t.Scopes, s)
			}
		}
	}
	t.IssuedAt = now.UTC()
	if ms, err := strconv.ParseInt(str("issued_at"), 10, 64); err == nil && ms > 0 {
		t.IssuedAt = time.UnixMilli(ms).UTC()
	}
	if secs, err := strconv.ParseFloat(str("expires_in"), 64); err == nil && secs > 0 {
		// Bounded, so that an absurd value cannot overflow into the past.
		t.Expiry = now.UTC().Add(time.Duration(min(secs, maxExpiresIn.Seconds()) * float64(time.Second)))
	}
	known := map[string]bool{"access_token": true, "refresh_token": true, "token_type": true, "instance_url": true,
		"id": true, "scope": true, "scopes": true, "issued_at": true, "expires_in": true, "id_token": true}
	for k := range raw {
		if known[k] {
			continue
		}
		if v := str(k); v != "" {
			if t.Extra == nil {
				t.Extra = map[string]string{}
			}
			t.Extra[k] = v
		}
	}
	return t, nil
}

// redactURL drops the query of a URL for messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "<invalid URL>"
	}
	u.RawQuery, u.User, u.Fragment = "", nil, ""
	return u.String()
}
