package salesforce

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	stdsync "sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"healthsync/connector"
	"healthsync/connector/oauth"
	"healthsync/crm"
)

// Deps are what Open wires into a Client besides the Config.
type Deps struct {
	// Tokens persists (encrypted) the connection's token. Required for the
	// web-server flow; with JWT bearer an in-memory store is used when nil.
	Tokens oauth.TokenStore
	// Connection names the stored token (e.g. "salesforce").
	Connection string
	// Log gets request retries and refreshes, never a token; nil: none.
	Log hclog.Logger
	// HTTP configures the HTTP stack (zero value: connector.DefaultHTTPConfig()).
	HTTP connector.HTTPConfig
	// Budget is the share of the daily API limit a run may use (zero value:
	// connector.DefaultBudgetConfig()).
	Budget connector.BudgetConfig
	// Clock tells the time (deleted/ windows, formula refresh); nil: system.
	Clock crm.Clock
	// TaskKeyField is the task field holding healthsync's key (default
	// Healthsync_Key__c).
	TaskKeyField string
	// Snooze says how a snoozed task is recognised.
	Snooze connector.Snooze
	// ClosedStatus is the Task Status CloseTasks sets (default
	// DefaultClosedStatus, "Completed"); it must differ from
	// Snooze.Status.
	ClosedStatus string
	// Transport replaces the network transport (nil: pooled default).
	Transport http.RoundTripper
	// TokenHTTP calls the login host's token endpoint (nil: a client with
	// the HTTP timeout).
	TokenHTTP *http.Client
	// WriteRetryWait is the first wait before records that failed
	// retryably are sent again; it doubles per round (default 200ms).
	WriteRetryWait time.Duration
	// BulkPollInterval is the first wait between Bulk API job status polls;
	// it grows by half each poll up to bulkPollMax (default 250ms: a job
	// that is done in a moment is read at once, a job of a minute costs
	// a couple of polls more than a 1 s start).
	BulkPollInterval time.Duration
	// BulkResultPage is maxRecords of one Bulk API query result request
	// (default 50,000).
	BulkResultPage int
	// DescribeCache keeps object describes between runs (nil: each Client
	// describes every object it pulls once).
	DescribeCache DescribeCache
}

// Client is one Salesforce org connection: it pulls records (REST query
// pages or Bulk API 2.0), lists IDs, describes objects, writes updates and
// tasks in composite batches or bulk ingest jobs, and installs the custom
// fields healthsync writes to. It implements sync.Source and sync.Sink and
// is safe for concurrent use.
type Client struct {
	cfg     Config
	stack   *connector.Stack
	tokens  *oauth.Source
	log     hclog.Logger
	clock   crm.Clock
	taskKey string
	snooze  connector.Snooze
	closed  string // the Task Status CloseTasks sets

	retryWait  time.Duration
	pollWait   time.Duration
	resultPage int

	mu          stdsync.Mutex
	instance    string
	userID      string
	describes   map[string]*objectDescribe
	forgotten   map[string]bool // objects whose DescribeCache copy is stale (Install added fields)
	descCache   DescribeCache
	fingerprint map[string]map[string]uint64 // object → Id → hash of calculated values
	offered     []string                     // API versions of the org, once asked
	stages      stageCache                   // the org's opportunity stages, for closed/won history
}

// Open wires a Client from the configuration: JWT bearer when
// HEALTHSYNC_SALESFORCE_USERNAME and _JWT_KEY_FILE are set, otherwise the
// token `healthsync auth salesforce` stored. No call is made until the
// first request.
func Open(ctx context.Context, cfg Config, deps Deps) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("salesforce config: %w", err)
	}
	if deps.HTTP == (connector.HTTPConfig{}) {
		deps.HTTP = connector.DefaultHTTPConfig()
	}
	if deps.Budget == (connector.BudgetConfig{}) {
		deps.Budget = connector.DefaultBudgetConfig()
	}
	if deps.Log == nil {
		deps.Log = hclog.NewNullLogger()
	}
	if deps.Clock == nil {
		deps.Clock = crm.SystemClock{}
	}
	if deps.Connection == "" {
		deps.Connection = "salesforce"
	}
	if deps.TokenHTTP == nil {
		deps.TokenHTTP = &http.Client{Timeout: deps.HTTP.Timeout, Transport: deps.Transport}
	}
	var grant oauth.Grant
	if cfg.useJWT() {
		key, err := oauth.LoadRSAKeyFile(cfg.JWTKeyFile, "HEALTHSYNC_SALESFORCE_JWT_KEY_FILE")
		if err != nil {
			return nil, err
		}
		grant = &oauth.JWTBearer{
			Connector: "salesforce", ConsumerKey: cfg.ClientID, Username: cfg.Username,
			Audience: cfg.loginBase(), Key: key, HTTPClient: deps.TokenHTTP, Now: deps.Clock.Now,
			UnreachableHint: loginHint,
		}
		if deps.Tokens == nil {
			deps.Tokens = &memoryTokens{}
		}
	} else {
		if deps.Tokens == nil {
			return nil, errors.New("salesforce: no token store: the web-server flow needs the token saved by `healthsync auth salesforce`")
		}
		oc := oauthConfig(cfg, deps.TokenHTTP)
		grant = oc.RefreshGrant()
	}
	src := oauth.NewSource(deps.Tokens, deps.Connection, grant, oauth.SourceOptions{Logger: deps.Log.Named("oauth")})
	return newClient(cfg, src, deps)
}

// What a host that cannot be reached tells the user to check.
const (
	loginHint    = "check HEALTHSYNC_SALESFORCE_LOGIN_URL"
	instanceHint = "this instance URL came with the org's token: check that the org is reachable from here, or log in again (healthsync auth salesforce, or HEALTHSYNC_SALESFORCE_LOGIN_URL for the JWT bearer flow)"
)

// newClient builds a Client on an existing token source (Open chooses
// it; fuzz tests hand one of their own). cfg must be valid.
func newClient(cfg Config, tokens *oauth.Source, deps Deps) (*Client, error) {
	if deps.HTTP == (connector.HTTPConfig{}) {
		deps.HTTP = connector.DefaultHTTPConfig()
	}
	if deps.Budget == (connector.BudgetConfig{}) {
		deps.Budget = connector.DefaultBudgetConfig()
	}
	if deps.Log == nil {
		deps.Log = hclog.NewNullLogger()
	}
	if deps.Clock == nil {
		deps.Clock = crm.SystemClock{}
	}
	if deps.TaskKeyField == "" {
		deps.TaskKeyField = "Healthsync_Key__c"
	}
	if deps.ClosedStatus = strings.TrimSpace(deps.ClosedStatus); deps.ClosedStatus == "" {
		deps.ClosedStatus = DefaultClosedStatus
	}
	if deps.Snooze.Status != "" && strings.EqualFold(deps.Snooze.Status, deps.ClosedStatus) {
		return nil, fmt.Errorf("salesforce: the closed task status %q is also the snooze status: a task healthsync closes would read as snoozed by a CSM; choose another", deps.ClosedStatus)
	}
	budget, err := connector.NewBudget(deps.Budget)
	if err != nil {
		return nil, err
	}
	opts := append(StackOptions(), connector.WithAuth(tokens), connector.WithBudget(budget),
		connector.WithUnreachableHint(instanceHint))
	if deps.Transport != nil {
		opts = append(opts, connector.WithTransport(deps.Transport))
	}
	stack, err := connector.NewStack(deps.HTTP, deps.Log.Named("salesforce"), opts...)
	if err != nil {
		return nil, err
	}
	if deps.WriteRetryWait <= 0 {
		deps.WriteRetryWait = 200 * time.Millisecond
	}
	if deps.BulkPollInterval <= 0 {
		deps.BulkPollInterval = 250 * time.Millisecond
	}
	if deps.BulkResultPage <= 0 {
		deps.BulkResultPage = 50_000
	}
	return &Client{
		retryWait: deps.WriteRetryWait, pollWait: deps.BulkPollInterval, resultPage: deps.BulkResultPage,
		cfg: cfg, stack: stack, tokens: tokens, log: deps.Log.Named("salesforce"), clock: deps.Clock,
		taskKey: deps.TaskKeyField, snooze: deps.Snooze, closed: deps.ClosedStatus,
		describes: map[string]*objectDescribe{}, forgotten: map[string]bool{}, descCache: deps.DescribeCache,
		fingerprint: map[string]map[string]uint64{},
	}, nil
}

// System implements sync.Source.
func (c *Client) System() crm.System { return crm.Salesforce }

// APICalls implements sync.Source: the REST and Bulk API calls made on the
// connection (retries included; token requests to the login host are not
// API calls and are not counted).
func (c *Client) APICalls() int64 { return c.stack.APICalls() }

// Budget returns the connection's API budget (call StartRun at the start
// of each run; Usage reports the calls of the run).
func (c *Client) Budget() *connector.Budget { return c.stack.Budget() }

// HTTPClient returns the connection's *http.Client (auth, retries, budget).
func (c *Client) HTTPClient() *http.Client { return c.stack.Client() }

// InstanceURL returns the org's instance URL, getting a token first when
// none is held yet.
func (c *Client) InstanceURL(ctx context.Context) (string, error) {
	c.mu.Lock()
	inst := c.instance
	c.mu.Unlock()
	if inst != "" {
		return inst, nil
	}
	tok, err := c.tokens.Current(ctx)
	if err != nil {
		return "", fmt.Errorf("salesforce token: %w", err)
	}
	if tok.InstanceURL == "" {
		return "", errors.New("salesforce token has no instance URL: run `healthsync auth salesforce` again")
	}
	// Every API call goes there with the token: only an http(s) host.
	if u, err := url.Parse(tok.InstanceURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("salesforce token's instance URL %q is not an http(s) URL: run `healthsync auth salesforce` again", connector.Excerpt([]byte(tok.InstanceURL), 100))
	}
	inst = strings.TrimRight(tok.InstanceURL, "/")
	c.mu.Lock()
	c.instance = inst
	if i := strings.LastIndex(tok.ID, "/"); i >= 0 {
		c.userID = tok.ID[i+1:]
	}
	c.mu.Unlock()
	return inst, nil
}

// dataURL returns the REST base: {instance}/services/data/vNN.0.
func (c *Client) dataURL(ctx context.Context) (string, error) {
	inst, err := c.InstanceURL(ctx)
	if err != nil {
		return "", err
	}
	return inst + "/services/data/v" + c.cfg.APIVersion, nil
}

// integrationUserID returns the ID of the user the token belongs to.
func (c *Client) integrationUserID(ctx context.Context) (string, error) {
	if _, err := c.InstanceURL(ctx); err != nil {
		return "", err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.userID == "" {
		return "", errors.New("salesforce token carries no identity URL: cannot tell the integration user")
	}
	return c.userID, nil
}

// memoryTokens is the TokenStore of a JWT bearer connection without one:
// the token lives as long as the process.
type memoryTokens struct {
	mu   stdsync.Mutex
	blob []byte
}

func (m *memoryTokens) LoadToken(context.Context, string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]byte(nil), m.blob...), nil
}

func (m *memoryTokens) SaveToken(_ context.Context, _ string, b []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.blob = append([]byte(nil), b...)
	return nil
}
