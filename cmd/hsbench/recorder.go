package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	gosync "sync"
	"sync/atomic"
)

// recorder sits in front of the emulator: it counts requests by kind and,
// while capturing, keeps the SOQL of every query the connector starts
// (REST query/queryAll and Bulk API 2.0 query jobs).
type recorder struct {
	next      http.Handler
	total     atomic.Int64 // every API request (token requests excluded)
	data      atomic.Int64 // query pages and Bulk API query job calls
	capturing atomic.Bool
	trace     bool // log every API request line to stderr (HSBENCH_TRACE=1)
	mu        gosync.Mutex
	queries   []query
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	p := req.URL.Path
	if strings.HasPrefix(p, "/services/data/") {
		r.total.Add(1)
		if r.trace {
			fmt.Fprintf(os.Stderr, "hsbench trace: %s %s\n", req.Method, shortPath(req.URL))
		}
		isQuery := strings.HasSuffix(p, "/query") || strings.HasSuffix(p, "/queryAll") || strings.Contains(p, "/query/") || strings.Contains(p, "/queryAll/")
		isBulk := strings.Contains(p, "/jobs/query")
		if isQuery || isBulk {
			r.data.Add(1)
		}
		if r.capturing.Load() {
			if q := req.URL.Query().Get("q"); q != "" && isQuery {
				r.keep(query{Object: fromObject(q), SOQL: q, All: strings.HasSuffix(p, "/queryAll")})
			}
			if isBulk && req.Method == http.MethodPost && req.Body != nil {
				body, _ := io.ReadAll(req.Body)
				req.Body = io.NopCloser(bytes.NewReader(body))
				var job struct {
					Operation string `json:"operation"`
					Query     string `json:"query"`
				}
				if json.Unmarshal(body, &job) == nil && job.Query != "" {
					r.keep(query{Object: fromObject(job.Query), SOQL: job.Query, All: job.Operation == "queryAll"})
				}
			}
		}
	}
	r.next.ServeHTTP(w, req)
}

func (r *recorder) keep(q query) {
	r.mu.Lock()
	r.queries = append(r.queries, q)
	r.mu.Unlock()
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
