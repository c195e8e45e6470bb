package connector

import (
	"fmt"
	"net/http"
	"path"
)

// PageGuard ends a paged read whose answers would never end: a page that
// points at a cursor already followed in the same pull (a query locator,
// a nextRecordsUrl, an Sforce-Locator, a HubSpot paging.next.after), or
// pages holding more rows than the answers announced. Without it a CRM
// (or a proxy) that answers "not done, next page: the one you just read"
// makes a pull read the same records until the API budget runs out.
// One guard serves one paged read; it is not safe for concurrent use.
type PageGuard struct {
	request string // names the read in messages: "GET https://…/queryAll"
	cursor  string // what the cursor is called: "nextRecordsUrl", …
	seen    map[string]bool
	rows    int
	pages   int
	total   int // the rows the first answer announced; -1: not said
}

// NewPageGuard returns the guard of one paged read. request names it in
// messages (method and URL without the query); cursor says what its
// answers call the next page ("nextRecordsUrl", "paging.next.after").
func NewPageGuard(request, cursor string) *PageGuard {
	return &PageGuard{request: request, cursor: cursor, seen: map[string]bool{}, total: -1}
}

// Follow records that the read goes on to the page next names; call it
// as soon as an answer names its next page, before handing on its rows.
// It returns a MALFORMED_RESPONSE *APIError naming the request when next
// was followed before.
func (g *PageGuard) Follow(next string) error {
	if g.seen[next] {
		return g.fail(fmt.Sprintf("an answer points back at a page already read (%s %s): the pages would repeat forever",
			g.cursor, quoteCursor(next)))
	}
	g.seen[next] = true
	return nil
}

// Count adds the rows of one page whose answer says the read holds total
// rows in all (negative: it does not say). The first total announced is
// the one that counts (Salesforce's totalSize is the query's, repeated on
// every page). It returns a MALFORMED_RESPONSE *APIError naming the
// request when the pages so far hold more rows than that.
func (g *PageGuard) Count(rows, total int) error {
	g.pages++
	g.rows += rows
	if g.total < 0 && total >= 0 {
		g.total = total
	}
	if g.total >= 0 && g.rows > g.total {
		return g.fail(fmt.Sprintf("%d pages hold %d rows, more than the %d the first announced: the pages repeat", g.pages, g.rows, g.total))
	}
	return nil
}

func (g *PageGuard) fail(msg string) error {
	return fmt.Errorf("%s: %w", g.request, &APIError{Status: http.StatusOK, Code: CodeMalformedResponse, Message: msg})
}

// quoteCursor shows a cursor in a message: a path by its last segment (a
// whole path would read as an opaque token to the redaction of excerpts).
func quoteCursor(next string) string {
	if len(next) > 0 && next[0] == '/' {
		return fmt.Sprintf("ending %q", Excerpt([]byte(path.Base(next)), 60))
	}
	return fmt.Sprintf("%q", Excerpt([]byte(next), 60))
}
