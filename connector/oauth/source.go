package oauth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/oauth2"

	"healthsync/connector"
)

// Grant gets a new token for a Source. current is the token in use (nil
// when none is stored); implementations must not modify it.
type Grant interface {
	Grant(ctx context.Context, current *Token) (*Token, error)
}

// SourceOptions tunes a Source. The zero value is usable.
type SourceOptions struct {
	// RefreshEarly is how long before its expiry a token is refreshed
	// (default 5 minutes; HubSpot tokens last 30).
	RefreshEarly time.Duration
	// RefreshTimeout bounds one refresh (default 60 s). A refresh runs on
	// its own, so one caller giving up does not fail the others waiting.
	RefreshTimeout time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger gets a line per refresh, never a token (default: none).
	Logger hclog.Logger
}

// Source is the token of one connection: loaded from the TokenStore on first
// use, refreshed through its Grant ahead of expiry or when the CRM rejects
// it, and saved back at once (so a rotated refresh token is never lost).
// Concurrent callers share one refresh. It implements connector.Authorizer
// and oauth2.TokenSource, and is safe for concurrent use.
type Source struct {
	store      TokenStore
	connection string
	grant      Grant
	opts       SourceOptions

	mu       sync.Mutex
	loaded   bool
	tok      *Token
	stale    bool    // Invalidate was called
	unsaved  bool    // tok could not be saved yet
	fatal    error   // a refresh said: re-authorize
	fatalFor []byte  // the stored blob that error was about
	blob     []byte  // the blob last loaded or saved
	inflight *flight // the refresh in progress
}

type flight struct {
	done chan struct{}
	tok  *Token
	err  error
}

var (
	_ connector.Authorizer = (*Source)(nil)
	_ oauth2.TokenSource   = (*Source)(nil)
)

// NewSource returns the Source of connection, persisted in store and
// refreshed with grant.
func NewSource(store TokenStore, connection string, grant Grant, opts SourceOptions) *Source {
	if opts.RefreshEarly <= 0 {
		opts.RefreshEarly = 5 * time.Minute
	}
	if opts.RefreshTimeout <= 0 {
		opts.RefreshTimeout = 60 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	return &Source{store: store, connection: connection, grant: grant, opts: opts}
}

// Current returns a copy of the valid token (with InstanceURL), refreshing
// it first when needed.
func (s *Source) Current(ctx context.Context) (*Token, error) {
	t, err := s.valid(ctx)
	if err != nil {
		return nil, err
	}
	return t.clone(), nil
}

// AccessToken implements connector.Authorizer.
func (s *Source) AccessToken(ctx context.Context) (*oauth2.Token, error) {
	t, err := s.valid(ctx)
	if err != nil {
		return nil, err
	}
	return t.OAuth2(), nil
}

// Token implements oauth2.TokenSource (with a background context).
func (s *Source) Token() (*oauth2.Token, error) { return s.AccessToken(context.Background()) }

// ForceRefresh implements connector.Authorizer: unless another goroutine has
// already replaced the rejected token, it refreshes (sharing the refresh
// with every concurrent caller).
func (s *Source) ForceRefresh(ctx context.Context, rejected *oauth2.Token) (*oauth2.Token, error) {
	if err := s.load(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.tok != nil && rejected != nil && s.tok.AccessToken != rejected.AccessToken && !s.stale {
		t := s.tok
		s.mu.Unlock()
		return t.OAuth2(), nil
	}
	s.mu.Unlock()
	t, err := s.refresh(ctx)
	if err != nil {
		return nil, err
	}
	return t.OAuth2(), nil
}

// Invalidate marks the current token as rejected: the next call refreshes.
func (s *Source) Invalidate() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stale = true
}

// valid returns a token that is not known to be expired or rejected.
func (s *Source) valid(ctx context.Context) (*Token, error) {
	if err := s.load(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	t, stale, unsaved := s.tok, s.stale, s.unsaved
	s.mu.Unlock()
	if unsaved {
		if err := s.save(ctx, t); err != nil {
			return nil, err
		}
	}
	now := s.opts.Now()
	switch {
	case t == nil || stale || t.AccessToken == "" || t.expiresWithin(now, 0):
		return s.refresh(ctx)
	case t.expiresWithin(now, s.opts.RefreshEarly):
		nt, err := s.refresh(ctx)
		if err != nil && ctx.Err() == nil {
			// Still valid for a while: use it; the next call tries again.
			s.opts.Logger.Warn("early token refresh failed; using the current token until it expires",
				"connection", s.connection, "expires", t.Expiry, "error", err)
			return t, nil
		}
		return nt, err
	}
	return t, nil
}

// load reads the stored token once.
func (s *Source) load(ctx context.Context) error {
	s.mu.Lock()
	loaded, fatal := s.loaded, s.fatal
	s.mu.Unlock()
	if loaded && fatal == nil {
		return nil
	}
	data, err := s.store.LoadToken(ctx, s.connection)
	if err != nil {
		return fmt.Errorf("load token of connection %q: %w", s.connection, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fatal != nil {
		if bytes.Equal(data, s.fatalFor) {
			return s.fatal
		}
		// Someone re-authorized since: start again from the new token.
		s.fatal, s.fatalFor, s.loaded, s.tok, s.stale, s.unsaved = nil, nil, false, nil, false, false
	}
	if s.loaded {
		return nil
	}
	if len(data) > 0 {
		t, err := UnmarshalBlob(data)
		if err != nil {
			return fmt.Errorf("token of connection %q: %w", s.connection, err)
		}
		s.tok = t
	}
	s.blob = data
	s.loaded = true
	return nil
}

// refresh runs the Grant once for all concurrent callers.
func (s *Source) refresh(ctx context.Context) (*Token, error) {
	s.mu.Lock()
	f := s.inflight
	if f == nil {
		f = &flight{done: make(chan struct{})}
		s.inflight = f
		var cur *Token
		if s.tok != nil {
			cur = s.tok.clone()
		}
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.RefreshTimeout)
		go func() {
			defer cancel()
			s.run(rctx, f, cur)
		}()
	}
	s.mu.Unlock()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-f.done:
		return f.tok, f.err
	}
}

func (s *Source) run(ctx context.Context, f *flight, cur *Token) {
	defer close(f.done)
	nt, err := s.grant.Grant(ctx, cur)
	if err != nil {
		s.mu.Lock()
		if errors.Is(err, connector.ErrReauthorize) {
			s.fatal = err
			s.fatalFor = s.blob
		}
		s.inflight = nil
		s.mu.Unlock()
		f.err = err
		return
	}
	nt = merge(cur, nt, s.opts.Now())
	s.mu.Lock()
	s.tok, s.stale, s.unsaved, s.inflight = nt, false, true, nil
	s.mu.Unlock()
	s.opts.Logger.Debug("token refreshed", "connection", s.connection, "expiry", nt.Expiry,
		"refresh_token_rotated", cur != nil && nt.RefreshToken != cur.RefreshToken)
	if err := s.save(ctx, nt); err != nil {
		f.err = err
		return
	}
	f.tok = nt
}

// save persists t and clears the unsaved mark if t is still current.
func (s *Source) save(ctx context.Context, t *Token) error {
	data, err := t.MarshalBlob()
	if err != nil {
		return err
	}
	if err := s.store.SaveToken(ctx, s.connection, data); err != nil {
		return fmt.Errorf("save refreshed token of connection %q: %w", s.connection, err)
	}
	s.mu.Lock()
	if s.tok == t {
		s.unsaved = false
		s.blob = data
	}
	s.mu.Unlock()
	return nil
}

// merge completes a new token with what the grant did not repeat: the
// refresh token (no rotation), the instance URL, the scopes.
func merge(old, nt *Token, now time.Time) *Token {
	nt = nt.clone()
	if nt.IssuedAt.IsZero() {
		nt.IssuedAt = now.UTC()
	}
	if old == nil {
		return nt
	}
	if nt.RefreshToken == "" {
		nt.RefreshToken = old.RefreshToken
	}
	if nt.InstanceURL == "" {
		nt.InstanceURL = old.InstanceURL
	}
	if nt.ID == "" {
		nt.ID = old.ID
	}
	if len(nt.Scopes) == 0 {
		nt.Scopes = append([]string(nil), old.Scopes...)
	}
	return nt
}
