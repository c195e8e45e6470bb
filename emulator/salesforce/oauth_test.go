package salesforce

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"
)

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// loginViaPage drives the authorize page like a browser: GET the form,
// POST the credentials, follow the redirect to the callback server.
func loginViaPage(t *testing.T, b *bundle, cfg *oauth2.Config, verifier, password string) (code, state string, page string) {
	t.Helper()
	type cb struct{ code, state, err string }
	got := make(chan cb, 1)
	callback := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- cb{r.URL.Query().Get("code"), r.URL.Query().Get("state"), r.URL.Query().Get("error")}
		_, _ = io.WriteString(w, "you may close this window")
	}))
	defer callback.Close()
	cfg.RedirectURL = callback.URL + "/callback"
	authURL := cfg.AuthCodeURL("state-123", oauth2.S256ChallengeOption(verifier))
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	resp, err := client.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `<form method="post"`) {
		t.Fatalf("authorize page: %d %s", resp.StatusCode, body)
	}
	form := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(string(body), -1) {
		form.Set(m[1], htmlUnescape(m[2]))
	}
	form.Set("username", b.s.Credentials().Username)
	form.Set("pw", password)
	form.Set("action", "allow")
	resp, err = client.PostForm(b.ts.URL+"/services/oauth2/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	select {
	case c := <-got:
		if c.err != "" {
			t.Fatalf("callback error %s", c.err)
		}
		return c.code, c.state, string(body)
	default:
		return "", "", string(body)
	}
}

func htmlUnescape(s string) string {
	r := strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">")
	return r.Replace(s)
}

func oauthConfig(b *bundle) *oauth2.Config {
	c := b.s.Credentials()
	return &oauth2.Config{
		ClientID: c.ClientID, ClientSecret: c.ClientSecret, Scopes: []string{"api", "refresh_token"},
		Endpoint: oauth2.Endpoint{AuthURL: b.ts.URL + "/services/oauth2/authorize", TokenURL: b.ts.URL + "/services/oauth2/token", AuthStyle: oauth2.AuthStyleInParams},
	}
}

func TestLoginPageAuthorizationCodeWithPKCE(t *testing.T) {
	t.Parallel()
	b := setup(t, 5, Options{})
	cfg := oauthConfig(b)
	verifier := oauth2.GenerateVerifier()

	// Wrong password: the page comes back with an error, no redirect.
	code, _, page := loginViaPage(t, b, cfg, verifier, "wrong")
	if code != "" || !strings.Contains(page, "Please check your username and password") {
		t.Fatalf("wrong password: code %q page %s", code, page)
	}

	code, state, _ := loginViaPage(t, b, cfg, verifier, b.s.Credentials().Password)
	if code == "" || state != "state-123" {
		t.Fatalf("code %q state %q", code, state)
	}
	tok, err := cfg.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if tok.RefreshToken == "" || tok.Extra("instance_url") != b.ts.URL || !strings.Contains(tok.Extra("id").(string), "/id/"+b.s.OrgID()+"/") {
		t.Fatalf("token %+v", tok)
	}
	// The token works with the oauth2 client, and the identity URL answers.
	client := cfg.Client(context.Background(), tok)
	resp, err := client.Get(b.ts.URL + "/services/data/v60.0/query?q=" + url.QueryEscape("SELECT Id FROM Account LIMIT 1"))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("query with exchanged token: %v %v", err, resp)
	}
	resp.Body.Close()
	resp, err = client.Get(tok.Extra("id").(string))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("identity URL: %v %v", err, resp)
	}
	resp.Body.Close()
	resp, err = client.Get(b.ts.URL + "/services/oauth2/userinfo")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("userinfo: %v %v", err, resp)
	}
	resp.Body.Close()

	// The code is single-use.
	if _, err := cfg.Exchange(context.Background(), code, oauth2.VerifierOption(verifier)); err == nil {
		t.Error("a code exchanged twice")
	}
}

func TestPKCEBadVerifier(t *testing.T) {
	t.Parallel()
	b := setup(t, 0, Options{})
	cfg := oauthConfig(b)
	code, _, _ := loginViaPage(t, b, cfg, oauth2.GenerateVerifier(), b.s.Credentials().Password)
	_, err := cfg.Exchange(context.Background(), code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" || re.ErrorDescription != "invalid code verifier" || re.Response.StatusCode != 400 {
		t.Fatalf("bad verifier: %v", err)
	}
	code, _, _ = loginViaPage(t, b, cfg, oauth2.GenerateVerifier(), b.s.Credentials().Password)
	c := b.s.Credentials()
	out := b.tokenRequest(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {c.ClientID}, "client_secret": {c.ClientSecret}, "redirect_uri": {cfg.RedirectURL}})
	if out["error"] != "invalid_request" || out["_status"] != 400 {
		t.Fatalf("missing verifier: %v", out)
	}
}

func TestTokenErrors(t *testing.T) {
	t.Parallel()
	b := setup(t, 0, Options{})
	c := b.s.Credentials()
	tests := []struct {
		form url.Values
		want string
	}{
		{url.Values{"grant_type": {"magic"}}, "unsupported_grant_type"},
		{url.Values{"grant_type": {"refresh_token"}, "client_id": {"nope"}, "refresh_token": {"x"}}, "invalid_client_id"},
		{url.Values{"grant_type": {"refresh_token"}, "client_id": {c.ClientID}, "refresh_token": {"5Aep861bogus"}}, "invalid_grant"},
		{url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ClientID}, "client_secret": {"wrong"}}, "invalid_client"},
		{url.Values{"grant_type": {"password"}, "client_id": {c.ClientID}, "client_secret": {c.ClientSecret}, "username": {c.Username}, "password": {"bad"}}, "invalid_grant"},
		{url.Values{"grant_type": {"authorization_code"}, "client_id": {c.ClientID}, "client_secret": {c.ClientSecret}, "code": {"nope"}}, "invalid_grant"},
	}
	for _, tt := range tests {
		out := b.tokenRequest(tt.form)
		if out["error"] != tt.want || out["_status"] != 400 || out["error_description"] == "" {
			t.Errorf("%v: got %v, want %s", tt.form, out, tt.want)
		}
	}
	// client_credentials works with the right secret.
	out := b.tokenRequest(url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ClientID}, "client_secret": {c.ClientSecret}})
	if out["access_token"] == nil || out["refresh_token"] != nil {
		t.Errorf("client_credentials: %v", out)
	}
	// Wrong content type.
	resp, err := http.Post(b.ts.URL+"/services/oauth2/token", "application/json", strings.NewReader(`{}`))
	if err != nil || resp.StatusCode != 400 {
		t.Errorf("JSON body: %v %v", err, resp.StatusCode)
	}
	resp.Body.Close()
}

func signJWT(t *testing.T, key *rsa.PrivateKey, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestJWTBearer(t *testing.T) {
	t.Parallel()
	b := setup(t, 0, Options{})
	c := b.s.Credentials()
	block, _ := pem.Decode(c.PrivateKeyPEM)
	key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	exp := testNow.Add(3 * time.Minute).Unix()
	good := jwt.MapClaims{"iss": c.ClientID, "sub": c.Username, "aud": b.ts.URL, "exp": exp}
	with := func(k string, v any) jwt.MapClaims {
		m := jwt.MapClaims{}
		for a, x := range good {
			m[a] = x
		}
		m[k] = v
		return m
	}
	tests := []struct {
		name   string
		key    *rsa.PrivateKey
		claims jwt.MapClaims
		err    string
		desc   string
	}{
		{"good", key, good, "", ""},
		{"login host audience", key, with("aud", "https://login.salesforce.com"), "", ""},
		{"forged signature", forged, good, "invalid_grant", "invalid assertion"},
		{"wrong audience", key, with("aud", "https://evil.example.com"), "invalid_grant", "audience is invalid"},
		{"expired", key, with("exp", testNow.Add(-time.Minute).Unix()), "invalid_grant", "expired authorization code"},
		{"no expiry", key, jwt.MapClaims{"iss": c.ClientID, "sub": c.Username, "aud": b.ts.URL}, "invalid_grant", "invalid assertion"},
		{"wrong issuer", key, with("iss", "someone-else"), "invalid_client_id", "client identifier invalid"},
		{"unknown user", key, with("sub", "nobody@example.com"), "invalid_grant", "user hasn't approved this consumer"},
	}
	for _, tt := range tests {
		out := b.tokenRequest(url.Values{"grant_type": {grantJWT}, "assertion": {signJWT(t, tt.key, tt.claims)}})
		if tt.err == "" {
			if out["access_token"] == nil || out["refresh_token"] != nil {
				t.Errorf("%s: %v", tt.name, out)
			}
			continue
		}
		if out["error"] != tt.err || out["error_description"] != tt.desc || out["_status"] != 400 {
			t.Errorf("%s: got %v, want %s %q", tt.name, out, tt.err, tt.desc)
		}
	}
	// A token signed with HS256 using the public key as secret is refused.
	hs, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, good).SignedString(c.CertificatePEM)
	if out := b.tokenRequest(url.Values{"grant_type": {grantJWT}, "assertion": {hs}}); out["error"] != "invalid_grant" {
		t.Errorf("HS256 assertion: %v", out)
	}
}

func TestSessionIdleExpiryAndRefresh(t *testing.T) {
	t.Parallel()
	b := setup(t, 3, Options{SessionIdle: 30 * time.Minute, RotateRefreshTokens: true})
	cfg := oauthConfig(b)
	verifier := oauth2.GenerateVerifier()
	code, _, _ := loginViaPage(t, b, cfg, verifier, b.s.Credentials().Password)
	tok, err := cfg.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	b.token = tok.AccessToken
	if r := b.do("GET", "limits", nil); r.status != 200 {
		t.Fatalf("fresh token: %d", r.status)
	}
	b.clock.Add(29 * time.Minute)
	if r := b.do("GET", "limits", nil); r.status != 200 {
		t.Fatalf("token used within idle time: %d", r.status)
	}
	b.clock.Add(31 * time.Minute)
	r := b.do("GET", "limits", nil)
	if code, msg := r.errorCode(t); r.status != 401 || code != "INVALID_SESSION_ID" || msg != "Session expired or invalid" {
		t.Fatalf("idle token: %d %s", r.status, r.body)
	}
	c := b.s.Credentials()
	out := b.tokenRequest(url.Values{"grant_type": {"refresh_token"}, "client_id": {c.ClientID}, "client_secret": {c.ClientSecret}, "refresh_token": {tok.RefreshToken}})
	if out["access_token"] == nil || out["refresh_token"] == nil || out["refresh_token"] == tok.RefreshToken {
		t.Fatalf("refresh with rotation: %v", out)
	}
	b.token = out["access_token"].(string)
	if r := b.do("GET", "limits", nil); r.status != 200 {
		t.Fatalf("refreshed token: %d", r.status)
	}
	// The rotated-out refresh token is dead.
	old := b.tokenRequest(url.Values{"grant_type": {"refresh_token"}, "client_id": {c.ClientID}, "refresh_token": {tok.RefreshToken}})
	if old["error"] != "invalid_grant" || old["error_description"] != "expired access/refresh token" {
		t.Fatalf("old refresh token: %v", old)
	}
	// Revoking the refresh token kills its access tokens too.
	resp, err := http.PostForm(b.ts.URL+"/services/oauth2/revoke", url.Values{"token": {out["refresh_token"].(string)}})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("revoke: %v %v", err, resp)
	}
	resp.Body.Close()
	if r := b.do("GET", "limits", nil); r.status != 401 {
		t.Fatalf("access token after revoke: %d", r.status)
	}
}

func TestSessionExpiryAfterNCalls(t *testing.T) {
	t.Parallel()
	b := setup(t, 0, Options{Faults: Faults{SessionCallLimit: 3}})
	for i := 0; i < 3; i++ {
		if r := b.do("GET", "limits", nil); r.status != 200 {
			t.Fatalf("call %d: %d", i, r.status)
		}
	}
	if r := b.do("GET", "limits", nil); r.status != 401 {
		t.Fatalf("call 4: %d, want 401", r.status)
	}
}
