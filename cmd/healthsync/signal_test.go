package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A command blocked where its context does not reach (here in open(2) of
// a FIFO no one writes to) must not keep the process alive after the
// signal: awaitExit gives it the grace and then returns exit 1 with a
// message saying why.
func TestAwaitExitBlockedCommand(t *testing.T) {
	t.Parallel()
	fifo := filepath.Join(t.TempDir(), "blocked.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	stopped := false
	stop := func() { stopped = true; cancel() }
	done := make(chan int, 1)
	go func() {
		f, err := os.Open(fifo) // blocks until a writer opens the FIFO
		if err == nil {
			f.Close()
		}
		done <- exitOK
	}()
	t.Cleanup(func() {
		// Release the blocked goroutine.
		if w, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			w.Close()
		}
	})
	cancel() // the signal
	var stderr bytes.Buffer
	code := awaitExit(ctx, stop, done, time.Millisecond, &stderr)
	if code != exitFailure {
		t.Errorf("exit code %d, want %d", code, exitFailure)
	}
	if !stopped {
		t.Error("the signal handler was not released, so a second signal would be swallowed")
	}
	for _, w := range []string{"stopped by a signal", "still blocked", "exiting without it", "the next run resumes"} {
		if !strings.Contains(stderr.String(), w) {
			t.Errorf("message %q lacks %q", stderr.String(), w)
		}
	}
}

// A command that ends, with or without a signal, gives its own exit code.
func TestAwaitExitCommandEnds(t *testing.T) {
	t.Parallel()
	for _, signalled := range []bool{false, true} {
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan int, 1)
		done <- exitUsage
		if signalled {
			cancel()
		}
		var stderr bytes.Buffer
		if code := awaitExit(ctx, context.CancelFunc(cancel), done, time.Hour, &stderr); code != exitUsage || stderr.Len() > 0 {
			t.Errorf("signalled=%v: exit %d, stderr %q; want %d and nothing", signalled, code, stderr.String(), exitUsage)
		}
		cancel()
	}
}

func TestParseInterspersed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args    []string
		timeout time.Duration
		json    bool
		full    string
		rest    []string
	}{
		{args: []string{"salesforce", "--timeout", "5s"}, timeout: 5 * time.Second, rest: []string{"salesforce"}},
		{args: []string{"--timeout=2s", "hubspot", "--json"}, timeout: 2 * time.Second, json: true, rest: []string{"hubspot"}},
		{args: []string{"a", "--json", "b"}, json: true, rest: []string{"a", "b"}},
		{args: []string{"--", "-x", "--json"}, rest: []string{"-x", "--json"}},
		{args: []string{"a", "--", "--json"}, rest: []string{"a", "--json"}},
		{args: []string{"--full", "--", "a"}, full: "--", rest: []string{"a"}},
		{args: nil},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		timeout := fs.Duration("timeout", 0, "")
		asJSON := fs.Bool("json", false, "")
		full := fs.String("full", "", "")
		rest, err := parseInterspersed(fs, tt.args)
		if err != nil {
			t.Errorf("%q: %v", tt.args, err)
			continue
		}
		if *timeout != tt.timeout || *asJSON != tt.json || *full != tt.full || !slices.Equal(rest, tt.rest) {
			t.Errorf("%q: timeout %v json %v full %q rest %q; want %v %v %q %q", tt.args, *timeout, *asJSON, *full, rest, tt.timeout, tt.json, tt.full, tt.rest)
		}
	}
}
