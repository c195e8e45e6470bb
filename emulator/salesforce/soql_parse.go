package salesforce

import (
	"strings"
)

// Parsed SOQL, before it is checked against the schema.
type (
	selectItem struct {
		path  string // field path as written ("Account.Name"); "" for COUNT()
		count bool   // COUNT() or COUNT(path)
		alias string
		pos   int
	}
	orderItem struct {
		path      string
		pos       int
		desc      bool
		nullsLast bool
	}
	soqlQuery struct {
		selects []selectItem
		from    string
		fromPos int
		where   expr
		order   []orderItem
		limit   int // -1 when absent
		offset  int // -1 when absent
	}
	expr interface{ isExpr() }

	andExpr struct{ xs []expr }
	orExpr  struct{ xs []expr }
	notExpr struct{ x expr }
	cmpExpr struct {
		path string
		pos  int
		op   string // = != < <= > >= LIKE IN NOTIN INCLUDES EXCLUDES
		val  token
		vals []token
	}
)

func (andExpr) isExpr() {}
func (orExpr) isExpr()  {}
func (notExpr) isExpr() {}
func (cmpExpr) isExpr() {}

type parser struct {
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *parser) isKeyword(words ...string) bool {
	t := p.peek()
	if t.kind != tokIdent {
		return false
	}
	for _, w := range words {
		if strings.EqualFold(t.text, w) {
			return true
		}
	}
	return false
}

func (p *parser) unexpected() *soqlError {
	t := p.peek()
	if t.kind == tokEOF {
		return malformed(t.pos, "unexpected token: <EOF>")
	}
	return malformed(t.pos, "unexpected token: '%s'", t.text)
}

func unexpectedTok(t token) *soqlError {
	if t.kind == tokEOF {
		return malformed(t.pos, "unexpected token: <EOF>")
	}
	return malformed(t.pos, "unexpected token: '%s'", t.text)
}

func (p *parser) expectKeyword(w string) error {
	if !p.isKeyword(w) {
		return p.unexpected()
	}
	p.next()
	return nil
}

var reserved = map[string]bool{
	"SELECT": true, "FROM": true, "WHERE": true, "AND": true, "OR": true, "NOT": true, "IN": true, "LIKE": true,
	"ORDER": true, "BY": true, "LIMIT": true, "OFFSET": true, "ASC": true, "DESC": true, "NULLS": true,
	"FIRST": true, "LAST": true, "NULL": true, "TRUE": true, "FALSE": true, "GROUP": true, "HAVING": true,
	"INCLUDES": true, "EXCLUDES": true, "WITH": true, "FOR": true, "USING": true, "TYPEOF": true,
}

// parseSOQL parses one SOQL statement.
func parseSOQL(q string) (*soqlQuery, error) {
	toks, err := lex(q)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	out := &soqlQuery{limit: -1, offset: -1}
	if err := p.expectKeyword("SELECT"); err != nil {
		return nil, err
	}
	for {
		item, err := p.selectItem()
		if err != nil {
			return nil, err
		}
		out.selects = append(out.selects, item)
		if p.peek().kind != tokComma {
			break
		}
		p.next()
	}
	if err := p.expectKeyword("FROM"); err != nil {
		return nil, err
	}
	t := p.next()
	if t.kind != tokIdent || reserved[strings.ToUpper(t.text)] || strings.Contains(t.text, ".") {
		return nil, unexpectedTok(t)
	}
	out.from, out.fromPos = t.text, t.pos
	if p.isKeyword("WHERE") {
		p.next()
		if out.where, err = p.orExpr(); err != nil {
			return nil, err
		}
	}
	if p.isKeyword("GROUP", "HAVING", "WITH", "FOR", "USING") {
		return nil, malformed(p.peek().pos, "unexpected token: '%s' (not supported by this emulator)", p.peek().text)
	}
	if p.isKeyword("ORDER") {
		p.next()
		if err := p.expectKeyword("BY"); err != nil {
			return nil, err
		}
		for {
			ft := p.next()
			if ft.kind != tokIdent || reserved[strings.ToUpper(ft.text)] {
				return nil, unexpectedTok(t)
			}
			item := orderItem{path: ft.text, pos: ft.pos}
			if p.isKeyword("ASC") {
				p.next()
			} else if p.isKeyword("DESC") {
				p.next()
				item.desc = true
			}
			item.nullsLast = item.desc
			if p.isKeyword("NULLS") {
				p.next()
				switch {
				case p.isKeyword("FIRST"):
					item.nullsLast = false
				case p.isKeyword("LAST"):
					item.nullsLast = true
				default:
					return nil, p.unexpected()
				}
				p.next()
			}
			out.order = append(out.order, item)
			if p.peek().kind != tokComma {
				break
			}
			p.next()
		}
	}
	if p.isKeyword("LIMIT") {
		p.next()
		if out.limit, err = p.count(); err != nil {
			return nil, err
		}
	}
	if p.isKeyword("OFFSET") {
		p.next()
		if out.offset, err = p.count(); err != nil {
			return nil, err
		}
		if out.offset > 2000 {
			return nil, &soqlError{code: "NUMBER_OUTSIDE_VALID_RANGE", pos: p.toks[p.i-1].pos, msg: "Maximum SOQL offset allowed is 2000"}
		}
	}
	if p.peek().kind != tokEOF {
		return nil, p.unexpected()
	}
	return out, nil
}

func (p *parser) count() (int, error) {
	t := p.next()
	if t.kind != tokNumber || t.num < 0 || t.num != float64(int(t.num)) || t.num > 1e9 {
		return 0, unexpectedTok(t)
	}
	return int(t.num), nil
}

func (p *parser) selectItem() (selectItem, error) {
	t := p.next()
	if t.kind != tokIdent || reserved[strings.ToUpper(t.text)] {
		if t.kind == tokLParen {
			return selectItem{}, malformed(t.pos, "unexpected token: '(' (relationship subqueries are not supported by this emulator)")
		}
		return selectItem{}, unexpectedTok(t)
	}
	if strings.EqualFold(t.text, "COUNT") && p.peek().kind == tokLParen {
		p.next()
		item := selectItem{count: true, pos: t.pos}
		if a := p.peek(); a.kind == tokIdent {
			p.next()
			item.path = a.text
		}
		if p.peek().kind != tokRParen {
			return selectItem{}, p.unexpected()
		}
		p.next()
		if a := p.peek(); a.kind == tokIdent && !reserved[strings.ToUpper(a.text)] && item.path != "" {
			p.next()
			item.alias = a.text
		}
		return item, nil
	}
	if p.peek().kind == tokLParen {
		return selectItem{}, malformed(t.pos, "unexpected token: '%s' (only COUNT() is supported by this emulator)", t.text)
	}
	return selectItem{path: t.text, pos: t.pos}, nil
}

// orExpr parses a condition. SOQL does not let AND and OR mix at one level
// without parentheses, so neither does this parser.
func (p *parser) orExpr() (expr, error) {
	first, err := p.notExpr()
	if err != nil {
		return nil, err
	}
	xs := []expr{first}
	var op string
	for p.isKeyword("AND", "OR") {
		t := p.peek()
		w := strings.ToUpper(t.text)
		if op != "" && op != w {
			return nil, malformed(t.pos, "unexpected token: '%s' (use parentheses to mix AND and OR)", t.text)
		}
		op = w
		p.next()
		x, err := p.notExpr()
		if err != nil {
			return nil, err
		}
		xs = append(xs, x)
	}
	switch op {
	case "AND":
		return andExpr{xs}, nil
	case "OR":
		return orExpr{xs}, nil
	}
	return first, nil
}

func (p *parser) notExpr() (expr, error) {
	if p.isKeyword("NOT") {
		p.next()
		x, err := p.notExpr()
		if err != nil {
			return nil, err
		}
		return notExpr{x}, nil
	}
	if p.peek().kind == tokLParen {
		p.next()
		x, err := p.orExpr()
		if err != nil {
			return nil, err
		}
		if p.peek().kind != tokRParen {
			return nil, p.unexpected()
		}
		p.next()
		return x, nil
	}
	return p.comparison()
}

func (p *parser) comparison() (expr, error) {
	ft := p.next()
	if ft.kind != tokIdent || reserved[strings.ToUpper(ft.text)] {
		return nil, unexpectedTok(ft)
	}
	c := cmpExpr{path: ft.text, pos: ft.pos}
	switch {
	case p.peek().kind == tokOp:
		c.op = p.next().text
	case p.isKeyword("LIKE"):
		p.next()
		c.op = "LIKE"
	case p.isKeyword("IN"), p.isKeyword("INCLUDES"), p.isKeyword("EXCLUDES"):
		c.op = strings.ToUpper(p.next().text)
	case p.isKeyword("NOT"):
		p.next()
		if !p.isKeyword("IN") {
			return nil, p.unexpected()
		}
		p.next()
		c.op = "NOTIN"
	default:
		return nil, p.unexpected()
	}
	if c.op == "IN" || c.op == "NOTIN" || c.op == "INCLUDES" || c.op == "EXCLUDES" {
		if p.peek().kind != tokLParen {
			return nil, p.unexpected()
		}
		p.next()
		if p.isKeyword("SELECT") {
			return nil, malformed(p.peek().pos, "unexpected token: 'SELECT' (semi-join subqueries are not supported by this emulator)")
		}
		for {
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			c.vals = append(c.vals, v)
			if p.peek().kind == tokComma {
				p.next()
				continue
			}
			break
		}
		if p.peek().kind != tokRParen {
			return nil, p.unexpected()
		}
		p.next()
		return c, nil
	}
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	c.val = v
	return c, nil
}

func (p *parser) value() (token, error) {
	t := p.next()
	switch t.kind {
	case tokString, tokNumber, tokDate, tokDateTime, tokDateLiteral:
		return t, nil
	case tokIdent:
		switch strings.ToUpper(t.text) {
		case "NULL", "TRUE", "FALSE":
			return t, nil
		}
	}
	return token{}, unexpectedTok(t)
}
