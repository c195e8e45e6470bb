package oauth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
)

// LoginOptions tunes Login. The zero value is usable.
type LoginOptions struct {
	// ListenAddr is where the callback server listens (default
	// "127.0.0.1:0", a random port). Use a fixed port when the CRM app's
	// registered redirect URI has one.
	ListenAddr string
	// RedirectHost is the host named in redirect_uri (default: the listen
	// IP). Some CRMs register "localhost" instead.
	RedirectHost string
	// CallbackPath is the redirect_uri's path (default "/callback").
	CallbackPath string
	// Timeout bounds the wait for the callback (default 5 minutes).
	Timeout time.Duration
	// Out gets the authorize URL, always (default os.Stderr).
	Out io.Writer
	// OpenBrowser opens the URL; its failure is ignored (default
	// OpenBrowser: xdg-open / open / rundll32).
	OpenBrowser func(ctx context.Context, url string) error
	// ExtraParams are added to the authorize URL (e.g. prompt=login).
	ExtraParams url.Values
}

type callbackResult struct {
	code string
	err  error
}

// Login runs the authorization-code flow with PKCE (S256) and state: it
// serves a loopback callback, prints the authorize URL and tries to open a
// browser, waits for the redirect (until ctx is done or the timeout), checks
// the state and exchanges the code with its verifier.
func Login(ctx context.Context, cfg *Config, opts LoginOptions) (*Token, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	if opts.ListenAddr == "" {
		opts.ListenAddr = "127.0.0.1:0"
	}
	if opts.CallbackPath == "" {
		opts.CallbackPath = "/callback"
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Minute
	}
	if opts.Out == nil {
		opts.Out = os.Stderr
	}
	// The callback handler writes to Out too.
	opts.Out = &lockedWriter{w: opts.Out}
	if opts.OpenBrowser == nil {
		opts.OpenBrowser = OpenBrowser
	}

	ln, err := net.Listen("tcp", opts.ListenAddr)
	if err != nil {
		return nil, fmt.Errorf("login: listen for the OAuth callback on %s: %w", opts.ListenAddr, err)
	}
	defer ln.Close()
	tcp := ln.Addr().(*net.TCPAddr)
	host := opts.RedirectHost
	if host == "" {
		host = tcp.IP.String()
	}
	redirectURI := "http://" + net.JoinHostPort(host, strconv.Itoa(tcp.Port)) + opts.CallbackPath

	state, err := randomString(32)
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	verifier := oauth2.GenerateVerifier()
	authURL := cfg.AuthCodeURL(redirectURI, state, oauth2.S256ChallengeFromVerifier(verifier), opts.ExtraParams)

	results := make(chan callbackResult, 1)
	var ignored atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc(opts.CallbackPath, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		res, ours := readCallback(r, state)
		if !ours {
			// Not the redirect of this login (a stale tab, another
			// program, a forgery): it must not end the login.
			ignored.Add(1)
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, page, "healthsync: not this login",
				"This page does not belong to the login healthsync is waiting for (its state does not match), so it was ignored. Use the URL healthsync printed in the terminal.")
			fmt.Fprintf(opts.Out, "Ignored a request to %s whose state does not match this login; still waiting for the redirect ...\n", opts.CallbackPath)
			return
		}
		if res.err != nil {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, page, "healthsync: authorization failed", html.EscapeString(res.err.Error())+"<br>Return to the terminal for details.")
		} else {
			fmt.Fprintf(w, page, "healthsync: authorized", "You can close this tab and return to the terminal.")
		}
		select {
		case results <- res:
		default:
		}
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()

	fmt.Fprintf(opts.Out, "Open this URL in a browser to authorize healthsync with %s:\n\n  %s\n\nWaiting for the redirect to %s ...\n", cfg.Connector, authURL, redirectURI)
	if err := opts.OpenBrowser(ctx, authURL); err != nil {
		fmt.Fprintf(opts.Out, "(could not open a browser: %v; open the URL yourself)\n", err)
	}

	timer := time.NewTimer(opts.Timeout)
	defer timer.Stop()
	var res callbackResult
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("login: %w", ctx.Err())
	case <-timer.C:
		if n := ignored.Load(); n > 0 {
			return nil, fmt.Errorf("login: %w after %s (%d requests to %s were ignored: %w)", ErrLoginTimeout, opts.Timeout, n, opts.CallbackPath, ErrStateMismatch)
		}
		return nil, fmt.Errorf("login: %w after %s", ErrLoginTimeout, opts.Timeout)
	case res = <-results:
	}
	if res.err != nil {
		return nil, fmt.Errorf("login: %w", res.err)
	}
	tok, err := cfg.Exchange(ctx, res.code, verifier, redirectURI)
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	return tok, nil
}

// readCallback reads a callback request. ours is false when its state is
// not this login's (a missing state included): such a request is no
// answer to this login, whatever it says. A request of this login ends
// it, with the code or with the CRM's refusal.
func readCallback(r *http.Request, state string) (res callbackResult, ours bool) {
	q := r.URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(state)) != 1 {
		return callbackResult{err: ErrStateMismatch}, false
	}
	if e := q.Get("error"); e != "" {
		desc := q.Get("error_description")
		if desc == "" {
			desc = "no description"
		}
		return callbackResult{err: fmt.Errorf("the CRM refused the authorization: %s: %s", e, truncate(desc, 300))}, true
	}
	code := q.Get("code")
	if code == "" {
		return callbackResult{err: errors.New("the OAuth callback carries no code")}, true
	}
	return callbackResult{code: code}, true
}

const page = `<!doctype html><html><head><meta charset="utf-8"><title>%[1]s</title></head>` +
	`<body style="font-family:sans-serif;margin:3em"><h1>%[1]s</h1><p>%[2]s</p></body></html>`

// OpenBrowser asks the desktop to open url (xdg-open, open or rundll32).
// It does not wait for the browser.
func OpenBrowser(_ context.Context, url string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait()
	return nil
}

// lockedWriter serializes writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random state: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
