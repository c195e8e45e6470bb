package salesforce

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

type tokKind int

const (
	tokEOF tokKind = iota
	tokIdent
	tokString
	tokNumber
	tokDate
	tokDateTime
	tokDateLiteral // TODAY, LAST_N_DAYS:n, ...
	tokOp          // = != <> < <= > >=
	tokLParen
	tokRParen
	tokComma
)

type token struct {
	kind tokKind
	text string // as written (identifiers, operators, literals)
	str  string // unescaped string value
	num  float64
	t    time.Time
	n    int // the n of LAST_N_DAYS:n
	pos  int // byte offset in the query
}

// soqlError is a query the parser rejects; code is MALFORMED_QUERY,
// INVALID_FIELD or INVALID_TYPE.
type soqlError struct {
	code string
	pos  int
	msg  string
}

func (e *soqlError) Error() string { return e.code + ": " + e.msg }

// message renders the error the way Salesforce does: the query line, a
// caret under the position, and "ERROR at Row:r:Column:c".
func (e *soqlError) message(q string) string {
	pos := min(max(e.pos, 0), len(q))
	row, col, lineStart := 1, 1, 0
	for i := 0; i < pos; i++ {
		if q[i] == '\n' {
			row++
			col = 1
			lineStart = i + 1
		} else {
			col++
		}
	}
	lineEnd := strings.IndexByte(q[lineStart:], '\n')
	line := q[lineStart:]
	if lineEnd >= 0 {
		line = q[lineStart : lineStart+lineEnd]
	}
	return fmt.Sprintf("\n%s\n%s^\nERROR at Row:%d:Column:%d\n%s", line, strings.Repeat(" ", col-1), row, col, e.msg)
}

func malformed(pos int, format string, args ...any) *soqlError {
	return &soqlError{code: "MALFORMED_QUERY", pos: pos, msg: fmt.Sprintf(format, args...)}
}

// dateLiterals are the relative date literals the emulator knows; the
// value says whether the literal takes ":n".
var dateLiterals = map[string]bool{
	"YESTERDAY": false, "TODAY": false, "TOMORROW": false,
	"LAST_WEEK": false, "THIS_WEEK": false, "NEXT_WEEK": false,
	"LAST_MONTH": false, "THIS_MONTH": false, "NEXT_MONTH": false,
	"LAST_90_DAYS": false, "NEXT_90_DAYS": false,
	"THIS_YEAR": false, "LAST_YEAR": false, "NEXT_YEAR": false,
	"LAST_N_DAYS": true, "NEXT_N_DAYS": true, "N_DAYS_AGO": true,
	"LAST_N_WEEKS": true, "NEXT_N_WEEKS": true, "LAST_N_MONTHS": true, "NEXT_N_MONTHS": true,
	"LAST_N_YEARS": true, "NEXT_N_YEARS": true,
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentChar(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') || c == '.' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// lex splits a SOQL statement into tokens.
func lex(q string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(q) {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			toks = append(toks, token{kind: tokLParen, text: "(", pos: i})
			i++
		case c == ')':
			toks = append(toks, token{kind: tokRParen, text: ")", pos: i})
			i++
		case c == ',':
			toks = append(toks, token{kind: tokComma, text: ",", pos: i})
			i++
		case c == '=':
			toks = append(toks, token{kind: tokOp, text: "=", pos: i})
			i++
		case c == '!' || c == '<' || c == '>':
			start := i
			i++
			if i < len(q) && (q[i] == '=' || (c == '<' && q[i] == '>')) {
				i++
			}
			op := q[start:i]
			if op == "!" {
				return nil, malformed(start, "unexpected token: '!'")
			}
			if op == "<>" {
				op = "!="
			}
			toks = append(toks, token{kind: tokOp, text: op, pos: start})
		case c == '\'':
			t, n, err := lexString(q, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, t)
			i = n
		case isDigit(c) || ((c == '-' || c == '+') && i+1 < len(q) && isDigit(q[i+1])):
			t, n, err := lexNumberOrDate(q, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, t)
			i = n
		case isIdentStart(c):
			start := i
			for i < len(q) && isIdentChar(q[i]) {
				i++
			}
			word := q[start:i]
			up := strings.ToUpper(word)
			if takesN, ok := dateLiterals[up]; ok {
				t := token{kind: tokDateLiteral, text: up, pos: start}
				if takesN {
					if i >= len(q) || q[i] != ':' {
						return nil, malformed(i, "unexpected token: '%s'", word)
					}
					j := i + 1
					for j < len(q) && isDigit(q[j]) {
						j++
					}
					if j == i+1 {
						return nil, malformed(i+1, "unexpected token: ':'")
					}
					n, err := strconv.Atoi(q[i+1 : j])
					if err != nil || n > 100000 {
						return nil, malformed(i+1, "invalid number of days: %s", q[i+1:j])
					}
					t.n, t.text = n, q[start:j]
					i = j
				}
				toks = append(toks, t)
				continue
			}
			toks = append(toks, token{kind: tokIdent, text: word, pos: start})
		case c == ':':
			return nil, malformed(i, "unexpected token: ':' (bind variables are available only in Apex)")
		default:
			return nil, malformed(i, "unexpected token: '%c'", c)
		}
	}
	toks = append(toks, token{kind: tokEOF, text: "<EOF>", pos: len(q)})
	return toks, nil
}

func lexString(q string, start int) (token, int, error) {
	var b strings.Builder
	i := start + 1
	for i < len(q) {
		c := q[i]
		switch c {
		case '\'':
			return token{kind: tokString, text: q[start : i+1], str: b.String(), pos: start}, i + 1, nil
		case '\\':
			if i+1 >= len(q) {
				return token{}, 0, malformed(i, "invalid escape sequence at end of string")
			}
			e := q[i+1]
			switch e {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case '\'', '"', '\\':
				b.WriteByte(e)
			case '_', '%':
				// kept escaped so LIKE sees a literal wildcard character
				b.WriteByte('\\')
				b.WriteByte(e)
			default:
				return token{}, 0, malformed(i, "Invalid string literal '%s'. Illegal character sequence '\\%c' in string literal.", q[start:min(len(q), i+2)], e)
			}
			i += 2
		default:
			b.WriteByte(c)
			i++
		}
	}
	return token{}, 0, malformed(start, "unexpected token: '%s' (string literal not terminated)", q[start:])
}

func lexNumberOrDate(q string, start int) (token, int, error) {
	i := start
	// A date starts with four digits and a dash.
	if start+10 <= len(q) && isDigit(q[start]) && q[start+4] == '-' && isDigit(q[start+1]) && isDigit(q[start+2]) && isDigit(q[start+3]) {
		j := start + 10
		if j < len(q) && (q[j] == 'T' || q[j] == 't') {
			j++
			for j < len(q) && (isDigit(q[j]) || strings.IndexByte(":.+-Zz", q[j]) >= 0) {
				j++
			}
			text := q[start:j]
			for _, layout := range []string{"2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05.999999999Z07:00", "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05.999999999Z0700"} {
				if t, err := time.Parse(layout, strings.ToUpper(text)); err == nil {
					return token{kind: tokDateTime, text: text, t: t.UTC(), pos: start}, j, nil
				}
			}
			return token{}, 0, malformed(start, "line 1:%d no viable alternative at character ' ' (invalid datetime literal %s: use 2024-01-31T00:00:00Z)", start, text)
		}
		text := q[start : start+10]
		t, err := time.Parse("2006-01-02", text)
		if err != nil {
			return token{}, 0, malformed(start, "invalid date literal %s: use YYYY-MM-DD", text)
		}
		return token{kind: tokDate, text: text, t: t, pos: start}, start + 10, nil
	}
	if q[i] == '-' || q[i] == '+' {
		i++
	}
	for i < len(q) && isDigit(q[i]) {
		i++
	}
	if i < len(q) && q[i] == '.' {
		i++
		for i < len(q) && isDigit(q[i]) {
			i++
		}
	}
	text := q[start:i]
	n, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return token{}, 0, malformed(start, "unexpected token: '%s'", text)
	}
	if i < len(q) && isIdentStart(q[i]) {
		return token{}, 0, malformed(i, "unexpected token: '%s'", q[start:min(len(q), i+1)])
	}
	return token{kind: tokNumber, text: text, num: n, pos: start}, i, nil
}
