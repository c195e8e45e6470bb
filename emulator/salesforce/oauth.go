package salesforce

import (
	"crypto/hmac"
	"encoding/xml"
	"errors"
	"html/template"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const grantJWT = "urn:ietf:params:oauth:grant-type:jwt-bearer"

var loginPage = template.Must(template.New("login").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Login | Salesforce (HealthSync emulator)</title>
<style>body{font-family:sans-serif;background:#f3f3f3}form{background:#fff;width:340px;margin:60px auto;padding:24px;border-radius:4px}
input[type=text],input[type=password]{width:100%;padding:8px;margin:6px 0 14px}.error{color:#c23934}</style></head>
<body><form method="post" action="/services/oauth2/authorize" id="login_form">
<h2>Log in to the emulated org</h2>
{{if .Error}}<p class="error" id="error">{{.Error}}</p>{{end}}
<p><strong>{{.AppName}}</strong> is asking to access your data: <em>{{.Scope}}</em>. Logging in allows it.</p>
<label for="username">Username</label><input type="text" id="username" name="username" value="{{.Username}}">
<label for="password">Password</label><input type="password" id="password" name="pw">
{{range $k, $v := .Hidden}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}<button type="submit" name="action" value="allow" id="Login">Log In and Allow</button>
<button type="submit" name="action" value="deny" id="Deny">Deny</button>
</form></body></html>
`))

var authorizeParams = []string{"response_type", "client_id", "redirect_uri", "state", "scope", "code_challenge", "code_challenge_method", "prompt", "nonce"}

func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		writeMethodNotAllowed(w, "GET, POST")
		return
	}
	if err := r.ParseForm(); err != nil {
		authorizeErrorPage(w, "invalid_request", "malformed request: "+err.Error())
		return
	}
	form := r.Form
	if form.Get("client_id") != s.app.clientID {
		authorizeErrorPage(w, "invalid_client_id", "client identifier invalid")
		return
	}
	redirect := form.Get("redirect_uri")
	ru, err := url.Parse(redirect)
	if redirect == "" || err != nil || !ru.IsAbs() {
		authorizeErrorPage(w, "redirect_uri_mismatch", "redirect_uri must match configuration")
		return
	}
	if rt := form.Get("response_type"); rt != "code" {
		redirectWith(w, r, ru, url.Values{"error": {"unsupported_response_type"}, "error_description": {"response type not supported"}, "state": {form.Get("state")}})
		return
	}
	if m := form.Get("code_challenge_method"); form.Get("code_challenge") != "" && m != "" && m != "S256" {
		redirectWith(w, r, ru, url.Values{"error": {"invalid_request"}, "error_description": {"invalid code_challenge_method"}, "state": {form.Get("state")}})
		return
	}
	hidden := map[string]string{}
	for _, k := range authorizeParams {
		if v := form.Get(k); v != "" {
			hidden[k] = v
		}
	}
	scope := form.Get("scope")
	if scope == "" {
		scope = "api refresh_token"
	}
	page := struct {
		Error, AppName, Scope, Username string
		Hidden                          map[string]string
	}{AppName: "HealthSync", Scope: scope, Hidden: hidden}
	if r.Method == http.MethodGet {
		w.Header().Set("Content-Type", "text/html;charset=UTF-8")
		_ = loginPage.Execute(w, page)
		return
	}
	if form.Get("action") == "deny" {
		redirectWith(w, r, ru, url.Values{"error": {"access_denied"}, "error_description": {"end-user denied authorization"}, "state": {form.Get("state")}})
		return
	}
	userID, ok := s.checkPassword(form.Get("username"), form.Get("pw"))
	if !ok {
		page.Error = "Please check your username and password. If you still can't log in, contact your Salesforce administrator."
		page.Username = form.Get("username")
		w.Header().Set("Content-Type", "text/html;charset=UTF-8")
		_ = loginPage.Execute(w, page)
		return
	}
	code := "aPrx" + randomToken(60)
	s.authMu.Lock()
	s.codes[code] = &authCode{
		clientID: s.app.clientID, redirectURI: redirect, challenge: form.Get("code_challenge"),
		method: form.Get("code_challenge_method"), userID: userID, scope: scope,
		expires: s.clock.Now().Add(15 * time.Minute),
	}
	s.authMu.Unlock()
	v := url.Values{"code": {code}}
	if st := form.Get("state"); st != "" {
		v.Set("state", st)
	}
	redirectWith(w, r, ru, v)
}

func authorizeErrorPage(w http.ResponseWriter, code, desc string) {
	w.Header().Set("Content-Type", "text/html;charset=UTF-8")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = io.WriteString(w, "<!DOCTYPE html><html><body><h1>error="+template.HTMLEscapeString(code)+"</h1><p>"+template.HTMLEscapeString(desc)+"</p></body></html>")
}

func redirectWith(w http.ResponseWriter, r *http.Request, u *url.URL, v url.Values) {
	q := u.Query()
	for k, vs := range v {
		if len(vs) > 0 && vs[0] != "" {
			q.Set(k, vs[0])
		}
	}
	to := *u
	to.RawQuery = q.Encode()
	http.Redirect(w, r, to.String(), http.StatusFound)
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "must use HTTP POST")
		return
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/x-www-form-urlencoded" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "request must be application/x-www-form-urlencoded")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "malformed form body")
		return
	}
	f := r.PostForm
	switch f.Get("grant_type") {
	case "authorization_code":
		s.grantCode(w, r, f)
	case "refresh_token":
		s.grantRefresh(w, r, f)
	case grantJWT:
		s.grantJWTBearer(w, r, f)
	case "client_credentials":
		if !s.checkClient(w, f, true) {
			return
		}
		writeJSON(w, http.StatusOK, s.tokenResponse(r, s.userID, s.newSession(s.userID, ""), "", "api"))
	case "password":
		if !s.checkClient(w, f, true) {
			return
		}
		userID, ok := s.checkPassword(f.Get("username"), f.Get("password"))
		if !ok {
			writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "authentication failure")
			return
		}
		writeJSON(w, http.StatusOK, s.tokenResponse(r, userID, s.newSession(userID, ""), "", "api"))
	case "":
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant type not supported")
	default:
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant type not supported")
	}
}

// checkClient verifies client_id and, when given or required,
// client_secret. It writes the error itself.
func (s *Server) checkClient(w http.ResponseWriter, f url.Values, secretRequired bool) bool {
	if f.Get("client_id") != s.app.clientID {
		writeOAuthError(w, http.StatusBadRequest, "invalid_client_id", "client identifier invalid")
		return false
	}
	sec := f.Get("client_secret")
	if (secretRequired || sec != "") && !hmac.Equal([]byte(sec), []byte(s.app.clientSecret)) {
		writeOAuthError(w, http.StatusBadRequest, "invalid_client", "invalid client credentials")
		return false
	}
	return true
}

func (s *Server) grantCode(w http.ResponseWriter, r *http.Request, f url.Values) {
	// With PKCE the secret may be omitted (a public client); without it,
	// the secret is required.
	if !s.checkClient(w, f, f.Get("code_verifier") == "") {
		return
	}
	s.authMu.Lock()
	c := s.codes[f.Get("code")]
	delete(s.codes, f.Get("code")) // a code is single-use, even when the exchange fails
	s.authMu.Unlock()
	switch {
	case c == nil || s.clock.Now().After(c.expires):
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "invalid authorization code")
		return
	case f.Get("redirect_uri") != c.redirectURI:
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri must match configuration")
		return
	}
	if c.challenge != "" {
		v := f.Get("code_verifier")
		if v == "" {
			writeOAuthError(w, http.StatusBadRequest, "invalid_request", "missing code verifier")
			return
		}
		if pkceS256(v) != c.challenge {
			writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "invalid code verifier")
			return
		}
	}
	rt := s.newRefresh(c.userID, c.scope)
	writeJSON(w, http.StatusOK, s.tokenResponse(r, c.userID, s.newSession(c.userID, rt), rt, c.scope))
}

func (s *Server) newRefresh(userID, scope string) string {
	rt := "5Aep861" + randomToken(80)
	s.authMu.Lock()
	s.refresh[rt] = &refreshGrant{userID: userID, clientID: s.app.clientID, scope: scope}
	s.authMu.Unlock()
	return rt
}

func (s *Server) grantRefresh(w http.ResponseWriter, r *http.Request, f url.Values) {
	if !s.checkClient(w, f, false) {
		return
	}
	tok := f.Get("refresh_token")
	s.authMu.Lock()
	g := s.refresh[tok]
	if g != nil && s.opts.RotateRefreshTokens {
		delete(s.refresh, tok)
	}
	s.authMu.Unlock()
	if g == nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "expired access/refresh token")
		return
	}
	newRT := ""
	if s.opts.RotateRefreshTokens {
		newRT = s.newRefresh(g.userID, g.scope)
		tok = newRT
	}
	writeJSON(w, http.StatusOK, s.tokenResponse(r, g.userID, s.newSession(g.userID, tok), newRT, g.scope))
}

func (s *Server) grantJWTBearer(w http.ResponseWriter, r *http.Request, f url.Values) {
	assertion := f.Get("assertion")
	if assertion == "" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "assertion is required")
		return
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(assertion, claims, func(*jwt.Token) (any, error) { return &s.app.key.PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithExpirationRequired(), jwt.WithTimeFunc(s.clock.Now))
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "expired authorization code")
		return
	case err != nil:
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "invalid assertion")
		return
	}
	if iss, _ := claims.GetIssuer(); iss != s.app.clientID {
		writeOAuthError(w, http.StatusBadRequest, "invalid_client_id", "client identifier invalid")
		return
	}
	aud, _ := claims.GetAudience()
	okAud := false
	for _, a := range aud {
		a = strings.TrimSuffix(a, "/")
		if a == s.baseURL(r) || a == "https://login.salesforce.com" || a == "https://test.salesforce.com" {
			okAud = true
		}
	}
	if !okAud {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "audience is invalid")
		return
	}
	sub, _ := claims.GetSubject()
	u := s.userByName(sub)
	if u == nil || u.id != s.userID {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "user hasn't approved this consumer")
		return
	}
	writeJSON(w, http.StatusOK, s.tokenResponse(r, u.id, s.newSession(u.id, ""), "", "api"))
}

func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		writeMethodNotAllowed(w, "GET, POST")
		return
	}
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "malformed form body")
		return
	}
	tok := r.Form.Get("token")
	s.authMu.Lock()
	defer s.authMu.Unlock()
	if _, ok := s.sessions[tok]; ok {
		delete(s.sessions, tok)
		w.WriteHeader(http.StatusOK)
		return
	}
	if _, ok := s.refresh[tok]; ok {
		delete(s.refresh, tok)
		for k, sess := range s.sessions {
			if sess.refresh == tok {
				delete(s.sessions, k)
			}
		}
		w.WriteHeader(http.StatusOK)
		return
	}
	writeOAuthError(w, http.StatusBadRequest, "invalid_token", "invalid token")
}

func (s *Server) identity(r *http.Request, userID string) map[string]any {
	s.mu.RLock()
	u := s.db.lookup(userID)
	var username, name, email string
	if u != nil {
		username, name, email = u.str("Username"), u.str("Name"), u.str("Email")
	}
	s.mu.RUnlock()
	base := s.baseURL(r)
	v := itoa(s.opts.MaxVersion) + ".0"
	rest := base + "/services/data/v" + v + "/"
	return map[string]any{
		"id": base + "/id/" + s.orgID + "/" + userID, "asserted_user": true, "user_id": userID,
		"organization_id": s.orgID, "username": username, "nick_name": strings.SplitN(username, "@", 2)[0],
		"display_name": name, "email": email, "active": true, "user_type": "STANDARD", "language": "en_US",
		"locale": "en_US", "utcOffset": 0, "is_lightning_login_user": false,
		"urls": map[string]string{
			"enterprise": base + "/services/Soap/c/" + v + "/" + s.orgID, "partner": base + "/services/Soap/u/" + v + "/" + s.orgID,
			"rest": rest, "sobjects": rest + "sobjects/", "search": rest + "search/", "query": rest + "query/",
			"tooling_rest": rest + "tooling/", "profile": base + "/" + userID,
		},
	}
}

func (s *Server) handleIdentity(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, "/id/"), "/"), "/")
	userID, ok := s.authenticate(r)
	if !ok {
		writeErrors(w, http.StatusForbidden, errOf("Bad_OAuth_Token", "Bad_OAuth_Token"))
		return
	}
	if len(parts) != 2 || parts[0] != s.orgID || canonicalID(parts[1]) != userID {
		writeErrors(w, http.StatusForbidden, errOf("Bad_Id", "Bad_Id"))
		return
	}
	writeJSON(w, http.StatusOK, s.identity(r, userID))
}

func (s *Server) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	userID, ok := s.authenticate(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeRaw(w, http.StatusForbidden, []byte("Bad_OAuth_Token"))
		return
	}
	id := s.identity(r, userID)
	writeJSON(w, http.StatusOK, map[string]any{
		"sub": id["id"], "user_id": userID, "organization_id": s.orgID, "preferred_username": id["username"],
		"name": id["display_name"], "email": id["email"], "email_verified": true, "active": true,
		"user_type": "STANDARD", "language": "en_US", "locale": "en_US", "utcOffset": 0, "urls": id["urls"],
		"updated_at": s.clock.Now().Format("2006-01-02T15:04:05Z"),
	})
}

// handleSOAPLogin answers the partner API login() call that some client
// libraries (simpleforce among them) use for username/password login.
func (s *Server) handleSOAPLogin(w http.ResponseWriter, r *http.Request) {
	var env struct {
		Username string `xml:"Body>login>username"`
		Password string `xml:"Body>login>password"`
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || r.Method != http.MethodPost || xml.Unmarshal(body, &env) != nil {
		soapFault(w, "soapenv:Client", "INVALID_REQUEST", "Element {urn:partner.soap.sforce.com}login invalid at this location")
		return
	}
	userID, ok := s.checkPassword(env.Username, env.Password)
	if !ok {
		soapFault(w, "sf:INVALID_LOGIN", "INVALID_LOGIN", "INVALID_LOGIN: Invalid username, password, security token; or user locked out.")
		return
	}
	ver := strings.Trim(strings.TrimPrefix(r.URL.Path, "/services/Soap/u/"), "/")
	base := s.baseURL(r)
	tok := s.newSession(userID, "")
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	x := func(s string) string { var b strings.Builder; _ = xml.EscapeText(&b, []byte(s)); return b.String() }
	_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com"><soapenv:Body><loginResponse><result>`+
		`<metadataServerUrl>`+x(base)+`/services/Soap/m/`+x(ver)+`/`+s.orgID+`</metadataServerUrl><passwordExpired>false</passwordExpired><sandbox>false</sandbox>`+
		`<serverUrl>`+x(base)+`/services/Soap/u/`+x(ver)+`/`+s.orgID+`</serverUrl><sessionId>`+x(tok)+`</sessionId><userId>`+userID+`</userId>`+
		`<userInfo><organizationId>`+s.orgID+`</organizationId><userEmail>`+x(s.opts.Username)+`</userEmail><userFullName>HealthSync Integration</userFullName><userId>`+userID+`</userId><userName>`+x(s.opts.Username)+`</userName></userInfo>`+
		`</result></loginResponse></soapenv:Body></soapenv:Envelope>`)
}

func soapFault(w http.ResponseWriter, code, exc, msg string) {
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(http.StatusInternalServerError)
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(msg))
	_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:sf="urn:fault.partner.soap.sforce.com"><soapenv:Body><soapenv:Fault><faultcode>`+code+`</faultcode><faultstring>`+b.String()+`</faultstring><detail><sf:LoginFault><sf:exceptionCode>`+exc+`</sf:exceptionCode><sf:exceptionMessage>`+b.String()+`</sf:exceptionMessage></sf:LoginFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>`)
}
