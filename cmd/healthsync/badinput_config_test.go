package main

import (
	"encoding/base64"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"healthsync/crm"
	"healthsync/mapping"
)

// The configuration part of the bad-input corpus (issue 18): float
// settings given as NaN or ±Inf, files that are not regular files or are
// far too large (a FIFO, /dev/zero, a sparse 1.5 GB file) named as the
// mapping, key or JWT key file, key files other users can read, mapping
// files with a second document or a !!binary tag, flags after the CRM
// name, a changed encryption key under the JWT flow, and a signal while a
// command is blocked. Each row runs the real binary against a synced
// store and checks the exit code, the words of the message, and that the
// store kept every record and cursor. A row that used to hang fails by
// runBad's timeout, which is only a hang detector.

// configRow is one bad configuration run against a synced store.
type configRow struct {
	name string
	// env is added to the rig's environment; {DIR} stands for the rig's
	// directory and {FIFO} for a named pipe no one writes to.
	env  []string
	args []string // default: sync
	code int
	want []string
	// deny are words the output must not hold.
	deny []string
	// prepare runs before the row (to make a file); its undo after.
	prepare func(t *testing.T, r *crmRig) (undo func())
}

// TestBadInputConfig runs the configuration corpus against one build of
// the binary.
func TestBadInputConfig(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	t.Run("salesforce", func(t *testing.T) { t.Parallel(); badConfigSalesforce(t, bin) })
	t.Run("hubspot", func(t *testing.T) { t.Parallel(); badConfigHubSpot(t, bin) })
	t.Run("signal_while_blocked", func(t *testing.T) { t.Parallel(); signalWhileBlocked(t, bin) })
}

func badConfigSalesforce(t *testing.T, bin string) {
	finite := func(name, val, def string) []string {
		return []string{name + `="` + val + `"`, "want a finite number such as " + def + " (the default)"}
	}
	otherKey := base64.StdEncoding.EncodeToString([]byte("another 32-byte key, not the one"))
	rows := []configRow{
		// NaN compares false with every bound, so a guard built on a
		// range check switched off: apply went through.
		{name: "max_change_share_nan", env: []string{"HEALTHSYNC_MAX_CHANGE_SHARE=NaN"}, args: []string{"apply"}, code: exitFailure,
			want: finite("HEALTHSYNC_MAX_CHANGE_SHARE", "NaN", "0.3")},
		{name: "max_change_share_inf", env: []string{"HEALTHSYNC_MAX_CHANGE_SHARE=+Inf"}, args: []string{"apply"}, code: exitFailure,
			want: finite("HEALTHSYNC_MAX_CHANGE_SHARE", "+Inf", "0.3")},
		{name: "http_rate_limit_nan", env: []string{"HEALTHSYNC_HTTP_RATE_LIMIT=NaN"}, code: exitFailure,
			want: finite("HEALTHSYNC_HTTP_RATE_LIMIT", "NaN", "0")},
		{name: "budget_run_share_minus_inf", env: []string{"HEALTHSYNC_API_BUDGET_RUN_SHARE=-Inf"}, code: exitFailure,
			want: finite("HEALTHSYNC_API_BUDGET_RUN_SHARE", "-Inf", "0.2")},
		{name: "budget_total_share_nan", env: []string{"HEALTHSYNC_API_BUDGET_TOTAL_SHARE=nan"}, code: exitFailure,
			want: finite("HEALTHSYNC_API_BUDGET_TOTAL_SHARE", "nan", "0.8")},

		// Mapping files that are not regular files, or far too large:
		// refused before they are opened or read.
		{name: "mapping_dev_zero", env: []string{"HEALTHSYNC_MAPPING_FILE=/dev/zero"}, args: []string{"plan"}, code: exitFailure,
			want: []string{"HEALTHSYNC_MAPPING_FILE", "/dev/zero: is a character device, not a regular file", "a mapping file must be a regular file"}},
		{name: "mapping_fifo_plan", env: []string{"HEALTHSYNC_MAPPING_FILE={FIFO}"}, args: []string{"plan"}, code: exitFailure,
			want: []string{"HEALTHSYNC_MAPPING_FILE", "is a named pipe (FIFO), not a regular file"}},
		{name: "mapping_fifo_check", env: []string{"HEALTHSYNC_MAPPING_FILE={FIFO}"}, args: []string{"check"}, code: exitFailure,
			want: []string{"HEALTHSYNC_MAPPING_FILE", "is a named pipe (FIFO), not a regular file"}},
		{name: "mapping_directory", env: []string{"HEALTHSYNC_MAPPING_FILE={DIR}"}, args: []string{"plan"}, code: exitFailure,
			want: []string{"HEALTHSYNC_MAPPING_FILE", "is a directory, not a regular file"}},
		{name: "mapping_sparse_huge", env: []string{"HEALTHSYNC_MAPPING_FILE={DIR}/sparse.yaml"}, args: []string{"plan"}, code: exitFailure,
			want: []string{"HEALTHSYNC_MAPPING_FILE", "sparse.yaml: file is 1572864000 bytes; a mapping file must be under 1048576 bytes (1 MiB)"},
			prepare: func(t *testing.T, r *crmRig) func() {
				f, err := os.Create(filepath.Join(r.dir, "sparse.yaml"))
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				if err := f.Truncate(1500 << 20); err != nil { // no block written
					t.Fatal(err)
				}
				return func() { os.Remove(f.Name()) }
			}},
		{name: "mapping_second_document", env: []string{"HEALTHSYNC_MAPPING_FILE={DIR}/two.yaml"}, args: []string{"plan"}, code: exitFailure,
			want:    []string{"HEALTHSYNC_MAPPING_FILE", "two.yaml:", "a second YAML document starts here (after ---)", "remove this --- line and merge"},
			prepare: writeMapping("two.yaml", "---\noutputs:\n  score: Other_Score__c\n")},
		{name: "mapping_binary_tag", env: []string{"HEALTHSYNC_MAPPING_FILE={DIR}/binary.yaml"}, args: []string{"plan"}, code: exitFailure,
			want:    []string{"HEALTHSYNC_MAPPING_FILE", "binary.yaml:", "fields.contact.title: a !!binary value would be read as its base64 text", "without !!binary"},
			prepare: writeMapping("binary.yaml", "fields:\n  contact:\n    title: !!binary VGl0bGU=\n")},

		// Key files: regular, small, and readable by their owner only.
		{name: "encryption_key_file_dev_zero", env: []string{"HEALTHSYNC_ENCRYPTION_KEY_FILE=/dev/zero"}, code: exitFailure,
			want: []string{"HEALTHSYNC_ENCRYPTION_KEY_FILE", "/dev/zero: is a character device, not a regular file"}},
		{name: "encryption_key_file_fifo", env: []string{"HEALTHSYNC_ENCRYPTION_KEY_FILE={FIFO}"}, code: exitFailure,
			want: []string{"HEALTHSYNC_ENCRYPTION_KEY_FILE", "is a named pipe (FIFO), not a regular file"}},
		{name: "encryption_key_file_world_readable", env: []string{"HEALTHSYNC_ENCRYPTION_KEY_FILE={DIR}/open.key"}, code: exitFailure,
			want:    []string{"HEALTHSYNC_ENCRYPTION_KEY_FILE", "open.key: is readable by other users (mode 0644): run chmod 600"},
			prepare: copyWithMode("healthsync.key", "open.key", 0o644)},
		{name: "generated_key_file_world_readable", code: exitFailure,
			want: []string{"generated beside the database", "healthsync.key: is readable by other users (mode 0644)", "chmod 600"},
			prepare: func(t *testing.T, r *crmRig) func() {
				key := filepath.Join(r.dir, "healthsync.key")
				if err := os.Chmod(key, 0o644); err != nil {
					t.Fatal(err)
				}
				return func() { os.Chmod(key, 0o600) }
			}},
		{name: "jwt_key_dev_zero", env: []string{"HEALTHSYNC_SALESFORCE_JWT_KEY_FILE=/dev/zero"}, code: exitFailure,
			want: []string{"private key file (HEALTHSYNC_SALESFORCE_JWT_KEY_FILE): /dev/zero: is a character device"}},
		{name: "jwt_key_fifo", env: []string{"HEALTHSYNC_SALESFORCE_JWT_KEY_FILE={FIFO}"}, code: exitFailure,
			want: []string{"HEALTHSYNC_SALESFORCE_JWT_KEY_FILE", "is a named pipe (FIFO), not a regular file"}},
		{name: "jwt_key_world_readable", env: []string{"HEALTHSYNC_SALESFORCE_JWT_KEY_FILE={DIR}/open-jwt.key"}, code: exitFailure,
			want:    []string{"HEALTHSYNC_SALESFORCE_JWT_KEY_FILE", "open-jwt.key: is readable by other users (mode 0644): run chmod 600"},
			prepare: copyWithMode("jwt.key", "open-jwt.key", 0o644)},

		// Flags after the CRM name are parsed: the login waits 1ms.
		{name: "auth_flag_after_crm", args: []string{"auth", "salesforce", "--timeout", "1ms"}, code: exitFailure,
			want: []string{"timed out waiting for the OAuth callback after 1ms"}, deny: []string{"name the CRM"}},
		{name: "auth_bad_flag_after_crm", args: []string{"auth", "salesforce", "--timeout", "soon"}, code: exitUsage,
			want: []string{`invalid value "soon" for flag -timeout`, "want a duration"}, deny: []string{"name the CRM"}},

		// The JWT flow needs no `healthsync auth`: a token stored under
		// another encryption key is minted again, with a warning.
		{name: "jwt_encryption_key_changed", env: []string{"HEALTHSYNC_ENCRYPTION_KEY=" + otherKey}, code: exitOK,
			want: []string{"sealed with another encryption key", "the JWT bearer flow mints a new one"},
			deny: []string{"healthsync auth", "cannot decrypt"}},
	}
	r := newCRMRig(t, bin, crm.Salesforce)
	runConfigRows(t, r, rows)
	// The token minted under the other key is the stored one now: the
	// next run under that key has nothing to warn about.
	again := runBad(t, r.bin, r.dir, append(slices.Clone(r.env), "HEALTHSYNC_ENCRYPTION_KEY="+otherKey), "sync")
	again.expect(t, exitOK, nil)
	if strings.Contains(again.stderr, "sealed with another encryption key") {
		t.Errorf("the re-minted token was not stored under the current key:\n%s", again.stderr)
	}
}

func badConfigHubSpot(t *testing.T, bin string) {
	rows := []configRow{
		{name: "search_rate_inf", env: []string{"HEALTHSYNC_HUBSPOT_SEARCH_RATE=Inf"}, code: exitFailure,
			want: []string{`HEALTHSYNC_HUBSPOT_SEARCH_RATE="Inf"`, "want a finite number such as 5 (the default)"}},
	}
	runConfigRows(t, newCRMRig(t, bin, crm.HubSpot), rows)
}

// runConfigRows runs the rows one after the other on one synced rig:
// each fails without changing the store (or, for exit 0, loses nothing)
// and makes no call to the CRM unless it succeeds.
func runConfigRows(t *testing.T, r *crmRig, rows []configRow) {
	t.Helper()
	fifo := filepath.Join(r.dir, "nobody-writes.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			before := r.state(t)
			calls := r.apiCalls()
			undo := func() {}
			if row.prepare != nil {
				undo = row.prepare(t, r)
			}
			env := slices.Clone(r.env)
			for _, kv := range row.env {
				env = append(env, strings.NewReplacer("{DIR}", r.dir, "{FIFO}", fifo).Replace(kv))
			}
			args := row.args
			if args == nil {
				args = []string{"sync"}
			}
			out := runBad(t, r.bin, r.dir, env, args...)
			out.expect(t, row.code, row.want, secrets(env)...)
			for _, d := range row.deny {
				if strings.Contains(out.stdout+out.stderr, d) {
					t.Errorf("healthsync %s: output holds %q:\n%s%s", strings.Join(args, " "), d, out.stdout, out.stderr)
				}
			}
			undo()
			before.assertKept(t, r.state(t), false)
			if row.code != exitOK && r.apiCalls() != calls {
				t.Errorf("the refused command made %d API calls", r.apiCalls()-calls)
			}
		})
	}
}

// apiCalls is how many API calls the emulated CRM has served.
func (r *crmRig) apiCalls() int64 {
	if r.sf != nil {
		return r.sf.APICalls()
	}
	return int64(r.hs.APICalls())
}

// writeMapping writes the rig's example mapping followed by extra.
func writeMapping(name, extra string) func(t *testing.T, r *crmRig) func() {
	return func(t *testing.T, r *crmRig) func() {
		p := filepath.Join(r.dir, name)
		if err := os.WriteFile(p, append(mapping.Example(r.sys), extra...), 0o600); err != nil {
			t.Fatal(err)
		}
		return func() { os.Remove(p) }
	}
}

// copyWithMode copies a file of the rig's directory under another name
// with the given mode.
func copyWithMode(from, to string, mode os.FileMode) func(t *testing.T, r *crmRig) func() {
	return func(t *testing.T, r *crmRig) func() {
		data, err := os.ReadFile(filepath.Join(r.dir, from))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(r.dir, to)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return func() { os.Remove(p) }
	}
}

// signalWhileBlocked: a command blocked where its context does not reach
// (here the emulator reading a CSV export that is a FIFO no one writes
// to) ends after SIGTERM, saying why, instead of waiting for SIGKILL.
func signalWhileBlocked(t *testing.T, bin string) {
	dir := t.TempDir()
	csvDir := filepath.Join(dir, "csv")
	if err := os.Mkdir(csvDir, 0o700); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(csvDir, "Account.csv")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "emulator", "--csv", csvDir)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "TMPDIR=" + dir}
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	defer cmd.Process.Kill()
	// The emulator is blocked once it has the FIFO open for reading:
	// then a non-blocking open for writing succeeds. The write end stays
	// open, so its read blocks for good.
	var w *os.File
	for w == nil {
		f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		switch {
		case err == nil:
			w = f
		case errors.Is(err, syscall.ENXIO): // no reader yet
			select {
			case err := <-waited:
				t.Fatalf("the emulator ended before reading the FIFO: %v\n%s%s", err, o.String(), e.String())
			case <-time.After(20 * time.Millisecond):
			}
		default:
			t.Fatal(err)
		}
	}
	defer w.Close()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-waited:
	case <-time.After(2 * time.Minute): // a hang detector, not a timing assertion
		t.Fatalf("SIGTERM did not end the blocked command\nstderr:\n%s", e.String())
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitFailure {
		t.Errorf("exit: %v, want exit code %d", err, exitFailure)
	}
	for _, w := range []string{"stopped by a signal", "still blocked", "exiting without it"} {
		if !strings.Contains(e.String(), w) {
			t.Errorf("stderr lacks %q:\n%s", w, e.String())
		}
	}
}
