package salesforce

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"

	"healthsync/crm"
)

// Formula fields. A custom field created through the Tooling API with a
// "formula" in its Metadata is read-only and computed whenever a record is
// read (query, Bulk query, GET), as Salesforce computes formula fields at
// read time: its value changes with TODAY() and with the fields it
// references, without bumping SystemModstamp.
//
// The emulator evaluates the part of the formula language healthsync's day
// counters need: number, date and date/time fields of the same object,
// number literals, + - * /, unary minus, parentheses, TODAY() and
// BLANKVALUE(value, substitute). A blank field makes the expression blank
// (a number field counts as 0 with formulaTreatBlanksAs BlankAsZero, the
// Metadata API's default); date - date is a number of days; date ± number
// is a date. Any other function is refused when the field is created, with
// Salesforce's error shape for an invalid formula.

// fType is the data type of a formula expression.
type fType int

const (
	ftNumber fType = iota
	ftDate
	ftDateTime
	ftText // a field of another type: usable by no operator here
)

func (t fType) String() string {
	switch t {
	case ftNumber:
		return "Number"
	case ftDate:
		return "Date"
	case ftDateTime:
		return "DateTime"
	}
	return "Text"
}

// fNode is a compiled formula expression: eval returns float64, a
// time.Time (dates at midnight UTC) or nil (blank).
type fNode struct {
	typ  fType
	eval func(r *record) any
}

// formula is a compiled formula field.
type formula struct {
	text string
	// blankAsZero is formulaTreatBlanksAs BlankAsZero: blank number fields
	// read as 0.
	blankAsZero bool
	root        fNode
	scale       int // result decimals, for number results
}

// value computes the formula on r.
func (f *formula) value(r *record) any {
	v := f.root.eval(r)
	if x, ok := v.(float64); ok {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil // Salesforce shows #Error!; the API returns null
		}
		p := math.Pow(10, float64(f.scale))
		return math.Round(x*p) / p
	}
	return v
}

// formulaError is the message of a formula Salesforce refuses, which the
// Tooling API answers as FIELD_INTEGRITY_EXCEPTION. It is not an error
// value: nothing wraps or compares it.
type formulaError struct{ msg string }

func fErrorf(format string, args ...any) *formulaError {
	return &formulaError{msg: "Error: " + fmt.Sprintf(format, args...)}
}

// salesforceFunctions are functions of Salesforce's formula language the
// emulator does not evaluate: it refuses them by name instead of calling
// them unknown.
var salesforceFunctions = map[string]bool{
	"ABS": true, "ADDMONTHS": true, "AND": true, "BEGINS": true, "CASE": true, "CEILING": true, "CONTAINS": true,
	"DATE": true, "DATETIMEVALUE": true, "DATEVALUE": true, "DAY": true, "EXP": true, "FIND": true, "FLOOR": true,
	"HOUR": true, "IF": true, "ISBLANK": true, "ISNULL": true, "ISPICKVAL": true, "LEFT": true, "LEN": true,
	"LN": true, "LOG": true, "LOWER": true, "MAX": true, "MID": true, "MIN": true, "MOD": true, "MONTH": true,
	"NOT": true, "NOW": true, "NULLVALUE": true, "OR": true, "RIGHT": true, "ROUND": true, "SQRT": true,
	"SUBSTITUTE": true, "TEXT": true, "TIMENOW": true, "TODAY": true, "TRIM": true, "UPPER": true, "VALUE": true,
	"WEEKDAY": true, "YEAR": true, "BLANKVALUE": true,
}

// compileFormula parses text against object o for a field of result type
// want; now is the org's clock (TODAY()).
func compileFormula(o *object, text string, want fType, scale int, blankAsZero bool, now func() time.Time) (*formula, *formulaError) {
	p := &fParser{o: o, src: text, now: now, blankAsZero: blankAsZero}
	if strings.TrimSpace(text) == "" {
		return nil, fErrorf("Formula is blank.")
	}
	if err := p.lex(); err != nil {
		return nil, err
	}
	root, err := p.expr()
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		if t := p.toks[p.pos]; t.kind == '?' {
			return nil, fErrorf("Syntax error. Found '%s'", t.text)
		}
		return nil, fErrorf("Syntax error. Extra %s", p.toks[p.pos].text)
	}
	if root.typ != want {
		return nil, fErrorf("Formula result is data type (%s), incompatible with expected data type (%s).", root.typ, want)
	}
	return &formula{text: text, blankAsZero: blankAsZero, root: root, scale: scale}, nil
}

type fToken struct {
	kind byte // 'n' number, 'i' identifier, or the operator/punctuation itself
	text string
	num  float64
}

type fParser struct {
	o           *object
	src         string
	toks        []fToken
	pos         int
	now         func() time.Time
	blankAsZero bool
}

func (p *fParser) lex() *formulaError {
	s := p.src
	for i := 0; i < len(s); {
		c := rune(s[i])
		switch {
		case unicode.IsSpace(c):
			i++
		case c >= '0' && c <= '9' || c == '.':
			j := i
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
				j++
			}
			n, err := strconv.ParseFloat(s[i:j], 64)
			if err != nil {
				return fErrorf("Syntax error. Found '%s'", s[i:j])
			}
			p.toks = append(p.toks, fToken{kind: 'n', text: s[i:j], num: n})
			i = j
		case c == '_' || c == '$' || unicode.IsLetter(c):
			j := i
			for j < len(s) && (s[j] == '_' || s[j] == '.' || s[j] == '$' || s[j] >= '0' && s[j] <= '9' || unicode.IsLetter(rune(s[j]))) {
				j++
			}
			p.toks = append(p.toks, fToken{kind: 'i', text: s[i:j]})
			i = j
		case strings.ContainsRune("+-*/(),", c):
			p.toks = append(p.toks, fToken{kind: byte(c), text: string(c)})
			i++
		default:
			// An operator this emulator does not take (& = < > ...): the
			// parser reports it where it stands.
			j := i + 1
			for j < len(s) && !unicode.IsSpace(rune(s[j])) && !strings.ContainsRune("()+-*/,", rune(s[j])) && !unicode.IsLetter(rune(s[j])) && !unicode.IsDigit(rune(s[j])) {
				j++
			}
			p.toks = append(p.toks, fToken{kind: '?', text: s[i:j]})
			i = j
		}
	}
	return nil
}

func (p *fParser) peek() byte {
	if p.pos < len(p.toks) {
		return p.toks[p.pos].kind
	}
	return 0
}

func (p *fParser) expr() (fNode, *formulaError) {
	left, err := p.term()
	if err != nil {
		return left, err
	}
	for k := p.peek(); k == '+' || k == '-'; k = p.peek() {
		p.pos++
		right, err := p.term()
		if err != nil {
			return right, err
		}
		if left, err = arith(k, left, right); err != nil {
			return left, err
		}
	}
	return left, nil
}

func (p *fParser) term() (fNode, *formulaError) {
	left, err := p.unary()
	if err != nil {
		return left, err
	}
	for k := p.peek(); k == '*' || k == '/'; k = p.peek() {
		p.pos++
		right, err := p.unary()
		if err != nil {
			return right, err
		}
		if left, err = arith(k, left, right); err != nil {
			return left, err
		}
	}
	return left, nil
}

func (p *fParser) unary() (fNode, *formulaError) {
	switch p.peek() {
	case '-', '+':
		op := p.toks[p.pos].kind
		p.pos++
		x, err := p.unary()
		if err != nil {
			return x, err
		}
		if x.typ != ftNumber {
			return x, fErrorf("Incorrect parameter type for operator '%c'. Expected Number, received %s", op, x.typ)
		}
		if op == '+' {
			return x, nil
		}
		return fNode{typ: ftNumber, eval: func(r *record) any {
			if v, ok := x.eval(r).(float64); ok {
				return -v
			}
			return nil
		}}, nil
	}
	return p.primary()
}

func (p *fParser) primary() (fNode, *formulaError) {
	if p.pos >= len(p.toks) {
		return fNode{}, fErrorf("Syntax error. The formula ends where a value is expected.")
	}
	t := p.toks[p.pos]
	p.pos++
	switch t.kind {
	case 'n':
		v := t.num
		return fNode{typ: ftNumber, eval: func(*record) any { return v }}, nil
	case '(':
		x, err := p.expr()
		if err != nil {
			return x, err
		}
		if p.peek() != ')' {
			return x, fErrorf("Syntax error. Missing ')'")
		}
		p.pos++
		return x, nil
	case 'i':
		if p.peek() == '(' {
			p.pos++
			return p.call(t.text)
		}
		return p.fieldRef(t.text)
	}
	return fNode{}, fErrorf("Syntax error. Found '%s'", t.text)
}

// args parses a call's arguments up to its closing parenthesis.
func (p *fParser) args() ([]fNode, *formulaError) {
	var out []fNode
	if p.peek() == ')' {
		p.pos++
		return out, nil
	}
	for {
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		out = append(out, x)
		switch p.peek() {
		case ',':
			p.pos++
		case ')':
			p.pos++
			return out, nil
		default:
			if p.pos < len(p.toks) && p.toks[p.pos].kind == '?' {
				return nil, fErrorf("Syntax error. Found '%s'", p.toks[p.pos].text)
			}
			return nil, fErrorf("Syntax error. Missing ')'")
		}
	}
}

func (p *fParser) call(name string) (fNode, *formulaError) {
	upper := strings.ToUpper(name)
	if upper != "TODAY" && upper != "BLANKVALUE" {
		if salesforceFunctions[upper] {
			return fNode{}, fErrorf("Function %s is not supported by this emulator: its formulas take TODAY() and BLANKVALUE() only.", upper)
		}
		return fNode{}, fErrorf("Unknown function %s. Check spelling.", upper)
	}
	args, err := p.args()
	if err != nil {
		return fNode{}, err
	}
	switch upper {
	case "TODAY":
		if len(args) != 0 {
			return fNode{}, fErrorf("Incorrect number of parameters for function 'TODAY()'. Expected 0, received %d", len(args))
		}
		now := p.now
		return fNode{typ: ftDate, eval: func(*record) any { return crm.Date(now()) }}, nil
	default: // BLANKVALUE
		if len(args) != 2 {
			return fNode{}, fErrorf("Incorrect number of parameters for function 'BLANKVALUE()'. Expected 2, received %d", len(args))
		}
		v, sub := args[0], args[1]
		if v.typ != sub.typ {
			return fNode{}, fErrorf("Incorrect parameter type for function 'BLANKVALUE()'. Expected %s, received %s", v.typ, sub.typ)
		}
		return fNode{typ: v.typ, eval: func(r *record) any {
			if x := v.eval(r); x != nil {
				return x
			}
			return sub.eval(r)
		}}, nil
	}
}

func (p *fParser) fieldRef(name string) (fNode, *formulaError) {
	f, i := p.o.field(name)
	if f == nil || strings.Contains(name, ".") {
		return fNode{}, fErrorf("Field %s does not exist. Check spelling.", name)
	}
	switch {
	case f.isNumber():
		percent := f.typ == tPercent
		zero := p.blankAsZero
		return fNode{typ: ftNumber, eval: func(r *record) any {
			v, ok := r.get(i).(float64)
			switch {
			case !ok && zero:
				return 0.0
			case !ok:
				return nil
			case percent:
				return v / 100 // a formula reads 50% as 0.5
			}
			return v
		}}, nil
	case f.typ == tDate || f.typ == tDateTime:
		typ := ftDate
		if f.typ == tDateTime {
			typ = ftDateTime
		}
		return fNode{typ: typ, eval: func(r *record) any {
			if v, ok := r.get(i).(time.Time); ok {
				return v
			}
			return nil
		}}, nil
	}
	return fNode{typ: ftText, eval: func(*record) any { return nil }}, nil
}

// arith combines two operands with op (+ - * /), typing the result as
// Salesforce does.
func arith(op byte, a, b fNode) (fNode, *formulaError) {
	bad := func(t fType) *formulaError {
		expected := "Number"
		if op == '+' || op == '-' {
			expected = "Number, Date, DateTime"
		}
		return fErrorf("Incorrect parameter type for operator '%c'. Expected %s, received %s", op, expected, t)
	}
	if a.typ == ftText {
		return a, bad(a.typ)
	}
	if b.typ == ftText {
		return b, bad(b.typ)
	}
	num := func(f func(x, y float64) float64) fNode {
		return fNode{typ: ftNumber, eval: func(r *record) any {
			x, ok1 := a.eval(r).(float64)
			y, ok2 := b.eval(r).(float64)
			if !ok1 || !ok2 {
				return nil
			}
			return f(x, y)
		}}
	}
	switch {
	case a.typ == ftNumber && b.typ == ftNumber:
		switch op {
		case '+':
			return num(func(x, y float64) float64 { return x + y }), nil
		case '-':
			return num(func(x, y float64) float64 { return x - y }), nil
		case '*':
			return num(func(x, y float64) float64 { return x * y }), nil
		}
		return num(func(x, y float64) float64 { return x / y }), nil // x/0 is Inf: blank
	case op == '*' || op == '/':
		if a.typ != ftNumber {
			return a, bad(a.typ)
		}
		return b, bad(b.typ)
	case a.typ == b.typ && op == '-':
		// Date - Date, DateTime - DateTime: days between them.
		return fNode{typ: ftNumber, eval: func(r *record) any {
			x, ok1 := a.eval(r).(time.Time)
			y, ok2 := b.eval(r).(time.Time)
			if !ok1 || !ok2 {
				return nil
			}
			if a.typ == ftDate {
				return float64(crm.DaysBetween(y, x))
			}
			return x.Sub(y).Hours() / 24
		}}, nil
	case a.typ != ftNumber && b.typ == ftNumber, a.typ == ftNumber && b.typ != ftNumber && op == '+':
		// Date ± days, days + Date.
		d, n, sign := a, b, 1.0
		if a.typ == ftNumber {
			d, n = b, a
		}
		if op == '-' {
			sign = -1
		}
		return fNode{typ: d.typ, eval: func(r *record) any {
			t, ok1 := d.eval(r).(time.Time)
			days, ok2 := n.eval(r).(float64)
			if !ok1 || !ok2 {
				return nil
			}
			if d.typ == ftDate {
				return t.AddDate(0, 0, int(sign*math.Trunc(days)))
			}
			return t.Add(time.Duration(sign * days * float64(24*time.Hour)))
		}}, nil
	}
	if a.typ == ftNumber {
		return a, fErrorf("Incorrect parameter type for operator '%c'. Expected Number, received %s", op, b.typ)
	}
	return b, fErrorf("Incorrect parameter type for operator '%c'. Expected %s, received %s", op, a.typ, b.typ)
}
