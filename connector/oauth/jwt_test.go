package oauth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"healthsync/connector"
	"healthsync/connector/oauth"
)

const keyEnv = "HEALTHSYNC_SALESFORCE_JWT_KEY_FILE"

func writePEM(t *testing.T, typ string, der []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestJWTBearerMintsAFreshAssertionForEachToken(t *testing.T) {
	t.Parallel()
	key := testKey(t)
	a := newAuthServer(t, &key.PublicKey)
	path := writePEM(t, "PRIVATE KEY", mustPKCS8(t, key))
	loaded, err := oauth.LoadRSAKeyFile(path, keyEnv)
	if err != nil {
		t.Fatal(err)
	}
	j := &oauth.JWTBearer{Connector: "salesforce", ConsumerKey: "consumer-key", Username: "integration@example.com",
		Audience: "https://login.salesforce.com", TokenURL: a.URL + "/token", Key: loaded}
	src := oauth.NewSource(newMemStore(), "sf", j, oauth.SourceOptions{})

	first, err := src.Current(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if first.InstanceURL != "https://example.my.salesforce.com" || first.RefreshToken != "" || !first.Expiry.IsZero() || first.IssuedAt.IsZero() {
		t.Fatalf("token %v", first)
	}
	exp, _ := a.lastClaims.GetExpirationTime()
	if d := time.Until(exp.Time); d <= 0 || d > 5*time.Minute {
		t.Fatalf("assertion expires in %s, want a few minutes ahead", d)
	}
	// A 401 forces a new assertion.
	fresh, err := src.ForceRefresh(context.Background(), first.OAuth2())
	if err != nil {
		t.Fatal(err)
	}
	if a.jwtGrants != 2 || fresh.AccessToken == first.AccessToken {
		t.Fatalf("%d JWT grants, want 2 with a new token", a.jwtGrants)
	}
}

func TestJWTBearerRejected(t *testing.T) {
	t.Parallel()
	key := testKey(t)
	a := newAuthServer(t, &key.PublicKey)
	j := &oauth.JWTBearer{Connector: "salesforce", ConsumerKey: "consumer-key", Username: "someone@example.com",
		Audience: "https://login.salesforce.com", TokenURL: a.URL + "/token", Key: key}
	_, err := j.Grant(context.Background(), nil)
	var apiErr *connector.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != "invalid_grant" || !strings.Contains(err.Error(), "user hasn't approved this consumer") ||
		!strings.Contains(err.Error(), "pre-authorized") {
		t.Fatalf("err = %v", err)
	}
	// Signed by another key.
	j.Username, j.Key = "integration@example.com", testKey(t)
	if _, err := j.Grant(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "invalid assertion") {
		t.Fatalf("err = %v", err)
	}
	if err := (&oauth.JWTBearer{}).Validate(); err == nil || !strings.Contains(err.Error(), "consumer key") || !strings.Contains(err.Error(), "no private key") {
		t.Fatalf("Validate: %v", err)
	}
}

func TestLoadRSAKeyFile(t *testing.T) {
	t.Parallel()
	key := testKey(t)
	if _, err := oauth.LoadRSAKeyFile(writePEM(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key)), keyEnv); err != nil {
		t.Fatalf("PKCS#1: %v", err)
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	garbage := filepath.Join(t.TempDir(), "garbage.pem")
	os.WriteFile(garbage, []byte("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC not a pem"), 0o600)
	// A valid key that others can read is refused, as ssh refuses one.
	open := writePEM(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key))
	if err := os.Chmod(open, 0o644); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct{ path, want string }{
		"world readable": {open, "is readable by other users (mode 0644): run chmod 600"},
		"device":         {"/dev/zero", "is a character device, not a regular file"},
		"directory":      {t.TempDir(), "is a directory"},
		"empty":          {"", "is empty"},
		"missing":        {filepath.Join(t.TempDir(), "nope.pem"), "no such file"},
		"not pem":        {garbage, "no PEM block"},
		"ec key":         {writePEM(t, "PRIVATE KEY", ecDER), "not an RSA key"},
		"encrypted":      {writePEM(t, "ENCRYPTED PRIVATE KEY", []byte("xx")), "encrypted"},
		"bad der":        {writePEM(t, "PRIVATE KEY", []byte("not der")), "not an RSA private key"},
	}
	for name, tc := range cases {
		_, err := oauth.LoadRSAKeyFile(tc.path, keyEnv)
		if err == nil || !strings.Contains(err.Error(), keyEnv) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to name %s and say %q", name, err, keyEnv, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "MIIE") {
			t.Errorf("%s: error quotes the key file", name)
		}
	}
}

func mustPKCS8(t *testing.T, key any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}
