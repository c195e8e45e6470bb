package hubspot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	stdsync "sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"healthsync/connector"
	"healthsync/crm"
)

// maxBody bounds how much of one response is read.
const maxBody = 64 << 20

// Client is a HubSpot portal's API client. It implements the sync engine's
// Source and Sink and is safe for concurrent use.
type Client struct {
	http     *http.Client
	base     *url.URL
	stack    *connector.Stack
	clock    crm.Clock
	log      hclog.Logger
	lookback time.Duration
	window   time.Duration
	taskKey  string
	snooze   connector.Snooze
	closed   string // the hs_task_status CloseTasks sets
	// tokenScopes returns the scopes of the current OAuth token; nil for
	// private-app tokens (probed per scope instead).
	tokenScopes func(ctx context.Context) ([]string, error)

	// sweep is how often the engine sweeps activity associations
	// (AssociationSweep).
	sweep time.Duration

	calls atomic.Int64

	mu stdsync.Mutex
	// stages are the portal's deal stages, read at stagesAt, for
	// deriving closed/won history from dealstage's.
	stages   map[string]dealStageFlags
	stagesAt time.Time
}

// option configures a Client.
type option func(*Client)

// withStack makes the client send through the shared HTTP stack (and count
// its calls there): the stack's Client replaces the *http.Client given to
// newClient.
func withStack(s *connector.Stack) option { return func(c *Client) { c.stack = s } }

// withClock sets the clock for the association window (default the system clock).
func withClock(clock crm.Clock) option { return func(c *Client) { c.clock = clock } }

// withLogger sets the logger (default none).
func withLogger(l hclog.Logger) option { return func(c *Client) { c.log = l } }

// withLookback sets how far before the cursor a pull starts reading again
// (default 1 minute).
func withLookback(d time.Duration) option { return func(c *Client) { c.lookback = d } }

// withAssociationWindow sets the rolling window (by activity date) over
// which activity associations are swept (default 720h; 0 turns the sweep
// off).
func withAssociationWindow(d time.Duration) option { return func(c *Client) { c.window = d } }

// withAssociationSweep sets how often the associations are swept (default
// 24h; 0: on every sync).
func withAssociationSweep(d time.Duration) option { return func(c *Client) { c.sweep = d } }

// withTaskKeyField names the task property holding healthsync's task key
// (default "healthsync_key").
func withTaskKeyField(name string) option { return func(c *Client) { c.taskKey = name } }

// withSnooze says how snoozed tasks are recognised.
func withSnooze(s connector.Snooze) option { return func(c *Client) { c.snooze = s } }

// withClosedStatus sets the hs_task_status CloseTasks sets (empty: the
// default, DefaultClosedStatus).
func withClosedStatus(status string) option {
	return func(c *Client) {
		if status = strings.TrimSpace(status); status != "" {
			c.closed = status
		}
	}
}

// withTokenScopes sets how the scopes of an OAuth token are read.
func withTokenScopes(f func(ctx context.Context) ([]string, error)) option {
	return func(c *Client) { c.tokenScopes = f }
}

// newClient returns a client of the HubSpot API at baseURL (e.g.
// https://api.hubapi.com, or an emulator's URL). httpClient must add the
// Authorization header; nil means http.DefaultClient. Open builds the
// client on the shared stack; the fuzz tests build one on an in-memory
// transport.
func newClient(httpClient *http.Client, baseURL string, opts ...option) (*Client, error) {
	u, err := url.Parse(strings.TrimSuffix(strings.TrimSpace(baseURL), "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("HubSpot base URL %q is not an http(s) URL (HEALTHSYNC_HUBSPOT_BASE_URL, e.g. https://api.hubapi.com)", baseURL)
	}
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	c := &Client{
		http: httpClient, base: u, clock: crm.SystemClock{}, log: hclog.NewNullLogger(),
		lookback: time.Minute, window: 720 * time.Hour, sweep: 24 * time.Hour, taskKey: "healthsync_key", closed: DefaultClosedStatus,
	}
	for _, o := range opts {
		o(c)
	}
	if c.stack != nil {
		c.http = c.stack.Client()
	}
	if c.lookback < 0 || c.window < 0 || c.sweep < 0 {
		return nil, errors.New("HubSpot look-back, association window and association sweep interval must not be negative")
	}
	if c.snooze.Status != "" && strings.EqualFold(c.snooze.Status, c.closed) {
		return nil, fmt.Errorf("HubSpot: the closed task status %q is also the snooze status: a task healthsync closes would read as snoozed by a CSM; choose another", c.closed)
	}
	return c, nil
}

// System says this is HubSpot.
func (c *Client) System() crm.System { return crm.HubSpot }

// APICalls returns the number of API calls made: every attempt, retries
// included, when the client runs on a stack; every request otherwise.
func (c *Client) APICalls() int64 {
	if c.stack != nil {
		return c.stack.APICalls()
	}
	return c.calls.Load()
}

// Budget returns the connection's API budget (call StartRun at the start
// of each run; Usage reports the calls of the run). A client built
// without the stack (fuzz tests) has none: nil.
func (c *Client) Budget() *connector.Budget {
	if c.stack == nil {
		return nil
	}
	return c.stack.Budget()
}

// newRequest builds an API request: path is relative to the base URL,
// body (if not nil) is sent as JSON.
func (c *Client) newRequest(ctx context.Context, method, path string, query url.Values, body any) (*http.Request, error) {
	u := *c.base
	u.Path = c.base.Path + path
	if len(query) > 0 {
		u.RawQuery = query.Encode()
	}
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("build %s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	return req, nil
}

// do sends req and decodes a 2xx JSON answer into out (if not nil). It
// returns the status. A non-2xx answer is returned as *connector.APIError;
// stops of the stack (budget, daily limit, re-authorization) and network
// failures are wrapped with the method and path.
func (c *Client) do(req *http.Request, out any) (int, error) {
	if c.stack == nil {
		c.calls.Add(1)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, fmt.Errorf("%s %s: %w", req.Method, connector.RequestURL(req.URL), connector.Unreachable(req.URL, err, baseURLHint))
	}
	defer resp.Body.Close()
	body, err := connector.ReadBody(resp.Body, maxBody)
	if err != nil {
		return resp.StatusCode, fmt.Errorf("%s %s: read response: %w", req.Method, connector.RequestURL(req.URL), err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, decodeError(resp.StatusCode, resp.Header, body)
	}
	if out != nil && resp.StatusCode != http.StatusNoContent {
		if err := json.Unmarshal(body, out); err != nil {
			return resp.StatusCode, connector.MalformedError(resp.StatusCode, resp.Header, body, err)
		}
	}
	return resp.StatusCode, nil
}

// guard returns the guard of one paged list of path (relative to the base
// URL), whose answers name the next page in paging.next.after.
func (c *Client) guard(method, path string) *connector.PageGuard {
	u := *c.base
	u.Path = c.base.Path + path
	return connector.NewPageGuard(method+" "+connector.RequestURL(&u), "paging.next.after")
}

// keyStalled is the error of a search paged by key (the last record's
// position) whose page n does not get past the page before: the next
// request would be the same one, and the pages would repeat forever.
func (c *Client) keyStalled(o object, where string, n int, key string) error {
	u := *c.base
	u.Path = c.base.Path + "/crm/v3/objects/" + objPath(o.name) + "/search"
	return fmt.Errorf("POST %s: %w", connector.RequestURL(&u), &connector.APIError{Status: http.StatusOK, Code: connector.CodeMalformedResponse,
		Message: fmt.Sprintf("%s %d ends at %s, where the page before ended: the search does not advance and its pages would repeat forever", where, n, key)})
}

// call builds and sends a request.
func (c *Client) call(ctx context.Context, method, path string, query url.Values, body, out any) (int, error) {
	req, err := c.newRequest(ctx, method, path, query, body)
	if err != nil {
		return 0, err
	}
	return c.do(req, out)
}

// searchCtx marks a request as a search call, for the 5 requests/s limiter.
func searchCtx(ctx context.Context) context.Context {
	return connector.WithRateClass(ctx, rateClassSearch)
}

// rateClassSearch is the stack's rate class of search requests.
const rateClassSearch = "search"

// apiError returns err as an *APIError when it is one.
func apiError(err error) (*connector.APIError, bool) {
	var e *connector.APIError
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// isStop reports whether err means the run must stop rather than record a
// per-record failure: connector.IsStop, or a whole call HubSpot refused
// for missing scopes (403), which every later call would be refused too.
func isStop(ctx context.Context, err error) bool {
	if connector.IsStop(ctx, err) {
		return true
	}
	e, ok := apiError(err)
	return ok && e.Status == http.StatusForbidden
}

// objPath escapes an object name for a URL path.
func objPath(object string) string { return url.PathEscape(object) }
