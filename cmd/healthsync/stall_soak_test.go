package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	gosync "sync"
	"syscall"
	"testing"
	"time"

	"healthsync/crm"
	emuhubspot "healthsync/emulator/hubspot"
	emusalesforce "healthsync/emulator/salesforce"
	"healthsync/mapping"
	"healthsync/store"
)

// TestFaultSoakStalled runs the worker (`healthsync run --listen`) against
// an emulated CRM that stalls and recovers while it runs: first answers
// that never come (latency far above HEALTHSYNC_HTTP_TIMEOUT), then
// answers that trickle in a byte at a time. Each stall must end in failed
// runs naming the timeout and a /readyz that answers 503 with that
// reason; once the CRM answers again, /readyz must become ready. Runs are
// never recorded "stopped/interrupted" by a stall, and SIGTERM still ends
// the worker cleanly. `make test` runs it on Salesforce (a few seconds);
// `make soak` (HEALTHSYNC_SOAK=1) on both CRMs, two rounds each.
func TestFaultSoakStalled(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	rounds, systems := 1, []crm.System{crm.Salesforce}
	if os.Getenv("HEALTHSYNC_SOAK") != "" {
		rounds, systems = 2, []crm.System{crm.Salesforce, crm.HubSpot}
	}
	for _, sys := range systems {
		t.Run(string(sys), func(t *testing.T) {
			t.Parallel()
			stalledWorker(t, bin, sys, rounds)
		})
	}
}

// stalledCRM is an emulated CRM whose stalls the test switches.
type stalledCRM struct {
	sf *emusalesforce.Server
	hs *emuhubspot.Server
}

func (c stalledCRM) latency(d time.Duration) {
	if c.sf != nil {
		c.sf.SetFaults(emusalesforce.Faults{Latency: d})
		return
	}
	c.hs.SetFaults(emuhubspot.Faults{Latency: d})
}

func (c stalledCRM) trickle(d time.Duration) {
	if c.sf != nil {
		c.sf.SetFaults(emusalesforce.Faults{Trickle: d})
		return
	}
	c.hs.SetFaults(emuhubspot.Faults{Trickle: d})
}

func (c stalledCRM) recover() { c.latency(0) }

// lockedBuffer is the worker's stderr, read while it runs.
type lockedBuffer struct {
	mu  gosync.Mutex
	buf strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var statusURL = regexp.MustCompile(`status server listening: url=(http://\S+/)`)

func stalledWorker(t *testing.T, bin string, sys crm.System, rounds int) {
	dir := t.TempDir()
	var c stalledCRM
	var h http.Handler
	var envLines func(string) []string
	switch sys {
	case crm.Salesforce:
		c.sf = emusalesforce.New(emusalesforce.Options{KeyFile: filepath.Join(dir, "jwt.key")})
		if err := c.sf.LoadOrg(e2eOrg(t)); err != nil {
			t.Fatal(err)
		}
		h, envLines = c.sf, c.sf.EnvLines
	case crm.HubSpot:
		c.hs = emuhubspot.New(emuhubspot.Options{RateLimits: emuhubspot.RateLimits{Disabled: true}})
		if _, err := c.hs.LoadOrg(e2eOrg(t)); err != nil {
			t.Fatal(err)
		}
		h, envLines = c.hs, c.hs.EnvLines
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	db, mapFile := filepath.Join(dir, "hs.db"), filepath.Join(dir, "healthsync.yaml")
	if err := os.WriteFile(mapFile, mapping.Example(sys), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(envLines(srv.URL), "HEALTHSYNC_DATABASE_URL="+db, "HEALTHSYNC_MAPPING_FILE="+mapFile,
		"HEALTHSYNC_HUBSPOT_SEARCH_RATE=1000", "HEALTHSYNC_MAX_TASKS_PER_RUN=100000",
		"HEALTHSYNC_HTTP_TIMEOUT=300ms", "HEALTHSYNC_HTTP_MAX_RETRIES=1",
		"HEALTHSYNC_HTTP_RETRY_WAIT_MIN=1ms", "HEALTHSYNC_HTTP_RETRY_WAIT_MAX=5ms")

	install := exec.Command(bin, "install")
	install.Dir, install.Env = dir, append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, env...)
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("healthsync install: %v\n%s", err, out)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "run", "--interval", "1s", "--listen", "127.0.0.1:0")
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, env...)
	var stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-waited
		}
	}()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf(format+"\nworker log:\n%s", append(args, stderr.String())...)
	}

	// readyz waits until /readyz answers want, and returns its body.
	var base string
	readyz := func(want int, words ...string) string {
		t.Helper()
		for {
			if base == "" {
				if m := statusURL.FindStringSubmatch(stderr.String()); m != nil {
					base = m[1]
				}
			}
			if base != "" {
				if resp, err := http.Get(base + "readyz"); err == nil {
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					ok := resp.StatusCode == want
					for _, w := range words {
						ok = ok && strings.Contains(string(body), w)
					}
					if ok {
						return string(body)
					}
				}
			}
			select {
			case err := <-waited:
				fail("the worker ended (%v) while /readyz was expected to answer %d %q", err, want, words)
			case <-ctx.Done():
				fail("/readyz never answered %d %q", want, words)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}

	// A first whole cycle, then the stalls.
	for !strings.Contains(stderr.String(), "run done") {
		select {
		case err := <-waited:
			fail("the worker ended (%v) before its first run was done", err)
		case <-ctx.Done():
			fail("the worker's first run never was done")
		case <-time.After(50 * time.Millisecond):
		}
	}
	readyz(http.StatusOK, "ready")
	for round := 1; round <= rounds; round++ {
		c.latency(30 * time.Second)
		body := readyz(http.StatusServiceUnavailable, "last run failed", "the CRM did not answer within 300ms (HEALTHSYNC_HTTP_TIMEOUT) after 1 retry")
		t.Logf("round %d, latency: /readyz: %s", round, strings.TrimSpace(body))
		c.recover()
		readyz(http.StatusOK, "ready")

		c.trickle(100 * time.Millisecond)
		body = readyz(http.StatusServiceUnavailable, "last run failed", "the CRM did not answer within 300ms (HEALTHSYNC_HTTP_TIMEOUT; its answer stalled after")
		t.Logf("round %d, trickle: /readyz: %s", round, strings.TrimSpace(body))
		c.recover()
		readyz(http.StatusOK, "ready")
	}
	if resp, err := http.Get(base + "metrics"); err == nil {
		m, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(m), `healthsync_errors_total{kind="timeout"}`) {
			t.Errorf("/metrics counts no timeout error:\n%s", m)
		}
	}

	// SIGTERM: a clean stop.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-waited:
		var exit *exec.ExitError
		if errors.As(err, &exit) || err != nil {
			fail("the worker exited with %v after SIGTERM, want 0", err)
		}
	case <-ctx.Done():
		fail("the worker did not end after SIGTERM")
	}

	s, err := store.Open(t.Context(), store.Config{DatabaseURL: db}, store.Options{Shared: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	runs, err := s.Runs(t.Context(), "default", 1000)
	if err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, r := range runs {
		switch {
		case r.Status == store.RunFailed:
			failed++
			if !strings.Contains(r.StopReason, "HEALTHSYNC_HTTP_TIMEOUT") {
				t.Errorf("run %d failed for another cause: %s", r.ID, r.StopReason)
			}
		case r.Status == store.RunStopped && r.StopReason == "interrupted" && r.ID != runs[0].ID:
			t.Errorf("run %d was recorded %s/%s: a stall read as an interrupt", r.ID, r.Status, r.StopReason)
		}
	}
	if failed < 2*rounds {
		t.Errorf("%d failed runs, want at least %d (one per stall)", failed, 2*rounds)
	}
}
