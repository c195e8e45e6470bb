package salesforce

import (
	"os"
	"strings"
	"testing"
)

// TestConcurrentRequestLimit holds the in-flight count at the limit (as
// long-running requests would) and checks the next request is refused.
func TestConcurrentRequestLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, 0, Options{Faults: Faults{ConcurrentLimit: 2}})
	if r := b.do("GET", "limits", nil); r.status != 200 {
		t.Fatalf("under the limit: %d", r.status)
	}
	b.s.inflight.Add(2)
	r := b.do("GET", "limits", nil)
	if code, msg := r.errorCode(t); r.status != 403 || code != "REQUEST_LIMIT_EXCEEDED" || !strings.HasPrefix(msg, "ConcurrentRequests") {
		t.Fatalf("over the limit: %d %s", r.status, r.body)
	}
	b.s.inflight.Add(-2)
	if r := b.do("GET", "limits", nil); r.status != 200 {
		t.Fatalf("after requests finished: %d", r.status)
	}
}

func TestEnvLines(t *testing.T) {
	t.Parallel()
	key := t.TempDir() + "/sf.key"
	s := New(Options{KeyFile: key})
	lines := s.EnvLines("http://127.0.0.1:8080/")
	env := map[string]string{}
	for _, l := range lines {
		k, v, _ := strings.Cut(l, "=")
		env[k] = v
	}
	c := s.Credentials()
	if env["HEALTHSYNC_CRM"] != "salesforce" || env["HEALTHSYNC_SALESFORCE_LOGIN_URL"] != "http://127.0.0.1:8080" ||
		env["HEALTHSYNC_SALESFORCE_CLIENT_ID"] != c.ClientID || env["HEALTHSYNC_SALESFORCE_CLIENT_SECRET"] != c.ClientSecret ||
		env["HEALTHSYNC_SALESFORCE_USERNAME"] != c.Username || env["HEALTHSYNC_SALESFORCE_JWT_KEY_FILE"] != key {
		t.Fatalf("env lines %v", lines)
	}
	data, err := os.ReadFile(key)
	if err != nil || string(data) != string(c.PrivateKeyPEM) {
		t.Fatalf("key file: %v", err)
	}
	if fi, _ := os.Stat(key); fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v", fi.Mode())
	}
}
