package salesforce

import (
	"context"
	"errors"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/sethvargo/go-envconfig"

	"healthsync/connector"
	"healthsync/connector/oauth"
	emu "healthsync/emulator/salesforce"
	"healthsync/internal/testkit"
)

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// browser drives the emulator's login page like a user: GET the authorize
// URL, post the form with the credentials, follow the redirect to the
// loopback callback.
func browser(username, password string) func(context.Context, string) error {
	return func(ctx context.Context, authURL string) error {
		go func() {
			resp, err := http.Get(authURL)
			if err != nil {
				return
			}
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			form := url.Values{"username": {username}, "pw": {password}, "action": {"allow"}}
			for _, m := range hiddenInput.FindAllStringSubmatch(string(page), -1) {
				form.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
			}
			u, _ := url.Parse(authURL)
			u.RawQuery = ""
			if resp, err := http.PostForm(u.String(), form); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
		return nil
	}
}

func TestLoginThenPullWithTheStoredToken(t *testing.T) {
	t.Parallel()
	b := setup(t, 2, emu.Options{RotateRefreshTokens: true, Faults: emu.Faults{SessionCallLimit: 4}})
	creds := b.srv.Credentials()
	cfg := b.cfg
	cfg.Username, cfg.JWTKeyFile = "", ""
	store := testkit.NewTokens()
	var out strings.Builder
	tok, err := Login(context.Background(), cfg, store, "sf", LoginOptions{Out: &out, OpenBrowser: browser(creds.Username, creds.Password)})
	if err != nil {
		t.Fatalf("login: %v\n%s", err, out.String())
	}
	if tok.InstanceURL != b.ts.URL || tok.RefreshToken == "" {
		t.Fatalf("token = %v", tok)
	}
	if !strings.Contains(out.String(), "code_challenge_method=S256") || !strings.Contains(out.String(), "state=") {
		t.Errorf("authorize URL lacks PKCE or state: %s", out.String())
	}
	first := string(blobOf(store, "sf"))

	// The stored token works; the session expires every 4 calls, so the
	// pull refreshes several times and each rotated refresh token is saved.
	b.deps.Tokens, b.deps.Connection = store, "sf"
	c := b.open(cfg)
	m := newMirror()
	if err := b.pull(c, m); err != nil {
		t.Fatal(err)
	}
	b.check(m)
	saved, err := oauth.UnmarshalBlob(blobOf(store, "sf"))
	if err != nil {
		t.Fatal(err)
	}
	if string(blobOf(store, "sf")) == first || saved.RefreshToken == tok.RefreshToken {
		t.Error("the rotated refresh token was not saved")
	}

	// A refresh token the org no longer accepts: re-authorize.
	bad := *saved
	bad.RefreshToken, bad.AccessToken = "5Aep861revoked", "expired!session"
	blob, _ := bad.MarshalBlob()
	store.SaveToken(context.Background(), "sf", blob)
	c = b.open(cfg)
	err = c.ListIDs(context.Background(), "Account", func([]string) error { return nil })
	if !errors.Is(err, connector.ErrReauthorize) || !strings.Contains(err.Error(), "healthsync auth salesforce") {
		t.Fatalf("error = %v, want ErrReauthorize naming `healthsync auth salesforce`", err)
	}
	if strings.Contains(err.Error(), "5Aep861revoked") {
		t.Error("the error shows the refresh token")
	}
}

func TestOpenWithoutStoredToken(t *testing.T) {
	t.Parallel()
	b := setup(t, 0, emu.Options{})
	cfg := b.cfg
	cfg.Username, cfg.JWTKeyFile = "", ""
	b.deps.Tokens = testkit.NewTokens()
	c := b.open(cfg)
	err := c.Pull(context.Background(), connector.PullRequest{Object: "Account"}, func(context.Context, connector.Page) error { return nil })
	if !errors.Is(err, connector.ErrReauthorize) {
		t.Fatalf("error = %v, want ErrReauthorize", err)
	}
}

func TestConfigFromEnvironment(t *testing.T) {
	t.Parallel()
	var cfg Config
	err := envconfig.ProcessWith(context.Background(), &envconfig.Config{Target: &cfg, Lookuper: envconfig.MapLookuper(map[string]string{
		"HEALTHSYNC_SALESFORCE_CLIENT_ID": "3MVGabc",
	})})
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if cfg != (Config{LoginURL: "https://login.salesforce.com", ClientID: "3MVGabc", APIVersion: "62.0", Lookback: cfg.Lookback, BulkThreshold: 10000, BulkWriteThreshold: 2000, FormulaRefresh: cfg.FormulaRefresh, DescribeTTL: cfg.DescribeTTL}) || cfg.Lookback.String() != "1m0s" || cfg.FormulaRefresh.String() != "24h0m0s" || cfg.DescribeTTL.String() != "24h0m0s" {
		t.Errorf("defaults = %+v", cfg)
	}
	bad := Config{LoginURL: "login.salesforce.com", APIVersion: "v62", Username: "u", BulkThreshold: 0, FormulaRefresh: 0, CallbackPort: 70000}
	err = bad.Validate()
	for _, v := range []string{"HEALTHSYNC_SALESFORCE_LOGIN_URL", "HEALTHSYNC_SALESFORCE_CLIENT_ID", "HEALTHSYNC_SALESFORCE_JWT_KEY_FILE", "HEALTHSYNC_SALESFORCE_API_VERSION",
		"HEALTHSYNC_SALESFORCE_BULK_THRESHOLD", "HEALTHSYNC_SALESFORCE_CALLBACK_PORT", "HEALTHSYNC_SALESFORCE_FORMULA_REFRESH", "HEALTHSYNC_SALESFORCE_DESCRIBE_TTL"} {
		if err == nil || !strings.Contains(err.Error(), v) {
			t.Errorf("Validate does not name %s: %v", v, err)
		}
	}
}

// blobOf is the token blob tokens holds for connection.
func blobOf(tokens *testkit.Tokens, connection string) []byte {
	b, _ := tokens.LoadToken(context.Background(), connection)
	return b
}
