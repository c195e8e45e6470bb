package connector

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"golang.org/x/oauth2"
)

// maxErrorBody bounds how much of an error response is decoded.
const maxErrorBody = 1 << 20

// maxHeldBody bounds the answer an attempt reads whole before handing it
// on (every JSON answer the connectors read, Bulk API result pages of
// usual width). A longer body is handed on as it arrives, still under the
// attempt's timeout, but a failure while reading its rest ends the
// request instead of being retried.
const maxHeldBody = 64 << 20

// bufferedBody is a response body read whole within its attempt, kept
// with its decoded error (non-2xx answers) so every layer sees the same
// bytes.
type bufferedBody struct {
	*bytes.Reader
	data   []byte
	apiErr *APIError
}

func (*bufferedBody) Close() error { return nil }

// ReadBody reads what is left of a response body, at most limit bytes. A
// body the stack already holds in memory is returned without a copy (the
// caller must not modify it).
func ReadBody(body io.Reader, limit int64) ([]byte, error) {
	if bb, ok := body.(*bufferedBody); ok {
		rest := bb.data[len(bb.data)-bb.Len():]
		if int64(len(rest)) > limit {
			rest = rest[:limit]
		}
		_, err := bb.Seek(int64(len(rest)), io.SeekCurrent)
		return rest, err
	}
	return io.ReadAll(io.LimitReader(body, limit))
}

// inspect decodes a non-2xx response's body, buffering it first when the
// attempt did not.
func (s *Stack) inspect(resp *http.Response) *APIError {
	bb, ok := resp.Body.(*bufferedBody)
	if !ok {
		var data []byte
		if resp.Body != nil {
			data, _ = io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
			resp.Body.Close()
		}
		bb = &bufferedBody{Reader: bytes.NewReader(data), data: data}
		resp.Body = bb
	}
	if bb.apiErr == nil {
		bb.apiErr = s.decode(resp.StatusCode, resp.Header, bb.data[:min(len(bb.data), maxErrorBody)])
	}
	return bb.apiErr
}

// decide classifies a response; nil for success.
func (s *Stack) decide(resp *http.Response) (Decision, *APIError) {
	if resp.StatusCode < 400 {
		return Fail, nil
	}
	e := s.inspect(resp)
	return s.policy(resp.StatusCode, e), e
}

// checkRetry is the stack's retryablehttp.CheckRetry.
func (s *Stack) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		return retryableError(ctx, err), nil
	}
	d, _ := s.decide(resp)
	switch d {
	case Retry:
	case RetryIfIdempotent:
		if isNonIdempotent(ctx) {
			return false, nil
		}
	default:
		return false, nil
	}
	if ra, ok := retryAfter(resp.Header, time.Now()); ok && ra > s.cfg.RetryWaitMax {
		// Waiting that long is not a retry: let the caller see the answer.
		s.logger.Warn("not retrying: Retry-After exceeds HEALTHSYNC_HTTP_RETRY_WAIT_MAX",
			"status", resp.StatusCode, "retry_after", ra, "max", s.cfg.RetryWaitMax)
		return false, nil
	}
	return true, nil
}

// retryableError says whether a failed attempt (no response) is retried.
func retryableError(ctx context.Context, err error) bool {
	switch {
	case errors.Is(err, ErrBudgetExhausted), errors.Is(err, ErrDailyLimit), errors.Is(err, ErrReauthorize),
		errors.Is(err, context.Canceled):
		return false
	}
	var certErr *x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	if errors.As(err, &certErr) || errors.As(err, &hostErr) {
		return false
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return false
	}
	if isNonIdempotent(ctx) {
		// Only a failure to connect proves the CRM never saw the request.
		var op *net.OpError
		return errors.As(err, &op) && op.Op == "dial"
	}
	return true
}

// attemptTransport runs once per attempt, under the retries: it waits for
// the rate limiters, charges the budget, bounds the attempt with the
// configured timeout and reads the usage headers of the answer.
type attemptTransport struct{ s *Stack }

func (t *attemptTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	s := t.s
	ctx := req.Context()
	if err := s.limiter.Wait(ctx); err != nil {
		return nil, err
	}
	release := func() {}
	if cl := s.classes[RateClass(ctx)]; cl != nil {
		rel, err := cl.Acquire(ctx)
		if err != nil {
			return nil, err
		}
		release = rel
	}
	if err := s.budget.Acquire(); err != nil {
		release()
		return nil, err
	}
	actx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	resp, err := s.base.RoundTrip(req.WithContext(actx))
	// The CRM counted the request by now, if it ever saw it.
	release()
	if err != nil {
		cancel() // an expired deadline stays the context's error
		if errors.Is(actx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
			return nil, fmt.Errorf("%w within %s (HEALTHSYNC_HTTP_TIMEOUT)", ErrTimeout, s.cfg.Timeout)
		}
		return nil, err
	}
	s.observe(resp.Header)
	// The whole answer is read within the attempt, so its timeout covers
	// the body, and a body that stalls or breaks off is a failed attempt
	// the retries see, not an error of whoever reads it later.
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxHeldBody+1))
	if err != nil {
		resp.Body.Close()
		cancel()
		if errors.Is(actx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
			return nil, fmt.Errorf("%w within %s (HEALTHSYNC_HTTP_TIMEOUT; its answer stalled after %d bytes)", ErrTimeout, s.cfg.Timeout, len(data))
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("read the answer (HTTP %d) after %d bytes: %w", resp.StatusCode, len(data), err)
	}
	if len(data) > maxHeldBody {
		// Too long to hold: hand it on as it arrives, under the timeout.
		resp.Body = &cancelBody{Reader: io.MultiReader(bytes.NewReader(data), resp.Body), closer: resp.Body, cancel: cancel}
		return resp, nil
	}
	resp.Body.Close()
	cancel()
	resp.Body = &bufferedBody{Reader: bytes.NewReader(data), data: data}
	return resp, nil
}

// observe hands the usage and rate-limit window an answer reports to the
// budget and the limiter.
func (s *Stack) observe(h http.Header) {
	if s.usage != nil {
		if used, limit, ok := s.usage(h); ok {
			s.budget.Observe(used, limit)
		}
	}
	if s.window != nil {
		if w, ok := s.window(h); ok {
			s.limiter.Observe(w)
		}
	}
}

// cancelBody is a body longer than maxHeldBody: closing it ends the
// attempt's timeout.
type cancelBody struct {
	io.Reader
	closer io.Closer
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.closer.Close()
	b.cancel()
	return err
}

// authTransport adds the token, refreshes once on a 401 and retries once,
// and turns the daily limit into an error.
type authTransport struct {
	s    *Stack
	next http.RoundTripper
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	s := t.s
	ctx := req.Context()
	getBody, err := replayable(req)
	if err != nil {
		return nil, err
	}
	var tok *oauth2.Token
	if s.auth != nil {
		if tok, err = s.auth.AccessToken(ctx); err != nil {
			return nil, fmt.Errorf("get access token: %w", err)
		}
	}
	resp, err := t.send(req, tok, getBody)
	if err != nil {
		return nil, err
	}
	d, apiErr := s.decide(resp)
	if d == Reauthenticate && s.auth != nil && tok != nil {
		fresh, ferr := s.auth.ForceRefresh(ctx, tok)
		switch {
		case errors.Is(ferr, ErrNoRefresh):
			return resp, nil
		case ferr != nil:
			resp.Body.Close()
			return nil, fmt.Errorf("refresh rejected access token (%s): %w", apiErr.Code, ferr)
		}
		resp.Body.Close()
		s.logger.Debug("access token rejected; retrying with a refreshed token", "status", resp.StatusCode, "code", apiErr.Code)
		if resp, err = t.send(req, fresh, getBody); err != nil {
			return nil, err
		}
		d, apiErr = s.decide(resp)
	}
	if d == DailyLimit {
		resp.Body.Close()
		err := fmt.Errorf("%w: %w", ErrDailyLimit, apiErr)
		s.budget.markDaily(err)
		return nil, err
	}
	return resp, nil
}

// send clones req with the token's header and a fresh body.
func (t *authTransport) send(req *http.Request, tok *oauth2.Token, getBody func() (io.ReadCloser, error)) (*http.Response, error) {
	r := req.Clone(req.Context())
	if getBody != nil {
		b, err := getBody()
		if err != nil {
			return nil, fmt.Errorf("rewind request body: %w", err)
		}
		r.Body, r.GetBody = b, getBody
	}
	if tok != nil {
		r.Header.Set("Authorization", tok.Type()+" "+tok.AccessToken)
	}
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		return nil, err
	}
	return resp, nil
}

// replayable returns a function giving a fresh copy of req's body, reading
// it into memory when the request cannot rewind it itself.
func replayable(req *http.Request) (func() (io.ReadCloser, error), error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	if req.GetBody != nil {
		return req.GetBody, nil
	}
	data, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }, nil
}
