package oauth_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"

	"healthsync/connector/oauth"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Every secret in these tests contains "SECRET"; the server echoes the
// posted form (refresh token, client secret, code verifier, assertion) in
// its error descriptions.
func TestSecretsNeverReachErrorsOrLogs(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	logger := hclog.New(&hclog.LoggerOptions{Level: hclog.Trace, Output: &logs})
	key := testKey(t)
	a := newAuthServer(t, &key.PublicKey)
	a.echoSecrets = true
	a.refresh = "refresh-live-SECRET"
	a.expiresIn = 1800
	var errs []string
	add := func(err error) {
		if err == nil {
			t.Fatal("expected a failure")
		}
		errs = append(errs, err.Error())
	}

	// A refresh that succeeds, then a revoked refresh token.
	store := newMemStore()
	seed(t, store, "c", &oauth.Token{AccessToken: "access-old-SECRET", RefreshToken: "refresh-live-SECRET"})
	src := oauth.NewSource(store, "c", loginConfig(a).RefreshGrant(), oauth.SourceOptions{Logger: logger})
	src.Invalidate()
	tok, err := src.Current(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	a.mu.Lock()
	a.refresh = "rotated-elsewhere"
	a.mu.Unlock()
	src.Invalidate()
	_, err = src.AccessToken(context.Background())
	add(err)

	// A code exchange with the wrong verifier.
	cfg := loginConfig(a)
	_, err = oauth.Login(context.Background(), cfg, oauth.LoginOptions{Out: io.Discard, OpenBrowser: func(ctx context.Context, u string) error {
		// Tamper with the challenge so the verifier no longer matches.
		return browser(ctx, strings.Replace(u, "code_challenge=", "code_challenge=x", 1))
	}})
	add(err)

	// A JWT bearer assertion the server rejects.
	j := &oauth.JWTBearer{Connector: "salesforce", ConsumerKey: "consumer-key", Username: "nobody@example.com",
		Audience: "https://login.salesforce.com", TokenURL: a.URL + "/token", Key: key}
	assertion, _ := j.Assertion()
	_, err = j.Grant(context.Background(), nil)
	add(err)

	// A token endpoint that is down: the transport error.
	dead := &oauth.Config{Connector: "hubspot", ClientID: "id", ClientSecret: "client-secret-SECRET", AuthURL: "http://127.0.0.1:1/a", TokenURL: "http://127.0.0.1:1/token"}
	_, err = dead.Refresh(context.Background(), "refresh-down-SECRET")
	add(err)

	// fmt of tokens.
	printed := fmt.Sprintf("%v %+v %#v %s", tok, tok, tok, *tok)

	all := strings.Join(errs, "\n") + "\n" + logs.String() + "\n" + printed
	for _, secret := range []string{"SECRET", assertion[:40]} {
		if strings.Contains(all, secret) {
			t.Fatalf("%q leaked:\n%s", secret, all)
		}
	}
	if regexp.MustCompile(`code_verifier=[^\[]`).MatchString(all) {
		t.Fatalf("the PKCE verifier leaked:\n%s", all)
	}
	if !strings.Contains(logs.String(), "token refreshed") || !strings.Contains(all, "invalid code verifier") {
		t.Fatalf("the test did not exercise what it means to:\n%s", all)
	}
}
