package salesforce

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Config is the Salesforce connection's environment configuration, read
// with go-envconfig. Secrets are tagged json:"-" so a printed configuration
// never shows them.
type Config struct {
	// LoginURL is the login host: https://login.salesforce.com (production),
	// https://test.salesforce.com (sandboxes) or the org's My Domain.
	LoginURL string `env:"HEALTHSYNC_SALESFORCE_LOGIN_URL, default=https://login.salesforce.com"`
	// ClientID is the connected app's consumer key.
	ClientID string `env:"HEALTHSYNC_SALESFORCE_CLIENT_ID"`
	// ClientSecret is the connected app's consumer secret (web-server flow).
	ClientSecret string `env:"HEALTHSYNC_SALESFORCE_CLIENT_SECRET" json:"-"`
	// Username is the integration user for the JWT bearer flow.
	Username string `env:"HEALTHSYNC_SALESFORCE_USERNAME"`
	// JWTKeyFile is the PEM private key of the connected app's certificate
	// for the JWT bearer flow. With Username set, Open uses JWT bearer.
	JWTKeyFile string `env:"HEALTHSYNC_SALESFORCE_JWT_KEY_FILE"`
	// APIVersion is the REST API version, e.g. 62.0.
	APIVersion string `env:"HEALTHSYNC_SALESFORCE_API_VERSION, default=62.0"`
	// Lookback is how far before the stored cursor an incremental pull
	// re-reads, for records committed late with an older SystemModstamp.
	Lookback time.Duration `env:"HEALTHSYNC_SALESFORCE_LOOKBACK, default=1m"`
	// BulkThreshold is the pending-change count above which an object is
	// pulled with a Bulk API 2.0 query job instead of REST pages.
	BulkThreshold int `env:"HEALTHSYNC_SALESFORCE_BULK_THRESHOLD, default=10000"`
	// BulkWriteThreshold is the number of updates in one Update call above
	// which a Bulk API 2.0 ingest job is used instead of composite calls.
	BulkWriteThreshold int `env:"HEALTHSYNC_SALESFORCE_BULK_WRITE_THRESHOLD, default=2000"`
	// CallbackPort is the loopback port of `healthsync auth salesforce`'s
	// OAuth callback (0: a random free port; set it when the connected app's
	// callback URL names a port).
	CallbackPort int `env:"HEALTHSYNC_SALESFORCE_CALLBACK_PORT, default=0"`
	// FormulaRefresh is how often calculated (formula, roll-up) fields,
	// which do not bump SystemModstamp, are read again.
	FormulaRefresh time.Duration `env:"HEALTHSYNC_SALESFORCE_FORMULA_REFRESH, default=24h"`
	// DescribeTTL is how long an object's describe is reused (in the
	// process and, through Deps.DescribeCache, across runs) before the org
	// is asked again. A mapped field the cached describe lacks, or a query
	// the org refuses with INVALID_FIELD, makes Pull describe again at once.
	DescribeTTL time.Duration `env:"HEALTHSYNC_SALESFORCE_DESCRIBE_TTL, default=24h"`
}

// DefaultConfig returns the configuration the environment defaults give
// (without credentials).
func DefaultConfig() Config {
	return Config{
		LoginURL:           "https://login.salesforce.com",
		APIVersion:         "62.0",
		Lookback:           time.Minute,
		BulkThreshold:      10000,
		BulkWriteThreshold: 2000,
		FormulaRefresh:     24 * time.Hour,
		DescribeTTL:        24 * time.Hour,
	}
}

var apiVersionRE = regexp.MustCompile(`^[0-9]{2}\.0$`)

// Validate reports every invalid setting, naming its variable.
func (c Config) Validate() error {
	var errs []error
	if u, err := url.Parse(c.LoginURL); c.LoginURL == "" || err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		errs = append(errs, fmt.Errorf("HEALTHSYNC_SALESFORCE_LOGIN_URL=%q is not a URL: use https://login.salesforce.com, https://test.salesforce.com for a sandbox, or your My Domain (https://example.my.salesforce.com)", c.LoginURL))
	} else if u.Path != "" && u.Path != "/" {
		errs = append(errs, fmt.Errorf("HEALTHSYNC_SALESFORCE_LOGIN_URL=%q must be a host without a path, e.g. https://login.salesforce.com", c.LoginURL))
	}
	if strings.TrimSpace(c.ClientID) == "" {
		errs = append(errs, errors.New("HEALTHSYNC_SALESFORCE_CLIENT_ID is empty: set it to the connected app's consumer key"))
	}
	if (c.Username == "") != (c.JWTKeyFile == "") {
		errs = append(errs, errors.New("HEALTHSYNC_SALESFORCE_USERNAME and HEALTHSYNC_SALESFORCE_JWT_KEY_FILE go together: set both for the JWT bearer flow, or neither to use the token stored by `healthsync auth salesforce`"))
	}
	if !apiVersionRE.MatchString(c.APIVersion) {
		errs = append(errs, fmt.Errorf("HEALTHSYNC_SALESFORCE_API_VERSION=%q: use a version such as 62.0", c.APIVersion))
	}
	if c.Lookback < 0 || c.Lookback > 24*time.Hour {
		errs = append(errs, fmt.Errorf("HEALTHSYNC_SALESFORCE_LOOKBACK=%s must be between 0 and 24h (e.g. 1m)", c.Lookback))
	}
	if c.BulkThreshold < 1 {
		errs = append(errs, fmt.Errorf("HEALTHSYNC_SALESFORCE_BULK_THRESHOLD=%d must be at least 1 (e.g. 10000)", c.BulkThreshold))
	}
	if c.BulkWriteThreshold < 1 {
		errs = append(errs, fmt.Errorf("HEALTHSYNC_SALESFORCE_BULK_WRITE_THRESHOLD=%d must be at least 1 (e.g. 2000)", c.BulkWriteThreshold))
	}
	if c.CallbackPort < 0 || c.CallbackPort > 65535 {
		errs = append(errs, fmt.Errorf("HEALTHSYNC_SALESFORCE_CALLBACK_PORT=%d must be 0 (random) or a TCP port", c.CallbackPort))
	}
	if c.FormulaRefresh < time.Minute {
		errs = append(errs, fmt.Errorf("HEALTHSYNC_SALESFORCE_FORMULA_REFRESH=%s must be at least 1m (e.g. 24h)", c.FormulaRefresh))
	}
	if c.DescribeTTL < time.Minute {
		errs = append(errs, fmt.Errorf("HEALTHSYNC_SALESFORCE_DESCRIBE_TTL=%s must be at least 1m (e.g. 24h)", c.DescribeTTL))
	}
	return errors.Join(errs...)
}

// useJWT reports whether the JWT bearer flow is configured.
func (c Config) useJWT() bool { return c.Username != "" && c.JWTKeyFile != "" }

// loginBase is the login host without a trailing slash.
func (c Config) loginBase() string { return strings.TrimRight(c.LoginURL, "/") }
