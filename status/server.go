package status

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"healthsync/crm"
	"healthsync/mapping"
	"healthsync/scoring"
	"healthsync/store"
)

// Options configure NewServer.
type Options struct {
	// Store is the database the pages and readiness read. Required.
	Store *store.Store
	// Connection is the CRM connection shown. Required.
	Connection string
	// Metrics are served at /metrics; nil serves a fresh, empty set.
	Metrics *Metrics
	// Token, when not empty, protects every path except /healthz.
	Token string
	// Ready is the caller's readiness check (e.g. the CRM token is valid);
	// nil means no extra check.
	Ready func(ctx context.Context) error
	// Clock tells the time for lags and renewal windows; nil is the wall
	// clock.
	Clock crm.Clock
	// Mapping supplies the scoring configuration (grade bands); nil uses
	// the scoring defaults.
	Mapping *mapping.Mapping
	// Log receives request errors; nil discards them.
	Log hclog.Logger
}

// Server is the status HTTP handler. Build it with NewServer.
type Server struct {
	opts      Options
	tokenHash [32]byte
	bands     scoring.GradeBands
	mux       *http.ServeMux
	pages     *template.Template
}

// checkTimeout bounds each readiness check and page query.
const checkTimeout = 5 * time.Second

// NewServer builds the handler serving /metrics, /healthz, /readyz, the
// status page / and /accounts/{id}.
func NewServer(opts Options) (*Server, error) {
	if opts.Store == nil {
		return nil, errors.New("status server: no store given")
	}
	if strings.TrimSpace(opts.Connection) == "" {
		return nil, errors.New("status server: no connection name given (HEALTHSYNC_CONNECTION)")
	}
	if err := (Config{Token: opts.Token}).Validate(); err != nil {
		return nil, err
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics()
	}
	if opts.Clock == nil {
		opts.Clock = crm.SystemClock{}
	}
	if opts.Log == nil {
		opts.Log = hclog.NewNullLogger()
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, bands: scoring.DefaultConfig().Grades, pages: pages, mux: http.NewServeMux()}
	if opts.Mapping != nil {
		s.bands = opts.Mapping.Config().Scoring.Grades
	}
	if opts.Token != "" {
		s.tokenHash = sha256.Sum256([]byte(opts.Token))
	}
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)
	s.mux.Handle("GET /metrics", s.protect(http.HandlerFunc(s.metrics)))
	s.mux.Handle("GET /{$}", s.protect(http.HandlerFunc(s.overview)))
	s.mux.Handle("GET /accounts/{id}", s.protect(http.HandlerFunc(s.account)))
	return s, nil
}

// ServeHTTP implements http.Handler. Every answer forbids caching and
// framing and sends no referrer, so a ?token= never leaks through links.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'none'; frame-ancestors 'none'")
	s.mux.ServeHTTP(w, r)
}

// authorized reports whether the request carries the token. Without a
// configured token everything is authorized.
func (s *Server) authorized(r *http.Request) bool {
	if s.opts.Token == "" {
		return true
	}
	given := r.URL.Query().Get("token")
	if auth := r.Header.Get("Authorization"); auth != "" {
		if scheme, tok, ok := strings.Cut(auth, " "); ok && strings.EqualFold(scheme, "Bearer") {
			given = strings.TrimSpace(tok)
		}
	}
	if given == "" {
		return false
	}
	// Compare hashes so the comparison's time does not depend on the
	// token's length either.
	h := sha256.Sum256([]byte(given))
	return subtle.ConstantTimeCompare(h[:], s.tokenHash[:]) == 1
}

func (s *Server) protect(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="healthsync"`)
			http.Error(w, "unauthorized: send Authorization: Bearer <HEALTHSYNC_STATUS_TOKEN> or ?token=", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ok")
}

// Check runs the readiness checks: the store answers, the caller's Ready
// passes, and the newest finished run of the connection did not fail.
func (s *Server) Check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	if err := s.opts.Store.Ping(ctx); err != nil {
		return fmt.Errorf("%w: store: %w", ErrNotReady, err)
	}
	if s.opts.Ready != nil {
		if err := s.opts.Ready(ctx); err != nil {
			return fmt.Errorf("%w: %w", ErrNotReady, err)
		}
	}
	runs, err := s.opts.Store.Runs(ctx, s.opts.Connection, 20)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotReady, err)
	}
	for _, r := range runs {
		if r.Status == store.RunRunning {
			continue
		}
		if r.Status == store.RunFailed {
			reason := r.StopReason
			if reason == "" {
				reason = "see the log"
			}
			return fmt.Errorf("%w: %w: %s run %d at %s: %s", ErrNotReady, ErrLastRunFailed, r.Kind, r.ID,
				r.StartedAt.Format(time.RFC3339), reason)
		}
		break
	}
	return nil
}

// readyz answers 200 or 503. The reason is shown only to a caller with the
// token (or when no token is set): orchestrator probes need the code alone.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	err := s.Check(r.Context())
	if err == nil {
		fmt.Fprintln(w, "ready")
		return
	}
	w.WriteHeader(http.StatusServiceUnavailable)
	if s.authorized(r) {
		fmt.Fprintln(w, err.Error())
		return
	}
	fmt.Fprintln(w, "not ready")
}

func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), checkTimeout)
	defer cancel()
	if err := s.opts.Metrics.RefreshLag(ctx, s.opts.Store, s.opts.Connection, s.opts.Clock.Now()); err != nil {
		s.opts.Log.Warn("read the last pulls for the sync lag", "error", err)
	}
	s.opts.Metrics.Handler().ServeHTTP(w, r)
}

// Serve serves h on ln until ctx ends, then shuts down gracefully (up to
// 10 seconds for requests in flight).
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("status server: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("status server shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("status server: %w", err)
	}
	return nil
}
