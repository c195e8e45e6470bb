package hubspot_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"healthsync/emulator/hubspot"
)

// authorize walks the consent page: GET shows it, POST allow redirects with
// a code and the state.
func authorize(t *testing.T, b *bundle, scope string) (code string) {
	t.Helper()
	creds := b.srv.Credentials()
	q := url.Values{"client_id": {creds.ClientID}, "redirect_uri": {"http://127.0.0.1:9999/callback"},
		"scope": {scope}, "state": {"st4te"}}
	resp, err := b.ts.Client().Get(b.ts.URL + "/oauth/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("consent page: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	q.Set("decision", "allow")
	noFollow := *b.ts.Client()
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err = noFollow.PostForm(b.ts.URL+"/oauth/authorize", q)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("approve: status %d", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if loc.Query().Get("state") != "st4te" || loc.Query().Get("code") == "" || loc.Host != "127.0.0.1:9999" {
		t.Fatalf("redirect %s: want code and state on the redirect_uri", loc)
	}
	return loc.Query().Get("code")
}

func oauthConfig(b *bundle) *oauth2.Config {
	creds := b.srv.Credentials()
	return &oauth2.Config{
		ClientID: creds.ClientID, ClientSecret: creds.ClientSecret,
		RedirectURL: "http://127.0.0.1:9999/callback",
		Endpoint: oauth2.Endpoint{AuthURL: b.ts.URL + "/oauth/authorize", TokenURL: b.ts.URL + "/oauth/v1/token",
			AuthStyle: oauth2.AuthStyleInParams},
	}
}

func TestOAuthFlowExpiryAndRefresh(t *testing.T) {
	t.Parallel()
	b := setup(t, noLimits())
	code := authorize(t, b, "crm.objects.companies.read oauth")
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, b.ts.Client())
	cfg := oauthConfig(b)
	tok, err := cfg.Exchange(ctx, code)
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if tok.RefreshToken == "" || tok.TokenType != "bearer" {
		t.Fatalf("token = %+v", tok)
	}
	if got := tok.Extra("expires_in"); got != float64(1800) {
		t.Fatalf("expires_in = %v, want 1800", got)
	}
	// The code is single use.
	if _, err := cfg.Exchange(ctx, code); err == nil {
		t.Fatal("second exchange of the same code succeeded")
	}
	b.callAs(tok.AccessToken, "GET", "/crm/v3/objects/companies", nil).must(t, 200)
	// Granted scopes only: contacts were not requested.
	r := b.callAs(tok.AccessToken, "GET", "/crm/v3/objects/contacts", nil)
	r.expectError(t, 403, "MISSING_SCOPES")

	info := b.call("GET", "/oauth/v1/access-tokens/"+tok.AccessToken, nil).must(t, 200)
	if info.body["token_type"] != "access" || info.body["hub_id"] != float64(62515) {
		t.Fatalf("access token info = %s", info.raw)
	}
	b.clock.Add(29*time.Minute + 59*time.Second)
	b.callAs(tok.AccessToken, "GET", "/crm/v3/objects/companies", nil).must(t, 200)
	b.clock.Add(time.Second)
	r = b.callAs(tok.AccessToken, "GET", "/crm/v3/objects/companies", nil)
	r.expectError(t, 401, "EXPIRED_AUTHENTICATION")
	if !strings.Contains(r.str("message"), "expired") {
		t.Fatalf("message = %q", r.str("message"))
	}

	// Refresh: a new access token works; the refresh token stays the same.
	tok.Expiry = time.Now().Add(-time.Minute)
	fresh, err := cfg.TokenSource(ctx, tok).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if fresh.AccessToken == tok.AccessToken || fresh.RefreshToken != tok.RefreshToken {
		t.Fatalf("refresh gave %+v", fresh)
	}
	b.callAs(fresh.AccessToken, "GET", "/crm/v3/objects/companies", nil).must(t, 200)

	rinfo := b.call("GET", "/oauth/v1/refresh-tokens/"+tok.RefreshToken, nil).must(t, 200)
	if rinfo.body["token_type"] != "refresh" || rinfo.body["client_id"] != b.srv.Credentials().ClientID {
		t.Fatalf("refresh token info = %s", rinfo.raw)
	}
	b.call("DELETE", "/oauth/v1/refresh-tokens/"+tok.RefreshToken, nil).must(t, 204)
	_, err = cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("refresh with a revoked token: %v, want invalid_grant", err)
	}
}

func TestBadRefreshTokenBody(t *testing.T) {
	t.Parallel()
	b := setup(t, noLimits())
	creds := b.srv.Credentials()
	resp, err := b.ts.Client().PostForm(b.ts.URL+"/oauth/v1/token", url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {"na1-nope"},
		"client_id": {creds.ClientID}, "client_secret": {creds.ClientSecret}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := readResponse(t, resp)
	if r.status != 400 || r.str("status") != "BAD_REFRESH_TOKEN" || r.str("message") == "" || r.str("error") != "invalid_grant" {
		t.Fatalf("bad refresh = %d %s", r.status, r.raw)
	}
	for _, tc := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "client_id": {"nope"}}, "BAD_CLIENT_ID"},
		{url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "client_id": {creds.ClientID}, "client_secret": {"bad"}}, "BAD_CLIENT_SECRET"},
		{url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "client_id": {creds.ClientID}, "client_secret": {creds.ClientSecret}}, "BAD_AUTH_CODE"},
		{url.Values{"grant_type": {"password"}, "client_id": {creds.ClientID}, "client_secret": {creds.ClientSecret}}, "BAD_GRANT_TYPE"},
	} {
		resp, err := b.ts.Client().PostForm(b.ts.URL+"/oauth/v1/token", tc.form)
		if err != nil {
			t.Fatal(err)
		}
		r := readResponse(t, resp)
		resp.Body.Close()
		if r.status != 400 || r.str("status") != tc.want {
			t.Errorf("%v: %d %s, want 400 %s", tc.form, r.status, r.raw, tc.want)
		}
	}
}

func TestAuthorizeRejectsBadRequests(t *testing.T) {
	t.Parallel()
	b := setup(t, hubspot.Options{RedirectURIs: []string{"http://localhost:1/cb"}})
	creds := b.srv.Credentials()
	for name, q := range map[string]url.Values{
		"unknown client":   {"client_id": {"x"}, "redirect_uri": {"http://localhost:1/cb"}},
		"foreign redirect": {"client_id": {creds.ClientID}, "redirect_uri": {"http://evil.example/cb"}},
		"unknown scope":    {"client_id": {creds.ClientID}, "redirect_uri": {"http://localhost:1/cb"}, "scope": {"everything"}},
	} {
		resp, err := b.ts.Client().Get(b.ts.URL + "/oauth/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("%s: status %d, want 400", name, resp.StatusCode)
		}
	}
}

func TestPKCEAndAutoApprove(t *testing.T) {
	t.Parallel()
	b := setup(t, hubspot.Options{AutoApprove: true, RateLimits: hubspot.RateLimits{Disabled: true}})
	cfg := oauthConfig(b)
	verifier := oauth2.GenerateVerifier()
	noFollow := *b.ts.Client()
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noFollow.Get(cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	code := loc.Query().Get("code")
	if resp.StatusCode != 302 || code == "" {
		t.Fatalf("auto approve: %d %s", resp.StatusCode, loc)
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, b.ts.Client())
	if _, err := cfg.Exchange(ctx, code, oauth2.VerifierOption("wrong-verifier-wrong-verifier-wrong-verifier")); err == nil {
		t.Fatal("exchange with a wrong PKCE verifier succeeded")
	}
	resp, _ = noFollow.Get(cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)))
	resp.Body.Close()
	loc, _ = url.Parse(resp.Header.Get("Location"))
	if _, err := cfg.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier)); err != nil {
		t.Fatalf("exchange with the right verifier: %v", err)
	}
}

func TestBadTokensAndMissingScopes(t *testing.T) {
	t.Parallel()
	b := setup(t, noLimits())
	b.callAs("", "GET", "/crm/v3/objects/companies", nil).expectError(t, 401, "INVALID_AUTHENTICATION")
	b.callAs("pat-na1-unknown", "GET", "/crm/v3/objects/companies", nil).expectError(t, 401, "INVALID_AUTHENTICATION")

	limited := b.srv.NewPrivateAppToken("crm.objects.companies.read")
	b.callAs(limited, "GET", "/crm/v3/objects/companies", nil).must(t, 200)
	r := b.callAs(limited, "POST", "/crm/v3/objects/companies", map[string]any{"properties": map[string]string{"name": "x"}})
	r.expectError(t, 403, "MISSING_SCOPES")
	errs, _ := r.body["errors"].([]any)
	first, _ := errs[0].(map[string]any)
	ctx, _ := first["context"].(map[string]any)
	scopes, _ := ctx["requiredGranularScopes"].([]any)
	if len(scopes) != 1 || scopes[0] != "crm.objects.companies.write" {
		t.Fatalf("missing-scope body names %v, want crm.objects.companies.write: %s", scopes, r.raw)
	}
	b.callAs(limited, "GET", "/crm/v3/owners", nil).expectError(t, 403, "MISSING_SCOPES")
	b.callAs(limited, "POST", "/crm/v3/properties/companies", map[string]any{}).expectError(t, 403, "MISSING_SCOPES")
}

func TestCredentialsAndEnvLines(t *testing.T) {
	t.Parallel()
	srv := hubspot.New(hubspot.Options{})
	c := srv.Credentials()
	if !strings.HasPrefix(c.PrivateAppToken, "pat-na1-") || c.ClientID == "" || c.ClientSecret == "" {
		t.Fatalf("credentials = %+v", c)
	}
	lines := srv.EnvLines("http://127.0.0.1:8081/")
	want := map[string]string{
		"HEALTHSYNC_CRM":                   "hubspot",
		"HEALTHSYNC_HUBSPOT_BASE_URL":      "http://127.0.0.1:8081",
		"HEALTHSYNC_HUBSPOT_TOKEN":         c.PrivateAppToken,
		"HEALTHSYNC_HUBSPOT_CLIENT_ID":     c.ClientID,
		"HEALTHSYNC_HUBSPOT_CLIENT_SECRET": c.ClientSecret,
		"HEALTHSYNC_HUBSPOT_AUTH_URL":      "http://127.0.0.1:8081/oauth/authorize",
	}
	if len(lines) != len(want) {
		t.Fatalf("lines = %v", lines)
	}
	for _, l := range lines {
		k, v, _ := strings.Cut(l, "=")
		if want[k] != v {
			t.Errorf("%s = %q, want %q", k, v, want[k])
		}
	}
}

// oauthToken runs the authorization-code flow on an AutoApprove portal and
// returns an access token.
func oauthToken(t *testing.T, b *bundle) string {
	t.Helper()
	cfg := oauthConfig(b)
	noFollow := *b.ts.Client()
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noFollow.Get(cfg.AuthCodeURL("s"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, b.ts.Client())
	tok, err := cfg.Exchange(ctx, loc.Query().Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}
