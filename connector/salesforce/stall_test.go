package salesforce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"healthsync/connector"
	emu "healthsync/emulator/salesforce"
)

// stallHTTP gives up on an attempt after 150ms and retries twice.
func stallHTTP() connector.HTTPConfig {
	h := fastHTTP()
	h.Timeout, h.MaxRetries = 150*time.Millisecond, 2
	return h
}

// pullAccounts pulls Account from the start.
func (b *bundle) pullAccounts(ctx context.Context, c *Client) (int, error) {
	n := 0
	err := c.Pull(ctx, connector.PullRequest{Object: "Account", Fields: b.m.Fields("Account")}, func(_ context.Context, p connector.Page) error {
		n += len(p.Records)
		return nil
	})
	return n, err
}

// An org that stalls (no answer, or an answer trickling in a byte at a
// time) fails the pull once the retries are spent, with an error that is
// a timeout of the CRM naming the request, never a context error; the
// same client pulls everything once the org answers again. A signal
// while it stalls is still the caller's stop.
func TestStalledOrgFailsThePullThenRecovers(t *testing.T) {
	t.Parallel()
	t.Run("cancel", func(t *testing.T) {
		t.Parallel()
		cancelWhileTheOrgStalls(t)
	})
	for name, f := range map[string]emu.Faults{
		"latency": {Latency: 30 * time.Second},
		"trickle": {Trickle: 50 * time.Millisecond},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, 5, emu.Options{})
			b.deps.HTTP = stallHTTP()
			c := b.open(b.cfg)
			if _, err := c.InstanceURL(context.Background()); err != nil { // log in before the stall
				t.Fatal(err)
			}
			b.srv.SetFaults(f)
			calls := b.srv.APICalls()
			_, err := b.pullAccounts(context.Background(), c)
			if !errors.Is(err, connector.ErrTimeout) {
				t.Fatalf("err = %v, want connector.ErrTimeout", err)
			}
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v reads as a context error", err)
			}
			for _, want := range []string{"pull Account: ", "GET " + b.ts.URL + "/services/data/v62.0/", "did not answer within 150ms (HEALTHSYNC_HTTP_TIMEOUT", "after 2 retries"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("err = %q, want it to say %q", err, want)
				}
			}
			if got := b.srv.APICalls() - calls; got != 3 {
				t.Errorf("the org saw %d calls, want 3 (the first and 2 retries)", got)
			}
			b.srv.SetFaults(emu.Faults{})
			n, err := b.pullAccounts(context.Background(), c)
			if err != nil || n != 5 {
				t.Fatalf("after the org recovered: %d accounts, %v", n, err)
			}
		})
	}
}

// cancelWhileTheOrgStalls: a signal while the org stalls ends the pull
// with the caller's own context error, which the engine records as a
// controlled stop.
func cancelWhileTheOrgStalls(t *testing.T) {
	b := setup(t, 5, emu.Options{})
	b.deps.HTTP = stallHTTP()
	b.deps.HTTP.Timeout = time.Hour
	c := b.open(b.cfg)
	if _, err := c.InstanceURL(context.Background()); err != nil {
		t.Fatal(err)
	}
	b.srv.SetFaults(emu.Faults{Trickle: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	calls := b.srv.APICalls()
	go func() {
		for b.srv.APICalls() == calls {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := b.pullAccounts(ctx, c)
	if !errors.Is(err, context.Canceled) || errors.Is(err, connector.ErrTimeout) {
		t.Fatalf("err = %v, want context.Canceled and no timeout", err)
	}
}

// Query answers that point back at a page already read, or hold more rows
// than their totalSize, end the pull with a message naming the request,
// after handing on no more than the records that exist.
func TestLoopingQueryPagesFailThePull(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		faults emu.Faults
		bulk   bool
		want   []string
	}{
		{name: "nextRecordsUrl repeats", faults: emu.Faults{RepeatLocator: true},
			want: []string{"GET ", "/services/data/v62.0/queryAll: HTTP 200 MALFORMED_RESPONSE", "points back at a page already read (nextRecordsUrl ending", "the pages would repeat forever"}},
		{name: "fresh locators past totalSize", faults: emu.Faults{EndlessPages: true},
			want: []string{"/services/data/v62.0/queryAll: HTTP 200 MALFORMED_RESPONSE", "2 pages hold 10 rows, more than the 5 the first announced"}},
		{name: "Sforce-Locator repeats", faults: emu.Faults{RepeatLocator: true}, bulk: true,
			want: []string{"bulk query results: GET ", "/jobs/query/", "/results: HTTP 200 MALFORMED_RESPONSE", "(Sforce-Locator \""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, 5, emu.Options{})
			cfg := b.cfg
			if tt.bulk {
				cfg.BulkThreshold = 1
			}
			c := b.open(cfg)
			b.srv.SetFaults(tt.faults)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			n, err := b.pullAccounts(ctx, c)
			if err == nil || errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v after %d records, want the loop refused", err, n)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("err = %q, want it to say %q", err, want)
				}
			}
			if n > 5 {
				t.Errorf("%d records handed on from a 5-record object", n)
			}
		})
	}
}

// HEALTHSYNC_SALESFORCE_API_VERSION naming a version the org does not
// offer (the org answers 404 NOT_FOUND, as Salesforce does) is reported as
// that, with the versions GET /services/data/ lists, not as a missing
// object.
func TestUnknownAPIVersionIsNamed(t *testing.T) {
	t.Parallel()
	b := setup(t, 2, emu.Options{MinVersion: 55, MaxVersion: 64})
	emulatorAnswersUnknownVersion(t, b)
	cfg := b.cfg
	cfg.APIVersion = "99.0"
	c := b.open(cfg)
	_, err := b.pullAccounts(context.Background(), c)
	if !errors.Is(err, ErrAPIVersion) {
		t.Fatalf("err = %v, want ErrAPIVersion", err)
	}
	for _, want := range []string{"HEALTHSYNC_SALESFORCE_API_VERSION=99.0", "not offered by the org at " + b.ts.URL, "which offers 55.0 to 64.0", "e.g. 62.0", "HTTP 404 NOT_FOUND: The requested resource does not exist"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err = %q, want it to say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "does not exist in the org") {
		t.Errorf("err = %q still blames the object", err)
	}
	// A version the org offers, with an object it lacks, still names the
	// object.
	_, err = b.c.Describe(context.Background(), "Whizbang__c")
	if err == nil || errors.Is(err, ErrAPIVersion) || !strings.Contains(err.Error(), "object Whizbang__c does not exist in the org") {
		t.Fatalf("err = %v, want the missing object named", err)
	}
}

// A login host that cannot be reached is named, with the variable to
// check; so is an instance URL (from the token) that cannot be.
func TestUnreachableHostsAreNamed(t *testing.T) {
	t.Parallel()
	closed := httptest.NewServer(http.NotFoundHandler())
	dead := closed.URL
	closed.Close()

	b := setup(t, 1, emu.Options{})
	cfg := b.cfg
	cfg.LoginURL = dead
	_, err := b.pullAccounts(context.Background(), b.open(cfg))
	var ue *connector.UnreachableError
	if !errors.As(err, &ue) {
		t.Fatalf("err = %v, want an UnreachableError", err)
	}
	if want := "cannot reach " + dead + ": connection refused; check HEALTHSYNC_SALESFORCE_LOGIN_URL"; !strings.Contains(err.Error(), want) {
		t.Errorf("err = %q, want %q", err, want)
	}

	// The org's token names an instance URL nobody answers at.
	b = setupBehind(t, 1, emu.Options{}, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/services/oauth2/token" {
				h.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			var tok map[string]any
			if json.Unmarshal(rec.Body.Bytes(), &tok) == nil && tok["instance_url"] != nil {
				tok["instance_url"] = dead
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(rec.Code)
			json.NewEncoder(w).Encode(tok)
		})
	})
	b.deps.HTTP.MaxRetries = 1
	_, err = b.pullAccounts(context.Background(), b.open(b.cfg))
	if !errors.As(err, &ue) {
		t.Fatalf("err = %v, want an UnreachableError", err)
	}
	for _, want := range []string{"cannot reach " + dead + ": connection refused", "instance URL came with the org's token"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err = %q, want it to say %q", err, want)
		}
	}
	if bytes.Contains([]byte(err.Error()), []byte("SELECT")) {
		t.Errorf("err = %q shows the query", err)
	}
}

// emulatorAnswersUnknownVersion: the emulated org answers an API version
// it does not offer as Salesforce does: 404 with [{"errorCode":"NOT_FOUND",
// "message":"The requested resource does not exist"}].
func emulatorAnswersUnknownVersion(t *testing.T, b *bundle) {
	t.Helper()
	tok, err := b.c.tokens.Current(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, b.ts.URL+"/services/data/v99.0/sobjects/Account/describe", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var errs []map[string]any
	if resp.StatusCode != http.StatusNotFound || json.Unmarshal(body, &errs) != nil || len(errs) != 1 ||
		errs[0]["errorCode"] != "NOT_FOUND" || errs[0]["message"] != "The requested resource does not exist" {
		t.Fatalf("HTTP %d %s", resp.StatusCode, body)
	}
}
