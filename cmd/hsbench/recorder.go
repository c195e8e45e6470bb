package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	gosync "sync"
	"sync/atomic"
)

// recorder sits in front of the emulator: it counts API requests (and
// among them record reads and searches) and, while capturing, keeps the
// data requests the ceiling client replays.
type recorder struct {
	org       emulated
	total     atomic.Int64 // every API request (token requests excluded)
	data      atomic.Int64 // record reads: query pages, Bulk query job calls, searches, lists
	search    atomic.Int64 // HubSpot search calls (their own rate limit)
	capturing atomic.Bool
	trace     bool // log every API request line to stderr (HSBENCH_TRACE=1)
	log       captureLog
}

// captureLog is what the recorder captured of one full sync: its reads in
// the order they were answered, and the Bulk query jobs among them by id
// (so their result requests can be tied to them).
type captureLog struct {
	mu      gosync.Mutex
	queries []query
	jobs    map[string]int // Bulk query job id -> index in queries
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	api, data := r.org.classify(req)
	if !api {
		r.org.ServeHTTP(w, req)
		return
	}
	r.total.Add(1)
	if r.trace {
		fmt.Fprintf(os.Stderr, "hsbench trace: %s %s\n", req.Method, shortPath(req.URL))
	}
	if data {
		r.data.Add(1)
	}
	if strings.HasSuffix(req.URL.Path, "/search") {
		r.search.Add(1)
	}
	if !data || !r.capturing.Load() {
		r.org.ServeHTTP(w, req)
		return
	}
	var body []byte
	if req.Body != nil && req.Method == http.MethodPost {
		body, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	var resp []byte
	if r.org.wantsResponse(req) {
		tw := &teeWriter{ResponseWriter: w}
		r.org.ServeHTTP(tw, req)
		resp = tw.buf.Bytes()
	} else {
		r.org.ServeHTTP(w, req)
	}
	r.log.mu.Lock()
	r.org.capture(&r.log, req, body, resp)
	r.log.mu.Unlock()
}

// take returns the captured queries the ceiling replays (see keptQueries)
// and stops capturing.
func (r *recorder) take() []query {
	r.capturing.Store(false)
	r.log.mu.Lock()
	defer r.log.mu.Unlock()
	q := keptQueries(r.log.queries)
	r.log.queries, r.log.jobs = nil, nil
	return q
}

// add appends a captured query (the caller holds mu).
func (l *captureLog) add(q query) {
	l.queries = append(l.queries, q)
}

// keptQueries drops the REST queries whose first page the connector
// discarded: a Salesforce query whose totalSize was above the Bulk
// threshold is not paged but sent again, with the same SOQL, as a Bulk
// API 2.0 job. What is left are the pages the sync kept (each REST query
// followed through nextRecordsUrl, each Bulk job's result pages) and
// every HubSpot read as sent.
func keptQueries(qs []query) []query {
	bulk := map[string]bool{}
	var out []query
	for i := len(qs) - 1; i >= 0; i-- {
		q := qs[i]
		if q.Bulk {
			bulk[q.SOQL] = true
		} else if q.SOQL != "" && bulk[q.SOQL] {
			continue // the probe of a later Bulk job
		}
		out = append(out, q)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// teeWriter keeps a copy of what a handler writes (a Bulk job's creation
// answer, which carries the job id).
type teeWriter struct {
	http.ResponseWriter
	buf bytes.Buffer
}

func (t *teeWriter) Write(p []byte) (int, error) {
	if t.buf.Len() < 1<<20 {
		t.buf.Write(p)
	}
	return t.ResponseWriter.Write(p)
}

func (t *teeWriter) Flush() {
	if f, ok := t.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// fromObject extracts the object after FROM in a SOQL query.
func fromObject(soql string) string {
	f := strings.Fields(soql)
	for i, w := range f {
		if strings.EqualFold(w, "FROM") && i+1 < len(f) {
			return f[i+1]
		}
	}
	return "?"
}

// shortPath is a request's path with the SOQL cut short, for traces.
func shortPath(u *url.URL) string {
	s := u.Path
	if q := u.Query().Get("q"); q != "" {
		s += " q=" + q[:min(len(q), 40)] + "… " + fromObject(q)
	}
	return s
}
