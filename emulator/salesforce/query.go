package salesforce

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// cursor is a server-side query result being paged through.
type cursor struct {
	cq       *compiledQuery
	rows     []*record
	version  string
	endpoint string // "query" or "queryAll"
	lastUsed time.Time
}

const defaultBatch = 2000

// batchSize reads Sforce-Query-Options: batchSize=n (200..2000).
func batchSize(r *http.Request) int {
	h := r.Header.Get("Sforce-Query-Options")
	for _, part := range strings.Split(h, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "batchSize") {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return defaultBatch
		}
		return min(max(n, 200), defaultBatch)
	}
	return defaultBatch
}

func (s *Server) handleQuery(w http.ResponseWriter, r *http.Request, rc *reqCtx, parts []string, tooling bool) {
	if r.Method != http.MethodGet {
		writeMethodNotAllowed(w, "GET,HEAD")
		return
	}
	all := parts[0] == "queryAll"
	if len(parts) == 2 {
		s.nextPage(w, r, rc, parts[1])
		return
	}
	if len(parts) > 2 {
		writeErrors(w, http.StatusNotFound, errNotFound)
		return
	}
	q := r.URL.Query().Get("q")
	if q == "" {
		writeError(w, http.StatusBadRequest, "MALFORMED_QUERY", "A query string has to be specified")
		return
	}
	parsed, err := parseSOQL(q)
	if err != nil {
		writeSOQLError(w, q, err)
		return
	}
	s.mu.RLock()
	cq, err := s.db.compile(parsed, s.clock.Now(), tooling)
	if err != nil {
		s.mu.RUnlock()
		writeSOQLError(w, q, err)
		return
	}
	rows := s.db.execute(cq, all)
	s.mu.RUnlock()
	if cq.countOnly || cq.countField != nil {
		s.writeCount(w, rc, cq, rows)
		return
	}
	endpoint := parts[0]
	if tooling {
		endpoint = "tooling"
	}
	c := &cursor{cq: cq, rows: rows, version: rc.version, endpoint: endpoint}
	s.writePage(w, c, 0, batchSize(r))
}

func writeSOQLError(w http.ResponseWriter, q string, err error) {
	if se, ok := err.(*soqlError); ok {
		writeError(w, http.StatusBadRequest, se.code, se.message(q))
		return
	}
	writeError(w, http.StatusBadRequest, "MALFORMED_QUERY", err.Error())
}

func (s *Server) writeCount(w http.ResponseWriter, rc *reqCtx, cq *compiledQuery, rows []*record) {
	if cq.countOnly {
		b := []byte(`{"totalSize":`)
		b = strconv.AppendInt(b, int64(len(rows)), 10)
		b = append(b, `,"done":true,"records":[]}`...)
		writeRaw(w, http.StatusOK, b)
		return
	}
	n := 0
	s.mu.RLock()
	for _, r := range rows {
		if cq.countField.value(s.db, r) != nil {
			n++
		}
	}
	s.mu.RUnlock()
	b := []byte(`{"totalSize":1,"done":true,"records":[{"attributes":{"type":"AggregateResult"},`)
	b = appendJSONString(b, cq.countAlias)
	b = append(b, ':')
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, `}]}`...)
	writeRaw(w, http.StatusOK, b)
}

// writePage renders rows[from:from+size] and, when more remain, stores the
// cursor and adds nextRecordsUrl.
func (s *Server) writePage(w http.ResponseWriter, c *cursor, from, size int) {
	end := min(from+size, len(c.rows))
	b := make([]byte, 0, 64+(end-from)*512)
	b = append(b, `{"totalSize":`...)
	b = strconv.AppendInt(b, int64(len(c.rows)), 10)
	next := -1 // the offset nextRecordsUrl serves; -1: done
	if end < len(c.rows) {
		next = end
	}
	if faults := s.faultsNow(); len(c.rows) > 0 {
		switch {
		case faults.RepeatLocator:
			next = from // this very page again, under the same locator
		case faults.EndlessPages:
			fresh := *c // the same rows again, under a new locator
			c, next = &fresh, from
		}
	}
	if next >= 0 {
		id := s.storeCursor(c)
		b = append(b, `,"done":false,"nextRecordsUrl":"/services/data/v`...)
		b = append(b, c.version...)
		b = append(b, '/')
		if c.cq.obj.tooling || c.endpoint == "tooling" {
			b = append(b, "tooling/"...)
		}
		b = append(b, "query/"...)
		b = append(b, id...)
		b = append(b, '-')
		b = strconv.AppendInt(b, int64(next), 10)
		b = append(b, '"')
	} else {
		b = append(b, `,"done":true`...)
	}
	b = append(b, `,"records":[`...)
	s.mu.RLock()
	for i := from; i < end; i++ {
		if i > from {
			b = append(b, ',')
		}
		b = s.db.appendRecord(b, c.version, c.rows[i], c.cq.sel)
	}
	s.mu.RUnlock()
	b = append(b, "]}"...)
	writeRaw(w, http.StatusOK, b)
}

func (s *Server) storeCursor(c *cursor) string {
	now := s.clock.Now()
	s.cursorMu.Lock()
	defer s.cursorMu.Unlock()
	for id, old := range s.cursors {
		if old != c && now.Sub(old.lastUsed) > s.opts.CursorIdle {
			delete(s.cursors, id)
		}
	}
	c.lastUsed = now
	for id, old := range s.cursors {
		if old == c {
			return id
		}
	}
	id := "01g" + s.orgID[3:5] + "0" + randomToken(10)
	s.cursors[id] = c
	return id
}

func (s *Server) nextPage(w http.ResponseWriter, r *http.Request, rc *reqCtx, loc string) {
	id, offStr, ok := strings.Cut(loc, "-")
	off, err := strconv.Atoi(offStr)
	now := s.clock.Now()
	s.cursorMu.Lock()
	c := s.cursors[id]
	if c != nil && now.Sub(c.lastUsed) > s.opts.CursorIdle {
		delete(s.cursors, id)
		c = nil
	}
	if c != nil {
		c.lastUsed = now
	}
	s.cursorMu.Unlock()
	if !ok || err != nil || c == nil || off < 0 || off > len(c.rows) {
		writeError(w, http.StatusBadRequest, "INVALID_QUERY_LOCATOR", "invalid query locator")
		return
	}
	if off >= len(c.rows) {
		s.cursorMu.Lock()
		delete(s.cursors, id)
		s.cursorMu.Unlock()
	}
	s.writePage(w, c, off, batchSize(r))
}
