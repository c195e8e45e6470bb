package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"healthsync/crm"
	emuhubspot "healthsync/emulator/hubspot"
	emusalesforce "healthsync/emulator/salesforce"
	"healthsync/store"
)

// The connector side of the bad-input corpus: a CRM that stalls, pages
// that loop, an API version the org lacks, hosts nobody answers at, and
// stray requests to the OAuth callback, each met by the real binary. Every
// row names the exit code and the words of the message, and checks that
// the store kept what it had; a row whose step fails also checks that its
// run is recorded failed (not "stopped") and that a later good run works.

// TestBadInputConnector runs the connector corpus against one build.
func TestBadInputConnector(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	t.Run("crm", func(t *testing.T) { t.Parallel(); badCRM(t, bin) })
	t.Run("oauth_callback", func(t *testing.T) { t.Parallel(); badCallback(t, bin) })
}

// deadURL is an http URL nobody listens at.
func deadURL(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close()
	return u
}

// lastRun is the newest run recorded in the rig's store.
func (r *crmRig) lastRun(t *testing.T) store.Run {
	t.Helper()
	ctx := t.Context()
	s, err := store.Open(ctx, store.Config{DatabaseURL: r.db}, store.Options{Shared: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	runs, err := s.Runs(ctx, "default", 1)
	if err != nil || len(runs) == 0 {
		t.Fatalf("runs: %v, %v", runs, err)
	}
	return runs[0]
}

// forgetToken deletes the stored OAuth token, so the next run logs in.
func (r *crmRig) forgetToken(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	s, err := store.Open(ctx, store.Config{DatabaseURL: r.db}, store.Options{Shared: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.DeleteToken(ctx, "default"); err != nil {
		t.Fatal(err)
	}
}

// setFaults sets the faults of the rig's emulated CRM; sf and hs are the
// faults of each kind, the one of the rig's CRM is used.
func (r *crmRig) setFaults(sf emusalesforce.Faults, hs emuhubspot.Faults) {
	switch r.sys {
	case crm.Salesforce:
		r.sf.SetFaults(sf)
	case crm.HubSpot:
		r.hs.SetFaults(hs)
	}
}

// instanceURL returns a rewrite of a Salesforce token answer whose
// instance_url becomes u.
func instanceURL(u string) func([]byte) []byte {
	return func(body []byte) []byte {
		var tok map[string]any
		if json.Unmarshal(body, &tok) != nil || tok["instance_url"] == nil {
			return body
		}
		tok["instance_url"] = u
		out, err := json.Marshal(tok)
		if err != nil {
			panic(err)
		}
		return out
	}
}

// badCRM: after a good sync, the CRM stalls, loops or cannot be reached,
// or the configuration names what the org does not have. The step fails
// (exit 1) with the cause in its words, records its run failed, keeps the
// store, and the next run after the cause is gone succeeds.
func badCRM(t *testing.T, bin string) {
	dead := deadURL(t)
	const stall = "HEALTHSYNC_HTTP_TIMEOUT=300ms"
	tests := []struct {
		name   string
		sys    crm.System
		sf     emusalesforce.Faults
		hs     emuhubspot.Faults
		fault  *fault                 // a rewrite by the proxy in front of the CRM
		env    func(*crmRig) []string // added for the failing run only
		args   []string               // default: sync
		want   []string
		absent []string // words the output must not hold
		// relogin: the stored token is forgotten first, so the step logs
		// in again (as after a revoked session).
		relogin bool
	}{
		{name: "salesforce_latency_above_timeout", sys: crm.Salesforce, sf: emusalesforce.Faults{Latency: 30 * time.Second},
			env:  func(*crmRig) []string { return []string{stall} },
			want: []string{"sync Account: ", "POST http://127.0.0.1:", "/services/data/v62.0/composite: the CRM did not answer within 300ms (HEALTHSYNC_HTTP_TIMEOUT) after 2 retries"}},
		{name: "salesforce_trickling_body", sys: crm.Salesforce, sf: emusalesforce.Faults{Trickle: 100 * time.Millisecond},
			env:  func(*crmRig) []string { return []string{stall} },
			want: []string{"sync Account: ", "the CRM did not answer within 300ms (HEALTHSYNC_HTTP_TIMEOUT; its answer stalled after", "bytes) after 2 retries"}},
		{name: "hubspot_latency_above_timeout", sys: crm.HubSpot, hs: emuhubspot.Faults{Latency: 30 * time.Second},
			env:  func(*crmRig) []string { return []string{stall} },
			want: []string{"search companies: POST http://127.0.0.1:", "/crm/v3/objects/companies/search: the CRM did not answer within 300ms (HEALTHSYNC_HTTP_TIMEOUT) after 2 retries"}},
		{name: "hubspot_trickling_body", sys: crm.HubSpot, hs: emuhubspot.Faults{Trickle: 100 * time.Millisecond},
			env:  func(*crmRig) []string { return []string{stall} },
			want: []string{"search companies: ", "the CRM did not answer within 300ms (HEALTHSYNC_HTTP_TIMEOUT; its answer stalled after"}},
		{name: "salesforce_next_records_url_repeats", sys: crm.Salesforce, sf: emusalesforce.Faults{RepeatLocator: true},
			want: []string{"sync Account: ", "/services/data/v62.0/queryAll: HTTP 200 MALFORMED_RESPONSE: an answer points back at a page already read (nextRecordsUrl ending", "the pages would repeat forever", "check HEALTHSYNC_SALESFORCE_LOGIN_URL or HEALTHSYNC_HUBSPOT_BASE_URL and any proxy"}},
		{name: "salesforce_rows_beyond_total_size", sys: crm.Salesforce, sf: emusalesforce.Faults{EndlessPages: true},
			want: []string{"sync Account: ", "/services/data/v62.0/queryAll: HTTP 200 MALFORMED_RESPONSE: 2 pages hold", "rows, more than the", "the first announced: the pages repeat"}},
		{name: "hubspot_after_repeats", sys: crm.HubSpot, hs: emuhubspot.Faults{LoopPaging: true},
			want: []string{"/crm/v3/", "HTTP 200 MALFORMED_RESPONSE: an answer points back at a page already read (paging.next.after \"", "the pages would repeat forever"}},
		{name: "salesforce_api_version_not_offered", sys: crm.Salesforce,
			env: func(*crmRig) []string { return []string{"HEALTHSYNC_SALESFORCE_API_VERSION=99.0"} },
			want: []string{"HEALTHSYNC_SALESFORCE_API_VERSION=99.0: API version not offered by the org at http://127.0.0.1:", "which offers 50.0 to 66.0 (GET /services/data/)",
				"e.g. 62.0", "HTTP 404 NOT_FOUND: The requested resource does not exist"},
			absent: []string{"does not exist in the org"}},
		{name: "salesforce_login_url_unreachable", sys: crm.Salesforce, relogin: true,
			env:    func(*crmRig) []string { return []string{"HEALTHSYNC_SALESFORCE_LOGIN_URL=" + dead} },
			want:   []string{"cannot reach " + dead + ": connection refused; check HEALTHSYNC_SALESFORCE_LOGIN_URL"},
			absent: []string{"pages", "records=0", "object synced"}},
		{name: "salesforce_instance_url_unreachable", sys: crm.Salesforce, relogin: true,
			fault:  &fault{match: `^POST /services/oauth2/token`, rewrite: instanceURL(dead)},
			want:   []string{"GET " + dead + "/services/data/v62.0/", "cannot reach " + dead + ": connection refused; this instance URL came with the org's token"},
			absent: []string{"pages", "records=0", "object synced"}},
		{name: "hubspot_base_url_unreachable", sys: crm.HubSpot,
			env:    func(*crmRig) []string { return []string{"HEALTHSYNC_HUBSPOT_BASE_URL=" + dead} },
			want:   []string{"POST " + dead + "/crm/v3/objects/companies/search: cannot reach " + dead + ": connection refused; check HEALTHSYNC_HUBSPOT_BASE_URL"},
			absent: []string{"pages", "records=0", "object synced"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newCRMRig(t, bin, tt.sys)
			before := r.state(t)
			beforeRun := r.lastRun(t)
			r.touch(t, 1)
			env := r.env
			if tt.env != nil {
				env = append(slices.Clone(r.env), tt.env(r)...)
			}
			if tt.relogin {
				r.forgetToken(t)
			}
			r.setFaults(tt.sf, tt.hs)
			r.proxy.set(tt.fault)
			args := tt.args
			if args == nil {
				args = []string{"sync"}
			}
			out := runBad(t, bin, r.dir, env, args...)
			out.expect(t, exitFailure, tt.want, secrets(env)...)
			t.Logf("healthsync %s: %s", strings.Join(args, " "), out.stderr[strings.LastIndex(strings.TrimSpace(out.stderr), "\nhealthsync: ")+1:])
			for _, a := range append(tt.absent, "Stopped early", "interrupted") {
				if strings.Contains(out.stdout+out.stderr, a) {
					t.Errorf("the output holds %q:\nstdout:\n%s\nstderr:\n%s", a, out.stdout, out.stderr)
				}
			}
			if tt.fault != nil && r.proxy.fired() == 0 {
				t.Errorf("the fault on %q never fired: the row proves nothing", tt.fault.match)
			}
			r.setFaults(emusalesforce.Faults{}, emuhubspot.Faults{})
			r.proxy.set(nil)
			before.assertKept(t, r.state(t), false)
			if run := r.lastRun(t); run.ID == beforeRun.ID || run.Status != store.RunFailed || run.StopReason == "" {
				t.Errorf("the failed step's run: %d %s %q; want a new run recorded failed with its cause", run.ID, run.Status, run.StopReason)
			}
			if tt.relogin {
				r.forgetToken(t) // what the message says: log in again
			}
			r.run(t, "sync").expect(t, exitOK, nil)
			if run := r.lastRun(t); run.Status != store.RunOK {
				t.Errorf("the run after the cause was gone: %s %q", run.Status, run.StopReason)
			}
		})
	}
}

// authURLLine finds the authorize URL healthsync auth prints.
var authURLLine = regexp.MustCompile(`^\s+(http://\S+/services/oauth2/authorize\?\S+)$`)

// freePort returns a loopback port nobody listens at now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// badCallback: `healthsync auth salesforce` waits for its own redirect.
// Requests to its loopback callback without its state (another tab,
// another program, a bare ?error=access_denied) get an error page and are
// ignored; the user's own login then completes it, or the user's own
// denial ends it with exit 1 and the CRM's words.
func badCallback(t *testing.T, bin string) {
	hidden := regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	for _, action := range []string{"allow", "deny"} {
		t.Run(action, func(t *testing.T) {
			t.Parallel()
			r := newCRMRig(t, bin, crm.Salesforce)
			before := r.state(t)
			port := freePort(t)
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, "auth", "--timeout", "90s", "salesforce")
			cmd.Dir = r.dir
			// No PATH: no desktop browser opener; the URL is printed.
			cmd.Env = append(slices.Clone(r.env), "HOME="+r.dir, "PATH=", "HEALTHSYNC_SALESFORCE_CALLBACK_PORT="+strconv.Itoa(port))
			var stdout bytes.Buffer
			cmd.Stdout = &stdout
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var errOut bytes.Buffer
			urls := make(chan string, 1)
			copied := make(chan struct{})
			go func() {
				defer close(copied)
				sc := bufio.NewScanner(io.TeeReader(stderr, &errOut))
				for sc.Scan() {
					if m := authURLLine.FindStringSubmatch(sc.Text()); m != nil {
						select {
						case urls <- m[1]:
						default:
						}
					}
				}
			}()
			var authURL string
			select {
			case authURL = <-urls:
			case <-ctx.Done():
				t.Fatal("healthsync auth printed no authorize URL")
			}
			au, err := url.Parse(authURL)
			if err != nil {
				t.Fatal(err)
			}
			cb := au.Query().Get("redirect_uri")
			if want := fmt.Sprintf("http://127.0.0.1:%d/callback", port); cb != want {
				t.Fatalf("redirect_uri %q, want %q", cb, want)
			}
			// Stray requests to the callback: each answered 400, none
			// ends the login.
			for _, q := range []string{"state=not-this-login&code=stolen", "error=access_denied&error_description=not+you", "state=forged&error=access_denied"} {
				resp, err := http.Get(cb + "?" + q)
				if err != nil {
					t.Fatalf("stray callback %q: %v (the login ended)", q, err)
				}
				page, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(page), "does not belong to the login") {
					t.Fatalf("stray callback %q answered %d: %s", q, resp.StatusCode, page)
				}
			}
			// The user at the emulated login page.
			resp, err := http.Get(authURL)
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			creds := r.sf.Credentials()
			form := url.Values{"username": {creds.Username}, "pw": {creds.Password}, "action": {action}}
			for _, m := range hidden.FindAllStringSubmatch(string(page), -1) {
				form.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
			}
			au.RawQuery = ""
			if resp, err = http.PostForm(au.String(), form); err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			err = cmd.Wait()
			<-copied
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			out := outcome{args: cmd.Args[1:], code: code, stdout: stdout.String(), stderr: errOut.String()}
			if action == "allow" {
				out.expect(t, exitOK, []string{"Ignored a request to /callback whose state does not match this login; still waiting", "Logged in to Salesforce"}, secrets(r.env)...)
			} else {
				out.expect(t, exitFailure, []string{"Ignored a request to /callback", "the CRM refused the authorization: access_denied: end-user denied authorization"}, secrets(r.env)...)
				if strings.Contains(out.stderr, "not you") {
					t.Errorf("the stray denial's words ended the login:\n%s", out.stderr)
				}
			}
			if n := strings.Count(out.stderr, "Ignored a request to /callback"); n != 3 {
				t.Errorf("%d stray callbacks reported, want 3:\n%s", n, out.stderr)
			}
			before.assertKept(t, r.state(t), false)
		})
	}
}
