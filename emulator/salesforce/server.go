package salesforce

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	stdsync "sync"
	"sync/atomic"
	"time"

	"healthsync/crm"
)

// Faults injects the failures real orgs produce. All are off by default;
// the choices are deterministic given Seed.
type Faults struct {
	// Seed drives every random fault decision.
	Seed int64
	// Unavailable is the fraction (0..1) of API requests answered with 503
	// SERVER_UNAVAILABLE.
	Unavailable float64
	// Latency is added to every API request.
	Latency time.Duration
	// LockRow is the fraction (0..1) of records in composite and bulk
	// writes that fail with UNABLE_TO_LOCK_ROW.
	LockRow float64
	// SessionCallLimit expires an access token after this many API calls
	// (0: never).
	SessionCallLimit int
	// ConcurrentLimit answers 403 REQUEST_LIMIT_EXCEEDED when more than
	// this many API requests are in flight (0: unlimited).
	ConcurrentLimit int
	// Trickle sends the body of every API answer one byte at a time, this
	// long apart, as a stalled org or proxy does (0: off).
	Trickle time.Duration
	// RepeatLocator makes every query answer point back at itself: a REST
	// page says done false with a nextRecordsUrl serving that same page
	// again (the first page's, the first page), and a Bulk API result page
	// names, as its Sforce-Locator, the locator it was asked with. A
	// client that follows them reads the same records forever.
	RepeatLocator bool
	// EndlessPages makes every REST query page say done false with a
	// fresh nextRecordsUrl that serves the same records again: no locator
	// repeats, only totalSize tells that the pages do.
	EndlessPages bool
}

// Options configure a Server. The zero value is usable.
type Options struct {
	// Clock tells the time for stamps, sessions and limits; nil means the
	// system clock.
	Clock crm.Clock
	// MinVersion and MaxVersion bound the API versions served
	// (default 50 to 66).
	MinVersion, MaxVersion int
	// DailyLimit is DailyApiRequests.Max (default 100,000).
	DailyLimit int
	// SessionIdle is the idle timeout of access tokens (default 2h).
	SessionIdle time.Duration
	// CursorIdle is how long an unused query cursor stays valid
	// (default 15 minutes).
	CursorIdle time.Duration
	// RotateRefreshTokens returns a new refresh token on each refresh and
	// revokes the old one.
	RotateRefreshTokens bool
	// BulkPolls is how many status polls a Bulk API job reports
	// InProgress before JobComplete (default 1).
	BulkPolls int
	// Username and Password of the API user (defaults
	// integration@healthsync-emulator.example / "emulator-password").
	Username, Password string
	// KeyFile is where EnvLines writes the JWT private key; empty means a
	// file in a temporary directory of this server's own, which Close
	// removes (so emulators side by side never share or overwrite one).
	KeyFile string
	// FieldHistory is the field history tracking: object name (Account,
	// Opportunity) to the API names of its tracked fields. Nil means
	// DefaultFieldHistory; an empty map tracks nothing, and the history
	// objects are then not served (INVALID_TYPE), as in an org without
	// history tracking. Other objects are ignored.
	FieldHistory map[string][]string
	// HistoryRetentionMonths is how long history rows are served, by
	// CreatedDate: 0 means 24 months (Salesforce's API retention without
	// Field Audit Trail), a negative number for ever.
	HistoryRetentionMonths int
	// Faults to inject.
	Faults Faults
}

// Server is an emulated Salesforce org served over HTTP. It is safe for
// concurrent use.
type Server struct {
	opts  Options
	clock crm.Clock

	mu rwMutex
	db *db

	orgID, userID, profileID string
	app                      connectedApp

	authMu   stdsync.Mutex
	sessions map[string]*session
	refresh  map[string]*refreshGrant
	codes    map[string]*authCode

	usageMu  rwMutex
	usage    map[int64]int // API calls per hour bucket, for the rolling 24h window
	calls    atomic.Int64
	inflight atomic.Int64

	cursorMu stdsync.Mutex
	cursors  map[string]*cursor

	bulkMu rwMutex
	jobs   map[string]*bulkJob

	faultMu  stdsync.Mutex
	faultRng *rand.Rand
	faults   atomic.Pointer[Faults] // the faults in force (SetFaults)

	keyFileMu stdsync.Mutex
	keyFile   string // written by keyFilePath; "" until then
	keyDir    string // the server's own directory holding keyFile, if any

	// gen index → ID, per object, filled by LoadOrg.
	genIDs map[string][]string
	// IDs of records created through the API, per object.
	created map[string][]string
}

type rwMutex = stdsync.RWMutex

// New returns an emulated org holding the API user and its profile, with
// no customer data; load some with LoadOrg or LoadCSV.
func New(opts Options) *Server {
	if opts.Clock == nil {
		opts.Clock = crm.SystemClock{}
	}
	if opts.MinVersion == 0 {
		opts.MinVersion = 50
	}
	if opts.MaxVersion == 0 {
		opts.MaxVersion = 66
	}
	if opts.MaxVersion < opts.MinVersion {
		opts.MaxVersion = opts.MinVersion
	}
	if opts.DailyLimit == 0 {
		opts.DailyLimit = 100_000
	}
	if opts.SessionIdle == 0 {
		opts.SessionIdle = 2 * time.Hour
	}
	if opts.CursorIdle == 0 {
		opts.CursorIdle = 15 * time.Minute
	}
	if opts.BulkPolls == 0 {
		opts.BulkPolls = 1
	}
	if opts.Username == "" {
		opts.Username = "integration@healthsync-emulator.example"
	}
	if opts.Password == "" {
		opts.Password = "emulator-password"
	}
	s := &Server{
		opts:     opts,
		clock:    opts.Clock,
		db:       newDB(),
		sessions: map[string]*session{},
		refresh:  map[string]*refreshGrant{},
		codes:    map[string]*authCode{},
		usage:    map[int64]int{},
		cursors:  map[string]*cursor{},
		jobs:     map[string]*bulkJob{},
		faultRng: rand.New(rand.NewPCG(uint64(opts.Faults.Seed), 0xfa17)),
		genIDs:   map[string][]string{},
		created:  map[string][]string{},
		app:      newConnectedApp(),
	}
	s.faults.Store(&opts.Faults)
	s.db.tracking = newHistoryTracking(opts.FieldHistory)
	if opts.HistoryRetentionMonths != 0 {
		s.db.retentionMonths = opts.HistoryRetentionMonths
	}
	s.orgID = s.db.newID("00D")[:15]
	s.bootstrap()
	return s
}

// SetFaults replaces the faults in force, e.g. to stall the org in the
// middle of a test and let it answer again later. The random decisions
// keep drawing from the generator seeded by Options.Faults.Seed.
func (s *Server) SetFaults(f Faults) { s.faults.Store(&f) }

// faultsNow returns the faults in force.
func (s *Server) faultsNow() Faults { return *s.faults.Load() }

// bootstrap creates the profile, the API user and its profile-owned
// permission set, as every org has.
func (s *Server) bootstrap() {
	now := s.clock.Now()
	d := s.db
	prof := d.insert(d.table("Profile"), s.vals("Profile", map[string]any{"Name": "System Administrator"}), now, "")
	s.profileID = prof.id
	user := d.insert(d.table("User"), s.vals("User", map[string]any{
		"Username": s.opts.Username, "FirstName": "HealthSync", "LastName": "Integration",
		"Name": "HealthSync Integration", "Email": s.opts.Username, "Title": "Integration User",
		"IsActive": true, "ProfileId": prof.id,
	}), now, "")
	s.userID = user.id
	for _, r := range []*record{prof, user} {
		r.set(r.t.obj.byName["createdbyid"], user.id)
		r.set(r.t.obj.byName["lastmodifiedbyid"], user.id)
	}
	ps := d.insert(d.table("PermissionSet"), s.vals("PermissionSet", map[string]any{
		"Name": "X00e_System_Administrator", "Label": "00e System Administrator", "IsOwnedByProfile": true, "ProfileId": prof.id,
	}), now, user.id)
	d.insert(d.table("PermissionSetAssignment"), s.vals("PermissionSetAssignment", map[string]any{
		"AssigneeId": user.id, "PermissionSetId": ps.id,
	}), now, user.id)
	s.setStages(d.stages, now, user.id)
}

// vals maps field names to field indexes of object name.
func (s *Server) vals(name string, m map[string]any) map[int]any {
	o := s.db.schema[strings.ToLower(name)]
	out := make(map[int]any, len(m))
	for k, v := range m {
		if _, i := o.field(k); i >= 0 {
			out[i] = v
		}
	}
	return out
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == "/services/oauth2/authorize":
		s.handleAuthorize(w, r)
	case p == "/services/oauth2/token":
		s.handleToken(w, r)
	case p == "/services/oauth2/revoke":
		s.handleRevoke(w, r)
	case p == "/services/oauth2/userinfo":
		s.handleUserinfo(w, r)
	case strings.HasPrefix(p, "/id/"):
		s.handleIdentity(w, r)
	case strings.HasPrefix(p, "/services/Soap/u/"):
		s.handleSOAPLogin(w, r)
	case p == "/services/data" || p == "/services/data/":
		s.handleVersions(w, r)
	case strings.HasPrefix(p, "/services/data/v"):
		s.handleAPI(w, r)
	default:
		writeErrors(w, http.StatusNotFound, errNotFound)
	}
}

func (s *Server) baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

type versionInfo struct {
	Label   string `json:"label"`
	URL     string `json:"url"`
	Version string `json:"version"`
}

// releaseLabel names the Salesforce release of an API version.
func releaseLabel(v int) string {
	// v20 was Winter '11; three releases a year.
	n := v - 20
	year := 11 + (n+2)/3
	season := []string{"Winter", "Spring", "Summer"}[(n%3+3)%3]
	return fmt.Sprintf("%s '%02d", season, year%100)
}

func (s *Server) handleVersions(w http.ResponseWriter, r *http.Request) {
	var out []versionInfo
	for v := s.opts.MinVersion; v <= s.opts.MaxVersion; v++ {
		out = append(out, versionInfo{Label: releaseLabel(v), URL: fmt.Sprintf("/services/data/v%d.0", v), Version: fmt.Sprintf("%d.0", v)})
	}
	writeJSON(w, http.StatusOK, out)
}

// reqCtx is what an authenticated API request carries.
type reqCtx struct {
	version string // "58.0"
	userID  string
	base    string
	rest    string // path after /services/data/vNN.0/
	// internal is set for composite sub-requests: they count no API call.
	internal bool
}

// handleAPI authenticates, counts and limits a REST call, then routes it.
func (s *Server) handleAPI(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/services/data/v")
	verStr, tail, _ := strings.Cut(rest, "/")
	ver, ok := s.parseVersion(verStr)
	if !ok {
		writeErrors(w, http.StatusNotFound, errNotFound)
		return
	}
	userID, ok := s.authenticate(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", "Token")
		writeErrors(w, http.StatusUnauthorized, errSessionInvalid)
		return
	}
	faults := s.faultsNow()
	if n := faults.ConcurrentLimit; n > 0 {
		if s.inflight.Add(1) > int64(n) {
			s.inflight.Add(-1)
			s.setLimitHeader(w)
			writeError(w, http.StatusForbidden, "REQUEST_LIMIT_EXCEEDED", "ConcurrentRequests (Concurrent API Requests) Limit exceeded.")
			return
		}
		defer s.inflight.Add(-1)
	}
	if !s.countCall() {
		s.setLimitHeader(w)
		writeError(w, http.StatusForbidden, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
		return
	}
	s.setLimitHeader(w)
	if d := faults.Latency; d > 0 {
		// Read the request first: the server notices a client that gave
		// up only once it has read the body.
		if body, err := io.ReadAll(r.Body); err == nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if s.fault(faults.Unavailable) {
		writeError(w, http.StatusServiceUnavailable, "SERVER_UNAVAILABLE", "Server temporarily unavailable. Please try again later.")
		return
	}
	if faults.Trickle > 0 {
		w = &trickleWriter{ResponseWriter: w, every: faults.Trickle, done: r.Context().Done()}
	}
	rc := &reqCtx{version: ver, userID: userID, base: s.baseURL(r), rest: tail}
	s.route(w, r, rc)
}

func (s *Server) parseVersion(v string) (string, bool) {
	major, minor, ok := strings.Cut(v, ".")
	if !ok || minor != "0" {
		return "", false
	}
	n, err := strconv.Atoi(major)
	if err != nil || n < s.opts.MinVersion || n > s.opts.MaxVersion {
		return "", false
	}
	return v, true
}

// fault draws a deterministic decision with probability p.
func (s *Server) fault(p float64) bool {
	if p <= 0 {
		return false
	}
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	return s.faultRng.Float64() < p
}

func hourOf(t time.Time) int64 { return t.Unix() / 3600 }

// countCall records one API call against the rolling 24-hour limit; false
// means the limit is used up.
func (s *Server) countCall() bool {
	now := hourOf(s.clock.Now())
	s.usageMu.Lock()
	defer s.usageMu.Unlock()
	used := 0
	for h, n := range s.usage {
		if h <= now-24 {
			delete(s.usage, h)
			continue
		}
		used += n
	}
	if used >= s.opts.DailyLimit {
		return false
	}
	s.usage[now]++
	s.calls.Add(1)
	return true
}

// used returns the API calls in the rolling 24-hour window.
func (s *Server) used() int {
	now := hourOf(s.clock.Now())
	s.usageMu.RLock()
	defer s.usageMu.RUnlock()
	used := 0
	for h, n := range s.usage {
		if h > now-24 {
			used += n
		}
	}
	return used
}

func (s *Server) setLimitHeader(w http.ResponseWriter) {
	w.Header().Set("Sforce-Limit-Info", fmt.Sprintf("api-usage=%d/%d", s.used(), s.opts.DailyLimit))
}

// route dispatches an authenticated call by its path under the version.
func (s *Server) route(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	parts := strings.Split(strings.Trim(rc.rest, "/"), "/")
	if len(parts) == 1 && parts[0] == "" {
		parts = nil
	}
	if len(parts) == 0 {
		s.handleResources(w, rc)
		return
	}
	switch parts[0] {
	case "limits":
		s.handleLimits(w, r)
	case "query", "queryAll":
		s.handleQuery(w, r, rc, parts, false)
	case "sobjects":
		s.handleSObjects(w, r, rc, parts[1:], false)
	case "composite":
		s.handleComposite(w, r, rc, parts[1:])
	case "tooling":
		s.handleTooling(w, r, rc, parts[1:])
	case "jobs":
		s.handleJobs(w, r, rc, parts[1:])
	default:
		writeErrors(w, http.StatusNotFound, errNotFound)
	}
}

func (s *Server) handleResources(w http.ResponseWriter, rc *reqCtx) {
	p := "/services/data/v" + rc.version + "/"
	writeJSON(w, http.StatusOK, map[string]string{
		"sobjects": p + "sobjects", "query": p + "query", "queryAll": p + "queryAll",
		"limits": p + "limits", "composite": p + "composite", "tooling": p + "tooling",
		"jobs": p + "jobs", "identity": rc.base + "/id/" + s.orgID + "/" + s.userID,
	})
}

type limit struct {
	Max       int `json:"Max"`
	Remaining int `json:"Remaining"`
}

func (s *Server) handleLimits(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeMethodNotAllowed(w, "GET")
		return
	}
	used := s.used()
	s.bulkMu.RLock()
	qjobs, batches := s.bulkQueryJobsToday(), s.bulkBatchesToday()
	s.bulkMu.RUnlock()
	writeJSON(w, http.StatusOK, map[string]limit{
		"DailyApiRequests":                  {Max: s.opts.DailyLimit, Remaining: max(0, s.opts.DailyLimit-used)},
		"DailyBulkApiBatches":               {Max: 15000, Remaining: 15000 - batches},
		"DailyBulkV2QueryJobs":              {Max: 10000, Remaining: 10000 - qjobs},
		"DailyBulkV2QueryFileStorageMB":     {Max: 976562, Remaining: 976562},
		"DataStorageMB":                     {Max: 1024, Remaining: 1000},
		"FileStorageMB":                     {Max: 10240, Remaining: 10240},
		"ConcurrentAsyncGetReportInstances": {Max: 200, Remaining: 200},
		"HourlyODataCallout":                {Max: 20000, Remaining: 20000},
	})
}

func writeMethodNotAllowed(w http.ResponseWriter, allowed string) {
	w.Header().Set("Allow", allowed)
	writeError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", fmt.Sprintf("HTTP Method is not allowed. Allowed are %s", allowed))
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

func itoa(n int) string { return strconv.Itoa(n) }

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
