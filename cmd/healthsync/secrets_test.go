package main

import (
	"bytes"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	gosync "sync"
	"syscall"
	"testing"
	"time"

	"healthsync/crm"
	emuhubspot "healthsync/emulator/hubspot"
	emusalesforce "healthsync/emulator/salesforce"
	"healthsync/mapping"
)

// secretSet is the set of values that must never appear in clear in the
// binary's output or in its database file, each under a name for the
// failure message.
type secretSet map[string][]byte

// add records a secret; values shorter than 8 bytes are ignored because
// they would match by chance (and no real secret is that short).
func (s secretSet) add(name string, v []byte) {
	if len(bytes.TrimSpace(v)) >= 8 {
		s[name] = bytes.TrimSpace(v)
	}
}

// addPEM records a PEM private key: the whole block, each line of its
// base64 body and the raw DER bytes.
func (s secretSet) addPEM(name string, data []byte) {
	block, _ := pem.Decode(data)
	if block == nil {
		return
	}
	s.add(name+" (DER)", block.Bytes)
	body := base64.StdEncoding.EncodeToString(block.Bytes)
	for i := 0; i+64 <= len(body); i += 64 {
		s.add(fmt.Sprintf("%s (base64 at %d)", name, i), []byte(body[i:i+64]))
	}
}

// addKeyFile records the store's encryption key as written in the key
// file (base64) and as raw bytes.
func (s secretSet) addKeyFile(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read encryption key file: %v", err)
	}
	s.add("encryption key (base64)", data)
	if raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data))); err == nil {
		s.add("encryption key (raw)", raw)
	}
}

// assertAbsent fails for every secret found in data.
func (s secretSet) assertAbsent(t *testing.T, where string, data []byte) {
	t.Helper()
	t.Logf("checking %d secret values in %s (%d bytes)", len(s), where, len(data))
	for name, v := range s {
		if bytes.Contains(data, v) {
			t.Errorf("%s contains the %s in clear", where, name)
		}
	}
}

// assertFilesClean reads the SQLite database with its WAL and checks it.
func (s secretSet) assertFilesClean(t *testing.T, db string) {
	t.Helper()
	n := 0
	for _, f := range []string{db, db + "-wal", db + "-journal"} {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		n++
		s.assertAbsent(t, filepath.Base(f), data)
	}
	if n == 0 {
		t.Fatalf("no database file at %s", db)
	}
}

// tokenRecorder is an HTTP middleware in front of an emulator that keeps
// every bearer token a client presents, so the test knows the access
// tokens the binary obtained at run time.
type tokenRecorder struct {
	next   http.Handler
	mu     gosync.Mutex
	tokens map[string]bool
}

func (r *tokenRecorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if tok, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer "); ok && tok != "" {
		r.mu.Lock()
		if r.tokens == nil {
			r.tokens = map[string]bool{}
		}
		r.tokens[tok] = true
		r.mu.Unlock()
	}
	r.next.ServeHTTP(w, req)
}

func (r *tokenRecorder) addTo(s secretSet) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := 0
	for tok := range r.tokens {
		i++
		s.add(fmt.Sprintf("access token #%d", i), []byte(tok))
	}
	return len(r.tokens)
}

// runCapture runs the binary and returns stdout and stderr, failing on a
// non-zero exit.
func runCapture(t *testing.T, bin string, env []string, args ...string) (stdout, stderr []byte) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		t.Fatalf("healthsync %v: %v\nstdout:\n%s\nstderr:\n%s", args, err, o.String(), e.String())
	}
	return o.Bytes(), e.Bytes()
}

// TestSecretsNeverInClearSalesforce runs install, sync, score and apply
// with trace logging against the emulated org (JWT bearer flow) and
// checks that neither the connected app's secret, the private key, the
// access tokens nor the store's encryption key appear in the output or
// the database file.
func TestSecretsNeverInClearSalesforce(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	dir := t.TempDir()
	em := emusalesforce.New(emusalesforce.Options{KeyFile: filepath.Join(dir, "jwt.key")})
	if err := em.LoadOrg(e2eOrg(t)); err != nil {
		t.Fatal(err)
	}
	rec := &tokenRecorder{next: em}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	mapFile := filepath.Join(dir, "healthsync.yaml")
	if err := os.WriteFile(mapFile, mapping.Example(crm.Salesforce), 0o600); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "hs.db")
	env := append(em.EnvLines(srv.URL), "HEALTHSYNC_DATABASE_URL="+db, "HEALTHSYNC_MAPPING_FILE="+mapFile, "HEALTHSYNC_LOG_LEVEL=trace")

	var out, errOut []byte
	for _, args := range [][]string{{"install"}, {"sync"}, {"score"}, {"apply"}} {
		o, e := runCapture(t, bin, env, args...)
		out, errOut = append(out, o...), append(errOut, e...)
	}
	if len(errOut) == 0 {
		t.Fatal("trace logging produced no output on stderr; the test would prove nothing")
	}
	creds := em.Credentials()
	s := secretSet{}
	s.add("client secret", []byte(creds.ClientSecret))
	s.add("API user password", []byte(creds.Password))
	s.addPEM("JWT private key", creds.PrivateKeyPEM)
	s.addKeyFile(t, filepath.Join(dir, "healthsync.key"))
	if rec.addTo(s) == 0 {
		t.Fatal("no access token was presented to the emulator")
	}
	s.assertAbsent(t, "stdout", out)
	s.assertAbsent(t, "stderr", errOut)
	s.assertFilesClean(t, db)
}

// TestSecretsNeverInClearHubSpot does the same with a HubSpot private-app
// token.
func TestSecretsNeverInClearHubSpot(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	dir := t.TempDir()
	em := emuhubspot.New(emuhubspot.Options{RateLimits: emuhubspot.RateLimits{Disabled: true}})
	if _, err := em.LoadOrg(e2eOrg(t)); err != nil {
		t.Fatal(err)
	}
	rec := &tokenRecorder{next: em}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	mapFile := filepath.Join(dir, "healthsync.yaml")
	if err := os.WriteFile(mapFile, mapping.Example(crm.HubSpot), 0o600); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "hs.db")
	env := append(em.EnvLines(srv.URL), "HEALTHSYNC_DATABASE_URL="+db, "HEALTHSYNC_MAPPING_FILE="+mapFile,
		"HEALTHSYNC_HUBSPOT_SEARCH_RATE=1000", "HEALTHSYNC_LOG_LEVEL=trace")
	var out, errOut []byte
	for _, args := range [][]string{{"install"}, {"sync"}, {"score"}, {"apply"}} {
		o, e := runCapture(t, bin, env, args...)
		out, errOut = append(out, o...), append(errOut, e...)
	}
	if len(errOut) == 0 {
		t.Fatal("trace logging produced no output on stderr; the test would prove nothing")
	}
	creds := em.Credentials()
	s := secretSet{}
	s.add("private-app token", []byte(creds.PrivateAppToken))
	s.add("client secret", []byte(creds.ClientSecret))
	s.addKeyFile(t, filepath.Join(dir, "healthsync.key"))
	if rec.addTo(s) == 0 {
		t.Fatal("no token was presented to the emulator")
	}
	s.assertAbsent(t, "stdout", out)
	s.assertAbsent(t, "stderr", errOut)
	s.assertFilesClean(t, db)
}

// TestSecretsNeverInClearDemo runs `healthsync demo --keep` with trace
// logging, waits for it to write its env file (which it does only after
// the whole demo has run), reads the demo org's secrets from that file and
// the key files, interrupts it, and checks its output and database.
func TestSecretsNeverInClearDemo(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	dir := t.TempDir()
	cmd := exec.Command(bin, "demo", "--dir", dir, "--accounts", "30", "--keep")
	cmd.Env = append(os.Environ(), "HEALTHSYNC_LOG_LEVEL=trace")
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	work := filepath.Join(dir, "salesforce")
	envFile := filepath.Join(work, "env")
	var envData []byte
	for envData == nil {
		select {
		case err := <-waited:
			t.Fatalf("demo exited before writing its env file: %v\nstdout:\n%s\nstderr:\n%s", err, o.String(), e.String())
		case <-time.After(50 * time.Millisecond):
		}
		if data, err := os.ReadFile(envFile); err == nil && bytes.HasSuffix(data, []byte("\n")) {
			envData = data
		}
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	<-waited // an interrupted demo may exit non-zero; its output is what matters

	s := secretSet{}
	for _, line := range strings.Split(string(envData), "\n") {
		k, v, _ := strings.Cut(line, "=")
		if strings.Contains(k, "SECRET") || strings.Contains(k, "TOKEN") || strings.Contains(k, "PASSWORD") {
			s.add(k, []byte(v))
		}
		if k == "HEALTHSYNC_SALESFORCE_JWT_KEY_FILE" {
			pemData, err := os.ReadFile(v)
			if err != nil {
				t.Fatalf("read demo JWT key: %v", err)
			}
			s.addPEM("JWT private key", pemData)
		}
	}
	if _, ok := s["HEALTHSYNC_SALESFORCE_CLIENT_SECRET"]; !ok {
		t.Fatalf("the demo's env file names no client secret:\n%s", envData)
	}
	s.addKeyFile(t, filepath.Join(work, "healthsync.key"))
	if e.Len() == 0 {
		t.Fatal("trace logging produced no output on stderr; the test would prove nothing")
	}
	s.assertAbsent(t, "stdout", o.Bytes())
	s.assertAbsent(t, "stderr", e.Bytes())
	s.assertFilesClean(t, filepath.Join(work, "healthsync.db"))
}
