package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

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

// jsonFloat formats f as encoding/json does.
func jsonFloat(f float64) string {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b := strconv.AppendFloat(nil, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return string(b)
}

// jsonString is s as it reads back after json.Marshal: every byte of an
// invalid UTF-8 sequence becomes U+FFFD.
func jsonString(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// encode returns the record's raw JSON, byte for byte what marshal
// writes, and what encoding/json's Decoder with UseNumber makes of it
// (numbers as json.Number, invalid UTF-8 as U+FFFD), in one pass over the record
// instead of json.Marshal's reflection and a deep copy after it (at
// 268,000 records a full sync spent 1.6 s of CPU in json.Marshal alone).
// A value the pass does not know (a type other than the ones decoded JSON
// and Bulk CSV rows hold, NaN, a key that only differs from another by
// invalid UTF-8) sends the record through marshal, with nil fields: the
// mapping then decodes raw.
func (r rawRecord) encode() (json.RawMessage, map[string]any, error) {
	var e rawEncoder
	e.buf = make([]byte, 0, 64*len(r))
	if v, ok := e.value(map[string]any(r)); ok {
		return e.buf, v.(map[string]any), nil
	}
	raw, err := r.marshal()
	return raw, nil, err
}

// rawEncoder appends JSON as encoding/json's Marshal writes it (HTML
// characters escaped, map keys sorted, invalid UTF-8 as U+FFFD) and
// returns what decoding it with UseNumber gives.
type rawEncoder struct {
	buf []byte
}

func (e *rawEncoder) value(v any) (any, bool) {
	switch x := v.(type) {
	case nil:
		e.buf = append(e.buf, "null"...)
		return nil, true
	case bool:
		e.buf = strconv.AppendBool(e.buf, x)
		return x, true
	case string:
		return e.string(x), true
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, false
		}
		n := jsonFloat(x)
		e.buf = append(e.buf, n...)
		return json.Number(n), true
	case json.Number:
		b, err := json.Marshal(x) // it checks the number's syntax
		if err != nil {
			return nil, false
		}
		e.buf = append(e.buf, b...)
		return x, true
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		out := make(map[string]any, len(x))
		e.buf = append(e.buf, '{')
		for i, k := range keys {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			dk := e.string(k)
			if _, dup := out[dk]; dup {
				return nil, false
			}
			e.buf = append(e.buf, ':')
			ev, ok := e.value(x[k])
			if !ok {
				return nil, false
			}
			out[dk] = ev
		}
		e.buf = append(e.buf, '}')
		return out, true
	case []any:
		out := make([]any, len(x))
		e.buf = append(e.buf, '[')
		for i, el := range x {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			ev, ok := e.value(el)
			if !ok {
				return nil, false
			}
			out[i] = ev
		}
		e.buf = append(e.buf, ']')
		return out, true
	}
	return nil, false
}

// string appends s quoted and returns it as it decodes back. Printable
// ASCII other than the characters json.Marshal escapes is written as it
// is; anything else is left to json.Marshal, so the bytes stay its own.
func (e *rawEncoder) string(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s) // a string always encodes
			e.buf = append(e.buf, b...)
			return jsonString(s)
		}
	}
	e.buf = append(e.buf, '"')
	e.buf = append(e.buf, s...)
	e.buf = append(e.buf, '"')
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
