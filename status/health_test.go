package status_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"healthsync/status"
	"healthsync/store"
)

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	b := setup(t, 10)
	ctx := context.Background()
	var readyErr error
	srv := b.newServer(t, status.Options{Ready: func(context.Context) error { return readyErr }})

	if code, body := get(t, srv, "/healthz"); code != http.StatusOK || strings.TrimSpace(body) != "ok" {
		t.Fatalf("healthz = %d %q", code, body)
	}
	if code, body := get(t, srv, "/readyz"); code != http.StatusOK {
		t.Fatalf("readyz with no run = %d %q, want 200", code, body)
	}

	// The Ready callback fails: not ready, with its reason.
	readyErr = errors.New("salesforce token revoked: run healthsync auth salesforce")
	code, body := get(t, srv, "/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "token revoked") {
		t.Fatalf("readyz with a failing check = %d %q", code, body)
	}
	readyErr = nil

	// The newest finished run failed: not ready, even with a later run
	// still running.
	finish := func(status, reason string, at time.Time) {
		t.Helper()
		id, err := b.store.StartRun(ctx, conn, "sync", at)
		if err != nil {
			t.Fatal(err)
		}
		end := at.Add(time.Minute)
		if err := b.store.FinishRun(ctx, store.Run{ID: id, FinishedAt: &end, Status: status, StopReason: reason}); err != nil {
			t.Fatal(err)
		}
	}
	finish(store.RunOK, "", b.now.Add(-3*time.Hour))
	if code, _ := get(t, srv, "/readyz"); code != http.StatusOK {
		t.Fatalf("readyz after an ok run = %d", code)
	}
	finish(store.RunFailed, "query Account: 500 server error", b.now.Add(-2*time.Hour))
	if _, err := b.store.StartRun(ctx, conn, "sync", b.now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	code, body = get(t, srv, "/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "last run failed") || !strings.Contains(body, "500 server error") {
		t.Fatalf("readyz after a failed run = %d %q", code, body)
	}
	if err := srv.Check(ctx); !errors.Is(err, status.ErrLastRunFailed) || !errors.Is(err, status.ErrNotReady) {
		t.Fatalf("Check = %v, want ErrLastRunFailed", err)
	}
	// A controlled stop after it makes the service ready again.
	finish(store.RunStopped, "api budget", b.now.Add(-30*time.Minute))
	if code, body := get(t, srv, "/readyz"); code != http.StatusOK {
		t.Fatalf("readyz after a stopped run = %d %q", code, body)
	}

	// The store is gone: not ready.
	b.store.Close()
	if code, body := get(t, srv, "/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "store") {
		t.Fatalf("readyz with a closed store = %d %q", code, body)
	}
	if code, _ := get(t, srv, "/healthz"); code != http.StatusOK {
		t.Fatalf("healthz must not depend on the store: %d", code)
	}
}

const testToken = "s3cret-token-0123456789abcdef"

func TestTokenProtection(t *testing.T) {
	t.Parallel()
	b := setup(t, 10)
	srv := b.newServer(t, status.Options{Token: testToken})
	var someAccount string
	b.store.ForEachLatestScore(context.Background(), conn, func(sc store.Score) error { someAccount = sc.AccountID; return nil })

	for _, path := range []string{"/", "/metrics", "/accounts/" + someAccount} {
		if code, body := get(t, srv, path); code != http.StatusUnauthorized {
			t.Errorf("%s without token = %d, want 401", path, code)
		} else if strings.Contains(body, testToken) {
			t.Errorf("%s 401 body leaks the token", path)
		}
		if code, _ := get(t, srv, path, "Authorization", "Bearer wrong-token-0123456789"); code != http.StatusUnauthorized {
			t.Errorf("%s with a wrong token = %d, want 401", path, code)
		}
		if code, _ := get(t, srv, path+"?token="+testToken[:len(testToken)-1]); code != http.StatusUnauthorized {
			t.Errorf("%s with a token prefix = %d, want 401", path, code)
		}
		if code, body := get(t, srv, path, "Authorization", "Bearer "+testToken); code != http.StatusOK {
			t.Errorf("%s with the bearer token = %d %.200q", path, code, body)
		}
		if code, _ := get(t, srv, path+"?token="+testToken); code != http.StatusOK {
			t.Errorf("%s with ?token= = %d", path, code)
		}
	}
	// Links on a page reached with ?token= carry it on.
	_, body := get(t, srv, "/?token="+testToken)
	if !strings.Contains(body, "?token="+testToken) {
		t.Error("links of a page opened with ?token= lose the token")
	}
	// healthz is open; readyz answers its code to anyone but explains
	// itself only to the token holder.
	if code, _ := get(t, srv, "/healthz"); code != http.StatusOK {
		t.Errorf("healthz with a token set = %d, want 200 without credentials", code)
	}
	if code, body := get(t, srv, "/readyz"); code != http.StatusOK || strings.TrimSpace(body) != "ready" {
		t.Errorf("readyz without credentials = %d %q", code, body)
	}

	// Weak tokens and exposed listeners are refused with the variable named.
	if _, err := status.NewServer(status.Options{Store: b.store, Connection: conn, Token: "xq7zz"}); !errors.Is(err, status.ErrWeakToken) ||
		!strings.Contains(err.Error(), "HEALTHSYNC_STATUS_TOKEN") || strings.Contains(err.Error(), "xq7zz") {
		t.Errorf("weak token: %v", err)
	}
	for addr, ok := range map[string]bool{"127.0.0.1:8080": true, "localhost:8080": true, "[::1]:8080": true, "0.0.0.0:8080": false, ":8080": false} {
		err := status.CheckListen(addr, "")
		if (err == nil) != ok {
			t.Errorf("CheckListen(%s, no token) = %v", addr, err)
		}
		if err != nil && !strings.Contains(err.Error(), "HEALTHSYNC_STATUS_TOKEN") {
			t.Errorf("CheckListen error does not name the variable: %v", err)
		}
		if err := status.CheckListen(addr, testToken); err != nil {
			t.Errorf("CheckListen(%s, token) = %v", addr, err)
		}
	}
	if err := status.CheckListen("8080", ""); err == nil {
		t.Error("CheckListen accepted an address without a port separator")
	}
}
