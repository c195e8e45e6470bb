// Package testkit holds the test doubles every package's tests share, so
// none is written twice: a clock tests move by hand and an in-memory token
// store. (The store's own kit, a fresh Postgres schema per test and the
// conformance suite, is store/storetest.) It is for tests only; nothing in
// the production path imports it.
package testkit

import (
	"context"
	"sync"
	"time"
)

// Clock is a settable clock (crm.Clock): it tells the time it was set to
// until a test moves it. It is safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock standing at now.
func NewClock(now time.Time) *Clock { return &Clock{now: now} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Set puts the clock at t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Tokens is an in-memory token store (oauth.TokenStore): sealed blobs by
// connection, as the store keeps them. It is safe for concurrent use and
// counts saves, so a test can see a rotated token persisted.
type Tokens struct {
	mu    sync.Mutex
	blobs map[string][]byte
	saves int
}

// NewTokens returns an empty token store.
func NewTokens() *Tokens { return &Tokens{blobs: map[string][]byte{}} }

// LoadToken returns the connection's blob, or nil, nil when none is stored.
func (m *Tokens) LoadToken(_ context.Context, connection string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.blobs[connection]
	if !ok {
		return nil, nil
	}
	return append([]byte(nil), b...), nil
}

// SaveToken stores the connection's blob.
func (m *Tokens) SaveToken(_ context.Context, connection string, blob []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.blobs[connection] = append([]byte(nil), blob...)
	m.saves++
	return nil
}

// DeleteToken forgets the connection's blob.
func (m *Tokens) DeleteToken(_ context.Context, connection string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.blobs, connection)
	return nil
}

// Saves is how many times a token was saved.
func (m *Tokens) Saves() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.saves
}
