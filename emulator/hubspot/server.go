package hubspot

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	stdsync "sync"
	"sync/atomic"
	"time"

	"healthsync/crm"
)

// Options configure a [Server]. The zero value is a working portal with
// HubSpot's default limits, no faults and the system clock.
type Options struct {
	// Clock drives token expiry, rate-limit windows and modification
	// timestamps. Default: crm.SystemClock.
	Clock crm.Clock
	// PortalID is the hub id reported in token information. Default 62515.
	PortalID int64
	// ClientID and ClientSecret identify the OAuth app. Generated when empty.
	ClientID     string
	ClientSecret string
	// PrivateAppToken is the all-scopes private-app token returned by
	// Credentials. Generated (pat-na1-…) when empty.
	PrivateAppToken string
	// RedirectURIs restricts OAuth redirect URIs; empty accepts any http(s)
	// URI.
	RedirectURIs []string
	// AutoApprove makes GET /oauth/authorize redirect at once, as if the
	// user had clicked "Connect app" (for headless tests).
	AutoApprove bool
	// TokenLifetime is how long OAuth access tokens live. Default 30 minutes,
	// HubSpot's lifetime.
	TokenLifetime time.Duration
	// RateLimits sets the per-app API limits.
	RateLimits RateLimits
	// Faults injects failures; all off by default.
	Faults Faults
}

// RateLimits are the API limits per app (per private-app token, or per OAuth
// client). Zero fields take HubSpot's defaults for Free/Starter portals.
type RateLimits struct {
	TenSecondMax    int  // requests per rolling 10 s; default 100
	Daily           int  // requests per UTC day; default 250,000
	SearchPerSecond int  // search requests per rolling second; default 5
	Disabled        bool // no limits at all, and no rate-limit headers (a client would pace itself to them)
}

// Faults inject failures, deterministically for a given Seed and request
// order. Rates are fractions of API calls between 0 and 1.
type Faults struct {
	Seed            uint64
	ServerErrorRate float64       // answer 500/502/503/504 instead of serving
	Latency         time.Duration // added before every API answer
	TokenExpiryRate float64       // expire the presented OAuth token on the spot (401 EXPIRED_AUTHENTICATION)
	RateLimitRate   float64       // answer 429 TEN_SECONDLY_ROLLING as if the window were full
	// Trickle sends the body of every API answer one byte at a time, this
	// long apart, as a stalled portal or proxy does (0: off).
	Trickle time.Duration
	// LoopPaging makes every list and search answer with results point
	// back at itself: its paging.next.after serves that same page again.
	// A client that follows it reads the same records forever.
	LoopPaging bool
}

// Server is an emulated HubSpot portal. It is safe for concurrent use.
type Server struct {
	opts  Options
	clock crm.Clock

	// mu guards the portal's data; writers take it with lockWrite, which
	// also starts a new generation (gen) so searches drop cached matches.
	mu        stdsync.RWMutex
	gen       atomic.Uint64
	matches   matchCache
	tables    map[string]*table
	nextID    int64
	owners    map[string]*Owner
	nextOwner int64
	pipelines []*dealPipeline
	assoc     *assocStore

	auth     authState
	limits   limiter
	faultMu  stdsync.Mutex
	faultRNG *rand.Rand
	faults   atomic.Pointer[Faults] // the faults in force (SetFaults)

	calls     atomic.Int64
	corrCount atomic.Int64
}

// New returns a portal with the default schema, pipelines and one owner.
func New(opts Options) *Server {
	if opts.Clock == nil {
		opts.Clock = crm.SystemClock{}
	}
	if opts.PortalID == 0 {
		opts.PortalID = 62515
	}
	if opts.TokenLifetime <= 0 {
		opts.TokenLifetime = 30 * time.Minute
	}
	rl := &opts.RateLimits
	if rl.TenSecondMax <= 0 {
		rl.TenSecondMax = 100
	}
	if rl.Daily <= 0 {
		rl.Daily = 250000
	}
	if rl.SearchPerSecond <= 0 {
		rl.SearchPerSecond = 5
	}
	if opts.ClientID == "" {
		opts.ClientID = randomUUID()
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = randomUUID()
	}
	if opts.PrivateAppToken == "" {
		opts.PrivateAppToken = "pat-na1-" + randomUUID()
	}
	s := &Server{
		opts:      opts,
		clock:     opts.Clock,
		tables:    map[string]*table{},
		nextID:    1000,
		owners:    map[string]*Owner{},
		nextOwner: 100,
		pipelines: defaultPipelines(),
		assoc:     newAssocStore(),
		faultRNG:  rand.New(rand.NewPCG(opts.Faults.Seed, opts.Faults.Seed^0x9e3779b97f4a7c15)),
	}
	s.faults.Store(&opts.Faults)
	created := formatTime(epoch)
	for _, t := range objectTypes {
		s.tables[t.name] = newTable(t, created)
	}
	s.auth.init()
	s.limits.init()
	s.auth.addPrivateApp(opts.PrivateAppToken, allScopes())
	s.addOwnerLocked("admin@example.com", "Portal", "Admin", epoch)
	return s
}

func (s *Server) now() time.Time { return crm.Normalize(s.clock.Now()) }

// correlationID returns a fresh id shaped like HubSpot's (a UUID).
func (s *Server) correlationID() string {
	n := s.corrCount.Add(1)
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", s.opts.PortalID, n>>48&0xffff, n>>36&0xfff, n>>24&0xfff, n&0xffffffffffff)
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			s.writeError(w, newAPIError(http.StatusInternalServerError, catInternal, "internal error in the emulator: %v", v))
		}
	}()
	path := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case path == "/oauth/authorize":
		s.handleAuthorize(w, r)
		return
	case path == "/oauth/v1/token":
		s.handleToken(w, r)
		return
	case strings.HasPrefix(path, "/oauth/v1/access-tokens/"):
		s.handleAccessTokenInfo(w, r, strings.TrimPrefix(path, "/oauth/v1/access-tokens/"))
		return
	case strings.HasPrefix(path, "/oauth/v1/refresh-tokens/"):
		s.handleRefreshTokenInfo(w, r, strings.TrimPrefix(path, "/oauth/v1/refresh-tokens/"))
		return
	case strings.HasPrefix(path, "/crm/v3/") || strings.HasPrefix(path, "/crm/v4/"):
		s.serveAPI(w, r, path)
		return
	}
	s.writeError(w, newAPIError(http.StatusNotFound, catNotFound, "No route for %s %s in the HubSpot emulator", r.Method, r.URL.Path))
}

// SetFaults replaces the faults in force, e.g. to stall the portal in the
// middle of a test and let it answer again later. The random decisions
// keep drawing from the generator seeded by Options.Faults.Seed.
func (s *Server) SetFaults(f Faults) { s.faults.Store(&f) }

// faultsNow returns the faults in force.
func (s *Server) faultsNow() Faults { return *s.faults.Load() }

// serveAPI authenticates, applies faults and limits, counts the call and
// dispatches a CRM API request.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, path string) {
	faults := s.faultsNow()
	if d := faults.Latency; d > 0 {
		// Read the request first: the server notices a client that gave
		// up only once it has read the body.
		if body, err := io.ReadAll(r.Body); err == nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		t := time.NewTimer(d)
		select {
		case <-r.Context().Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
	c, aerr := s.authenticate(r)
	if aerr != nil {
		s.writeError(w, aerr)
		return
	}
	isSearch := r.Method == http.MethodPost && strings.HasPrefix(path, "/crm/v3/objects/") && strings.HasSuffix(path, "/search")
	if rerr := s.admit(w, c, isSearch); rerr != nil {
		writeJSON(w, http.StatusTooManyRequests, rerr)
		return
	}
	s.calls.Add(1)
	if f := s.serverFault(); f != 0 {
		s.writeError(w, newAPIError(f, catInternal, "injected fault: the emulated HubSpot answered %d", f))
		return
	}
	if faults.Trickle > 0 {
		w = &trickleWriter{ResponseWriter: w, every: faults.Trickle, done: r.Context().Done()}
	}
	parts := strings.Split(strings.TrimPrefix(path, "/crm/"), "/")
	for i, p := range parts {
		if u, err := url.PathUnescape(p); err == nil {
			parts[i] = u
		}
	}
	version, rest := parts[0], parts[1:]
	if len(rest) == 0 {
		s.notFoundRoute(w, r)
		return
	}
	switch {
	case version == "v3" && rest[0] == "objects" && len(rest) >= 2:
		s.handleObjects(w, r, c, rest[1:])
	case version == "v3" && rest[0] == "properties" && len(rest) >= 2:
		s.handleProperties(w, r, c, rest[1:])
	case version == "v3" && rest[0] == "owners":
		s.handleOwners(w, r, c, rest[1:])
	case version == "v3" && rest[0] == "pipelines" && len(rest) >= 2:
		s.handlePipelines(w, r, c, rest[1:])
	case version == "v4" && rest[0] == "objects" && len(rest) >= 4 && rest[3] == "associations":
		s.handleRecordAssociations(w, r, c, rest[1:])
	case version == "v4" && rest[0] == "associations" && len(rest) >= 4:
		s.handleAssociationBatch(w, r, c, rest[1:])
	default:
		s.notFoundRoute(w, r)
	}
}

func (s *Server) notFoundRoute(w http.ResponseWriter, r *http.Request) {
	s.writeError(w, newAPIError(http.StatusNotFound, catNotFound, "No route for %s %s in the HubSpot emulator", r.Method, r.URL.Path))
}

// serverFault draws whether this call fails with an injected 5xx.
func (s *Server) serverFault() int {
	rate := s.faultsNow().ServerErrorRate
	if rate <= 0 {
		return 0
	}
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	if s.faultRNG.Float64() >= rate {
		return 0
	}
	codes := []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout}
	return codes[s.faultRNG.IntN(len(codes))]
}

// draw reports whether an event with the given rate happens now.
func (s *Server) draw(rate float64) bool {
	if rate <= 0 {
		return false
	}
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	return s.faultRNG.Float64() < rate
}

// requireScopes answers 403 MISSING_SCOPES unless the caller holds one of
// the scopes.
func (s *Server) requireScopes(w http.ResponseWriter, c *caller, anyOf ...string) bool {
	for _, sc := range anyOf {
		if c.scopes[sc] {
			return true
		}
	}
	s.writeError(w, missingScopesError(anyOf))
	return false
}

// pageParams parses limit and after query parameters.
func pageParams(limitS, afterS string, max, def int) (limit, after int, e *apiError) {
	limit = def
	if limitS != "" {
		n, err := strconv.Atoi(limitS)
		if err != nil || n < 1 {
			return 0, 0, validationError("limit must be a positive integer, got %q", limitS)
		}
		limit = min(n, max)
	}
	if afterS != "" {
		n, err := strconv.Atoi(afterS)
		if err != nil || n < 0 {
			return 0, 0, validationError("after must be a paging cursor returned by a previous call, got %q", afterS)
		}
		after = n
	}
	return limit, after, nil
}

// link builds a paging link to the same URL with a new after value.
func (s *Server) link(r *http.Request, after string) string {
	u := *r.URL
	q := u.Query()
	q.Set("after", after)
	u.RawQuery = q.Encode()
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + u.RequestURI()
}

// APICalls returns how many CRM API calls the server has admitted (calls
// that passed authentication and the rate limits).
func (s *Server) APICalls() int { return int(s.calls.Load()) }

// errClientGone ends a trickled answer whose client stopped waiting.
var errClientGone = errors.New("the client went away")

// trickleWriter sends a body one byte at a time, every apart, until the
// client goes away.
type trickleWriter struct {
	http.ResponseWriter
	every time.Duration
	done  <-chan struct{}
}

func (t *trickleWriter) Write(p []byte) (int, error) {
	flusher, _ := t.ResponseWriter.(http.Flusher)
	for i := range p {
		timer := time.NewTimer(t.every)
		select {
		case <-t.done:
			timer.Stop()
			return i, errClientGone
		case <-timer.C:
		}
		if _, err := t.ResponseWriter.Write(p[i : i+1]); err != nil {
			return i, err
		}
		if flusher != nil {
			flusher.Flush()
		}
	}
	return len(p), nil
}
