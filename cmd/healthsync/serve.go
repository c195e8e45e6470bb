package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"healthsync/connector"
	"healthsync/status"
	"healthsync/store"
	hsync "healthsync/sync"
)

// serveStatus starts the status server on addr; the returned function
// stops it.
func (a *app) serveStatus(ctx context.Context, addr string, metrics *status.Metrics) (func(), error) {
	if err := status.CheckListen(addr, a.cfg.Status.Token); err != nil {
		return nil, usagef("run", "%v", err)
	}
	srv, err := status.NewServer(status.Options{Store: a.store, Connection: a.cfg.Sync.Connection, Metrics: metrics,
		Token: a.cfg.Status.Token, Mapping: a.mapping, Log: a.log.Named("status")})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--listen %s: %w", addr, err)
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := status.Serve(sctx, ln, srv); err != nil {
			a.log.Error("status server stopped", "error", err)
		}
	}()
	a.log.Info("status server listening", "url", "http://"+ln.Addr().String()+"/")
	return func() { cancel(); <-done }, nil
}

// observe feeds one worker cycle into the metrics.
func (a *app) observe(m *status.Metrics, c crmClient, res *hsync.CycleResult, err error) {
	conn := a.cfg.Sync.Connection
	st := store.RunOK
	switch {
	case err == nil:
	case hsync.ControlledStop(err), errors.As(err, new(*hsync.LeaseHeldError)):
		st = store.RunStopped
	default:
		st = store.RunFailed
		m.ObserveError(errorKind(err))
	}
	m.ObserveRun(conn, "run", st, time.Since(res.Started), time.Now())
	if res.Sync != nil {
		m.ObserveSync(conn, res.Sync)
	}
	if res.Score.Accounts > 0 {
		m.ObserveScore(conn, res.Score)
	}
	if res.Apply != nil {
		m.ObserveApply(conn, res.Apply)
	}
	m.ObserveBudget(conn, c.Budget().Usage())
}

// errorKind names an error's class for the errors-by-kind metric.
func errorKind(err error) string {
	switch {
	case errors.Is(err, connector.ErrReauthorize):
		return "reauthorize"
	case errors.Is(err, connector.ErrDailyLimit):
		return "daily_limit"
	case errors.Is(err, connector.ErrBudgetExhausted):
		return "budget"
	case errors.Is(err, hsync.ErrGuard):
		return "guard"
	case errors.Is(err, hsync.ErrOutputs):
		return "outputs"
	case errors.Is(err, hsync.ErrWriteFailed):
		return "write_failed"
	case errors.Is(err, connector.ErrTimeout):
		return "timeout"
	case errors.As(err, new(*connector.UnreachableError)):
		return "unreachable"
	}
	var apiErr *connector.APIError
	if errors.As(err, &apiErr) {
		return "api"
	}
	return "other"
}
