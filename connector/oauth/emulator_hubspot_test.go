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
	"regexp"
	"strings"
	"testing"
	"time"

	"healthsync/connector"
	hsconnector "healthsync/connector/hubspot"
	"healthsync/connector/oauth"
	"healthsync/emulator/hubspot"
	"healthsync/internal/testkit"
)

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// consentBrowser is a user at the emulated HubSpot consent page: it loads
// the page, clicks "Connect app" and follows the redirect to the loopback
// callback.
func consentBrowser(ctx context.Context, authURL string) error {
	resp, err := http.Get(authURL)
	if err != nil {
		return err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("consent page: %s: %s", resp.Status, page)
	}
	form := url.Values{"decision": {"allow"}}
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

type hubspotBundle struct {
	srv   *hubspot.Server
	ts    *httptest.Server
	clk   *testkit.Clock
	creds hubspot.Credentials
}

func newHubSpot(t *testing.T, opts hubspot.Options) *hubspotBundle {
	t.Helper()
	clk := testkit.NewClock(time.Now().UTC().Truncate(time.Millisecond))
	opts.Clock = clk
	srv := hubspot.New(opts)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &hubspotBundle{srv: srv, ts: ts, clk: clk, creds: srv.Credentials()}
}

func (b *hubspotBundle) stack(t *testing.T, auth connector.Authorizer, budget *connector.Budget, lim *connector.Limiter) *connector.Stack {
	t.Helper()
	opts := hsconnector.StackOptions()
	if auth != nil {
		opts = append(opts, connector.WithAuth(auth))
	}
	if budget != nil {
		opts = append(opts, connector.WithBudget(budget))
	}
	if lim != nil {
		opts = append(opts, connector.WithLimiter(lim))
	}
	s, err := connector.NewStack(connector.HTTPConfig{Timeout: 10 * time.Second, MaxRetries: 2, RetryWaitMin: time.Millisecond, RetryWaitMax: time.Second, RateBurst: 10}, nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func listCompanies(ctx context.Context, s *connector.Stack, base string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/crm/v3/objects/companies?limit=1", nil)
	if err != nil {
		return err
	}
	resp, err := s.Do(req)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

func TestHubSpotEmulatorLoginExpiryAndRevocation(t *testing.T) {
	t.Parallel()
	b := newHubSpot(t, hubspot.Options{})
	ctx := context.Background()
	cfg := &oauth.Config{Connector: "hubspot", ClientID: b.creds.ClientID, ClientSecret: b.creds.ClientSecret,
		AuthURL: b.ts.URL + "/oauth/authorize", TokenURL: b.ts.URL + "/oauth/v1/token",
		Scopes: []string{"oauth", "crm.objects.companies.read"}, Now: b.clk.Now}

	tok, err := oauth.Login(ctx, cfg, oauth.LoginOptions{Out: io.Discard, OpenBrowser: consentBrowser})
	if err != nil {
		t.Fatal(err)
	}
	if want := b.clk.Now().Add(30 * time.Minute); !tok.Expiry.Equal(want) || tok.RefreshToken == "" || len(tok.Scopes) != 2 {
		t.Fatalf("token %v scopes %v, want 30-minute expiry and the granted scopes", tok, tok.Scopes)
	}
	store := newMemStore()
	blob, _ := tok.MarshalBlob()
	store.SaveToken(ctx, "hs", blob)
	src := oauth.NewSource(store, "hs", cfg.RefreshGrant(), oauth.SourceOptions{Now: b.clk.Now})
	s := b.stack(t, src, nil, connector.NewLimiter(10, 10))

	if err := listCompanies(ctx, s, b.ts.URL); err != nil {
		t.Fatal(err)
	}
	// The token expires mid-run (as with HubSpot's 30 minutes): one 401, one refresh, one retry.
	b.srv.ExpireAccessTokens()
	before := s.APICalls()
	if err := listCompanies(ctx, s, b.ts.URL); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if got := s.APICalls() - before; got != 2 {
		t.Fatalf("%d attempts after expiry, want 2 (the 401 and the retry)", got)
	}
	// 26 minutes later the token has 4 left: refreshed ahead, no 401.
	b.clk.Add(26 * time.Minute)
	before, saves := s.APICalls(), store.Saves()
	if err := listCompanies(ctx, s, b.ts.URL); err != nil {
		t.Fatal(err)
	}
	if s.APICalls()-before != 1 || store.Saves() != saves+1 {
		t.Fatalf("refresh ahead: %d attempts, %d saves; want 1 attempt and a saved token", s.APICalls()-before, store.Saves()-saves)
	}
	// The app is uninstalled: re-authorization is the only way.
	cur, _ := src.Current(ctx)
	b.srv.RevokeRefreshToken(cur.RefreshToken)
	b.srv.ExpireAccessTokens()
	err = listCompanies(ctx, s, b.ts.URL)
	if !errors.Is(err, connector.ErrReauthorize) || !strings.Contains(err.Error(), "`healthsync auth hubspot`") {
		t.Fatalf("err = %v", err)
	}
}

func TestHubSpotEmulatorBudgetDailyLimitAndWindow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("budget stops before the daily limit", func(t *testing.T) {
		t.Parallel()
		b := newHubSpot(t, hubspot.Options{RateLimits: hubspot.RateLimits{Daily: 100}})
		budget, err := connector.NewBudget(connector.BudgetConfig{RunShare: 0.5, TotalShare: 0.05})
		if err != nil {
			t.Fatal(err)
		}
		s := b.stack(t, connector.StaticToken(b.creds.PrivateAppToken), budget, nil)
		n := 0
		for ; n < 20; n++ {
			if err = listCompanies(ctx, s, b.ts.URL); err != nil {
				break
			}
		}
		if !errors.Is(err, connector.ErrBudgetExhausted) || n != 5 || b.srv.APICalls() != 5 {
			t.Fatalf("err %v after %d calls (emulator counted %d); want ErrBudgetExhausted after 5", err, n, b.srv.APICalls())
		}
	})

	t.Run("daily limit", func(t *testing.T) {
		t.Parallel()
		b := newHubSpot(t, hubspot.Options{RateLimits: hubspot.RateLimits{Daily: 3}})
		// Another integration used the day's calls.
		other := b.stack(t, connector.StaticToken(b.creds.PrivateAppToken), nil, nil)
		for range 3 {
			if err := listCompanies(ctx, other, b.ts.URL); err != nil {
				t.Fatal(err)
			}
		}
		s := b.stack(t, connector.StaticToken(b.creds.PrivateAppToken), nil, nil)
		err := listCompanies(ctx, s, b.ts.URL)
		var apiErr *connector.APIError
		if !errors.Is(err, connector.ErrDailyLimit) || !errors.As(err, &apiErr) || apiErr.Code != "DAILY" {
			t.Fatalf("err = %v, want ErrDailyLimit with the DAILY policy", err)
		}
	})

	t.Run("limiter keeps within the ten-second window", func(t *testing.T) {
		t.Parallel()
		b := newHubSpot(t, hubspot.Options{RateLimits: hubspot.RateLimits{TenSecondMax: 10}})
		s := b.stack(t, connector.StaticToken(b.creds.PrivateAppToken), nil, connector.NewLimiter(10, 10))
		for i := range 10 {
			if err := listCompanies(ctx, s, b.ts.URL); err != nil {
				t.Fatalf("call %d: %v", i, err)
			}
		}
		if got := s.Limiter().Limit(); got != 0.1 {
			t.Fatalf("limit %g with the window used up, want 1 per 10 s", got)
		}
		short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		if err := listCompanies(short, s, b.ts.URL); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want the limiter to hold the call", err)
		}
		if b.srv.APICalls() != 10 {
			t.Fatalf("emulator counted %d calls, want 10 (no call into a full window)", b.srv.APICalls())
		}
	})
}
