package connector

import (
	"errors"
	"fmt"
	"time"
)

// HTTPConfig configures the HTTP stack of one CRM connection. It is read
// from the environment with go-envconfig.
type HTTPConfig struct {
	// Timeout bounds each attempt, from sending the request to the last
	// byte of the answer, which the stack reads within the attempt: an
	// answer that does not arrive whole in time is a failed attempt,
	// retried, and after the retries an error wrapping ErrTimeout. Waiting
	// for the rate limiter does not count.
	Timeout time.Duration `env:"HEALTHSYNC_HTTP_TIMEOUT, default=60s"`
	// MaxRetries is how many times a retryable failure is retried.
	MaxRetries int `env:"HEALTHSYNC_HTTP_MAX_RETRIES, default=5"`
	// RetryWaitMin is the first backoff step when the CRM gives no Retry-After.
	RetryWaitMin time.Duration `env:"HEALTHSYNC_HTTP_RETRY_WAIT_MIN, default=1s"`
	// RetryWaitMax bounds every backoff; a Retry-After longer than this is
	// not waited for: the error is returned instead.
	RetryWaitMax time.Duration `env:"HEALTHSYNC_HTTP_RETRY_WAIT_MAX, default=60s"`
	// RateLimit is the requests per second allowed on the connection before
	// the CRM's rate-limit headers say otherwise; 0 means unlimited.
	RateLimit float64 `env:"HEALTHSYNC_HTTP_RATE_LIMIT, default=0"`
	// RateBurst is the limiter's burst size.
	RateBurst int `env:"HEALTHSYNC_HTTP_RATE_BURST, default=10"`
}

// DefaultHTTPConfig returns the configuration the environment defaults give.
func DefaultHTTPConfig() HTTPConfig {
	return HTTPConfig{
		Timeout:      60 * time.Second,
		MaxRetries:   5,
		RetryWaitMin: time.Second,
		RetryWaitMax: 60 * time.Second,
		RateBurst:    10,
	}
}

// Validate reports every invalid setting, naming its variable.
func (c HTTPConfig) Validate() error {
	var errs []error
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("HEALTHSYNC_HTTP_TIMEOUT must be positive (e.g. 60s), got %s", c.Timeout))
	}
	if c.MaxRetries < 0 || c.MaxRetries > 50 {
		errs = append(errs, fmt.Errorf("HEALTHSYNC_HTTP_MAX_RETRIES must be between 0 and 50, got %d", c.MaxRetries))
	}
	if c.RetryWaitMin <= 0 {
		errs = append(errs, fmt.Errorf("HEALTHSYNC_HTTP_RETRY_WAIT_MIN must be positive (e.g. 1s), got %s", c.RetryWaitMin))
	}
	if c.RetryWaitMax < c.RetryWaitMin {
		errs = append(errs, fmt.Errorf("HEALTHSYNC_HTTP_RETRY_WAIT_MAX (%s) must not be below HEALTHSYNC_HTTP_RETRY_WAIT_MIN (%s)", c.RetryWaitMax, c.RetryWaitMin))
	}
	if c.RateLimit < 0 {
		errs = append(errs, fmt.Errorf("HEALTHSYNC_HTTP_RATE_LIMIT must be 0 (unlimited) or a positive number of requests per second, got %g", c.RateLimit))
	}
	if c.RateBurst < 1 {
		errs = append(errs, fmt.Errorf("HEALTHSYNC_HTTP_RATE_BURST must be at least 1, got %d", c.RateBurst))
	}
	return errors.Join(errs...)
}
