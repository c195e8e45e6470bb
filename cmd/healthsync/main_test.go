package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sethvargo/go-envconfig"
)

// run executes the CLI in-process and returns its exit code and output.
func run(t *testing.T, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := realMain(context.Background(), args, envconfig.MapLookuper(vars), &out, &errOut)
	code = report(err, &errOut)
	return code, out.String(), errOut.String()
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		code int
		want string
	}{
		{nil, exitUsage, "no command given"},
		{[]string{"migrat"}, exitUsage, `did you mean "migrate"`},
		{[]string{"migrate", "--bogus"}, exitUsage, "flag provided but not defined: -bogus"},
		{[]string{"migrate", "extra"}, exitUsage, `unexpected argument "extra"`},
		{[]string{"help", "nope"}, exitUsage, `unknown command "nope"`},
	}
	for _, tt := range tests {
		code, _, stderr := run(t, nil, tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("healthsync %v: exit %d, stderr %q; want exit %d containing %q", tt.args, code, stderr, tt.code, tt.want)
		}
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	code, stdout, _ := run(t, nil, "help")
	if code != exitOK || !strings.Contains(stdout, "migrate") || !strings.Contains(stdout, "version") {
		t.Fatalf("help: exit %d, %q", code, stdout)
	}
	code, stdout, _ = run(t, nil, "migrate", "--help")
	if code != exitOK || !strings.Contains(stdout, "Usage: healthsync migrate [flags]") || !strings.Contains(stdout, "-force VERSION") {
		t.Fatalf("migrate --help: exit %d, %q", code, stdout)
	}
	code, stdout, _ = run(t, nil, "--version")
	if code != exitOK || !strings.HasPrefix(stdout, "healthsync ") {
		t.Fatalf("--version: exit %d, %q", code, stdout)
	}
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	vars := map[string]string{"HEALTHSYNC_DATABASE_URL": "sqlite://" + filepath.Join(dir, "hs.db")}
	code, stdout, stderr := run(t, vars, "migrate")
	if code != exitOK || !strings.Contains(stdout, "from version 0 to ") {
		t.Fatalf("first migrate: exit %d, %q %q", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "healthsync.key") {
		t.Errorf("first migrate did not say where the generated key file is: %q", stderr)
	}
	code, stdout, _ = run(t, vars, "migrate")
	if code != exitOK || !strings.Contains(stdout, "nothing to do") {
		t.Fatalf("second migrate: exit %d, %q", code, stdout)
	}
	code, stdout, _ = run(t, vars, "migrate", "--status")
	if code != exitOK || !strings.Contains(stdout, "schema version ") {
		t.Fatalf("migrate --status: exit %d, %q", code, stdout)
	}
}

func TestBadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		vars map[string]string
		want string
	}{
		{map[string]string{"HEALTHSYNC_LOG_LEVEL": "loud"}, "HEALTHSYNC_LOG_LEVEL"},
		{map[string]string{"HEALTHSYNC_LOG_FORMAT": "xml"}, "HEALTHSYNC_LOG_FORMAT"},
		{map[string]string{"HEALTHSYNC_DATABASE_URL": "mysql://db"}, "HEALTHSYNC_DATABASE_URL"},
		{map[string]string{"HEALTHSYNC_ENCRYPTION_KEY": "short"}, "HEALTHSYNC_ENCRYPTION_KEY"},
	}
	for _, tt := range tests {
		code, _, stderr := run(t, tt.vars, "migrate")
		if code != exitFailure || !strings.Contains(stderr, tt.want) {
			t.Errorf("migrate with %v: exit %d, %q; want exit 1 naming %s", tt.vars, code, stderr, tt.want)
		}
	}
}
