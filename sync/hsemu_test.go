package sync_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"healthsync/connector/hubspot"
	"healthsync/crm"
	emuhubspot "healthsync/emulator/hubspot"
	"healthsync/mapping"
	"healthsync/store"
	hsync "healthsync/sync"
)

// hubspotConfig returns the connector configuration that reads em,
// served at url, with its private-app token and searches unpaced (the
// tests' emulators run without rate limits).
func hubspotConfig(em *emuhubspot.Server, url string) hubspot.Config {
	hc := hubspot.DefaultConfig()
	hc.BaseURL, hc.Token, hc.SearchRate = url, em.Credentials().PrivateAppToken, 1000
	return hc
}

// serveHubSpot serves em over loopback for the test's duration and
// returns the configuration that reads it.
func serveHubSpot(t testing.TB, em *emuhubspot.Server) hubspot.Config {
	t.Helper()
	srv := httptest.NewServer(em)
	t.Cleanup(srv.Close)
	return hubspotConfig(em, srv.URL)
}

// syncHubSpot runs one sync of the portal hc reads into st as a new
// process would: a new client and engine, reconciliation left for a year.
func syncHubSpot(t testing.TB, ctx context.Context, hc hubspot.Config, st *store.Store, m *mapping.Mapping, clock crm.Clock) *hsync.Report {
	t.Helper()
	c, err := hubspot.Open(ctx, hc, hubspot.Deps{Connection: "default", Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := hsync.NewEngine(hsync.EngineOptions{Store: st, Source: c, Mapping: m, Clock: clock,
		Config: hsync.Config{Connection: "default", ReconcileEvery: 365 * 24 * time.Hour}}).Sync(ctx, hsync.SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}
