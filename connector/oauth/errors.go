package oauth

import (
	"errors"
	"fmt"

	"healthsync/connector"
)

var (
	// ErrStateMismatch means a callback's state is not the one sent: the
	// redirect did not come from this login. Login ignores such callbacks
	// and keeps waiting; it names them when it times out.
	ErrStateMismatch = errors.New("OAuth callback state does not match this login")
	// ErrLoginTimeout means no callback arrived in time.
	ErrLoginTimeout = errors.New("timed out waiting for the OAuth callback")
	// ErrNoToken means no token is stored for a connection: only a login
	// (healthsync auth) or, where the CRM has them, a private-app token
	// helps.
	ErrNoToken = errors.New("no token stored")
)

// reauthorize wraps connector.ErrReauthorize (and the cause) with the
// command that fixes it.
func reauthorize(connectorName, why string, cause error) error {
	if connectorName == "" {
		connectorName = "<crm>"
	}
	if cause != nil {
		return fmt.Errorf("%s: %w: re-authorize with `healthsync auth %s` (%w)", why, connector.ErrReauthorize, connectorName, cause)
	}
	return fmt.Errorf("%s: %w: re-authorize with `healthsync auth %s`", why, connector.ErrReauthorize, connectorName)
}
