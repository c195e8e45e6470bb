package sync

import (
	"fmt"
	"io"
	stdsync "sync"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Progress hears about a sync's progress, object by object: Start, Page
// per committed page, then Done when the object's pull succeeded or
// Failed when it ended in an error (which the caller reports).
type Progress interface {
	Start(object string)
	Page(object string, records int)
	Done(object string)
	Failed(object string)
}

type noProgress struct{}

func (noProgress) Start(string)     {}
func (noProgress) Page(string, int) {}
func (noProgress) Done(string)      {}
func (noProgress) Failed(string)    {}

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

// TerminalProgress redraws one status line per object on a terminal.
type TerminalProgress struct {
	w   io.Writer
	mu  stdsync.Mutex
	cur map[string]*objectProgress
}

// NewTerminalProgress writes progress lines to w (a terminal).
func NewTerminalProgress(w io.Writer) *TerminalProgress {
	return &TerminalProgress{w: w, cur: map[string]*objectProgress{}}
}

// Start implements Progress.
func (t *TerminalProgress) Start(object string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cur[object] = &objectProgress{started: time.Now()}
	t.draw(object)
}

// Page implements Progress.
func (t *TerminalProgress) Page(object string, records int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p := t.cur[object]; p != nil {
		p.records += records
		p.pages++
	}
	t.draw(object)
}

// Done implements Progress.
func (t *TerminalProgress) Done(object string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.draw(object)
	fmt.Fprintln(t.w)
	delete(t.cur, object)
}

// Failed implements Progress: the object's line ends as it stands.
func (t *TerminalProgress) Failed(object string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cur[object] != nil {
		fmt.Fprintln(t.w)
	}
	delete(t.cur, object)
}

func (t *TerminalProgress) draw(object string) {
	p := t.cur[object]
	if p == nil {
		return
	}
	fmt.Fprintf(t.w, "\r  %-14s %10d records %6d pages %9.0f/s", object, p.records, p.pages, p.rate(time.Now()))
}

// LogProgress writes a log line per object every interval, for runs with
// no terminal.
type LogProgress struct {
	log      hclog.Logger
	interval time.Duration
	mu       stdsync.Mutex
	cur      map[string]*objectProgress
}

// NewLogProgress logs progress at most once per interval per object.
func NewLogProgress(log hclog.Logger, interval time.Duration) *LogProgress {
	return &LogProgress{log: log, interval: interval, cur: map[string]*objectProgress{}}
}

// Start implements Progress.
func (l *LogProgress) Start(object string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	l.cur[object] = &objectProgress{started: now, lastLog: now}
}

// Page implements Progress.
func (l *LogProgress) Page(object string, records int) {
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

// Done implements Progress.
func (l *LogProgress) Done(object string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if p := l.cur[object]; p != nil {
		l.log.Info("object synced", "object", object, "records", p.records, "pages", p.pages)
	}
	delete(l.cur, object)
}

// Failed implements Progress: no "object synced" line for an object whose
// pull failed; the caller reports the error.
func (l *LogProgress) Failed(object string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.cur, object)
}
