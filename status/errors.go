package status

import "errors"

var (
	// ErrWeakToken is returned for a HEALTHSYNC_STATUS_TOKEN too short to be
	// safe.
	ErrWeakToken = errors.New("status token too short")
	// ErrExposedWithoutToken is returned by CheckListen for a non-loopback
	// address without a token.
	ErrExposedWithoutToken = errors.New("status server exposed without a token")
	// ErrNotReady wraps the reason /readyz fails.
	ErrNotReady = errors.New("not ready")
	// ErrLastRunFailed is the readiness failure when the newest finished run
	// failed.
	ErrLastRunFailed = errors.New("last run failed")
)
