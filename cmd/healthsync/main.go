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

	"github.com/sethvargo/go-envconfig"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := realMain(ctx, os.Args[1:], envconfig.OsLookuper(), os.Stdout, os.Stderr)
	stop()
	os.Exit(report(err, os.Stderr))
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
