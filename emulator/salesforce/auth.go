package salesforce

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net/http"
	"strings"
	stdsync "sync"
	"time"
)

// connectedApp is the OAuth client registered in the emulated org.
type connectedApp struct {
	clientID     string
	clientSecret string
	key          *rsa.PrivateKey
	certPEM      []byte
	keyPEM       []byte
}

var (
	keyOnce stdsync.Once
	keyPair struct {
		key     *rsa.PrivateKey
		keyPEM  []byte
		certPEM []byte
		err     error
	}
)

// sharedKey generates one RSA key and self-signed certificate per process:
// key generation is slow and tests start many servers.
func sharedKey() (*rsa.PrivateKey, []byte, []byte) {
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			keyPair.err = err
			return
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1),
			Subject:      pkix.Name{CommonName: "healthsync-emulator", Organization: []string{"HealthSync Emulator"}},
			NotBefore:    time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
			NotAfter:     time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC),
			KeyUsage:     x509.KeyUsageDigitalSignature,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
		if err != nil {
			keyPair.err = err
			return
		}
		keyPair.key = k
		keyPair.keyPEM = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
		keyPair.certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	})
	if keyPair.err != nil {
		panic("salesforce emulator: generate RSA key: " + keyPair.err.Error())
	}
	return keyPair.key, keyPair.keyPEM, keyPair.certPEM
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	out := make([]byte, n)
	for i, c := range b {
		out[i] = base62[int(c)%62]
	}
	return string(out)
}

func newConnectedApp() connectedApp {
	k, keyPEM, certPEM := sharedKey()
	return connectedApp{
		clientID:     "3MVG9" + randomToken(80),
		clientSecret: randomToken(64),
		key:          k,
		keyPEM:       keyPEM,
		certPEM:      certPEM,
	}
}

// session is an access token's state.
type session struct {
	userID   string
	refresh  string // the refresh token it came from, if any
	lastUsed time.Time
	calls    int
}

type refreshGrant struct {
	userID   string
	clientID string
	scope    string
}

type authCode struct {
	clientID    string
	redirectURI string
	challenge   string
	method      string
	userID      string
	scope       string
	expires     time.Time
}

// authenticate checks the bearer token, applying the idle timeout and the
// session-call fault, and returns the user.
func (s *Server) authenticate(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	var tok string
	switch {
	case len(h) > 7 && strings.EqualFold(h[:7], "Bearer "):
		tok = strings.TrimSpace(h[7:])
	case len(h) > 6 && strings.EqualFold(h[:6], "OAuth "):
		tok = strings.TrimSpace(h[6:])
	default:
		return "", false
	}
	now := s.clock.Now()
	s.authMu.Lock()
	defer s.authMu.Unlock()
	sess := s.sessions[tok]
	if sess == nil {
		return "", false
	}
	if now.Sub(sess.lastUsed) > s.opts.SessionIdle {
		delete(s.sessions, tok)
		return "", false
	}
	if n := s.faultsNow().SessionCallLimit; n > 0 && sess.calls >= n {
		delete(s.sessions, tok)
		return "", false
	}
	sess.calls++
	sess.lastUsed = now
	return sess.userID, true
}

// newSession mints an access token for user.
func (s *Server) newSession(userID, refresh string) string {
	tok := s.orgID + "!" + randomToken(96)
	s.authMu.Lock()
	s.sessions[tok] = &session{userID: userID, refresh: refresh, lastUsed: s.clock.Now()}
	s.authMu.Unlock()
	return tok
}

// tokenResponse is the success body of /services/oauth2/token.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Signature    string `json:"signature"`
	Scope        string `json:"scope,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	InstanceURL  string `json:"instance_url"`
	ID           string `json:"id"`
	TokenType    string `json:"token_type"`
	IssuedAt     string `json:"issued_at"`
}

func (s *Server) tokenResponse(r *http.Request, userID, access, refresh, scope string) tokenResponse {
	base := s.baseURL(r)
	id := base + "/id/" + s.orgID + "/" + userID
	issued := itoa64(s.clock.Now().UnixMilli())
	mac := hmac.New(sha256.New, []byte(s.app.clientSecret))
	mac.Write([]byte(id + issued))
	return tokenResponse{
		AccessToken:  access,
		RefreshToken: refresh,
		Signature:    base64.StdEncoding.EncodeToString(mac.Sum(nil)),
		Scope:        scope,
		InstanceURL:  base,
		ID:           id,
		TokenType:    "Bearer",
		IssuedAt:     issued,
	}
}

// userByName finds an active user by username.
func (s *Server) userByName(name string) *record {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.db.table("User")
	for _, r := range t.byID {
		if strings.EqualFold(r.str("Username"), name) {
			if active, _ := r.getName("IsActive").(bool); active {
				return r
			}
		}
	}
	return nil
}

// checkPassword verifies the API user's credentials. Other emulated users
// have no password and cannot log in.
func (s *Server) checkPassword(username, password string) (string, bool) {
	if !strings.EqualFold(username, s.opts.Username) || !hmac.Equal([]byte(password), []byte(s.opts.Password)) {
		return "", false
	}
	return s.userID, true
}

func pkceS256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
