package oauth_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"healthsync/connector"
	"healthsync/connector/oauth"
	"healthsync/internal/testkit"
)

func seed(t *testing.T, store *memStore, conn string, tok *oauth.Token) {
	t.Helper()
	b, err := tok.MarshalBlob()
	if err != nil {
		t.Fatal(err)
	}
	store.SaveToken(context.Background(), conn, b)
}

func stored(t *testing.T, store *memStore, conn string) *oauth.Token {
	t.Helper()
	b, _ := store.LoadToken(context.Background(), conn)
	tok, err := oauth.UnmarshalBlob(b)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestSourceRefreshesAheadOfExpiryAndPersistsRotation(t *testing.T) {
	t.Parallel()
	a := newAuthServer(t, nil)
	a.expiresIn = 1800
	a.refresh = "refresh-0-SECRET"
	clk := testkit.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	store := newMemStore()
	seed(t, store, "hs", &oauth.Token{AccessToken: "access-0-SECRET", RefreshToken: "refresh-0-SECRET", TokenType: "bearer", Expiry: clk.Now().Add(30 * time.Minute)})
	cfg := loginConfig(a)
	cfg.Now = clk.Now
	src := oauth.NewSource(store, "hs", cfg.RefreshGrant(), oauth.SourceOptions{Now: clk.Now})

	tok, err := src.AccessToken(context.Background())
	if err != nil || tok.AccessToken != "access-0-SECRET" || a.refreshes != 0 {
		t.Fatalf("fresh token: %v, %v, %d refreshes", tok, err, a.refreshes)
	}
	clk.Add(26 * time.Minute) // 4 minutes left: inside the 5-minute margin
	tok, err = src.AccessToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if a.refreshes != 1 || tok.AccessToken == "access-0-SECRET" || tok.Type() != "Bearer" {
		t.Fatalf("after 26 min: token type %q, %d refreshes", tok.Type(), a.refreshes)
	}
	if want := clk.Now().Add(1800 * time.Second); !tok.Expiry.Equal(want) {
		t.Fatalf("expiry %s, want %s", tok.Expiry, want)
	}
	st := stored(t, store, "hs")
	if st.RefreshToken != a.refresh || st.AccessToken != tok.AccessToken {
		t.Fatal("the rotated refresh token was not persisted")
	}
	// Another process starting from the store can refresh with the rotated token.
	other := oauth.NewSource(store, "hs", cfg.RefreshGrant(), oauth.SourceOptions{Now: clk.Now})
	other.Invalidate()
	if _, err := other.AccessToken(context.Background()); err != nil {
		t.Fatalf("refresh with the persisted rotated token: %v", err)
	}
	if a.refreshes != 2 {
		t.Fatalf("%d refreshes, want 2", a.refreshes)
	}
}

func TestSourceSharesOneForcedRefresh(t *testing.T) {
	t.Parallel()
	a := newAuthServer(t, nil)
	a.refresh = "refresh-0-SECRET"
	store := newMemStore()
	seed(t, store, "sf", &oauth.Token{AccessToken: "access-0-SECRET", RefreshToken: "refresh-0-SECRET", InstanceURL: "https://example.my.salesforce.com"})
	src := oauth.NewSource(store, "sf", loginConfig(a).RefreshGrant(), oauth.SourceOptions{})
	rejected, err := src.AccessToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	got := make([]string, 50)
	for i := range got {
		wg.Go(func() {
			tok, err := src.ForceRefresh(context.Background(), rejected)
			if err != nil {
				t.Error(err)
				return
			}
			got[i] = tok.AccessToken
		})
	}
	wg.Wait()
	if a.refreshes != 1 {
		t.Fatalf("%d refreshes for 50 concurrent callers, want 1", a.refreshes)
	}
	for _, g := range got {
		if g != got[0] || g == rejected.AccessToken {
			t.Fatalf("callers got different or old tokens")
		}
	}
	if cur, _ := src.Current(context.Background()); cur.InstanceURL != "https://example.my.salesforce.com" || cur.RefreshToken != a.refresh {
		t.Fatalf("current token lost the instance URL or the rotation: %v", cur)
	}
}

func TestSourceAsksForReauthorization(t *testing.T) {
	t.Parallel()
	for _, shape := range []string{"salesforce", "hubspot"} {
		t.Run(shape, func(t *testing.T) {
			t.Parallel()
			a := newAuthServer(t, nil)
			a.hubspotErrs = shape == "hubspot"
			a.refresh = "the-live-one"
			store := newMemStore()
			seed(t, store, "c", &oauth.Token{AccessToken: "a-SECRET", RefreshToken: "revoked-SECRET"})
			cfg := loginConfig(a)
			cfg.Connector = shape
			src := oauth.NewSource(store, "c", cfg.RefreshGrant(), oauth.SourceOptions{})
			src.Invalidate()
			_, err := src.AccessToken(context.Background())
			if !errors.Is(err, connector.ErrReauthorize) || !strings.Contains(err.Error(), "re-authorize with `healthsync auth "+shape+"`") {
				t.Fatalf("err = %v", err)
			}
			var apiErr *connector.APIError
			if !errors.As(err, &apiErr) || (apiErr.Code != "invalid_grant" && apiErr.Code != "BAD_REFRESH_TOKEN") {
				t.Fatalf("the CRM's answer is not kept: %v", err)
			}
			// The dead token is not tried again and again.
			calls := a.calls
			if _, err := src.AccessToken(context.Background()); !errors.Is(err, connector.ErrReauthorize) || a.calls != calls {
				t.Fatalf("second call: %v, %d token calls more", err, a.calls-calls)
			}
			// After `healthsync auth` stored a new token, the source uses it.
			seed(t, store, "c", &oauth.Token{AccessToken: "new-SECRET", RefreshToken: "the-live-one"})
			tok, err := src.AccessToken(context.Background())
			if err != nil || tok.AccessToken != "new-SECRET" {
				t.Fatalf("after re-authorization: %v %v", tok, err)
			}
		})
	}
}

func TestSourceWithNothingStored(t *testing.T) {
	t.Parallel()
	a := newAuthServer(t, nil)
	src := oauth.NewSource(newMemStore(), "sf", (&oauth.Config{Connector: "salesforce", ClientID: "x", TokenURL: a.URL + "/token"}).RefreshGrant(), oauth.SourceOptions{})
	_, err := src.AccessToken(context.Background())
	if !errors.Is(err, connector.ErrReauthorize) || !strings.Contains(err.Error(), "`healthsync auth salesforce`") {
		t.Fatalf("err = %v", err)
	}
}

func TestSourceKeepsRotatedTokenWhenSaveFails(t *testing.T) {
	t.Parallel()
	a := newAuthServer(t, nil)
	a.refresh = "refresh-0-SECRET"
	store := newMemStore()
	seed(t, store, "hs", &oauth.Token{AccessToken: "access-0-SECRET", RefreshToken: "refresh-0-SECRET"})
	src := oauth.NewSource(store, "hs", loginConfig(a).RefreshGrant(), oauth.SourceOptions{})
	src.Invalidate()
	store.fail = errors.New("database is locked")
	if _, err := src.AccessToken(context.Background()); err == nil || !strings.Contains(err.Error(), "save refreshed token") {
		t.Fatalf("err = %v, want the save failure", err)
	}
	store.mu.Lock()
	store.fail = nil
	store.mu.Unlock()
	tok, err := src.AccessToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if a.refreshes != 1 || stored(t, store, "hs").RefreshToken != a.refresh || tok.AccessToken != stored(t, store, "hs").AccessToken {
		t.Fatalf("the rotated token was not saved on the next call (%d refreshes)", a.refreshes)
	}
}

func TestTokenBlob(t *testing.T) {
	t.Parallel()
	in := &oauth.Token{AccessToken: "a", RefreshToken: "r", TokenType: "Bearer", InstanceURL: "https://x.my.salesforce.com",
		Expiry: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Scopes: []string{"api"}, Extra: map[string]string{"signature": "s"}}
	b, err := in.MarshalBlob()
	if err != nil {
		t.Fatal(err)
	}
	out, err := oauth.UnmarshalBlob(b)
	if err != nil || out.String() != in.String() || out.RefreshToken != "r" || out.Extra["signature"] != "s" {
		t.Fatalf("round trip: %v %v", out, err)
	}
	if o := out.OAuth2(); o.Extra("instance_url") != "https://x.my.salesforce.com" {
		t.Fatal("OAuth2() lost instance_url")
	}
	for _, bad := range []string{`not json at all SECRET`, `{"v":7,"access_token":"x"}`, `{"v":1}`} {
		if _, err := oauth.UnmarshalBlob([]byte(bad)); err == nil || strings.Contains(err.Error(), "SECRET") {
			t.Fatalf("%s: err = %v", bad, err)
		}
	}
}
