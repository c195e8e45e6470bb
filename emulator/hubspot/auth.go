package hubspot

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strings"
	stdsync "sync"
	"time"
)

// Scopes the emulator knows; private-app tokens from Credentials hold all.
var knownScopes = []string{
	"oauth",
	"crm.objects.companies.read", "crm.objects.companies.write",
	"crm.objects.contacts.read", "crm.objects.contacts.write",
	"crm.objects.deals.read", "crm.objects.deals.write",
	"crm.objects.owners.read",
	"crm.schemas.companies.read", "crm.schemas.companies.write",
	"crm.schemas.contacts.read", "crm.schemas.contacts.write",
	"crm.schemas.deals.read", "crm.schemas.deals.write",
}

func allScopes() []string { return append([]string(nil), knownScopes...) }

type accessToken struct {
	token    string
	scopes   []string
	private  bool
	clientID string
	refresh  string
	expires  time.Time // zero for private-app tokens
}

type refreshToken struct {
	token    string
	clientID string
	scopes   []string
}

type authCode struct {
	clientID, redirectURI string
	scopes                []string
	challenge             string
	expires               time.Time
}

// authState holds issued tokens and codes.
type authState struct {
	mu       stdsync.Mutex
	access   map[string]*accessToken
	refresh  map[string]*refreshToken
	codes    map[string]*authCode
	privates []string
}

func (a *authState) init() {
	a.access = map[string]*accessToken{}
	a.refresh = map[string]*refreshToken{}
	a.codes = map[string]*authCode{}
}

func (a *authState) addPrivateApp(token string, scopes []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.access[token] = &accessToken{token: token, scopes: scopes, private: true}
	a.privates = append(a.privates, token)
}

// caller is the authenticated principal of an API call.
type caller struct {
	token   string
	rateKey string
	scopes  map[string]bool
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func randomUUID() string {
	h := randomHex(16)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// authenticate resolves the bearer token of an API call.
func (s *Server) authenticate(r *http.Request) (*caller, *apiError) {
	h := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		token, ok = strings.CutPrefix(h, "bearer ")
	}
	token = strings.TrimSpace(token)
	if !ok || token == "" {
		return nil, newAPIError(http.StatusUnauthorized, catInvalidAuth,
			"Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview")
	}
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	at, found := s.auth.access[token]
	if !found {
		return nil, newAPIError(http.StatusUnauthorized, catInvalidAuth,
			"Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview")
	}
	now := s.now()
	if !at.private && s.draw(s.faultsNow().TokenExpiryRate) && now.Before(at.expires) {
		at.expires = now
	}
	if !at.private && !now.Before(at.expires) {
		e := newAPIError(http.StatusUnauthorized, catExpiredAuth, "The OAuth token used to make this call expired %s ago.", agoText(now.Sub(at.expires)))
		e.Context = map[string]any{"expire time": []string{formatTime(at.expires)}}
		return nil, e
	}
	c := &caller{token: token, scopes: map[string]bool{}}
	for _, sc := range at.scopes {
		c.scopes[sc] = true
	}
	if at.private {
		c.rateKey = "pat:" + token
	} else {
		c.rateKey = "app:" + at.clientID
	}
	return c, nil
}

func agoText(d time.Duration) string {
	switch {
	case d >= 24*time.Hour:
		return fmt.Sprintf("%d day(s)", int(d/(24*time.Hour)))
	case d >= time.Hour:
		return fmt.Sprintf("%d hour(s)", int(d/time.Hour))
	case d >= time.Minute:
		return fmt.Sprintf("%d minute(s)", int(d/time.Minute))
	}
	return fmt.Sprintf("%d second(s)", int(d/time.Second))
}

// NewPrivateAppToken mints a private-app token holding exactly the given
// scopes, for testing 403 MISSING_SCOPES.
func (s *Server) NewPrivateAppToken(scopes ...string) string {
	token := "pat-na1-" + randomUUID()
	s.auth.addPrivateApp(token, append([]string(nil), scopes...))
	return token
}

// Credentials are what a client needs to reach the portal.
type Credentials struct {
	PrivateAppToken string   // pat-na1-…, all scopes
	ClientID        string   // OAuth app client id
	ClientSecret    string   // OAuth app client secret
	PortalID        int64    // hub id
	Scopes          []string // the scopes the OAuth app may request
}

// Credentials returns the portal's private-app token and OAuth app.
func (s *Server) Credentials() Credentials {
	return Credentials{
		PrivateAppToken: s.opts.PrivateAppToken,
		ClientID:        s.opts.ClientID,
		ClientSecret:    s.opts.ClientSecret,
		PortalID:        s.opts.PortalID,
		Scopes:          allScopes(),
	}
}

// EnvLines returns KEY=value lines configuring healthsync for this portal
// served at baseURL (no trailing slash).
func (s *Server) EnvLines(baseURL string) []string {
	baseURL = strings.TrimSuffix(baseURL, "/")
	return []string{
		"HEALTHSYNC_CRM=hubspot",
		"HEALTHSYNC_HUBSPOT_BASE_URL=" + baseURL,
		"HEALTHSYNC_HUBSPOT_TOKEN=" + s.opts.PrivateAppToken,
		"HEALTHSYNC_HUBSPOT_CLIENT_ID=" + s.opts.ClientID,
		"HEALTHSYNC_HUBSPOT_CLIENT_SECRET=" + s.opts.ClientSecret,
		"HEALTHSYNC_HUBSPOT_AUTH_URL=" + baseURL + "/oauth/authorize",
	}
}

// ClientLines returns lines for clients other than healthsync (a script,
// @hubspot/api-client, curl), labelled as such in a comment: the API base
// URL and the private-app access token (every scope; it does not expire),
// so a client can call the CRM API at once without an OAuth login.
func (s *Server) ClientLines(baseURL string) []string {
	baseURL = strings.TrimSuffix(baseURL, "/")
	return []string{
		"# For other clients (a script, @hubspot/api-client, curl); healthsync does not read these.",
		"# A private-app token with every scope, e.g.:",
		`#   curl -H "Authorization: Bearer $EMULATOR_HUBSPOT_ACCESS_TOKEN" "$EMULATOR_HUBSPOT_BASE_URL/crm/v3/objects/companies?limit=10"`,
		"EMULATOR_HUBSPOT_BASE_URL=" + baseURL,
		"EMULATOR_HUBSPOT_ACCESS_TOKEN=" + s.opts.PrivateAppToken,
	}
}

// ExpireAccessTokens makes every OAuth access token issued so far expired,
// as if its 30 minutes had passed (private-app tokens never expire).
func (s *Server) ExpireAccessTokens() {
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	now := s.now()
	for _, at := range s.auth.access {
		if !at.private {
			at.expires = now
		}
	}
}

// RevokeRefreshToken deletes a refresh token, as an uninstall does.
func (s *Server) RevokeRefreshToken(token string) {
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	delete(s.auth.refresh, token)
}

var consentPage = template.Must(template.New("consent").Parse(`<!DOCTYPE html>
<html><head><title>Connect app to HubSpot (emulated)</title></head>
<body>
<h1>Connect to your HubSpot account</h1>
<p>The app <code>{{.ClientID}}</code> wants access to portal {{.Portal}} with these scopes:</p>
<ul>{{range .Scopes}}<li><code>{{.}}</code></li>{{end}}</ul>
<form method="post" action="/oauth/authorize">
{{range $k, $v := .Hidden}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}<button type="submit" name="decision" value="allow">Connect app</button>
<button type="submit" name="decision" value="deny">Cancel</button>
</form>
</body></html>
`))

func (s *Server) redirectAllowed(uri string) bool {
	u, err := url.Parse(uri)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return false
	}
	if len(s.opts.RedirectURIs) == 0 {
		return true
	}
	for _, allowed := range s.opts.RedirectURIs {
		if allowed == uri {
			return true
		}
	}
	return false
}

func oauthPageError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!DOCTYPE html><html><body><h1>Couldn't complete the connection</h1><p>%s</p></body></html>\n", template.HTMLEscapeString(msg))
}

// handleAuthorize serves the consent page (GET) and its decision (POST).
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthPageError(w, http.StatusBadRequest, "The authorization request is malformed: "+err.Error())
		return
	}
	clientID := r.Form.Get("client_id")
	redirect := r.Form.Get("redirect_uri")
	if clientID != s.opts.ClientID {
		oauthPageError(w, http.StatusBadRequest, "Authorization failed because the client_id is missing or unknown. Check the app's client id.")
		return
	}
	if !s.redirectAllowed(redirect) {
		oauthPageError(w, http.StatusBadRequest, "Authorization failed because the redirect_uri is missing or does not match the app's redirect URLs.")
		return
	}
	scopes := strings.Fields(strings.ReplaceAll(r.Form.Get("scope"), "+", " "))
	scopes = append(scopes, strings.Fields(strings.ReplaceAll(r.Form.Get("optional_scope"), "+", " "))...)
	for _, sc := range scopes {
		if !contains(knownScopes, sc) {
			oauthPageError(w, http.StatusBadRequest, fmt.Sprintf("Authorization failed because the scope %q is not one this app may request.", sc))
			return
		}
	}
	if len(scopes) == 0 {
		scopes = allScopes()
	}
	if m := r.Form.Get("code_challenge_method"); r.Form.Get("code_challenge") != "" && m != "" && m != "S256" {
		oauthPageError(w, http.StatusBadRequest, "Only code_challenge_method=S256 is supported.")
		return
	}
	decision := r.Form.Get("decision")
	if r.Method == http.MethodGet && !s.opts.AutoApprove {
		hidden := map[string]string{}
		for _, k := range []string{"client_id", "redirect_uri", "scope", "optional_scope", "state", "code_challenge", "code_challenge_method"} {
			if v := r.Form.Get(k); v != "" {
				hidden[k] = v
			}
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = consentPage.Execute(w, map[string]any{"ClientID": clientID, "Portal": s.opts.PortalID, "Scopes": dedupe(scopes), "Hidden": hidden})
		return
	}
	target, _ := url.Parse(redirect)
	q := target.Query()
	if state := r.Form.Get("state"); state != "" {
		q.Set("state", state)
	}
	if r.Method == http.MethodPost && decision != "allow" {
		q.Set("error", "access_denied")
		q.Set("error_description", "The user declined to connect the app.")
		target.RawQuery = q.Encode()
		http.Redirect(w, r, target.String(), http.StatusFound)
		return
	}
	code := "na1-" + randomUUID()
	s.auth.mu.Lock()
	s.auth.codes[code] = &authCode{clientID: clientID, redirectURI: redirect, scopes: dedupe(scopes),
		challenge: r.Form.Get("code_challenge"), expires: s.now().Add(10 * time.Minute)}
	s.auth.mu.Unlock()
	q.Set("code", code)
	target.RawQuery = q.Encode()
	http.Redirect(w, r, target.String(), http.StatusFound)
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, v := range in {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return out
}

// oauthError is the body of a failed token request. HubSpot puts its own
// code in status; error and error_description are the RFC 6749 fields
// generic OAuth clients read.
type oauthError struct {
	Status      string `json:"status"`
	Message     string `json:"message"`
	CorrID      string `json:"correlationId"`
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func (s *Server) tokenError(w http.ResponseWriter, status int, code, rfc, msg string) {
	writeJSON(w, status, oauthError{Status: code, Message: msg, CorrID: s.correlationID(), Error: rfc, Description: msg})
}

// handleToken serves POST /oauth/v1/token.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		s.tokenError(w, http.StatusMethodNotAllowed, "BAD_REQUEST", "invalid_request", "use POST with a form-encoded body")
		return
	}
	if err := r.ParseForm(); err != nil {
		s.tokenError(w, http.StatusBadRequest, "BAD_REQUEST", "invalid_request", "the body must be form-encoded: "+err.Error())
		return
	}
	clientID, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok && clientID == "" {
		clientID, secret = u, p
	}
	if clientID != s.opts.ClientID {
		s.tokenError(w, http.StatusBadRequest, "BAD_CLIENT_ID", "invalid_client", "missing or unknown client id")
		return
	}
	if secret != s.opts.ClientSecret {
		s.tokenError(w, http.StatusBadRequest, "BAD_CLIENT_SECRET", "invalid_client", "missing or invalid client secret")
		return
	}
	var scopes []string
	var refresh string
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		code := r.PostForm.Get("code")
		s.auth.mu.Lock()
		ac, ok := s.auth.codes[code]
		if ok {
			delete(s.auth.codes, code) // single use
		}
		s.auth.mu.Unlock()
		if !ok || !s.now().Before(ac.expires) || ac.clientID != clientID {
			s.tokenError(w, http.StatusBadRequest, "BAD_AUTH_CODE", "invalid_grant", "missing or unknown auth code")
			return
		}
		if r.PostForm.Get("redirect_uri") != ac.redirectURI {
			s.tokenError(w, http.StatusBadRequest, "BAD_REDIRECT_URI", "invalid_grant", "redirect_uri does not match the one used to authorize")
			return
		}
		if ac.challenge != "" {
			sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
			if base64.RawURLEncoding.EncodeToString(sum[:]) != ac.challenge {
				s.tokenError(w, http.StatusBadRequest, "BAD_AUTH_CODE", "invalid_grant", "code_verifier does not match the code_challenge")
				return
			}
		}
		scopes = ac.scopes
		refresh = "na1-" + randomHex(4) + "-" + randomUUID()
		s.auth.mu.Lock()
		s.auth.refresh[refresh] = &refreshToken{token: refresh, clientID: clientID, scopes: scopes}
		s.auth.mu.Unlock()
	case "refresh_token":
		refresh = r.PostForm.Get("refresh_token")
		s.auth.mu.Lock()
		rt, ok := s.auth.refresh[refresh]
		s.auth.mu.Unlock()
		if !ok || rt.clientID != clientID {
			s.tokenError(w, http.StatusBadRequest, "BAD_REFRESH_TOKEN", "invalid_grant", "missing or invalid refresh token")
			return
		}
		scopes = rt.scopes
	default:
		s.tokenError(w, http.StatusBadRequest, "BAD_GRANT_TYPE", "unsupported_grant_type",
			fmt.Sprintf("grant_type %q is not supported: use authorization_code or refresh_token", r.PostForm.Get("grant_type")))
		return
	}
	access := "CK" + randomHex(24)
	s.auth.mu.Lock()
	s.auth.access[access] = &accessToken{token: access, scopes: scopes, clientID: clientID, refresh: refresh,
		expires: s.now().Add(s.opts.TokenLifetime)}
	s.auth.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":    "bearer",
		"access_token":  access,
		"refresh_token": refresh,
		"expires_in":    int(s.opts.TokenLifetime / time.Second),
		"hub_id":        s.opts.PortalID,
		"scopes":        scopes,
	})
}

// handleAccessTokenInfo serves GET /oauth/v1/access-tokens/{token}.
func (s *Server) handleAccessTokenInfo(w http.ResponseWriter, r *http.Request, token string) {
	if r.Method != http.MethodGet {
		s.writeError(w, newAPIError(http.StatusMethodNotAllowed, catValidation, "use GET"))
		return
	}
	s.auth.mu.Lock()
	at, ok := s.auth.access[token]
	s.auth.mu.Unlock()
	if !ok || at.private {
		s.writeError(w, newAPIError(http.StatusNotFound, catNotFound, "Access token not found"))
		return
	}
	now := s.now()
	if !now.Before(at.expires) {
		e := newAPIError(http.StatusUnauthorized, catExpiredAuth, "The OAuth token used to make this call expired %s ago.", agoText(now.Sub(at.expires)))
		s.writeError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"token": token, "user": "admin@example.com", "hub_domain": fmt.Sprintf("portal-%d.hubspot.emulator", s.opts.PortalID),
		"scopes": at.scopes, "hub_id": s.opts.PortalID, "app_id": 1000000 + s.opts.PortalID%1000,
		"expires_in": int(at.expires.Sub(now) / time.Second), "user_id": 9000101, "token_type": "access",
		"scope_to_scope_group_pks": []int{}, "trial_scopes": []string{}, "trial_scope_to_scope_group_pks": []int{},
	})
}

// handleRefreshTokenInfo serves GET and DELETE /oauth/v1/refresh-tokens/{token}.
func (s *Server) handleRefreshTokenInfo(w http.ResponseWriter, r *http.Request, token string) {
	s.auth.mu.Lock()
	rt, ok := s.auth.refresh[token]
	if ok && r.Method == http.MethodDelete {
		delete(s.auth.refresh, token)
	}
	s.auth.mu.Unlock()
	if !ok {
		s.writeError(w, newAPIError(http.StatusNotFound, catNotFound, "Refresh token not found"))
		return
	}
	switch r.Method {
	case http.MethodDelete:
		w.WriteHeader(http.StatusNoContent)
	case http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{
			"token": token, "user": "admin@example.com", "hub_domain": fmt.Sprintf("portal-%d.hubspot.emulator", s.opts.PortalID),
			"scopes": rt.scopes, "hub_id": s.opts.PortalID, "client_id": rt.clientID, "user_id": 9000101, "token_type": "refresh",
		})
	default:
		s.writeError(w, newAPIError(http.StatusMethodNotAllowed, catValidation, "use GET or DELETE"))
	}
}
