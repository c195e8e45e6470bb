package hubspot

import "errors"

var (
	// ErrMissingScopes means the token lacks scopes healthsync needs; the
	// error names them.
	ErrMissingScopes = errors.New("HubSpot token is missing scopes")
	// ErrUnknownObject means an object name is not one this connector
	// reads or writes.
	ErrUnknownObject = errors.New("unknown HubSpot object")
)
