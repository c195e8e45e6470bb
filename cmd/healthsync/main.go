// Command healthsync puts customer-health intelligence inside Salesforce
// and HubSpot: it syncs CRM data into a local store, scores every account
// and writes the results back as fields and follow-up tasks.
//
// Run `healthsync help` for the commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sethvargo/go-envconfig"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	done := make(chan int, 1)
	go func() {
		done <- report(realMain(ctx, os.Args[1:], envconfig.OsLookuper(), os.Stdout, os.Stderr), os.Stderr)
	}()
	os.Exit(awaitExit(ctx, stop, done, stopGrace, os.Stderr))
}

// stopGrace is how long a command may take to end after SIGINT or
// SIGTERM. Every command stops within a moment (the signal cancels its
// context, which ends requests, polls and waits, and a page commit takes
// milliseconds; the status server gives requests in flight up to 10 s);
// one blocked where no context reaches (a read of a pipe or a device)
// would otherwise keep the process alive until SIGKILL. Kubernetes and
// the systemd unit wait 60 s before that.
const stopGrace = 15 * time.Second

// awaitExit returns the exit code of the command that reports on done.
// After the first signal (ctx done) the default signal action is
// restored, so a second SIGINT or SIGTERM ends the process at once, and
// the command gets grace to finish before the process exits without it.
// Ending there is safe: every store write is transactional, and a crash
// at any point resumes without loss.
func awaitExit(ctx context.Context, stop context.CancelFunc, done <-chan int, grace time.Duration, stderr io.Writer) int {
	select {
	case code := <-done:
		stop()
		return code
	case <-ctx.Done():
	}
	stop()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case code := <-done:
		return code
	case <-t.C:
		fmt.Fprintf(stderr, "healthsync: stopped by a signal, but the command was still blocked %s later (reading a pipe, a device or a stalled connection): exiting without it. What was committed stays committed, and the next run resumes.\n", grace)
		return exitFailure
	}
}

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// report prints err for a person and returns the exit code.
func report(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "healthsync: %s\n", ue.msg)
		if ue.hint != "" {
			fmt.Fprintln(stderr, ue.hint)
		}
		return exitUsage
	}
	if errors.Is(err, errHelpShown) {
		return exitOK
	}
	fmt.Fprintf(stderr, "healthsync: %v\n", err)
	return exitFailure
}

// usageError is a mistake in the command line: exit code 2.
type usageError struct {
	msg  string
	hint string
}

func (e *usageError) Error() string { return e.msg }

func usagef(cmd, format string, args ...any) error {
	hint := "Run `healthsync help` for the commands."
	if cmd != "" {
		hint = fmt.Sprintf("Run `healthsync %s --help` for its usage.", cmd)
	}
	return &usageError{msg: fmt.Sprintf(format, args...), hint: hint}
}

// errHelpShown ends a run after --help was printed.
var errHelpShown = errors.New("help shown")
