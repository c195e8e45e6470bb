package hubspot_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"healthsync/connector"
	"healthsync/connector/hubspot"
	"healthsync/connector/oauth"
	emu "healthsync/emulator/hubspot"
	"healthsync/internal/testkit"
)

// login runs `healthsync auth hubspot` against the portal (auto-approved
// consent) and returns the token store.
func (b *bundle) login(t *testing.T) (*testkit.Tokens, hubspot.Config) {
	t.Helper()
	cred := b.srv.Credentials()
	cfg := hubspot.DefaultConfig()
	cfg.BaseURL, cfg.AuthURL = b.ts.URL, b.ts.URL
	cfg.ClientID, cfg.ClientSecret = cred.ClientID, cred.ClientSecret
	cfg.SearchRate = 1000
	tokens := testkit.NewTokens()
	err := hubspot.Login(context.Background(), cfg, tokens, "", oauth.LoginOptions{
		Out: io.Discard, Timeout: 10 * time.Second,
		OpenBrowser: func(_ context.Context, u string) error {
			go func() {
				if resp, err := http.Get(u); err == nil {
					resp.Body.Close()
				}
			}()
			return nil
		},
	}, nil)
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	return tokens, cfg
}

func TestSyncSurvivesTokenExpiryMidRun(t *testing.T) {
	t.Parallel()
	opts := noLimits()
	opts.AutoApprove = true
	b := setup(t, opts)
	loadOrg(t, b, 10)
	tokens, cfg := b.login(t)
	if len(blobOf(tokens, "hubspot")) == 0 {
		t.Fatal("login stored no token")
	}
	m := loadDefaults(t)
	c := b.open(cfg, hubspot.Deps{Tokens: tokens})
	r := newReplica()
	saves := tokens.Saves()
	pages := 0
	r.onPage = func() {
		pages++
		switch pages % 3 {
		case 0: // 31 minutes pass mid-pull: the client refreshes ahead of expiry
			b.clock.Add(31 * time.Minute)
		case 1: // the portal expires the token early: a 401 and one refresh
			b.srv.ExpireAccessTokens()
		}
	}
	for _, obj := range allObjects {
		if err := r.pull(t, c, obj, m.Fields(obj)); err != nil {
			t.Fatalf("pull %s: %v", obj, err)
		}
	}
	r.onPage = nil
	if pages < 9 {
		t.Fatalf("only %d pages: the test wants token expiries between pages of one pull", pages)
	}
	verify(t, b, r, m)
	if tokens.Saves() <= saves+2 {
		t.Errorf("refreshed tokens saved %d times, want every refresh persisted", tokens.Saves()-saves)
	}
	if err := c.CheckScopes(context.Background(), hubspot.RequiredScopes(allObjects, true)); err != nil {
		t.Errorf("OAuth token scopes: %v", err)
	}

	// Uninstalling the app kills the refresh token: a clear stop.
	tok, err := oauth.UnmarshalBlob(blobOf(tokens, "hubspot"))
	if err != nil {
		t.Fatal(err)
	}
	b.srv.RevokeRefreshToken(tok.RefreshToken)
	b.clock.Add(31 * time.Minute)
	err = c.Pull(context.Background(), pullReq("companies", nil, connector.Cursor{}), func(context.Context, pageT) error { return nil })
	if !errors.Is(err, connector.ErrReauthorize) || !strings.Contains(err.Error(), "healthsync auth hubspot") {
		t.Errorf("pull after revocation: %v, want ErrReauthorize naming `healthsync auth hubspot`", err)
	}
	if strings.Contains(err.Error(), tok.RefreshToken) || strings.Contains(err.Error(), tok.AccessToken) {
		t.Error("the error shows a token")
	}
}

func TestOpenWithoutStoredTokenSaysToLogIn(t *testing.T) {
	t.Parallel()
	b := setup(t, noLimits())
	cfg := hubspot.DefaultConfig()
	cfg.BaseURL, cfg.ClientID, cfg.ClientSecret = b.ts.URL, "id", "secret"
	_, err := hubspot.Open(context.Background(), cfg, hubspot.Deps{Tokens: testkit.NewTokens(), Clock: b.clock})
	if !errors.Is(err, connector.ErrReauthorize) || !strings.Contains(err.Error(), "healthsync auth hubspot") {
		t.Errorf("open: %v", err)
	}
}

func TestMissingScopesReportedByName(t *testing.T) {
	t.Parallel()
	b := setup(t, noLimits())
	cfg := b.config()
	cfg.Token = b.srv.NewPrivateAppToken("crm.objects.companies.read", "crm.objects.contacts.read", "crm.schemas.companies.read")
	c := b.open(cfg, hubspot.Deps{})
	err := c.CheckScopes(context.Background(), hubspot.RequiredScopes(allObjects, true))
	if !errors.Is(err, hubspot.ErrMissingScopes) {
		t.Fatalf("check scopes: %v", err)
	}
	for _, s := range []string{"crm.objects.deals.read", "crm.objects.owners.read", "crm.objects.companies.write", "crm.schemas.contacts.write"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error does not name %s: %v", s, err)
		}
	}
	for _, s := range []string{"crm.objects.companies.read,", "crm.objects.contacts.read,"} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error names granted scope %s: %v", s, err)
		}
	}
	full := b.open(b.config(), hubspot.Deps{})
	if err := full.CheckScopes(context.Background(), hubspot.RequiredScopes(allObjects, true)); err != nil {
		t.Errorf("all-scopes token: %v", err)
	}
	_ = emu.Options{}
}
