package testkit

import (
	"context"
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := NewClock(t0)
	c.Add(time.Hour)
	if got := c.Now(); !got.Equal(t0.Add(time.Hour)) {
		t.Fatalf("Now = %v", got)
	}
	c.Set(t0)
	if got := c.Now(); !got.Equal(t0) {
		t.Fatalf("Now after Set = %v", got)
	}
}

func TestTokens(t *testing.T) {
	ctx := context.Background()
	m := NewTokens()
	if b, err := m.LoadToken(ctx, "c"); b != nil || err != nil {
		t.Fatalf("empty store = %q, %v", b, err)
	}
	blob := []byte("sealed")
	m.SaveToken(ctx, "c", blob)
	blob[0] = 'X' // the store keeps its own copy
	if b, _ := m.LoadToken(ctx, "c"); string(b) != "sealed" || m.Saves() != 1 {
		t.Fatalf("LoadToken = %q, saves %d", b, m.Saves())
	}
	m.DeleteToken(ctx, "c")
	if b, _ := m.LoadToken(ctx, "c"); b != nil {
		t.Fatalf("after delete = %q", b)
	}
}
