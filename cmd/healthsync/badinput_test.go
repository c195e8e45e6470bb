package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"healthsync/crm"
	emuhubspot "healthsync/emulator/hubspot"
	emusalesforce "healthsync/emulator/salesforce"
	"healthsync/mapping"
	"healthsync/store"
)

// The bad-input corpus: malformed command lines, environments, mapping
// files, CRM API responses and CRM records, each run through the real
// binary as a user would meet it. Every row names the exit code and the
// words its message must hold (the problem and the variable, flag or
// fix), and no row may panic. Rows that start from a synced store also
// check that the failure lost nothing already stored.

var badInputDir = filepath.Join("testdata", "badinput")

// outcome is what one run of the binary did.
type outcome struct {
	args           []string
	code           int
	stdout, stderr string
}

// runBad runs the binary in dir with a clean environment (PATH, HOME=dir,
// so no variable of the developer's shell and no default database leaks
// in) plus env, whatever its exit code.
func runBad(t *testing.T, bin, dir string, env []string, args ...string) outcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	out := outcome{args: args, stdout: o.String(), stderr: e.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		out.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("healthsync %v: %v", args, err)
	}
	return out
}

// expect checks the exit code, that the output holds every wanted
// substring and none of the hidden values, and that nothing panicked.
func (o outcome) expect(t *testing.T, code int, want []string, hide ...string) {
	t.Helper()
	all := o.stdout + o.stderr
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf("healthsync %s: "+format+"\nstdout:\n%s\nstderr:\n%s", append(append([]any{strings.Join(o.args, " ")}, args...), o.stdout, o.stderr)...)
	}
	for _, p := range []string{"panic:", "goroutine ", "runtime error"} {
		if strings.Contains(all, p) {
			fail("output shows %q", p)
		}
	}
	if o.code != code {
		fail("exit code %d, want %d", o.code, code)
	}
	for _, w := range want {
		if !strings.Contains(all, w) {
			fail("output lacks %q", w)
		}
	}
	for _, h := range hide {
		if h != "" && strings.Contains(all, h) {
			fail("output shows the secret %q", h)
		}
	}
}

// TestBadInput runs the whole corpus against one build of the binary.
func TestBadInput(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	t.Run("cli", func(t *testing.T) { t.Parallel(); badCLI(t, bin) })
	t.Run("help", func(t *testing.T) { t.Parallel(); badHelp(t, bin) })
	t.Run("config", func(t *testing.T) { t.Parallel(); badConfig(t, bin) })
	t.Run("mapping", func(t *testing.T) { t.Parallel(); badMapping(t, bin) })
	t.Run("api", func(t *testing.T) { t.Parallel(); badAPI(t, bin) })
	t.Run("records", func(t *testing.T) { t.Parallel(); badRecords(t, bin) })
}

// badCLI: mistakes on the command line end with exit 2, the problem, and
// the help command to run.
func badCLI(t *testing.T, bin string) {
	tests := []struct {
		name string
		args []string
		want []string
		// after checks what the command must not have touched.
		after func(t *testing.T, dir string)
	}{
		{name: "no_command", want: []string{"no command given", "healthsync help"}},
		{name: "unknown_command_typo", args: []string{"snyc"}, want: []string{`unknown command "snyc"`, `did you mean "sync"`}},
		{name: "unknown_command", args: []string{"frobnicate"}, want: []string{`unknown command "frobnicate"`, "Run `healthsync help`"}},
		{name: "help_unknown_command", args: []string{"help", "frobnicate"}, want: []string{`unknown command "frobnicate"`}},
		{name: "unknown_flag", args: []string{"sync", "--bogus"}, want: []string{"flag provided but not defined: -bogus", "healthsync sync --help"}},
		{name: "single_dash_typo", args: []string{"plan", "-jsno"}, want: []string{"not defined: -jsno", "healthsync plan --help"}},
		{name: "flag_missing_value", args: []string{"sync", "--objects"}, want: []string{"flag needs an argument: -objects", "healthsync sync --help"}},
		{name: "interval_no_unit", args: []string{"run", "--interval", "15"}, want: []string{`invalid value "15" for flag -interval`, "want a duration such as", "healthsync run --help"}},
		{name: "interval_too_short", args: []string{"run", "--interval", "10ms"}, want: []string{"--interval 10ms is too short", "at least 1s"}},
		{name: "interval_negative", args: []string{"run", "--interval=-5m"}, want: []string{"--interval -5m0s is too short", "at least 1s"}},
		{name: "bool_flag_value", args: []string{"sync", "--remap=maybe"}, want: []string{`invalid boolean value "maybe" for -remap`, "want true or false"}},
		{name: "demo_bad_crm", args: []string{"demo", "--crm", "oracle", "--dir", "demo"},
			want: []string{`--crm: unknown CRM "oracle"`, "use salesforce or hubspot", "healthsync demo --help"},
			after: func(t *testing.T, dir string) {
				if _, err := os.Stat(filepath.Join(dir, "demo")); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("demo with a bad --crm created its directory (stat: %v)", err)
				}
			}},
		{name: "demo_bad_accounts", args: []string{"demo", "--accounts", "0", "--dir", "demo"}, want: []string{"--accounts must be at least 1", "healthsync demo --help"},
			after: func(t *testing.T, dir string) {
				if _, err := os.Stat(filepath.Join(dir, "demo")); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("demo with a bad --accounts created its directory (stat: %v)", err)
				}
			}},
		{name: "emulator_bad_crm", args: []string{"emulator", "--crm", "dynamics"}, want: []string{`--crm: unknown CRM "dynamics"`, "healthsync emulator --help"}},
		{name: "emulator_fault_rate", args: []string{"emulator", "--fault-errors", "5"}, want: []string{"--fault-errors 5", "between 0 and 1"}},
		{name: "emulator_public_listen", args: []string{"emulator", "--listen", "0.0.0.0:0"}, want: []string{`--listen "0.0.0.0:0"`, "loopback address"}},
		{name: "auth_no_crm", args: []string{"auth"}, want: []string{"name the CRM: healthsync auth salesforce or healthsync auth hubspot"}},
		{name: "auth_bad_crm", args: []string{"auth", "pipedrive"}, want: []string{`unknown CRM "pipedrive"`, "use salesforce or hubspot"}},
		{name: "auth_two_crms", args: []string{"auth", "salesforce", "hubspot"}, want: []string{"name the CRM"}},
		{name: "sync_extra_argument", args: []string{"sync", "Account"}, want: []string{`unexpected argument "Account"`, "healthsync sync --help"}},
		{name: "migrate_extra_argument", args: []string{"migrate", "up"}, want: []string{`unexpected argument "up"`}},
		{name: "explain_no_account", args: []string{"explain"}, want: []string{"give one account ID or name", "healthsync explain --help"}},
		{name: "explain_two_accounts", args: []string{"explain", "Acme", "Globex"}, want: []string{"give one account ID or name"}},
		{name: "score_as_of_us_date", args: []string{"score", "--as-of", "03/31/2026"}, want: []string{`--as-of "03/31/2026"`, "YYYY-MM-DD", "healthsync score --help"}},
		{name: "score_as_of_future", args: []string{"score", "--as-of", "2999-01-01"}, want: []string{`--as-of "2999-01-01"`, "past date"}},
		{name: "score_json_alone", args: []string{"score", "--json"}, want: []string{"--json goes with --as-of DATE"}},
		{name: "report_bad_period", args: []string{"report", "--period", "fortnight"}, want: []string{`--period "fortnight"`, "use month, quarter or year"}},
		{name: "report_bad_date", args: []string{"report", "--from", "2024-13-01"}, want: []string{`--from "2024-13-01"`, "YYYY-MM-DD"}},
		{name: "report_us_date", args: []string{"report", "--from", "01/02/2024"}, want: []string{`--from "01/02/2024"`, "YYYY-MM-DD"}},
		{name: "report_json_and_csv", args: []string{"report", "--json", "--csv"}, want: []string{"choose one of --json and --csv"}},
		{name: "backtest_months_word", args: []string{"backtest", "--months", "twelve"}, want: []string{`invalid value "twelve" for flag -months`, "want a whole number"}},
		{name: "backtest_months_zero", args: []string{"backtest", "--months", "0"}, want: []string{"--months and --step must be at least 1"}},
		{name: "backtest_lead_negative", args: []string{"backtest", "--lead-days", "-1"}, want: []string{"--lead-days not negative"}},
		{name: "backtest_step_overflow", args: []string{"backtest", "--step", "99999999999999999999"}, want: []string{"for flag -step", "value out of range"}},
		{name: "plan_limit_word", args: []string{"plan", "--limit", "all"}, want: []string{`invalid value "all" for flag -limit`, "want a whole number"}},
		{name: "migrate_force_word", args: []string{"migrate", "--force", "latest"}, want: []string{`invalid value "latest" for flag -force`, "want a whole number"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			out := runBad(t, bin, dir, []string{"HEALTHSYNC_DATABASE_URL=" + filepath.Join(dir, "hs.db")}, tt.args...)
			out.expect(t, exitUsage, tt.want)
			if tt.after != nil {
				tt.after(t, dir)
			}
		})
	}
}

// badHelp: `--help` after every command prints its usage and exits 0,
// touching nothing.
func badHelp(t *testing.T, bin string) {
	for _, c := range commands() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			out := runBad(t, bin, dir, nil, c.name, "--help")
			out.expect(t, exitOK, []string{"Usage: healthsync " + c.name})
			if entries, _ := os.ReadDir(dir); len(entries) > 0 {
				t.Errorf("healthsync %s --help created %s", c.name, entries[0].Name())
			}
		})
	}
}

// readEnvFile reads a corpus environment: KEY=value lines, # comments,
// ${DIR} standing for the row's directory.
func readEnvFile(t *testing.T, path, dir string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var env []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		env = append(env, strings.ReplaceAll(line, "${DIR}", dir))
	}
	return env
}

// badConfig: a wrong environment ends with exit 1 and a message naming
// the variable and what it wants, and never shows a password.
func badConfig(t *testing.T, bin string) {
	tests := []struct {
		env  string // file under testdata/badinput/env
		args []string
		want []string
		hide string
	}{
		{env: "no_crm", args: []string{"sync"}, want: []string{"no CRM chosen", "HEALTHSYNC_CRM=salesforce or hubspot"}},
		{env: "unknown_crm", args: []string{"sync"}, want: []string{"HEALTHSYNC_CRM", `unknown CRM "dynamics"`, "use salesforce or hubspot"}},
		{env: "salesforce_no_client_id", args: []string{"sync"}, want: []string{"HEALTHSYNC_SALESFORCE_CLIENT_ID is empty", "consumer key"}},
		{env: "hubspot_no_credentials", args: []string{"sync"}, want: []string{"set HEALTHSYNC_HUBSPOT_TOKEN", "HEALTHSYNC_HUBSPOT_CLIENT_ID", "healthsync auth hubspot"}},
		{env: "hubspot_base_url_not_url", args: []string{"sync"}, want: []string{"HEALTHSYNC_HUBSPOT_BASE_URL must be an http(s) URL", `"api.hubapi.com"`}},
		{env: "hubspot_base_url_ftp", args: []string{"sync"}, want: []string{"HEALTHSYNC_HUBSPOT_BASE_URL must be an http(s) URL", "https://api.hubapi.com"}},
		{env: "salesforce_login_url_malformed", args: []string{"sync"}, want: []string{"HEALTHSYNC_SALESFORCE_LOGIN_URL", "https://test.salesforce.com"}},
		{env: "salesforce_jwt_half", args: []string{"sync"}, want: []string{"HEALTHSYNC_SALESFORCE_USERNAME and HEALTHSYNC_SALESFORCE_JWT_KEY_FILE go together"}},
		{env: "salesforce_api_version", args: []string{"sync"}, want: []string{`HEALTHSYNC_SALESFORCE_API_VERSION="v62"`, "such as 62.0"}},
		{env: "database_url_mysql", args: []string{"migrate"}, want: []string{"HEALTHSYNC_DATABASE_URL", `unsupported scheme "mysql"`, "postgres://"}},
		{env: "database_url_sqlite_no_file", args: []string{"migrate"}, want: []string{"HEALTHSYNC_DATABASE_URL", "names no file", "sqlite:///"}},
		{env: "database_url_postgres_unreachable", args: []string{"migrate"}, want: []string{"connect to postgres", "HEALTHSYNC_DATABASE_URL"}, hide: "hunter2-do-not-print"},
		{env: "database_url_postgres_malformed", args: []string{"migrate"}, want: []string{"HEALTHSYNC_DATABASE_URL is not a valid postgres URL", "postgres://user@host:5432/db"}, hide: "hunter2-do-not-print"},
		{env: "encryption_key_not_base64", args: []string{"migrate"}, want: []string{"HEALTHSYNC_ENCRYPTION_KEY", "not base64 or hex of 32 bytes", "openssl rand -base64 32"}, hide: "correct horse"},
		{env: "encryption_key_16_bytes", args: []string{"migrate"}, want: []string{"HEALTHSYNC_ENCRYPTION_KEY", "decodes to 16 bytes, need 32"}, hide: "MDEyMzQ1Njc4OWFiY2RlZg"},
		{env: "encryption_key_file_missing", args: []string{"migrate"}, want: []string{"HEALTHSYNC_ENCRYPTION_KEY_FILE", "no-such.key", "no such file"}},
		{env: "reconcile_interval_word", args: []string{"migrate"}, want: []string{`HEALTHSYNC_RECONCILE_INTERVAL="daily"`, "want a duration such as"}},
		{env: "max_change_share_word", args: []string{"migrate"}, want: []string{`HEALTHSYNC_MAX_CHANGE_SHARE="thirty percent"`, "want a number"}},
		{env: "max_change_share_above_one", args: []string{"migrate"}, want: []string{"HEALTHSYNC_MAX_CHANGE_SHARE=30", "at most 1", "0.3 = 30%"}},
		{env: "max_tasks_negative", args: []string{"migrate"}, want: []string{"HEALTHSYNC_MAX_TASKS_PER_RUN=-1", "must not be negative"}},
		{env: "max_tasks_word", args: []string{"migrate"}, want: []string{`HEALTHSYNC_MAX_TASKS_PER_RUN="unlimited"`, "want a whole number"}},
		{env: "max_tasks_overflow", args: []string{"migrate"}, want: []string{"HEALTHSYNC_MAX_TASKS_PER_RUN=", "out of range"}},
		{env: "http_timeout_no_unit", args: []string{"sync"}, want: []string{`HEALTHSYNC_HTTP_TIMEOUT="60"`, "want a duration such as"}},
		{env: "http_max_retries_negative", args: []string{"sync"}, want: []string{"HEALTHSYNC_HTTP_MAX_RETRIES must be between 0 and 50", "got -1"}},
		{env: "budget_run_share_percent", args: []string{"sync"}, want: []string{"HEALTHSYNC_API_BUDGET_RUN_SHARE must be a fraction", "0.2 for 20%"}},
		{env: "hubspot_search_rate_zero", args: []string{"sync"}, want: []string{"HEALTHSYNC_HUBSPOT_SEARCH_RATE must be a positive number", "HubSpot allows 5"}},
		{env: "connection_empty", args: []string{"migrate"}, want: []string{"HEALTHSYNC_CONNECTION is empty", "name the connection"}},
		{env: "status_token_short", args: []string{"migrate"}, want: []string{"HEALTHSYNC_STATUS_TOKEN", "at least 16 random characters"}, hide: "=secret"},
		{env: "mapping_file_missing", args: []string{"plan"}, want: []string{"HEALTHSYNC_MAPPING_FILE", "healthsync.yml", "no such file", "unset HEALTHSYNC_MAPPING_FILE"}},
		{env: "log_level_word", args: []string{"migrate"}, want: []string{`HEALTHSYNC_LOG_LEVEL="verbose"`, "use trace, debug, info, warn or error"}},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.env+".env"] = true
		t.Run(tt.env, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			env := append([]string{"HEALTHSYNC_DATABASE_URL=" + filepath.Join(dir, "hs.db")},
				readEnvFile(t, filepath.Join(badInputDir, "env", tt.env+".env"), dir)...)
			runBad(t, bin, dir, env, tt.args...).expect(t, exitFailure, tt.want, tt.hide)
		})
	}
	assertCorpusCovered(t, "env", seen)
}

// assertCorpusCovered fails for a corpus file no row uses, so a file added
// without its expectation cannot pass unnoticed.
func assertCorpusCovered(t *testing.T, sub string, seen map[string]bool) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(badInputDir, sub))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !seen[e.Name()] {
			t.Errorf("testdata/badinput/%s/%s has no row in the table", sub, e.Name())
		}
	}
}

// badMapping: a broken mapping file, loaded by `plan` as a RevOps user
// would meet it, names the file, line and column, the problem and the
// fix, and exits 1.
func badMapping(t *testing.T, bin string) {
	tests := []struct {
		file string // under testdata/badinput/mapping
		env  []string
		want []string
	}{
		{file: "yaml_syntax.yaml", want: []string{"yaml_syntax.yaml:4: invalid YAML", "did not find expected ',' or ']'"}},
		{file: "yaml_tab_indent.yaml", want: []string{"yaml_tab_indent.yaml:3: invalid YAML"}},
		{file: "unknown_key.yaml", want: []string{"unknown_key.yaml:5:3:", `unknown key "scroe" in outputs`, `did you mean "score"`}},
		{file: "unknown_key_no_near_match.yaml", want: []string{"unknown_key_no_near_match.yaml:6:5:", `unknown key "support_tickets" in scoring.weights`, "want one of", "renewal_risk"}},
		{file: "wrong_type.yaml", want: []string{"wrong_type.yaml:6:15:", "scoring.weights.adoption: want a number", `got "lots"`}},
		{file: "wrong_type_list.yaml", want: []string{"wrong_type_list.yaml:6:10:", "fields.account.arr: want a string, got a list"}},
		{file: "unknown_output.yaml", want: []string{"unknown_output.yaml:6:5:", `unknown metric "days_since_lunch"`, "want one of", "days_since_last_contact"}},
		{file: "duplicate_field.yaml", want: []string{"duplicate_field.yaml:6:10:", "Health_Score__c is already written by outputs.score", "every output needs its own field"}},
		{file: "duplicate_key.yaml", want: []string{"duplicate_key.yaml:7:5:", `duplicate key "arr" in fields.account`}},
		{file: "output_overwrites_input.yaml", want: []string{"output_overwrites_input.yaml:8:10:", "would overwrite its own input"}},
		{file: "weight_negative.yaml", want: []string{"weight_negative.yaml:6:15:", "scoring.weights.adoption: must be >= 0", "got -25"}},
		{file: "weights_all_zero.yaml", want: []string{"weights_all_zero.yaml:6:5:", "at least one weight must be > 0"}},
		{file: "missing_score_output.yaml", want: []string{"missing_score_output.yaml:5:10:", "outputs.score: required", "name the field the health score is written to"}},
		{file: "missing_account_name.yaml", want: []string{"missing_account_name.yaml:6:11:", "fields.account.name: required"}},
		{file: "no_accounts.yaml", want: []string{"no_accounts.yaml:4:12:", "Account must be synced"}},
		{file: "system_typo.yaml", want: []string{"system_typo.yaml:3:11:", `invalid value "salesfroce"`, `did you mean "salesforce"`}},
		{file: "system_typo.yaml", env: []string{"HEALTHSYNC_CRM=hubspot"}, want: []string{"system_typo.yaml:3:11:", `did you mean "salesforce"`}},
		{file: "top_level_list.yaml", want: []string{"top_level_list.yaml:2:1:", "want a mapping of sections", "got a list"}},
		{file: "bad_pattern.yaml", want: []string{"bad_pattern.yaml:7:21:", "invalid regular expression", "missing closing )"}},
		{file: "no_system.yaml", want: []string{"no_system.yaml: no CRM chosen", "crm: {system: salesforce}", "HEALTHSYNC_CRM"}},
		{file: "empty.yaml", want: []string{"empty.yaml: no CRM chosen", "HEALTHSYNC_CRM"}},
		{file: "binary_garbage.yaml", want: []string{"binary_garbage.yaml:1:1: not a text file", "YAML saved as UTF-8"}},
		{file: "latin1.yaml", want: []string{"latin1.yaml:7:9: not a text file", "byte 146 is 0xe8", "YAML saved as UTF-8"}},
		{file: "field_missing_in_org.yaml"}, // loads; the CRM check is in badAPI
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.file] = true
		if tt.want == nil {
			continue
		}
		t.Run(strings.TrimSuffix(tt.file, ".yaml")+strings.Join(tt.env, ","), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path, err := filepath.Abs(filepath.Join(badInputDir, "mapping", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			env := append([]string{"HEALTHSYNC_DATABASE_URL=" + filepath.Join(dir, "hs.db"), "HEALTHSYNC_MAPPING_FILE=" + path}, tt.env...)
			out := runBad(t, bin, dir, env, "plan")
			out.expect(t, exitFailure, append([]string{"HEALTHSYNC_MAPPING_FILE"}, tt.want...))
		})
	}
	assertCorpusCovered(t, "mapping", seen)

	// A huge file is made here rather than kept in the repository.
	t.Run("huge_file", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		path := filepath.Join(dir, "healthsync.yaml")
		data := append(mapping.Example(crm.Salesforce), bytes.Repeat([]byte("# padding to make the file far too big for a mapping\n"), 40000)...)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		out := runBad(t, bin, dir, []string{"HEALTHSYNC_DATABASE_URL=" + filepath.Join(dir, "hs.db")}, "plan")
		out.expect(t, exitFailure, []string{"healthsync.yaml: file is", "a mapping file must be under 1048576"})
	})
}

// faultProxy stands in front of an emulated CRM. It passes every request
// through until a fault is set; then the requests the fault matches get
// its answer instead, so a test can break one kind of response after a
// good sync.
type faultProxy struct {
	next  http.Handler
	mu    gosync.Mutex
	f     *fault
	match *regexp.Regexp
	hits  int
}

// fault is a broken answer.
type fault struct {
	// match is a regular expression matched against "METHOD
	// /path?query" (unescaped).
	match string
	// status, header and body replace the CRM's answer; with rewrite set,
	// the request goes through and rewrite changes the answer's body.
	status  int
	header  map[string]string
	body    string
	rewrite func(body []byte) []byte
}

func (p *faultProxy) set(f *fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.f, p.match, p.hits = f, nil, 0
	if f != nil {
		p.match = regexp.MustCompile(f.match)
	}
}

// fired is how many requests the current fault answered.
func (p *faultProxy) fired() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hits
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	f := p.f
	if f != nil && !p.match.MatchString(r.Method+" "+r.URL.Path+"?"+unescape(r.URL.RawQuery)) {
		f = nil
	}
	if f != nil {
		p.hits++
	}
	p.mu.Unlock()
	if f == nil {
		p.next.ServeHTTP(w, r)
		return
	}
	if f.rewrite != nil {
		rec := httptest.NewRecorder()
		p.next.ServeHTTP(rec, r)
		maps.Copy(w.Header(), rec.Header())
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		w.Write(f.rewrite(rec.Body.Bytes()))
		return
	}
	for k, v := range f.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(f.status)
	w.Write([]byte(f.body))
}

func unescape(q string) string {
	if s, err := url.QueryUnescape(q); err == nil {
		return s
	}
	return q
}

// crmRig is an emulated CRM behind a fault proxy, a SQLite store synced
// from it once, and the environment pointing the binary at both.
type crmRig struct {
	bin, dir string
	sys      crm.System
	sf       *emusalesforce.Server
	hs       *emuhubspot.Server
	proxy    *faultProxy
	env      []string
	db       string
}

// newCRMRig serves a fresh emulated org of sys and syncs it once.
func newCRMRig(t *testing.T, bin string, sys crm.System) *crmRig {
	t.Helper()
	r := &crmRig{bin: bin, dir: t.TempDir(), sys: sys}
	r.db = filepath.Join(r.dir, "hs.db")
	var em http.Handler
	var envLines func(string) []string
	switch sys {
	case crm.Salesforce:
		r.sf = emusalesforce.New(emusalesforce.Options{KeyFile: filepath.Join(r.dir, "jwt.key")})
		if err := r.sf.LoadOrg(e2eOrg(t)); err != nil {
			t.Fatal(err)
		}
		em, envLines = r.sf, r.sf.EnvLines
	case crm.HubSpot:
		r.hs = emuhubspot.New(emuhubspot.Options{RateLimits: emuhubspot.RateLimits{Disabled: true}})
		if _, err := r.hs.LoadOrg(e2eOrg(t)); err != nil {
			t.Fatal(err)
		}
		em, envLines = r.hs, r.hs.EnvLines
	}
	r.proxy = &faultProxy{next: em}
	srv := httptest.NewServer(r.proxy)
	t.Cleanup(srv.Close)
	mapFile := filepath.Join(r.dir, "healthsync.yaml")
	if err := os.WriteFile(mapFile, mapping.Example(sys), 0o600); err != nil {
		t.Fatal(err)
	}
	r.env = append(envLines(srv.URL), "HEALTHSYNC_DATABASE_URL="+r.db, "HEALTHSYNC_MAPPING_FILE="+mapFile,
		"HEALTHSYNC_HUBSPOT_SEARCH_RATE=1000",
		// Retries are part of the path under test; short waits keep it quick.
		"HEALTHSYNC_HTTP_MAX_RETRIES=2", "HEALTHSYNC_HTTP_RETRY_WAIT_MIN=1ms", "HEALTHSYNC_HTTP_RETRY_WAIT_MAX=5ms")
	r.run(t, "sync").expect(t, exitOK, nil)
	return r
}

func (r *crmRig) run(t *testing.T, args ...string) outcome {
	t.Helper()
	return runBad(t, r.bin, r.dir, r.env, args...)
}

// storeState is what a failed step must leave as it was: record counts
// per entity and the cursors.
type storeState struct {
	counts  map[store.Entity]int
	cursors map[string]store.Cursor
}

func (r *crmRig) state(t *testing.T) storeState {
	t.Helper()
	ctx := t.Context()
	s, err := store.Open(ctx, store.Config{DatabaseURL: r.db}, store.Options{Shared: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var st storeState
	if st.counts, err = s.Counts(ctx, "default"); err != nil {
		t.Fatal(err)
	}
	if st.cursors, err = s.Cursors(ctx, "default"); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, n := range st.counts {
		total += n
	}
	if total == 0 {
		t.Fatal("the store holds no records: the rig's first sync did nothing")
	}
	return st
}

// assertKept fails when a count went down or, unless repull, a cursor
// moved back.
func (st storeState) assertKept(t *testing.T, after storeState, repull bool) {
	t.Helper()
	for e, n := range st.counts {
		if after.counts[e] < n {
			t.Errorf("%s: %d records before the bad input, %d after", e, n, after.counts[e])
		}
	}
	if repull {
		return
	}
	for obj, c := range st.cursors {
		a := after.cursors[obj]
		if a.ModifiedAt.Before(c.ModifiedAt) {
			t.Errorf("cursor of %s moved back from %v to %v", obj, c.ModifiedAt, a.ModifiedAt)
		}
	}
}

// touch changes the industry of n accounts in the CRM, so the next sync
// pulls them, and returns their ids.
func (r *crmRig) touch(t *testing.T, n int) []string {
	t.Helper()
	var ids []string
	switch r.sys {
	case crm.Salesforce:
		for _, id := range r.sf.IDs("Account", false)[:n] {
			if err := r.sf.SetField("Account", id, "Industry", "Retail"); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
	case crm.HubSpot:
		recs, err := r.hs.Records("companies")
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range recs[:n] {
			if err := r.hs.Update("companies", rec.ID, map[string]string{"industry": "RETAIL"}); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, rec.ID)
		}
	}
	return ids
}

// raw returns the stored raw JSON of an account, nil when there is none.
func (r *crmRig) raw(t *testing.T, id string) []byte {
	t.Helper()
	ctx := t.Context()
	s, err := store.Open(ctx, store.Config{DatabaseURL: r.db}, store.Options{Shared: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	obj := map[crm.System]string{crm.Salesforce: "Account", crm.HubSpot: "companies"}[r.sys]
	var found []byte
	err = s.ForEachRaw(ctx, "default", obj, func(rec store.RawRecord) error {
		if rec.ID == id {
			found = rec.Raw
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// secrets are the credentials in env, which no output may show.
func secrets(env []string) []string {
	var out []string
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if len(v) >= 8 && (strings.Contains(k, "SECRET") || strings.Contains(k, "TOKEN") || strings.Contains(k, "PASSWORD")) {
			out = append(out, v)
		}
	}
	return out
}

// Bodies the CRMs (or what stands in front of them) really send.
const (
	sfInvalidSession = `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`
	sfNotFound       = `[{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}]`
	sfDailyLimit     = `[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`
	sfUnavailable    = `[{"message":"Server temporarily unavailable. Please try again later.","errorCode":"SERVER_UNAVAILABLE"}]`
	hsRateLimit      = `{"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT","correlationId":"c5b4f3a2-0000-4000-8000-000000000001","policyName":"TEN_SECONDLY_ROLLING"}`
	hsNotFound       = `{"status":"error","message":"Unable to infer object type from: companies","correlationId":"c5b4f3a2-0000-4000-8000-000000000002","category":"OBJECT_NOT_FOUND"}`
	gatewayHTML      = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"
	loginHTML        = "<!DOCTYPE html><html><head><title>Login | Salesforce</title></head><body><form id=\"login_form\"></form></body></html>"
)

var (
	jsonType = map[string]string{"Content-Type": "application/json;charset=UTF-8"}
	htmlType = map[string]string{"Content-Type": "text/html; charset=UTF-8"}
)

// truncate cuts a body in half, as a dropped connection would.
func truncate(b []byte) []byte { return b[:len(b)/2] }

// badAPI: after a good sync, a CRM answer that is broken, refused or not
// JSON at all ends the step with a clear message, and the store keeps
// everything the good sync stored; a later good run resumes.
func badAPI(t *testing.T, bin string) {
	const (
		// The first page of an incremental pull comes in a composite
		// request, or from queryAll when that fails.
		sfQuery   = `POST /services/data/v[0-9.]+/composite\?|/queryAll\?`
		hsSearch  = `^POST /crm/v3/objects/companies/search`
		hsCompany = `/crm/v3/objects/companies`
	)
	tests := []struct {
		name  string
		sys   crm.System
		fault *fault
		// badEnv is added to the environment of the failing run only.
		badEnv func(r *crmRig) []string
		args   []string // default: sync
		// repull: the step pulls an object again from the start by design.
		repull bool
		code   int
		want   []string
	}{
		{name: "salesforce_non_json_200", sys: crm.Salesforce, fault: &fault{match: sfQuery, status: 200, header: jsonType, body: "OK"}, code: exitFailure,
			want: []string{"sync Account", "MALFORMED_RESPONSE", "invalid character 'O'", "HEALTHSYNC_SALESFORCE_LOGIN_URL", "nothing stored was lost"}},
		{name: "salesforce_truncated_json", sys: crm.Salesforce, fault: &fault{match: sfQuery, rewrite: truncate}, code: exitFailure,
			want: []string{"sync Account", "unexpected end of JSON input", "a cut connection", "run again"}},
		{name: "salesforce_html_login_page_200", sys: crm.Salesforce, fault: &fault{match: sfQuery, status: 200, header: htmlType, body: loginHTML}, code: exitFailure,
			want: []string{"text/html", "Login | Salesforce", "answer could not be read"}},
		{name: "salesforce_html_502", sys: crm.Salesforce, fault: &fault{match: sfQuery, status: 502, header: htmlType, body: gatewayHTML}, code: exitFailure,
			want: []string{"HTTP 502", "502 Bad Gateway", "answer could not be read"}},
		{name: "salesforce_401_invalid_session", sys: crm.Salesforce, fault: &fault{match: "/services/data/v", status: 401, header: jsonType, body: sfInvalidSession}, code: exitFailure,
			want: []string{"HTTP 401 INVALID_SESSION_ID", "healthsync auth salesforce", "HEALTHSYNC_SALESFORCE_JWT_KEY_FILE"}},
		{name: "salesforce_404_describe", sys: crm.Salesforce, args: []string{"check"}, fault: &fault{match: "/sobjects/Account/describe", status: 404, header: jsonType, body: sfNotFound}, code: exitFailure,
			want: []string{"object Account does not exist in the org or the integration user cannot see it", "the user's profile", "HTTP 404 NOT_FOUND"}},
		{name: "salesforce_503_unavailable", sys: crm.Salesforce, fault: &fault{match: sfQuery, status: 503, header: jsonType, body: sfUnavailable}, code: exitFailure,
			want: []string{"HTTP 503 SERVER_UNAVAILABLE", "run again later", "the next run resumes"}},
		{name: "salesforce_daily_limit", sys: crm.Salesforce, fault: &fault{match: sfQuery, status: 403, header: jsonType, body: sfDailyLimit}, code: exitOK,
			want: []string{"Stopped early: the CRM's daily API limit is reached", "the next run resumes"}},
		// The mapping asks for a field the org lacks: the object is pulled
		// again by design, so its cursor starts over.
		{name: "salesforce_invalid_field", sys: crm.Salesforce, repull: true, code: exitFailure,
			badEnv: func(*crmRig) []string {
				return []string{"HEALTHSYNC_MAPPING_FILE=" + corpusPath("mapping", "field_missing_in_org.yaml")}
			},
			want: []string{"INVALID_FIELD", "Account.Adoption_Score_Typo__c", "create the field", "change the mapping file"}},
		{name: "salesforce_check_field_missing", sys: crm.Salesforce, args: []string{"check"}, code: exitFailure,
			badEnv: func(*crmRig) []string {
				return []string{"HEALTHSYNC_MAPPING_FILE=" + corpusPath("mapping", "field_missing_in_org.yaml")}
			},
			want: []string{"field_missing_in_org.yaml:6", "no such field on Account", "set fields.account.adoption to the right field", "the mapping does not fit the CRM"}},
		{name: "hubspot_non_json_200", sys: crm.HubSpot, fault: &fault{match: hsSearch, status: 200, header: jsonType, body: "OK"}, code: exitFailure,
			want: []string{"search companies", "MALFORMED_RESPONSE", "HEALTHSYNC_HUBSPOT_BASE_URL"}},
		{name: "hubspot_truncated_json", sys: crm.HubSpot, fault: &fault{match: hsSearch, rewrite: truncate}, code: exitFailure,
			want: []string{"search companies", "unexpected end of JSON input", "run again"}},
		{name: "hubspot_html_502", sys: crm.HubSpot, fault: &fault{match: hsSearch, status: 502, header: htmlType, body: gatewayHTML}, code: exitFailure,
			want: []string{"HTTP 502", "502 Bad Gateway", "answer could not be read"}},
		{name: "hubspot_401_bad_token", sys: crm.HubSpot, code: exitFailure,
			badEnv: func(*crmRig) []string {
				return []string{"HEALTHSYNC_HUBSPOT_TOKEN=pat-na1-0badc0de-0000-4000-8000-000000000000"}
			},
			want: []string{"HTTP 401 INVALID_AUTHENTICATION", "check HEALTHSYNC_HUBSPOT_TOKEN"}},
		{name: "hubspot_403_missing_scope", sys: crm.HubSpot, code: exitFailure,
			badEnv: func(r *crmRig) []string {
				return []string{"HEALTHSYNC_HUBSPOT_TOKEN=" + r.hs.NewPrivateAppToken("crm.objects.companies.read")}
			},
			want: []string{"HTTP 403 MISSING_SCOPES", "crm.objects.contacts.read", "Grant the scope", "healthsync check"}},
		{name: "hubspot_404_object", sys: crm.HubSpot, fault: &fault{match: hsCompany, status: 404, header: jsonType, body: hsNotFound}, code: exitFailure,
			want: []string{"HTTP 404 OBJECT_NOT_FOUND", "check crm.objects in the mapping file"}},
		{name: "hubspot_429_rate_limit", sys: crm.HubSpot, fault: &fault{match: "/crm/v3/", status: 429, header: jsonType, body: hsRateLimit}, code: exitFailure,
			want: []string{"HTTP 429 TEN_SECONDLY_ROLLING", "ten_secondly_rolling limit", "the next run resumes", "HEALTHSYNC_HUBSPOT_SEARCH_RATE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newCRMRig(t, bin, tt.sys)
			before := r.state(t)
			r.touch(t, 1)
			env := r.env
			if tt.badEnv != nil {
				env = append(slices.Clone(r.env), tt.badEnv(r)...)
			}
			r.proxy.set(tt.fault)
			args := tt.args
			if args == nil {
				args = []string{"sync"}
			}
			out := runBad(t, bin, r.dir, env, args...)
			out.expect(t, tt.code, tt.want, secrets(env)...)
			if tt.fault != nil && r.proxy.fired() == 0 {
				t.Errorf("the fault on %q never fired: the row proves nothing", tt.fault.match)
			}
			before.assertKept(t, r.state(t), tt.repull)
			r.proxy.set(nil)
			r.run(t, "sync").expect(t, exitOK, nil)
		})
	}
}

func corpusPath(sub, name string) string {
	p, err := filepath.Abs(filepath.Join(badInputDir, sub, name))
	if err != nil {
		panic(err)
	}
	return p
}

// rawBytes stands in a corrupted record for bytes JSON cannot carry;
// corruptRecord puts them on the wire after encoding.
const (
	rawBytesMarker = "\u0001raw-bytes\u0001"
	rawBytes       = "Acme \xff\xfe Corp \xc3\x28"
)

// corruptRecord returns a rewrite that applies change to the record with
// id wherever it appears in a Salesforce query answer (plain or inside a
// composite answer) or a HubSpot search or batch answer; other answers
// pass unchanged.
func corruptRecord(id string, change func(rec map[string]any)) func([]byte) []byte {
	return func(body []byte) []byte {
		var doc any
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if dec.Decode(&doc) != nil {
			return body
		}
		found := false
		var walk func(v any)
		walk = func(v any) {
			switch v := v.(type) {
			case map[string]any:
				if v["Id"] == id || v["id"] == id {
					change(v)
					found = true
					return
				}
				for _, c := range v {
					walk(c)
				}
			case []any:
				for _, c := range v {
					walk(c)
				}
			}
		}
		walk(doc)
		if !found {
			return body
		}
		out, err := json.Marshal(doc)
		if err != nil {
			panic(err)
		}
		marker, _ := json.Marshal(rawBytesMarker)
		return bytes.ReplaceAll(out, marker, []byte(`"`+rawBytes+`"`))
	}
}

// setField returns a change that sets one field of a Salesforce record
// or one property of a HubSpot record.
func setField(name string, v any) func(rec map[string]any) {
	return func(rec map[string]any) {
		if props, ok := rec["properties"].(map[string]any); ok {
			props[name] = v
			return
		}
		rec[name] = v
	}
}

// badRecords: after a good sync, a changed account arrives with a broken
// value. The sync does not panic, names the record by object and id when
// it cannot keep it whole, lets the other changed accounts through, and
// loses nothing stored.
func badRecords(t *testing.T, bin string) {
	const (
		sfPull = `POST /services/data/v[0-9.]+/composite\?|/queryAll\?`
		hsPull = `^POST /crm/v3/objects/companies/(search|batch/read)`
	)
	huge := strings.Repeat("Huge text. ", 200_000) // 2.2 MB
	tests := []struct {
		name string
		sys  crm.System
		// change corrupts the record on the wire; emulate changes it in
		// the CRM itself, as a user could.
		change  func(rec map[string]any)
		emulate func(t *testing.T, r *crmRig, id string)
		// problem: the sync lists the record as a problem by object and
		// id and goes on; otherwise it takes the odd value as it is.
		problem bool
		// skipped: the connector cannot read the record at all (no id,
		// no readable modification stamp, a number where HubSpot sends
		// strings): the sync stores the other accounts, lists the bad one
		// as a problem (by id when it has one) and exits 0; the bad one is
		// not stored, and is read again once the answer is whole.
		skipped bool
		// noID: the bad record is listed without an id (it has none).
		noID bool
		want []string // {id} stands for the bad record's id
	}{
		{name: "salesforce_bad_date", sys: crm.Salesforce, change: setField("Renewal_Date__c", "2024-13-45"), problem: true,
			want: []string{"field Renewal_Date__c", `value "2024-13-45"`, "want a date or datetime"}},
		{name: "salesforce_date_in_other_format", sys: crm.Salesforce, change: setField("Customer_Since__c", "31/12/2020"), problem: true,
			want: []string{"field Customer_Since__c", `value "31/12/2020"`, "want a date or datetime"}},
		{name: "salesforce_string_for_number", sys: crm.Salesforce, change: setField("ARR__c", "lots"), problem: true,
			want: []string{"field ARR__c", `value "lots"`, "want a number"}},
		{name: "salesforce_object_for_text", sys: crm.Salesforce, change: setField("Name", map[string]any{"first": "Acme"}), problem: true,
			want: []string{"field Name", "want a text value"}},
		{name: "salesforce_unknown_picklist_value", sys: crm.Salesforce, problem: true,
			emulate: func(t *testing.T, r *crmRig, id string) {
				for f, v := range map[string]string{"CSM_Sentiment__c": "Purple", "Type": "Alien"} {
					if err := r.sf.SetField("Account", id, f, v); err != nil {
						t.Fatal(err)
					}
				}
			},
			want: []string{"field CSM_Sentiment__c", `value "Purple"`, "want one of Green, Red, Yellow", "(classify.sentiment)"}},
		{name: "salesforce_null_name", sys: crm.Salesforce, change: setField("Name", nil)},
		{name: "salesforce_huge_text", sys: crm.Salesforce, change: setField("Description", huge)},
		{name: "salesforce_non_utf8", sys: crm.Salesforce, change: setField("Name", rawBytesMarker)},
		{name: "salesforce_bad_modstamp", sys: crm.Salesforce, change: setField("SystemModstamp", "yesterday"), skipped: true,
			want: []string{"Account {id}: Salesforce Account record ", " of page 1: SystemModstamp \"yesterday\" is not a date-time", `parse time "yesterday"`}},
		{name: "salesforce_missing_id", sys: crm.Salesforce, change: func(rec map[string]any) { delete(rec, "Id") }, skipped: true, noID: true,
			want: []string{"Account: Salesforce Account record ", " of page 1 (", `attributes.url ending "{id}"`, "): it has no Id"}},
		{name: "hubspot_bad_date", sys: crm.HubSpot, change: setField("renewal_date", "2024-13-45"), problem: true,
			want: []string{"field renewal_date", `value "2024-13-45"`, "want a date or datetime"}},
		{name: "hubspot_string_for_number", sys: crm.HubSpot, change: setField("annualrevenue", "lots"), problem: true,
			want: []string{"field annualrevenue", `value "lots"`, "want a number"}},
		{name: "hubspot_unknown_option", sys: crm.HubSpot, change: setField("csm_sentiment", "Purple"), problem: true,
			want: []string{"field csm_sentiment", `value "Purple"`, "(classify.sentiment)"}},
		{name: "hubspot_huge_text", sys: crm.HubSpot, emulate: func(t *testing.T, r *crmRig, id string) {
			if err := r.hs.Update("companies", id, map[string]string{"name": strings.Repeat("Huge name ", 7000)}); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "hubspot_non_utf8", sys: crm.HubSpot, change: setField("name", rawBytesMarker)},
		{name: "hubspot_bad_modified_date", sys: crm.HubSpot, change: setField("hs_lastmodifieddate", "not a date"), skipped: true,
			want: []string{"companies {id}: HubSpot companies result ", " of search page 1: hs_lastmodifieddate \"not a date\" is not a date", `parse time "not a date"`}},
		{name: "hubspot_missing_id", sys: crm.HubSpot, change: func(rec map[string]any) { delete(rec, "id") }, skipped: true, noID: true,
			want: []string{"companies: HubSpot companies result ", " of search page 1 (hs_object_id \"{id}\"", "): it has no id"}},
		{name: "hubspot_number_for_string", sys: crm.HubSpot, change: setField("name", 12345), skipped: true,
			want: []string{"companies {id}: HubSpot companies result ", " of search page 1: property name is a number (12345), HubSpot sends strings"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newCRMRig(t, bin, tt.sys)
			before := r.state(t)
			ids := r.touch(t, 3)
			bad := ids[0]
			if tt.emulate != nil {
				tt.emulate(t, r, bad)
			}
			if tt.change != nil {
				match := map[crm.System]string{crm.Salesforce: sfPull, crm.HubSpot: hsPull}[tt.sys]
				r.proxy.set(&fault{match: match, rewrite: corruptRecord(bad, tt.change)})
			}
			out := r.run(t, "sync")
			obj := map[crm.System]string{crm.Salesforce: "Account", crm.HubSpot: "companies"}[tt.sys]
			var want []string
			for _, w := range tt.want {
				want = append(want, strings.ReplaceAll(w, "{id}", bad))
			}
			switch {
			case tt.skipped:
				want = append(want, "records had problems", "; not stored, read again next run")
				if !tt.noID {
					want = append(want, obj+" "+bad+": ")
				}
			case tt.problem:
				want = append(want, "records had problems", obj+" "+bad+": ")
			default:
				if strings.Contains(out.stdout, "records had problems") {
					t.Errorf("the odd value was listed as a problem:\n%s", out.stdout)
				}
			}
			out.expect(t, exitOK, want)
			before.assertKept(t, r.state(t), false)
			stored := ids
			if tt.skipped {
				stored = ids[1:]
				if raw := r.raw(t, bad); bytes.Contains(bytes.ToLower(raw), []byte("retail")) {
					t.Errorf("%s %s: the record that could not be read was stored: %.300s", obj, bad, raw)
				}
			}
			for _, id := range stored {
				if raw := r.raw(t, id); !bytes.Contains(bytes.ToLower(raw), []byte("retail")) {
					t.Errorf("%s %s: its change was not stored: %.300s", obj, id, raw)
				}
			}
			if !tt.skipped {
				return
			}
			// Once the answer is whole, the next run reads the skipped
			// record again and stores it.
			r.proxy.set(nil)
			again := r.run(t, "sync")
			again.expect(t, exitOK, nil)
			if strings.Contains(again.stdout, "records had problems") {
				t.Errorf("the whole answer still reported problems:\n%s", again.stdout)
			}
			if raw := r.raw(t, bad); !bytes.Contains(bytes.ToLower(raw), []byte("retail")) {
				t.Errorf("%s %s: not stored by the run after the bad answer: %.300s", obj, bad, raw)
			}
		})
	}
}
