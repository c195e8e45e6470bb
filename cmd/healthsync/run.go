package main

import (
	"context"
	"flag"
	"time"

	"healthsync/status"
	hsync "healthsync/sync"
)

// runCommand is `healthsync run`.
func runCommand() *command {
	return &command{
		name:    "run",
		summary: "the worker: sync, score, plan and apply on an interval",
		help: `Runs sync -> score -> plan -> apply every --interval until SIGINT or SIGTERM,
which finish the current page, commit and exit. Several replicas may run
against one Postgres: a lease per connection lets one of them work at a time
and another take over when it dies. A plan tripping the mass-change guard is
not applied; the worker logs why and waits for an admin.`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			interval := fs.Duration("interval", 15*time.Minute, "time between runs")
			once := fs.Bool("once", false, "do one run and exit")
			listen := fs.String("listen", "", "serve /metrics, /healthz, /readyz and the status page on this `address` (e.g. 127.0.0.1:8080; off when empty)")
			return func(ctx context.Context, e *env, args []string) error {
				if err := noArgs("run", args); err != nil {
					return err
				}
				if *interval < time.Second {
					return usagef("run", "--interval %s is too short: give at least 1s (the default is 15m)", *interval)
				}
				a, c, err := openAppCRM(ctx, e, false)
				if err != nil {
					return err
				}
				defer a.Close()
				metrics := status.NewMetrics()
				if *listen != "" {
					stop, err := a.serveStatus(ctx, *listen, metrics)
					if err != nil {
						return err
					}
					defer stop()
				}
				feed := hsync.Observer{Cycled: func(res *hsync.CycleResult, err error) { a.observe(metrics, c, res, err) }}
				return a.worker(c, feed, nil).Run(ctx, hsync.RunOptions{Interval: *interval, Once: *once})
			}
		},
	}
}
