package status

import (
	"fmt"
	"net"
	"strings"
)

// minTokenLength is the shortest token accepted: shorter ones can be
// guessed.
const minTokenLength = 16

// Config is the status server's configuration from the environment,
// composed into the CLI's configuration.
type Config struct {
	// Token, when set, protects every path except /healthz: requests must
	// carry "Authorization: Bearer <token>" or "?token=<token>".
	Token string `env:"HEALTHSYNC_STATUS_TOKEN" json:"-"`
}

// Validate checks the token's length. Its messages name the variable and
// never include the token.
func (c Config) Validate() error {
	if c.Token != "" && len(strings.TrimSpace(c.Token)) < minTokenLength {
		return fmt.Errorf("%w: HEALTHSYNC_STATUS_TOKEN is %d characters; use at least %d random characters (e.g. `openssl rand -hex 24`)",
			ErrWeakToken, len(c.Token), minTokenLength)
	}
	return nil
}

// CheckListen refuses to serve a non-loopback address without a token: the
// status page shows customer names and ARR. addr is host:port as given to
// --listen.
func CheckListen(addr, token string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--listen %q: want host:port, e.g. 127.0.0.1:8080: %w", addr, err)
	}
	if token != "" || isLoopback(host) {
		return nil
	}
	return fmt.Errorf("%w: --listen %s is reachable from other machines; set HEALTHSYNC_STATUS_TOKEN to a random secret, or listen on 127.0.0.1", ErrExposedWithoutToken, addr)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
