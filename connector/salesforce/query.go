package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/simpleforce/simpleforce"

	"healthsync/connector"
)

// pageSize is the REST query page size asked for with Sforce-Query-Options.
const pageSize = 2000

// sfTransport adapts simpleforce to the connection. simpleforce builds its
// requests without a context and turns every non-2xx answer into its own
// untyped error (logging the body); this transport gives each request the
// caller's ctx, sends it through the stack (auth, retries, budget) and
// keeps the stack's typed error, so simpleforce never sees a failed
// response, nor a successful one it would misread (checkAnswer). The
// Authorization header simpleforce adds is replaced by the stack's.
type sfTransport struct {
	ctx context.Context
	c   *Client
	err error
}

func (t *sfTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(t.ctx)
	if strings.Contains(r.URL.Path, "/query") {
		r.Header.Set("Sforce-Query-Options", fmt.Sprintf("batchSize=%d", pageSize))
	}
	r.Header.Set("Accept", "application/json")
	resp, err := t.c.send(r)
	if err != nil {
		t.err = err
		return nil, err
	}
	if err := checkAnswer(r, resp); err != nil {
		t.err = err
		return nil, err
	}
	return resp, nil
}

// simple returns a simpleforce client bound to ctx for one operation.
func (c *Client) simple(ctx context.Context) (*simpleforce.Client, *sfTransport, error) {
	inst, err := c.InstanceURL(ctx)
	if err != nil {
		return nil, nil, err
	}
	t := &sfTransport{ctx: ctx, c: c}
	sc := simpleforce.NewClient(inst, simpleforce.DefaultClientID, c.cfg.APIVersion)
	sc.SetHttpClient(&http.Client{Transport: t, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }})
	// The session ID is a placeholder: the stack sets the real header.
	sc.SetSidLoc("token-set-by-the-http-stack", inst)
	return sc, t, nil
}

// simpleErr returns the stack's typed error behind a simpleforce failure.
func simpleErr(t *sfTransport, err error) error {
	if t.err != nil {
		return t.err
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// queryPages runs soql on endpoint ("query" or "queryAll") through
// simpleforce and calls fn with each page of raw records, following
// nextRecordsUrl. Only one page is held at a time. simpleforce's Query
// treats a string starting with /services/data as a next-records URL,
// which is how queryAll (which simpleforce lacks) is reached.
func (c *Client) queryPages(ctx context.Context, endpoint, soql string, fn func(recs []rawRecord, total int) error) error {
	g, err := c.queryGuard(ctx, endpoint)
	if err != nil {
		return err
	}
	return c.queryFrom(ctx, c.queryPath(endpoint, soql), g, fn)
}

// queryGuard returns the guard of one query's pages on endpoint, so that
// answers pointing back at a page already read, or holding more rows than
// their totalSize, end the query.
func (c *Client) queryGuard(ctx context.Context, endpoint string) (*connector.PageGuard, error) {
	base, err := c.dataURL(ctx)
	if err != nil {
		return nil, err
	}
	return connector.NewPageGuard("GET "+base+"/"+endpoint, "nextRecordsUrl"), nil
}

// queryPath is the path of soql's first page on endpoint.
func (c *Client) queryPath(endpoint, soql string) string {
	return "/services/data/v" + c.cfg.APIVersion + "/" + endpoint + "?q=" + url.QueryEscape(soql)
}

// queryFrom is queryPages from next, a first-page path or a
// nextRecordsUrl (which g has followed already).
func (c *Client) queryFrom(ctx context.Context, next string, g *connector.PageGuard, fn func(recs []rawRecord, total int) error) error {
	sc, t, err := c.simple(ctx)
	if err != nil {
		return err
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		res, err := sc.Query(next)
		if err != nil {
			return simpleErr(t, err)
		}
		last := res.Done || res.NextRecordsURL == ""
		if !last {
			if err := g.Follow(res.NextRecordsURL); err != nil {
				return err
			}
		}
		if err := g.Count(len(res.Records), res.TotalSize); err != nil {
			return err
		}
		if err := fn(queryRecords(res), res.TotalSize); err != nil {
			return err
		}
		if last {
			return nil
		}
		next = res.NextRecordsURL
	}
}

// queryRecords returns a query page's records as raw records.
func queryRecords(res *simpleforce.QueryResult) []rawRecord {
	recs := make([]rawRecord, 0, len(res.Records))
	for _, o := range res.Records {
		delete(o, "__client__") // simpleforce's back-reference, not data
		recs = append(recs, rawRecord(o))
	}
	return recs
}

// count runs a SELECT COUNT() query and returns totalSize.
func (c *Client) count(ctx context.Context, endpoint, soql string) (int, error) {
	n := -1
	err := c.queryPages(ctx, endpoint, soql, func(_ []rawRecord, total int) error {
		n = total
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// rawRecord is one decoded query record.
type rawRecord map[string]any

func (r rawRecord) str(k string) string {
	s, _ := r[k].(string)
	return s
}

// marshal encodes the record as its raw JSON (keys sorted, so REST and
// Bulk API records of equal content are byte-identical).
func (r rawRecord) marshal() (json.RawMessage, error) {
	b, err := json.Marshal(map[string]any(r))
	if err != nil {
		return nil, fmt.Errorf("encode record %s: %w", r.str("Id"), err)
	}
	return b, nil
}

// soqlString quotes s as a SOQL string literal.
func soqlString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`, "\r", `\r`, "\t", `\t`)
	return "'" + r.Replace(s) + "'"
}

// soqlName checks that s is a plain API name (object or field), so it can
// be put into a query as it is.
func soqlName(s string) error {
	if s == "" {
		return errors.New("empty name")
	}
	for i, r := range s {
		ok := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (i > 0 && (r >= '0' && r <= '9' || r == '.'))
		if !ok {
			return fmt.Errorf("%q is not a Salesforce API name", s)
		}
	}
	return nil
}
