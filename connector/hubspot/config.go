package hubspot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"healthsync/connector"
	"healthsync/connector/oauth"
	"healthsync/crm"
)

// Config is the HubSpot connection's environment configuration.
type Config struct {
	// BaseURL is the API host.
	BaseURL string `env:"HEALTHSYNC_HUBSPOT_BASE_URL, default=https://api.hubapi.com"`
	// Token is a private-app token (pat-…); when set, OAuth is not used.
	Token string `env:"HEALTHSYNC_HUBSPOT_TOKEN" json:"-"`
	// ClientID and ClientSecret are the OAuth app's credentials.
	ClientID     string `env:"HEALTHSYNC_HUBSPOT_CLIENT_ID"`
	ClientSecret string `env:"HEALTHSYNC_HUBSPOT_CLIENT_SECRET" json:"-"`
	// AuthURL is where the OAuth consent page lives: a host
	// (https://app.hubspot.com, /oauth/authorize is added) or the full
	// authorize URL.
	AuthURL string `env:"HEALTHSYNC_HUBSPOT_AUTH_URL, default=https://app.hubspot.com"`
	// AssociationWindow is the rolling window (by activity date) over which
	// activity associations are swept for re-links (the sweep also re-reads
	// every live deal's company); 0 turns the sweep off.
	AssociationWindow time.Duration `env:"HEALTHSYNC_HUBSPOT_ASSOCIATION_WINDOW, default=720h"`
	// AssociationSweep is how often the sweep runs: an activity re-linked,
	// or a deal moved to another company, without being modified is seen
	// within this long (0: every sync).
	AssociationSweep time.Duration `env:"HEALTHSYNC_HUBSPOT_ASSOCIATION_SWEEP, default=24h"`
	// Lookback is how far before the cursor an incremental sync re-reads.
	Lookback time.Duration `env:"HEALTHSYNC_HUBSPOT_LOOKBACK, default=1m"`
	// SearchRate is the search requests per second (HubSpot allows 5).
	SearchRate float64 `env:"HEALTHSYNC_HUBSPOT_SEARCH_RATE, default=5"`
}

// DefaultConfig returns the configuration the environment defaults give
// (without credentials).
func DefaultConfig() Config {
	return Config{BaseURL: "https://api.hubapi.com", AuthURL: "https://app.hubspot.com",
		AssociationWindow: 720 * time.Hour, AssociationSweep: 24 * time.Hour, Lookback: time.Minute, SearchRate: 5}
}

// Validate reports every invalid setting, naming its variable.
func (c Config) Validate() error {
	var errs []error
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs = append(errs, fmt.Errorf("HEALTHSYNC_HUBSPOT_BASE_URL must be an http(s) URL such as https://api.hubapi.com, got %q", c.BaseURL))
	}
	if strings.TrimSpace(c.Token) != c.Token || strings.ContainsAny(c.Token, " \t\r\n") {
		errs = append(errs, errors.New("HEALTHSYNC_HUBSPOT_TOKEN contains whitespace: paste the private-app token alone"))
	}
	if c.Token == "" && (c.ClientID == "" || c.ClientSecret == "") {
		errs = append(errs, errors.New("set HEALTHSYNC_HUBSPOT_TOKEN (a private-app token) or HEALTHSYNC_HUBSPOT_CLIENT_ID and HEALTHSYNC_HUBSPOT_CLIENT_SECRET (an OAuth app; then run `healthsync auth hubspot`)"))
	}
	if c.Token == "" {
		if u, err := url.Parse(c.AuthURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("HEALTHSYNC_HUBSPOT_AUTH_URL must be an http(s) URL such as https://app.hubspot.com, got %q", c.AuthURL))
		}
	}
	if c.AssociationWindow < 0 {
		errs = append(errs, fmt.Errorf("HEALTHSYNC_HUBSPOT_ASSOCIATION_WINDOW must be 0 (off) or positive (e.g. 720h), got %s", c.AssociationWindow))
	}
	if c.AssociationSweep < 0 {
		errs = append(errs, fmt.Errorf("HEALTHSYNC_HUBSPOT_ASSOCIATION_SWEEP must be 0 (every sync) or positive (e.g. 24h), got %s", c.AssociationSweep))
	}
	if c.Lookback < 0 || c.Lookback > 24*time.Hour {
		errs = append(errs, fmt.Errorf("HEALTHSYNC_HUBSPOT_LOOKBACK must be between 0 and 24h (e.g. 1m), got %s", c.Lookback))
	}
	if !(c.SearchRate > 0 && c.SearchRate <= 1000) {
		errs = append(errs, fmt.Errorf("HEALTHSYNC_HUBSPOT_SEARCH_RATE must be a positive number of requests per second (HubSpot allows 5), got %g", c.SearchRate))
	}
	return errors.Join(errs...)
}

// authorizeURL is the consent page URL.
func (c Config) authorizeURL() string {
	u := strings.TrimSuffix(c.AuthURL, "/")
	if p, err := url.Parse(u); err == nil && (p.Path == "" || p.Path == "/") {
		return u + "/oauth/authorize"
	}
	return u
}

func (c Config) oauth(httpClient *http.Client, clock crm.Clock) *oauth.Config {
	return &oauth.Config{
		Connector: "hubspot", ClientID: c.ClientID, ClientSecret: c.ClientSecret,
		AuthURL: c.authorizeURL(), TokenURL: strings.TrimSuffix(c.BaseURL, "/") + "/oauth/v1/token",
		Scopes:     RequiredScopes([]string{Companies, Contacts, Deals, Calls, Emails, Meetings, Notes, Tasks, Owners}, true),
		HTTPClient: httpClient, Now: clock.Now, UnreachableHint: baseURLHint,
	}
}

// searchLimit is HubSpot's documented limit of search requests per second
// (per account, counted in a rolling second).
const searchLimit = 5

// baseURLHint is what a HubSpot host that cannot be reached tells the user
// to check.
const baseURLHint = "check HEALTHSYNC_HUBSPOT_BASE_URL"

// Deps are what Open wires into a Client besides the Config. The fields
// are those of salesforce.Deps, with the same meaning, so that cmd wires
// both connectors alike.
type Deps struct {
	// Tokens keeps the OAuth token (unused with a private-app token).
	// Required for OAuth.
	Tokens oauth.TokenStore
	// Connection names the stored token (default "hubspot").
	Connection string
	// Log gets request retries and refreshes, never a token; nil: none.
	Log hclog.Logger
	// HTTP configures the HTTP stack (zero value: connector.DefaultHTTPConfig()).
	HTTP connector.HTTPConfig
	// Budget is the share of the daily API limit a run may use (zero value:
	// connector.DefaultBudgetConfig()).
	Budget connector.BudgetConfig
	// Clock drives token expiry and the association window; nil: system.
	Clock crm.Clock
	// TaskKeyField is the task property holding healthsync's key (default
	// healthsync_key).
	TaskKeyField string
	// Snooze says how a snoozed task is recognised.
	Snooze connector.Snooze
	// ClosedStatus is the hs_task_status CloseTasks sets (default
	// DefaultClosedStatus, COMPLETED); it must differ from Snooze.Status.
	ClosedStatus string
	// Transport replaces the network transport (nil: pooled default);
	// tests and proxies set it.
	Transport http.RoundTripper
	// TokenHTTP calls the token endpoints (refresh, token information)
	// outside the stack (nil: a client with the HTTP timeout on Transport).
	TokenHTTP *http.Client
}

// Open builds a client from cfg on the shared HTTP stack: with the
// private-app token when HEALTHSYNC_HUBSPOT_TOKEN is set, otherwise with
// the OAuth token stored by Login, refreshed 5 minutes ahead of expiry
// (HubSpot's last 30) and saved again at once. A refresh token HubSpot no
// longer accepts (BAD_REFRESH_TOKEN) gives an error wrapping
// connector.ErrReauthorize that says to run `healthsync auth hubspot`.
func Open(ctx context.Context, cfg Config, deps Deps) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("HubSpot config: %w", err)
	}
	if deps.Clock == nil {
		deps.Clock = crm.SystemClock{}
	}
	if deps.Log == nil {
		deps.Log = hclog.NewNullLogger()
	}
	if deps.Connection == "" {
		deps.Connection = "hubspot"
	}
	if deps.HTTP == (connector.HTTPConfig{}) {
		deps.HTTP = connector.DefaultHTTPConfig()
	}
	if deps.Budget == (connector.BudgetConfig{}) {
		deps.Budget = connector.DefaultBudgetConfig()
	}
	if deps.TaskKeyField == "" {
		deps.TaskKeyField = "healthsync_key"
	}
	if deps.TokenHTTP == nil {
		deps.TokenHTTP = &http.Client{Timeout: deps.HTTP.Timeout, Transport: deps.Transport}
	}
	plain := deps.TokenHTTP
	var auth connector.Authorizer
	var tokenScopes func(context.Context) ([]string, error)
	if cfg.Token != "" {
		auth = connector.StaticToken(cfg.Token)
	} else {
		if deps.Tokens == nil {
			return nil, errors.New("open HubSpot: no token store for the OAuth token")
		}
		blob, err := deps.Tokens.LoadToken(ctx, deps.Connection)
		if err != nil {
			return nil, fmt.Errorf("open HubSpot: load token of connection %q: %w", deps.Connection, err)
		}
		if len(blob) == 0 {
			return nil, fmt.Errorf("open HubSpot: %w for connection %q: run `healthsync auth hubspot` (or set HEALTHSYNC_HUBSPOT_TOKEN to a private-app token): %w",
				oauth.ErrNoToken, deps.Connection, connector.ErrReauthorize)
		}
		src := oauth.NewSource(deps.Tokens, deps.Connection, cfg.oauth(plain, deps.Clock).RefreshGrant(),
			oauth.SourceOptions{RefreshEarly: 5 * time.Minute, Now: deps.Clock.Now, Logger: deps.Log.Named("oauth")})
		auth = src
		base := strings.TrimSuffix(cfg.BaseURL, "/")
		tokenScopes = func(ctx context.Context) ([]string, error) { return tokenInfoScopes(ctx, plain, base, src) }
	}
	budget, err := connector.NewBudget(deps.Budget)
	if err != nil {
		return nil, fmt.Errorf("open HubSpot: %w", err)
	}
	search := connector.NewWindowLimiter(cfg.SearchRate)
	if cfg.SearchRate <= searchLimit {
		// The searches of the process before this one may still count for
		// a second. (A rate above HubSpot's only makes sense against an
		// emulator whose limits are off.)
		search.StartFull()
	}
	opts := append(StackOptions(), connector.WithAuth(auth), connector.WithBudget(budget),
		connector.WithClassWindow(rateClassSearch, search),
		connector.WithUnreachableHint(baseURLHint))
	if deps.Transport != nil {
		opts = append(opts, connector.WithTransport(deps.Transport))
	}
	stack, err := connector.NewStack(deps.HTTP, deps.Log, opts...)
	if err != nil {
		return nil, fmt.Errorf("open HubSpot: %w", err)
	}
	copts := []option{withStack(stack), withClock(deps.Clock), withLogger(deps.Log), withLookback(cfg.Lookback),
		withAssociationWindow(cfg.AssociationWindow), withAssociationSweep(cfg.AssociationSweep), withTaskKeyField(deps.TaskKeyField), withSnooze(deps.Snooze), withClosedStatus(deps.ClosedStatus)}
	if tokenScopes != nil {
		copts = append(copts, withTokenScopes(tokenScopes))
	}
	return newClient(stack.Client(), cfg.BaseURL, copts...)
}

// tokenInfoScopes reads the scopes of the current OAuth access token from
// GET /oauth/v1/access-tokens/{token}. The token is in the path, so no
// error here ever shows the URL.
func tokenInfoScopes(ctx context.Context, hc *http.Client, base string, src *oauth.Source) ([]string, error) {
	tok, err := src.Current(ctx)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/oauth/v1/access-tokens/"+url.PathEscape(tok.AccessToken), nil)
	if err != nil {
		return nil, errors.New("token information: cannot build the request")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, errors.New("token information: GET /oauth/v1/access-tokens/[redacted] failed: " + connector.RedactSecrets(err.Error(), tok.AccessToken))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		e := decodeError(resp.StatusCode, resp.Header, body)
		e.RedactSecrets(tok.AccessToken)
		return nil, fmt.Errorf("token information: %w", e)
	}
	var info struct {
		Scopes []string `json:"scopes"`
	}
	// The answer names the token: its text never goes into the error.
	if err := json.Unmarshal(body, &info); err != nil {
		return nil, fmt.Errorf("token information: %w", &connector.APIError{Status: resp.StatusCode, Code: connector.CodeMalformedResponse,
			Message: fmt.Sprintf("the answer is not the token information JSON (%d bytes)", len(body))})
	}
	if info.Scopes == nil {
		// Read as "no scope granted", it would blame every scope.
		return nil, fmt.Errorf("token information: %w", &connector.APIError{Status: resp.StatusCode, Code: connector.CodeMalformedResponse,
			Message: "the answer lists no scopes"})
	}
	return info.Scopes, nil
}

// Login runs `healthsync auth hubspot`: the authorization-code flow with a
// loopback callback and state (oauth.Login), asking for the scopes
// healthsync needs, and stores the token for connection ("hubspot" when
// empty). transport may be nil.
func Login(ctx context.Context, cfg Config, tokens oauth.TokenStore, connection string, opts oauth.LoginOptions, transport http.RoundTripper) error {
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		return errors.New("healthsync auth hubspot needs HEALTHSYNC_HUBSPOT_CLIENT_ID and HEALTHSYNC_HUBSPOT_CLIENT_SECRET (the OAuth app's credentials)")
	}
	cfg.Token = ""
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("HubSpot config: %w", err)
	}
	if connection == "" {
		connection = "hubspot"
	}
	ocfg := cfg.oauth(&http.Client{Timeout: 60 * time.Second, Transport: transport}, crm.SystemClock{})
	tok, err := oauth.Login(ctx, ocfg, opts)
	if err != nil {
		return fmt.Errorf("authorize HubSpot: %w", err)
	}
	blob, err := tok.MarshalBlob()
	if err != nil {
		return err
	}
	if err := tokens.SaveToken(ctx, connection, blob); err != nil {
		return fmt.Errorf("store HubSpot token of connection %q: %w", connection, err)
	}
	return nil
}
