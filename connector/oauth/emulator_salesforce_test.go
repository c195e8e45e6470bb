package oauth_test

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"healthsync/connector"
	"healthsync/connector/oauth"
	sfconnector "healthsync/connector/salesforce"
	"healthsync/emulator/salesforce"
	"healthsync/internal/testkit"
)

// loginBrowser is a user at the emulated Salesforce login page: it fills in
// the username and password, clicks "Log In and Allow" and follows the
// redirect to the loopback callback.
func loginBrowser(username, password string) func(context.Context, string) error {
	return func(ctx context.Context, authURL string) error {
		resp, err := http.Get(authURL)
		if err != nil {
			return err
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("login page: %s: %s", resp.Status, page)
		}
		form := url.Values{"username": {username}, "pw": {password}, "action": {"allow"}}
		for _, m := range hiddenInput.FindAllStringSubmatch(string(page), -1) {
			form.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
		}
		u, _ := url.Parse(authURL)
		u.RawQuery = ""
		resp, err = http.PostForm(u.String(), form)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("callback answered %s", resp.Status)
		}
		return nil
	}
}

func sfStack(t *testing.T, auth connector.Authorizer, budget *connector.Budget) *connector.Stack {
	t.Helper()
	s, err := connector.NewStack(connector.HTTPConfig{Timeout: 10 * time.Second, MaxRetries: 2, RetryWaitMin: time.Millisecond, RetryWaitMax: time.Second, RateBurst: 10}, nil,
		append(sfconnector.StackOptions(), connector.WithAuth(auth), connector.WithBudget(budget))...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func getLimits(ctx context.Context, s *connector.Stack, instance string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, instance+"/services/data/v60.0/limits", nil)
	if err != nil {
		return err
	}
	resp, err := s.Do(req)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

func TestSalesforceEmulatorLoginSessionExpiryAndRotation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := testkit.NewClock(time.Now().UTC().Truncate(time.Millisecond))
	srv := salesforce.New(salesforce.Options{Clock: clk, RotateRefreshTokens: true})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	creds := srv.Credentials()
	cfg := &oauth.Config{Connector: "salesforce", ClientID: creds.ClientID, ClientSecret: creds.ClientSecret,
		AuthURL: ts.URL + "/services/oauth2/authorize", TokenURL: ts.URL + "/services/oauth2/token",
		Scopes: []string{"api", "refresh_token"}, Now: clk.Now}

	tok, err := oauth.Login(ctx, cfg, oauth.LoginOptions{Out: io.Discard, OpenBrowser: loginBrowser(creds.Username, creds.Password)})
	if err != nil {
		t.Fatal(err)
	}
	if tok.InstanceURL == "" || tok.RefreshToken == "" || !tok.Expiry.IsZero() {
		t.Fatalf("token %v: want an instance URL, a refresh token and no expiry", tok)
	}
	store := newMemStore()
	blob, _ := tok.MarshalBlob()
	store.SaveToken(ctx, "sf", blob)
	src := oauth.NewSource(store, "sf", cfg.RefreshGrant(), oauth.SourceOptions{Now: clk.Now})
	budget, _ := connector.NewBudget(connector.DefaultBudgetConfig())
	s := sfStack(t, src, budget)
	if err := getLimits(ctx, s, tok.InstanceURL); err != nil {
		t.Fatal(err)
	}
	if u := budget.Usage(); u.DailyLimit != 100000 || u.DailyUsed == 0 {
		t.Fatalf("budget did not read Sforce-Limit-Info: %+v", u)
	}
	// The session idles out: 401 INVALID_SESSION_ID, one refresh (rotating
	// the refresh token, persisted), one retry.
	clk.Add(3 * time.Hour)
	before := s.APICalls()
	if err := getLimits(ctx, s, tok.InstanceURL); err != nil {
		t.Fatalf("after session expiry: %v", err)
	}
	if got := s.APICalls() - before; got != 2 {
		t.Fatalf("%d attempts, want 2", got)
	}
	if st := stored(t, store, "sf"); st.RefreshToken == tok.RefreshToken || st.InstanceURL != tok.InstanceURL {
		t.Fatal("the rotated refresh token (with the instance URL) was not persisted")
	}
}

func TestSalesforceEmulatorJWTBearer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := testkit.NewClock(time.Now().UTC().Truncate(time.Millisecond))
	srv := salesforce.New(salesforce.Options{Clock: clk})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	creds := srv.Credentials()
	path := filepath.Join(t.TempDir(), "jwt.key")
	if err := srv.WritePrivateKey(path); err != nil {
		t.Fatal(err)
	}
	key, err := oauth.LoadRSAKeyFile(path, keyEnv)
	if err != nil {
		t.Fatal(err)
	}
	j := &oauth.JWTBearer{Connector: "salesforce", ConsumerKey: creds.ClientID, Username: creds.Username,
		Audience: "https://login.salesforce.com", TokenURL: ts.URL + "/services/oauth2/token", Key: key, Now: clk.Now}
	src := oauth.NewSource(newMemStore(), "sf", j, oauth.SourceOptions{Now: clk.Now})
	cur, err := src.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := sfStack(t, src, nil)
	if err := getLimits(ctx, s, cur.InstanceURL); err != nil {
		t.Fatal(err)
	}
	// Idle-expired session: a fresh assertion, no refresh token needed.
	clk.Add(3 * time.Hour)
	if err := getLimits(ctx, s, cur.InstanceURL); err != nil {
		t.Fatalf("after session expiry: %v", err)
	}
	// A user the app is not pre-authorized for.
	j2 := *j
	j2.Username = "someone.else@example.com"
	if _, err := j2.Grant(ctx, nil); err == nil {
		t.Fatal("an unknown user got a token")
	}
}

// callback sends a request to the loopback callback of a login in
// progress (the redirect_uri of its authorize URL) with query, and returns
// the status and page it answered.
func callback(authURL string, query url.Values) (int, string, error) {
	u, err := url.Parse(authURL)
	if err != nil {
		return 0, "", err
	}
	cb, err := url.Parse(u.Query().Get("redirect_uri"))
	if err != nil {
		return 0, "", err
	}
	cb.RawQuery = query.Encode()
	resp, err := http.Get(cb.String())
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	page, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(page), err
}

// sfLoginConfig is the OAuth client of the emulated org's connected app.
func sfLoginConfig(t *testing.T) (*oauth.Config, salesforce.Credentials) {
	t.Helper()
	srv := salesforce.New(salesforce.Options{})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	creds := srv.Credentials()
	return &oauth.Config{Connector: "salesforce", ClientID: creds.ClientID, ClientSecret: creds.ClientSecret,
		AuthURL: ts.URL + "/services/oauth2/authorize", TokenURL: ts.URL + "/services/oauth2/token",
		Scopes: []string{"api", "refresh_token"}}, creds
}

// Requests to the callback that do not carry this login's state (a stale
// tab, another local program, a bare ?error=access_denied) are answered
// with an error page and ignored: the login goes on and completes when
// the user logs in at the emulated org.
func TestLoginIgnoresStrayCallbacksAndCompletes(t *testing.T) {
	t.Parallel()
	cfg, creds := sfLoginConfig(t)
	login := loginBrowser(creds.Username, creds.Password)
	var out strings.Builder
	var mu sync.Mutex
	tok, err := oauth.Login(context.Background(), cfg, oauth.LoginOptions{
		Out: writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return out.Write(p) }),
		OpenBrowser: func(ctx context.Context, authURL string) error {
			for _, q := range []url.Values{
				{"state": {"not-this-login"}, "code": {"stolen-code"}},
				{"error": {"access_denied"}, "error_description": {"denied by someone else"}},
				{"state": {"not-this-login"}, "error": {"access_denied"}},
			} {
				status, page, err := callback(authURL, q)
				if err != nil {
					return err
				}
				if status != http.StatusBadRequest || !strings.Contains(page, "does not belong to the login") {
					return fmt.Errorf("stray callback %v answered %d: %s", q, status, page)
				}
			}
			return login(ctx, authURL)
		},
	})
	if err != nil {
		t.Fatalf("stray callbacks ended the login: %v", err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" {
		t.Fatalf("token %v", tok)
	}
	mu.Lock()
	defer mu.Unlock()
	if n := strings.Count(out.String(), "whose state does not match this login"); n != 3 {
		t.Fatalf("%d stray callbacks reported, want 3:\n%s", n, out.String())
	}
}

// A bare ?error=access_denied without this login's state is ignored; the
// user's own refusal (Deny on the emulated login page) comes back with
// the state and ends the login with the CRM's words.
func TestLoginEndsOnTheUsersDenialOnly(t *testing.T) {
	t.Parallel()
	cfg, creds := sfLoginConfig(t)
	_, err := oauth.Login(context.Background(), cfg, oauth.LoginOptions{Out: io.Discard, Timeout: time.Minute,
		OpenBrowser: func(ctx context.Context, authURL string) error {
			stray := url.Values{"error": {"access_denied"}, "error_description": {"denied by a stray request"}}
			if status, page, err := callback(authURL, stray); err != nil || status != http.StatusBadRequest {
				return fmt.Errorf("stray denial answered %d (%v): %s", status, err, page)
			}
			resp, err := http.Get(authURL)
			if err != nil {
				return err
			}
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			form := url.Values{"username": {creds.Username}, "pw": {creds.Password}, "action": {"deny"}}
			for _, m := range hiddenInput.FindAllStringSubmatch(string(page), -1) {
				form.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
			}
			u, _ := url.Parse(authURL)
			u.RawQuery = ""
			resp, err = http.PostForm(u.String(), form)
			if err != nil {
				return err
			}
			return resp.Body.Close()
		}})
	if err == nil || !strings.Contains(err.Error(), "the CRM refused the authorization: access_denied: end-user denied authorization") {
		t.Fatalf("err = %v, want the denial", err)
	}
	if errors.Is(err, oauth.ErrLoginTimeout) {
		t.Fatalf("the denial was ignored until the timeout: %v", err)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
