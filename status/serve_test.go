package status_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"healthsync/status"
	"healthsync/store"
	"healthsync/store/storetest"
)

// TestServeAndShutdown serves on a real loopback listener and stops
// cleanly when the context ends.
func TestServeAndShutdown(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t, store.Config{DatabaseURL: "sqlite://" + filepath.Join(t.TempDir(), "hs.db"), EncryptionKey: storetest.Key}, store.Options{})
	srv, err := status.NewServer(status.Options{Store: st, Connection: conn})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- status.Serve(ctx, ln, srv) }()

	base := "http://" + ln.Addr().String()
	for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready", "/": "No scores yet"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("GET %s = %d, want 200 with %q: %.300s", path, resp.StatusCode, want, body)
		}
		if path == "/" && resp.Header.Get("Content-Security-Policy") == "" {
			t.Error("status page without a Content-Security-Policy")
		}
	}
	// Only GET is served: the page is read-only.
	resp, err := http.Post(base+"/", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST / = %d, want 405", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve after cancel: %v", err)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("server still answers after shutdown")
	}
}
