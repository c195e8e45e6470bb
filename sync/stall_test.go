package sync_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"healthsync/connector"
	"healthsync/connector/salesforce"
	"healthsync/crm"
	emusalesforce "healthsync/emulator/salesforce"
	"healthsync/mapping"
	"healthsync/store"
	"healthsync/store/storetest"
	hsync "healthsync/sync"
)

// stalledRig is an emulated org whose faults the test sets, a connector
// that gives up on an attempt after 150ms and retries once, and a SQLite
// store.
func stalledRig(t *testing.T) (*emusalesforce.Server, *hsync.Engine, *store.Store) {
	t.Helper()
	em := emusalesforce.New(emusalesforce.Options{})
	if err := em.LoadOrg(org(t, 4)); err != nil {
		t.Fatal(err)
	}
	sc := serveSalesforce(t, em)
	h := connector.DefaultHTTPConfig()
	h.Timeout, h.MaxRetries, h.RetryWaitMin, h.RetryWaitMax = 150*time.Millisecond, 1, time.Millisecond, 5*time.Millisecond
	c, err := salesforce.Open(context.Background(), sc, salesforce.Deps{Connection: "default", HTTP: h})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.InstanceURL(context.Background()); err != nil { // log in before any stall
		t.Fatal(err)
	}
	m, err := mapping.New(crm.Salesforce, nil)
	if err != nil {
		t.Fatal(err)
	}
	st := storetest.Open(t, store.Config{DatabaseURL: filepath.Join(t.TempDir(), "hs.db"), EncryptionKey: storetest.Key}, store.Options{})
	return em, hsync.NewEngine(hsync.EngineOptions{Store: st, Source: c, Mapping: m, Config: hsync.Config{Connection: "default"}}), st
}

// lastRun is the newest run of the connection.
func lastRun(t *testing.T, st *store.Store) store.Run {
	t.Helper()
	runs, err := st.Runs(context.Background(), "default", 1)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs %v, %v", runs, err)
	}
	return runs[0]
}

// A CRM that does not answer within the attempt timeout, through the
// retries, fails the run: it is recorded failed with the cause, and the
// error is no controlled stop, however much it reads like a deadline.
// Only the run's own context (a signal) stops it cleanly.
func TestStalledCRMFailsTheRunAndASignalStopsIt(t *testing.T) {
	t.Parallel()
	em, e, st := stalledRig(t)
	for name, f := range map[string]emusalesforce.Faults{
		"latency": {Latency: 30 * time.Second},
		"trickle": {Trickle: 50 * time.Millisecond},
	} {
		em.SetFaults(f)
		rep, err := e.Sync(context.Background(), hsync.SyncOptions{})
		if err == nil || errors.Is(err, hsync.ErrStopped) {
			t.Fatalf("%s: err = %v, want a failure that is no controlled stop", name, err)
		}
		if !errors.Is(err, connector.ErrTimeout) {
			t.Fatalf("%s: err = %v, want connector.ErrTimeout", name, err)
		}
		run := lastRun(t, st)
		if rep.Status != store.RunFailed || run.Status != store.RunFailed {
			t.Fatalf("%s: report %s, stored run %s; want both failed", name, rep.Status, run.Status)
		}
		for _, want := range []string{"the CRM did not answer within 150ms (HEALTHSYNC_HTTP_TIMEOUT", "after 1 retry", "/services/data/v62.0/"} {
			if !strings.Contains(run.StopReason, want) {
				t.Errorf("%s: the run's recorded cause %q lacks %q", name, run.StopReason, want)
			}
		}
	}

	// A signal while the CRM stalls: a controlled stop, recorded so.
	em.SetFaults(emusalesforce.Faults{Trickle: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	calls := em.APICalls()
	go func() {
		for em.APICalls() == calls {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	rep, err := e.Sync(ctx, hsync.SyncOptions{})
	if !errors.Is(err, hsync.ErrStopped) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want ErrStopped by the cancelled context", err)
	}
	if run := lastRun(t, st); rep.Status != store.RunStopped || run.Status != store.RunStopped || run.StopReason != "interrupted" {
		t.Fatalf("report %s, stored run %s %q; want stopped, interrupted", rep.Status, run.Status, run.StopReason)
	}

	// The CRM answers again: the next run completes.
	em.SetFaults(emusalesforce.Faults{})
	if _, err := e.Sync(context.Background(), hsync.SyncOptions{}); err != nil {
		t.Fatalf("after the CRM recovered: %v", err)
	}
	if run := lastRun(t, st); run.Status != store.RunOK {
		t.Fatalf("after the CRM recovered: run %s %q", run.Status, run.StopReason)
	}
}
