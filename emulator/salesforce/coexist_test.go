package salesforce

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func envMap(lines []string) map[string]string {
	env := map[string]string{}
	for _, l := range lines {
		if strings.HasPrefix(l, "#") {
			continue
		}
		k, v, _ := strings.Cut(l, "=")
		env[k] = v
	}
	return env
}

// Two emulators on one machine, each configured only from its own env
// lines, both log in with the JWT bearer flow, before and after the other
// one started; neither key survives Close. Before, both wrote their key
// to one path named after the (same) org ID, so the second overwrote the
// first's and the first's logins failed with "invalid assertion".
func TestTwoEmulatorsSideBySide(t *testing.T) {
	t.Parallel()
	login := func(b *bundle, env map[string]string) map[string]any {
		t.Helper()
		pemData, err := os.ReadFile(env["HEALTHSYNC_SALESFORCE_JWT_KEY_FILE"])
		if err != nil {
			t.Fatal(err)
		}
		block, _ := pem.Decode(pemData)
		if block == nil {
			t.Fatal("key file holds no PEM block")
		}
		key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		assertion := signJWT(t, key, jwt.MapClaims{"iss": env["HEALTHSYNC_SALESFORCE_CLIENT_ID"], "sub": env["HEALTHSYNC_SALESFORCE_USERNAME"],
			"aud": env["HEALTHSYNC_SALESFORCE_LOGIN_URL"], "exp": testNow.Add(3 * time.Minute).Unix()})
		return b.tokenRequest(url.Values{"grant_type": {grantJWT}, "assertion": {assertion}})
	}
	first := setup(t, 0, Options{})
	firstEnv := envMap(first.s.EnvLines(first.ts.URL))
	if tok := login(first, firstEnv); tok["access_token"] == nil {
		t.Fatalf("first emulator alone: %v", tok)
	}
	second := setup(t, 0, Options{})
	secondEnv := envMap(second.s.EnvLines(second.ts.URL))
	k1, k2 := firstEnv["HEALTHSYNC_SALESFORCE_JWT_KEY_FILE"], secondEnv["HEALTHSYNC_SALESFORCE_JWT_KEY_FILE"]
	if k1 == k2 || filepath.Dir(k1) == filepath.Dir(k2) {
		t.Errorf("both emulators keep their key in one place: %s and %s", k1, k2)
	}
	for name, b := range map[string]*bundle{"first": first, "second": second} {
		env := firstEnv
		if b == second {
			env = secondEnv
		}
		if tok := login(b, env); tok["access_token"] == nil {
			t.Errorf("%s emulator beside the other: %v", name, tok)
		}
	}
	for _, b := range []*bundle{first, second} {
		if err := b.s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{k1, k2} {
		if _, err := os.Stat(filepath.Dir(k)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("key directory %s left behind after Close (stat: %v)", filepath.Dir(k), err)
		}
	}
}

// Close leaves a key file the caller named alone: it is the caller's.
func TestCloseKeepsNamedKeyFile(t *testing.T) {
	t.Parallel()
	key := filepath.Join(t.TempDir(), "sf.key")
	s := New(Options{KeyFile: key})
	s.EnvLines("http://127.0.0.1:1")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(key); err != nil {
		t.Errorf("Close removed the named key file: %v", err)
	}
}

// ClientLines give another client what it needs to call the REST API at
// once: the instance URL, a version the org serves and a live token.
func TestClientLines(t *testing.T) {
	t.Parallel()
	b := setup(t, 3, Options{})
	lines := b.s.ClientLines(b.ts.URL + "/")
	if !strings.HasPrefix(lines[0], "# For other clients") {
		t.Errorf("the client lines are not labelled for other clients: %q", lines[0])
	}
	env := envMap(lines)
	for k := range env {
		if strings.HasPrefix(k, "HEALTHSYNC_") {
			t.Errorf("client line %s would configure healthsync", k)
		}
	}
	if env["EMULATOR_SALESFORCE_INSTANCE_URL"] != b.ts.URL {
		t.Errorf("instance URL %q, want %q", env["EMULATOR_SALESFORCE_INSTANCE_URL"], b.ts.URL)
	}
	req, err := http.NewRequest("GET", env["EMULATOR_SALESFORCE_INSTANCE_URL"]+"/services/data/v"+env["EMULATOR_SALESFORCE_API_VERSION"]+
		"/query?q="+url.QueryEscape("SELECT Id, Name FROM Account"), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+env["EMULATOR_SALESFORCE_ACCESS_TOKEN"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var page queryPage
	r := response{status: resp.StatusCode, header: resp.Header, body: body}
	if r.status != 200 {
		t.Fatalf("query with the client lines: HTTP %d %s", r.status, r.body)
	}
	r.json(t, &page)
	if page.TotalSize != 3 {
		t.Errorf("query answered %d accounts, want 3", page.TotalSize)
	}
}
