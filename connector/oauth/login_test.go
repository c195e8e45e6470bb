package oauth_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"healthsync/connector/oauth"
)

func loginConfig(a *authServer) *oauth.Config {
	return &oauth.Config{Connector: "hubspot", ClientID: "client-id", ClientSecret: "client-secret-SECRET",
		AuthURL: a.URL + "/authorize", TokenURL: a.URL + "/token", Scopes: []string{"crm.objects.companies.read", "oauth"}}
}

func TestLoginWithPKCEAndState(t *testing.T) {
	t.Parallel()
	a := newAuthServer(t, nil)
	var out bytes.Buffer
	var page string
	tok, err := oauth.Login(context.Background(), loginConfig(a), oauth.LoginOptions{
		Out: &out,
		OpenBrowser: func(ctx context.Context, u string) error {
			resp, err := http.Get(u)
			if err != nil {
				return err
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			page = string(b)
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" || tok.InstanceURL != "https://example.my.salesforce.com" {
		t.Fatalf("token %v", tok)
	}
	if got := strings.Join(tok.Scopes, " "); got != "api refresh_token" {
		t.Fatalf("scopes %q", got)
	}
	if !strings.Contains(out.String(), a.URL+"/authorize?") || !strings.Contains(out.String(), "code_challenge_method=S256") {
		t.Fatalf("the authorize URL was not printed:\n%s", out.String())
	}
	if !strings.Contains(page, "close this tab") {
		t.Fatalf("callback page: %s", page)
	}
}

// A redirect carrying another state never ends the login: it is not the
// answer to this one. The login waits for its own until the timeout, and
// then says what it ignored.
func TestLoginIgnoresForeignStateUntilItsTimeout(t *testing.T) {
	t.Parallel()
	a := newAuthServer(t, nil)
	a.badState = true
	var out bytes.Buffer
	_, err := oauth.Login(context.Background(), loginConfig(a), oauth.LoginOptions{Out: &out, OpenBrowser: browser, Timeout: 300 * time.Millisecond})
	if !errors.Is(err, oauth.ErrLoginTimeout) || !errors.Is(err, oauth.ErrStateMismatch) {
		t.Fatalf("err = %v, want ErrLoginTimeout naming the ignored ErrStateMismatch", err)
	}
	if !strings.Contains(err.Error(), "1 requests to /callback were ignored") {
		t.Fatalf("err = %v, want the count of ignored callbacks", err)
	}
	if a.calls != 0 {
		t.Fatalf("the code was exchanged despite the wrong state")
	}
	if !strings.Contains(out.String(), "whose state does not match this login; still waiting") {
		t.Fatalf("output does not say the callback was ignored:\n%s", out.String())
	}
}

func TestLoginReportsDenial(t *testing.T) {
	t.Parallel()
	a := newAuthServer(t, nil)
	a.denied = true
	_, err := oauth.Login(context.Background(), loginConfig(a), oauth.LoginOptions{Out: io.Discard, OpenBrowser: browser})
	if err == nil || !strings.Contains(err.Error(), "access_denied") {
		t.Fatalf("err = %v, want the CRM's refusal", err)
	}
}

func TestLoginTimesOutAndPrintsURLWhenNoBrowser(t *testing.T) {
	t.Parallel()
	a := newAuthServer(t, nil)
	var out bytes.Buffer
	_, err := oauth.Login(context.Background(), loginConfig(a), oauth.LoginOptions{
		Out: &out, Timeout: 100 * time.Millisecond,
		OpenBrowser: func(context.Context, string) error { return errors.New("no display") },
	})
	if !errors.Is(err, oauth.ErrLoginTimeout) {
		t.Fatalf("err = %v, want ErrLoginTimeout", err)
	}
	if !strings.Contains(out.String(), "/authorize?") || !strings.Contains(out.String(), "could not open a browser") {
		t.Fatalf("output:\n%s", out.String())
	}
}

func TestLoginStopsWithContext(t *testing.T) {
	t.Parallel()
	a := newAuthServer(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	_, err := oauth.Login(ctx, loginConfig(a), oauth.LoginOptions{
		Out:         io.Discard,
		OpenBrowser: func(context.Context, string) error { cancel(); return nil },
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestLoginValidatesConfig(t *testing.T) {
	t.Parallel()
	_, err := oauth.Login(context.Background(), &oauth.Config{AuthURL: "login.salesforce.com"}, oauth.LoginOptions{Out: io.Discard})
	if err == nil || !strings.Contains(err.Error(), "client ID is empty") || !strings.Contains(err.Error(), "not an http(s) URL") {
		t.Fatalf("err = %v", err)
	}
}
