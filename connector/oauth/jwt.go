package oauth

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"healthsync/connector"
	"healthsync/internal/inputfile"
)

// JWTBearer is Salesforce's OAuth 2.0 JWT bearer flow, for a worker that
// runs unattended: every token is obtained with a fresh RS256 assertion
// signed by the connected app's private key. There is no refresh token.
// It implements Grant.
type JWTBearer struct {
	// Connector names the CRM in messages ("salesforce").
	Connector string
	// ConsumerKey is the connected app's consumer key (the iss claim).
	ConsumerKey string
	// Username is the integration user (the sub claim).
	Username string
	// Audience is the login host: https://login.salesforce.com,
	// https://test.salesforce.com for sandboxes (the aud claim).
	Audience string
	// TokenURL is where the assertion is posted; empty means
	// Audience + "/services/oauth2/token".
	TokenURL string
	// Key signs the assertion (see LoadRSAKeyFile).
	Key *rsa.PrivateKey
	// Lifetime is how far ahead the assertion expires (default 3 minutes).
	Lifetime time.Duration
	// HTTPClient calls the token endpoint; nil means a client with a 60 s
	// timeout.
	HTTPClient *http.Client
	// Now is the clock (default time.Now).
	Now func() time.Time
	// UnreachableHint is what a token endpoint that cannot be reached
	// tells the user to check, e.g. "check HEALTHSYNC_SALESFORCE_LOGIN_URL".
	UnreachableHint string
}

var _ Grant = (*JWTBearer)(nil)

// Validate reports missing settings.
func (j *JWTBearer) Validate() error {
	var errs []error
	if j.ConsumerKey == "" {
		errs = append(errs, errors.New("JWT bearer: consumer key is empty"))
	}
	if j.Username == "" {
		errs = append(errs, errors.New("JWT bearer: username is empty"))
	}
	if u, err := url.Parse(j.Audience); j.Audience == "" || err != nil || u.Host == "" {
		errs = append(errs, fmt.Errorf("JWT bearer: audience %q is not a login host URL such as https://login.salesforce.com", j.Audience))
	}
	if j.Key == nil {
		errs = append(errs, errors.New("JWT bearer: no private key"))
	}
	return errors.Join(errs...)
}

// Assertion returns a freshly signed assertion.
func (j *JWTBearer) Assertion() (string, error) {
	if err := j.Validate(); err != nil {
		return "", err
	}
	life := j.Lifetime
	if life <= 0 {
		life = 3 * time.Minute
	}
	now := j.now()
	claims := jwt.MapClaims{
		"iss": j.ConsumerKey,
		"sub": j.Username,
		"aud": strings.TrimRight(j.Audience, "/"),
		"exp": now.Add(life).Unix(),
	}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(j.Key)
	if err != nil {
		return "", fmt.Errorf("sign JWT assertion: %w", err)
	}
	return signed, nil
}

// Grant implements Grant: it posts a new assertion and returns the token
// (with Salesforce's instance_url). current is ignored.
func (j *JWTBearer) Grant(ctx context.Context, _ *Token) (*Token, error) {
	assertion, err := j.Assertion()
	if err != nil {
		return nil, err
	}
	form := url.Values{}
	form.Set("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")
	form.Set("assertion", assertion)
	tokenURL := j.TokenURL
	if tokenURL == "" {
		tokenURL = strings.TrimRight(j.Audience, "/") + "/services/oauth2/token"
	}
	client := j.HTTPClient
	if client == nil {
		client = defaultClient
	}
	tok, err := postToken(ctx, client, tokenURL, j.UnreachableHint, form, j.now(), assertion)
	if err != nil {
		var apiErr *connector.APIError
		if errors.As(err, &apiErr) && apiErr.Code != connector.CodeMalformedResponse {
			return nil, fmt.Errorf("JWT bearer token for %s rejected: %w (check the consumer key, that user %q is pre-authorized for the connected app, and that the audience %s matches the org's login host)",
				j.Connector, err, j.Username, j.Audience)
		}
		return nil, fmt.Errorf("JWT bearer token for %s: %w", j.Connector, err)
	}
	return tok, nil
}

func (j *JWTBearer) now() time.Time {
	if j.Now != nil {
		return j.Now()
	}
	return time.Now()
}

// maxKeyFileSize bounds a PEM private key file: an 8192-bit RSA key is
// under 7 KiB, so 64 KiB leaves room for a certificate chain beside it.
const maxKeyFileSize = 64 << 10

// LoadRSAKeyFile reads a PEM RSA private key (PKCS#1 or PKCS#8) from path.
// envVar names the variable that gave the path, so errors say what to fix.
// The file must be a regular file under 64 KiB that only its owner can
// read (or, owned by root, its group): see package inputfile.
func LoadRSAKeyFile(path, envVar string) (*rsa.PrivateKey, error) {
	if path == "" {
		return nil, fmt.Errorf("%s is empty: set it to the PEM file of the connected app's private key", envVar)
	}
	data, err := inputfile.Read(path, inputfile.Rules{What: "private key file", Max: maxKeyFileSize, Private: true})
	var refused *inputfile.Error
	switch {
	case errors.As(err, &refused):
		return nil, fmt.Errorf("private key file (%s): %w", envVar, err)
	case err != nil:
		return nil, fmt.Errorf("read private key file %s (%s): %w", path, envVar, err)
	}
	key, err := ParseRSAKey(data)
	if err != nil {
		return nil, fmt.Errorf("private key file %s (%s): %w", path, envVar, err)
	}
	return key, nil
}

// ParseRSAKey parses a PEM RSA private key (PKCS#1 or PKCS#8). Its errors
// never quote the input.
func ParseRSAKey(data []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block found: expected -----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----")
	}
	if strings.Contains(block.Type, "ENCRYPTED") || block.Headers["Proc-Type"] != "" {
		return nil, errors.New("the key is encrypted: export it without a passphrase (openssl pkey -in key.pem -out plain.pem)")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("PEM block %q is not an RSA private key in PKCS#1 or PKCS#8 form", block.Type)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("the key is a %T, not an RSA key: Salesforce signs with RS256", k)
	}
	return rk, nil
}
