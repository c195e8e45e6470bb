package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestTwoEmulatorsSideBySide starts two `healthsync emulator` processes
// sharing one temporary directory, as two users or two test runs on one
// machine do, and checks that healthsync syncs from each with the JWT
// bearer flow configured by its own env file, that another client can
// call each with the instance URL and token of the file, and that no key
// is left behind once they stop. The emulators used to share one key
// path, so the second one's key replaced the first one's and the first
// one's logins failed with "invalid assertion".
func TestTwoEmulatorsSideBySide(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	tmp := t.TempDir() // TMPDIR of both emulators
	work := t.TempDir()
	type emulator struct {
		cmd    *exec.Cmd
		waited chan error
		env    []string
		stderr *bytes.Buffer
	}
	start := func(name string) *emulator {
		envFile := filepath.Join(work, name+".env")
		cmd := exec.Command(bin, "emulator", "--accounts", "5", "--env-file", envFile)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + work, "TMPDIR=" + tmp}
		em := &emulator{cmd: cmd, waited: make(chan error, 1), stderr: &bytes.Buffer{}}
		cmd.Stderr = em.stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { em.waited <- cmd.Wait() }()
		t.Cleanup(func() { cmd.Process.Kill() })
		for em.env == nil {
			select {
			case err := <-em.waited:
				t.Fatalf("emulator %s ended: %v\n%s", name, err, em.stderr)
			case <-time.After(20 * time.Millisecond):
			}
			if data, err := os.ReadFile(envFile); err == nil && bytes.HasSuffix(data, []byte("\n")) {
				em.env = readEnvFile(t, envFile, work)
			}
		}
		return em
	}
	first := start("first")
	second := start("second") // starts after the first one wrote its key
	for i, em := range []*emulator{first, second} {
		db := filepath.Join(work, []string{"first", "second"}[i]+".db")
		out := runBad(t, bin, work, append(em.env, "HEALTHSYNC_DATABASE_URL="+db), "sync")
		out.expect(t, exitOK, []string{"Account"})

		vars := map[string]string{}
		for _, kv := range em.env {
			k, v, _ := strings.Cut(kv, "=")
			vars[k] = v
		}
		req, err := http.NewRequestWithContext(context.Background(), "GET",
			vars["EMULATOR_SALESFORCE_INSTANCE_URL"]+"/services/data/v"+vars["EMULATOR_SALESFORCE_API_VERSION"]+"/limits", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+vars["EMULATOR_SALESFORCE_ACCESS_TOKEN"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var limits map[string]any
		err = json.NewDecoder(resp.Body).Decode(&limits)
		resp.Body.Close()
		if resp.StatusCode != 200 || err != nil || limits["DailyApiRequests"] == nil {
			t.Errorf("another client calling emulator %d with its env file: HTTP %d, %v, %v", i+1, resp.StatusCode, err, limits)
		}
	}
	for _, em := range []*emulator{first, second} {
		if err := em.cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		select {
		case <-em.waited:
		case <-time.After(time.Minute): // a hang detector
			t.Fatal("the emulator did not stop on SIGINT")
		}
	}
	entries, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("left behind in TMPDIR after the emulators stopped: %s", e.Name())
	}
}
