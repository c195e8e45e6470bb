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
	mu        gosync.Mutex
	queries   []query
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	api, data := r.org.classify(req)
	if api {
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
		if data && r.capturing.Load() {
			var body []byte
			if req.Body != nil && req.Method == http.MethodPost {
				body, _ = io.ReadAll(req.Body)
				req.Body = io.NopCloser(bytes.NewReader(body))
			}
			if q := r.org.capture(req, body); q != nil {
				r.mu.Lock()
				r.queries = append(r.queries, *q)
				r.mu.Unlock()
			}
		}
	}
	r.org.ServeHTTP(w, req)
}

// take returns the captured queries and stops capturing.
func (r *recorder) take() []query {
	r.capturing.Store(false)
	r.mu.Lock()
	defer r.mu.Unlock()
	q := r.queries
	r.queries = nil
	return q
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
