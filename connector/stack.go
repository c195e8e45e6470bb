package connector

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/hashicorp/go-cleanhttp"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-retryablehttp"
)

// Stack is the HTTP stack of one CRM connection. A request goes through
//
//	caller → auth (token header; on 401 one refresh and one retry)
//	       → go-retryablehttp (CheckRetry from the RetryPolicy, Retry-After, backoff)
//	       → per attempt: rate limiter, API budget, timeout, usage headers,
//	         the whole answer read (a stalled body is a failed attempt)
//	       → network
//
// Client returns it as an *http.Client (for simpleforce and anything that
// wants one); Do also turns non-2xx answers into *APIError.
type Stack struct {
	cfg     HTTPConfig
	logger  hclog.Logger
	auth    Authorizer
	policy  RetryPolicy
	decode  ErrorDecoder
	budget  *Budget
	usage   UsageReader
	limiter *Limiter
	window  WindowReader
	classes map[string]classLimiter
	base    http.RoundTripper
	client  *http.Client
	hint    string // what to check when a host cannot be reached
}

// Option configures a Stack.
type Option func(*Stack)

// WithAuth sets the Authorizer whose token every request carries. Without
// it requests are sent as they are.
func WithAuth(a Authorizer) Option { return func(s *Stack) { s.auth = a } }

// WithPolicy sets the RetryPolicy (default DefaultPolicy).
func WithPolicy(p RetryPolicy) Option { return func(s *Stack) { s.policy = p } }

// WithDecoder sets the ErrorDecoder (default DecodeOAuth, which falls back
// to MalformedError).
func WithDecoder(d ErrorDecoder) Option { return func(s *Stack) { s.decode = d } }

// WithBudget sets the API budget (default: one that counts calls and,
// once the CRM reports its limit, stops at 100% of it).
func WithBudget(b *Budget) Option { return func(s *Stack) { s.budget = b } }

// UsageReader reads the daily API usage a response reports in its
// headers: the calls used by the whole org or portal and the daily limit;
// ok is false when the response does not say (or says it unreadably).
type UsageReader func(h http.Header) (used, limit int64, ok bool)

// WithUsageHeaders sets how the connection's budget learns the CRM's
// daily usage from each response (default: it never does, and only
// counts).
func WithUsageHeaders(r UsageReader) Option { return func(s *Stack) { s.usage = r } }

// WindowReader reads the rate-limit window a response reports in its
// headers; ok is false when the response does not say.
type WindowReader func(h http.Header) (w RateWindow, ok bool)

// WithRateWindowHeaders sets how the connection's limiter learns the
// CRM's rate-limit window from each response (default: it keeps its
// configured rate).
func WithRateWindowHeaders(r WindowReader) Option { return func(s *Stack) { s.window = r } }

// WithLimiter sets the connection's limiter (default
// NewLimiter(cfg.RateLimit, cfg.RateBurst)).
func WithLimiter(l *Limiter) Option { return func(s *Stack) { s.limiter = l } }

// WithClassLimiter adds a limiter that requests marked with
// WithRateClass(ctx, class) wait on, in addition to the connection's.
func WithClassLimiter(class string, l *Limiter) Option {
	return func(s *Stack) { s.classes[class] = bucketClass{l} }
}

// WithClassWindow is WithClassLimiter with a rolling-window limiter: the
// requests of the class never exceed its N per Per as the CRM counts them
// (see WindowLimiter).
func WithClassWindow(class string, l *WindowLimiter) Option {
	return func(s *Stack) { s.classes[class] = l }
}

// classLimiter is the limiter of one rate class: acquire blocks until a
// request may be sent and returns what to call once its answer arrived.
type classLimiter interface {
	Acquire(ctx context.Context) (release func(), err error)
}

// bucketClass is a token-bucket Limiter as a class limiter.
type bucketClass struct{ l *Limiter }

func (b bucketClass) Acquire(ctx context.Context) (func(), error) {
	return func() {}, b.l.Wait(ctx)
}

// WithUnreachableHint sets what a request that cannot reach its host
// tells the user to check, e.g. "check HEALTHSYNC_HUBSPOT_BASE_URL".
func WithUnreachableHint(hint string) Option { return func(s *Stack) { s.hint = hint } }

// WithTransport sets the network transport (default: a pooled transport
// from go-cleanhttp).
func WithTransport(rt http.RoundTripper) Option { return func(s *Stack) { s.base = rt } }

// NewStack builds the HTTP stack of one connection. logger may be nil.
func NewStack(cfg HTTPConfig, logger hclog.Logger, opts ...Option) (*Stack, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("HTTP config: %w", err)
	}
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	s := &Stack{cfg: cfg, logger: logger, classes: map[string]classLimiter{}}
	for _, o := range opts {
		o(s)
	}
	if s.policy == nil {
		s.policy = DefaultPolicy
	}
	if s.decode == nil {
		s.decode = DecodeOAuth
	}
	if s.budget == nil {
		s.budget = &Budget{cfg: BudgetConfig{RunShare: 1, TotalShare: 1}}
	}
	if s.limiter == nil {
		s.limiter = NewLimiter(cfg.RateLimit, cfg.RateBurst)
	}
	if s.base == nil {
		s.base = cleanhttp.DefaultPooledTransport()
	}

	rc := retryablehttp.NewClient()
	rc.HTTPClient = &http.Client{
		Transport: &attemptTransport{s: s},
		// Redirects are followed by the outer client only.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	rc.Logger = retryLogger{logger.Named("http")}
	rc.RetryMax = cfg.MaxRetries
	rc.RetryWaitMin = cfg.RetryWaitMin
	rc.RetryWaitMax = cfg.RetryWaitMax
	rc.CheckRetry = s.checkRetry
	rc.Backoff = backoff
	rc.ErrorHandler = giveUp

	s.client = &http.Client{
		Transport:     &authTransport{s: s, next: &retryablehttp.RoundTripper{Client: rc}},
		CheckRedirect: sameHostRedirects,
	}
	return s, nil
}

// giveUp is the stack's retryablehttp.ErrorHandler: the last answer goes
// to the caller as it is; the last error says how many retries it took.
func giveUp(resp *http.Response, err error, attempts int) (*http.Response, error) {
	if err == nil || attempts < 2 {
		return resp, err
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	retries := "retries"
	if attempts == 2 {
		retries = "retry"
	}
	return resp, fmt.Errorf("%w after %d %s", err, attempts-1, retries)
}

// Client returns the stack as an *http.Client. Non-2xx answers come back as
// responses (their body buffered); only the stops (ErrBudgetExhausted,
// ErrDailyLimit, ErrReauthorize), network failures after the retries and
// ctx errors come back as errors.
func (s *Stack) Client() *http.Client { return s.client }

// Do sends req and returns its response when the status is 2xx. Any other
// status is returned as *APIError (decoded with the stack's ErrorDecoder),
// and the body is closed. Errors wrap ErrBudgetExhausted, ErrDailyLimit or
// ErrReauthorize when the run must stop.
func (s *Stack) Do(req *http.Request) (*http.Response, error) {
	resp, err := s.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("%s %s: %w", req.Method, RequestURL(req.URL), Unreachable(req.URL, err, s.hint))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		apiErr := s.inspect(resp)
		resp.Body.Close()
		return nil, apiErr
	}
	return resp, nil
}

// RequestURL is u for messages: scheme, host and path, without the query
// (which may be long, or carry a value better not printed).
func RequestURL(u *url.URL) string {
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}).String()
}

// APICalls returns the number of HTTP attempts made on the connection,
// retries included.
func (s *Stack) APICalls() int64 { return s.budget.APICalls() }

// Budget returns the connection's API budget.
func (s *Stack) Budget() *Budget { return s.budget }

// Limiter returns the connection's rate limiter.
func (s *Stack) Limiter() *Limiter { return s.limiter }

// Decode turns a non-2xx response into an *APIError with the stack's
// decoder, reading (and buffering) its body.
func (s *Stack) Decode(resp *http.Response) *APIError { return s.inspect(resp) }

// sameHostRedirects follows redirects only within the original host, so
// the token the auth layer adds never reaches another host.
func sameHostRedirects(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return http.ErrUseLastResponse
	}
	if req.URL.Host != via[0].URL.Host || req.URL.Scheme != via[0].URL.Scheme {
		return http.ErrUseLastResponse
	}
	return nil
}

// retryLogger hands retryablehttp's messages to hclog: a retry is worth an
// info line; a failed attempt is returned or retried anyway, so it is debug.
type retryLogger struct{ l hclog.Logger }

func (r retryLogger) Error(msg string, kv ...any) { r.l.Debug(msg, kv...) }
func (r retryLogger) Info(msg string, kv ...any)  { r.l.Info(msg, kv...) }
func (r retryLogger) Debug(msg string, kv ...any) {
	if msg == "retrying request" {
		r.l.Info(msg, kv...)
		return
	}
	r.l.Debug(msg, kv...)
}
func (r retryLogger) Warn(msg string, kv ...any) { r.l.Warn(msg, kv...) }
