package main

import (
	"fmt"
	"io"
	gosync "sync"
	"time"

	"github.com/hashicorp/go-hclog"
)

// The progress of a sync as a person sees it: a redrawn line per object
// on a terminal (terminalProgress), periodic log lines otherwise
// (logProgress). The engine only reports to an hsync.Progress.

// objectProgress is one object's pull so far.
type objectProgress struct {
	records, pages int
	started        time.Time
	lastLog        time.Time
}

func (p *objectProgress) rate(now time.Time) float64 {
	secs := now.Sub(p.started).Seconds()
	if secs <= 0 {
		return 0
	}
	return float64(p.records) / secs
}

// terminalProgress redraws one status line per object on a terminal.
type terminalProgress struct {
	w   io.Writer
	mu  gosync.Mutex
	cur map[string]*objectProgress
}

// newTerminalProgress writes progress lines to w (a terminal).
func newTerminalProgress(w io.Writer) *terminalProgress {
	return &terminalProgress{w: w, cur: map[string]*objectProgress{}}
}

// Start implements hsync.Progress.
func (t *terminalProgress) Start(object string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cur[object] = &objectProgress{started: time.Now()}
	t.draw(object)
}

// Page implements hsync.Progress.
func (t *terminalProgress) Page(object string, records int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p := t.cur[object]; p != nil {
		p.records += records
		p.pages++
	}
	t.draw(object)
}

// Done implements hsync.Progress.
func (t *terminalProgress) Done(object string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.draw(object)
	fmt.Fprintln(t.w)
	delete(t.cur, object)
}

// Failed implements hsync.Progress: the object's line ends as it stands.
func (t *terminalProgress) Failed(object string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cur[object] != nil {
		fmt.Fprintln(t.w)
	}
	delete(t.cur, object)
}

func (t *terminalProgress) draw(object string) {
	p := t.cur[object]
	if p == nil {
		return
	}
	fmt.Fprintf(t.w, "\r  %-14s %10d records %6d pages %9.0f/s", object, p.records, p.pages, p.rate(time.Now()))
}

// logProgress writes a log line per object every interval, for runs with
// no terminal.
type logProgress struct {
	log      hclog.Logger
	interval time.Duration
	mu       gosync.Mutex
	cur      map[string]*objectProgress
}

// newLogProgress logs progress at most once per interval per object.
func newLogProgress(log hclog.Logger, interval time.Duration) *logProgress {
	return &logProgress{log: log, interval: interval, cur: map[string]*objectProgress{}}
}

// Start implements hsync.Progress.
func (l *logProgress) Start(object string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	l.cur[object] = &objectProgress{started: now, lastLog: now}
}

// Page implements hsync.Progress.
func (l *logProgress) Page(object string, records int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	p := l.cur[object]
	if p == nil {
		return
	}
	p.records += records
	p.pages++
	if now := time.Now(); now.Sub(p.lastLog) >= l.interval {
		p.lastLog = now
		l.log.Info("sync progress", "object", object, "records", p.records, "pages", p.pages, "per_second", int(p.rate(now)))
	}
}

// Done implements hsync.Progress.
func (l *logProgress) Done(object string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if p := l.cur[object]; p != nil {
		l.log.Info("object synced", "object", object, "records", p.records, "pages", p.pages)
	}
	delete(l.cur, object)
}

// Failed implements hsync.Progress: no "object synced" line for an
// object whose pull failed; the caller reports the error.
func (l *logProgress) Failed(object string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.cur, object)
}
