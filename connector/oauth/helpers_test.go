package oauth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"healthsync/internal/testkit"

	"github.com/golang-jwt/jwt/v5"
)

// memStore is the kit's in-memory token store, whose saves a test can
// make fail.
type memStore struct {
	*testkit.Tokens
	mu   sync.Mutex
	fail error
}

func newMemStore() *memStore { return &memStore{Tokens: testkit.NewTokens()} }

func (m *memStore) SaveToken(ctx context.Context, c string, b []byte) error {
	m.mu.Lock()
	fail := m.fail
	m.mu.Unlock()
	if fail != nil {
		return fail
	}
	return m.Tokens.SaveToken(ctx, c, b)
}

// authServer is an OAuth server that behaves like the documented ones:
// authorize redirects with a code bound to the PKCE challenge and
// redirect_uri; the token endpoint checks them, rotates refresh tokens
// (HubSpot style: expires_in 1800) and accepts Salesforce JWT bearer
// assertions signed by pub.
type authServer struct {
	*httptest.Server
	t   *testing.T
	pub *rsa.PublicKey

	mu          sync.Mutex
	codes       map[string]pending // code → what it was issued for
	refresh     string
	n           int
	refreshes   int
	calls       int
	jwtGrants   int
	lastClaims  jwt.MapClaims
	badState    bool // authorize answers with a different state
	denied      bool // authorize answers error=access_denied
	hubspotErrs bool // refresh errors in HubSpot's shape
	echoSecrets bool // error bodies echo what was posted
	expiresIn   int  // 0: Salesforce style, no expires_in
}

type pending struct{ challenge, redirectURI, clientID string }

func newAuthServer(t *testing.T, pub *rsa.PublicKey) *authServer {
	a := &authServer{t: t, pub: pub, codes: map[string]pending{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/authorize", a.authorize)
	mux.HandleFunc("/token", a.token)
	a.Server = httptest.NewServer(mux)
	t.Cleanup(a.Close)
	return a
}

func (a *authServer) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("state") == "" || q.Get("client_id") == "" {
		http.Error(w, "bad authorize request", 400)
		return
	}
	ru, _ := url.Parse(q.Get("redirect_uri"))
	v := url.Values{}
	state := q.Get("state")
	if a.badState {
		state = "forged"
	}
	v.Set("state", state)
	if a.denied {
		v.Set("error", "access_denied")
		v.Set("error_description", "end-user denied authorization")
	} else {
		a.mu.Lock()
		a.n++
		code := fmt.Sprintf("code-%d", a.n)
		a.codes[code] = pending{challenge: q.Get("code_challenge"), redirectURI: q.Get("redirect_uri"), clientID: q.Get("client_id")}
		a.mu.Unlock()
		v.Set("code", code)
	}
	ru.RawQuery = v.Encode()
	http.Redirect(w, r, ru.String(), http.StatusFound)
}

func (a *authServer) fail(w http.ResponseWriter, r *http.Request, code, desc string) {
	if a.echoSecrets {
		desc += " (you sent " + r.Form.Encode() + ")"
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(400)
	if a.hubspotErrs {
		json.NewEncoder(w).Encode(map[string]string{"status": "BAD_REFRESH_TOKEN", "message": desc, "error": code})
		return
	}
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

func (a *authServer) issue(w http.ResponseWriter, withRefresh bool) {
	a.n++
	resp := map[string]any{
		"access_token": fmt.Sprintf("access-%d-SECRET", a.n),
		"token_type":   "bearer",
		"instance_url": "https://example.my.salesforce.com",
		"id":           "https://login.salesforce.com/id/00Dxx0000000001/005xx0000000001",
		"issued_at":    fmt.Sprint(time.Now().UnixMilli()),
		"scope":        "api refresh_token",
	}
	if withRefresh {
		a.refresh = fmt.Sprintf("refresh-%d-SECRET", a.n)
		resp["refresh_token"] = a.refresh
	}
	if a.expiresIn > 0 {
		resp["expires_in"] = a.expiresIn
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(resp)
}

func (a *authServer) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		http.Error(w, "bad", 400)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls++
	switch r.Form.Get("grant_type") {
	case "authorization_code":
		p, ok := a.codes[r.Form.Get("code")]
		delete(a.codes, r.Form.Get("code"))
		if !ok {
			a.fail(w, r, "invalid_grant", "invalid authorization code")
			return
		}
		sum := sha256.Sum256([]byte(r.Form.Get("code_verifier")))
		if base64.RawURLEncoding.EncodeToString(sum[:]) != p.challenge {
			a.fail(w, r, "invalid_request", "invalid code verifier")
			return
		}
		if p.redirectURI != r.Form.Get("redirect_uri") || p.clientID != r.Form.Get("client_id") {
			a.fail(w, r, "invalid_grant", "redirect_uri mismatch")
			return
		}
		a.issue(w, true)
	case "refresh_token":
		if a.refresh == "" || r.Form.Get("refresh_token") != a.refresh {
			a.fail(w, r, "invalid_grant", "expired access/refresh token")
			return
		}
		a.refreshes++
		a.issue(w, true)
	case "urn:ietf:params:oauth:grant-type:jwt-bearer":
		claims := jwt.MapClaims{}
		_, err := jwt.ParseWithClaims(r.Form.Get("assertion"), claims, func(*jwt.Token) (any, error) { return a.pub, nil },
			jwt.WithValidMethods([]string{"RS256"}), jwt.WithExpirationRequired())
		if err != nil {
			a.fail(w, r, "invalid_grant", "invalid assertion")
			return
		}
		if claims["aud"] != "https://login.salesforce.com" || claims["iss"] != "consumer-key" {
			a.fail(w, r, "invalid_grant", "audience is invalid")
			return
		}
		if claims["sub"] != "integration@example.com" {
			a.fail(w, r, "invalid_grant", "user hasn't approved this consumer")
			return
		}
		a.jwtGrants++
		a.lastClaims = claims
		a.issue(w, false)
	default:
		a.fail(w, r, "unsupported_grant_type", "grant type not supported")
	}
}

func testKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// browser follows the authorize URL like a browser that is already logged
// in and approves: every redirect, down to the loopback callback.
func browser(ctx context.Context, u string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != 200 && resp.StatusCode != 400 {
		return errors.New(resp.Status)
	}
	return nil
}
