package mapping

import (
	"errors"
	"fmt"
	"reflect"
	"regexp/syntax"
	"strconv"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"
)

// decoder walks a yaml.Node tree into Go values by reflection, strictly:
// unknown keys, duplicate keys, wrong types, values outside an enum and
// invalid regular expressions are errors with the node's position. It
// keeps going after an error, so one run reports every problem. Values
// present in the file are merged over what the target already holds (the
// defaults): struct fields and map entries absent from the file keep
// their default, lists present in the file replace the default list.
type decoder struct {
	file   string
	errs   Errors
	pos    map[string]Pos
	failed map[string]bool // paths whose value had a decoding error
}

// Pos is a position in the mapping file.
type Pos struct {
	Line, Column int
}

var (
	patternType  = reflect.TypeFor[Pattern]()
	durationType = reflect.TypeFor[time.Duration]()
	unmarshaler  = reflect.TypeFor[yaml.Unmarshaler]()
)

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) {
	e := &Error{File: d.file, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	d.errs = append(d.errs, e)
}

func where(path string) string {
	if path == "" {
		return "at the top level"
	}
	return "in " + path
}

func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return strconv.Quote(n.Value)
	}
	return "an unsupported YAML node"
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path, enum string) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return
		}
		n = n.Content[0]
	}
	d.pos[path] = Pos{n.Line, n.Column}
	before := len(d.errs)
	defer d.markFailed(path, before)
	t := v.Type()
	switch {
	case t == patternType:
		if isNull(n) {
			v.Set(reflect.Zero(t))
			return
		}
		if n.Kind != yaml.ScalarNode {
			d.errorf(n, "%s: want a regular expression, got %s", path, describeNode(n))
			return
		}
		p, err := CompilePattern(n.Value)
		if err != nil {
			d.errorf(n, "%s: invalid regular expression %q: %s", path, n.Value, reError(err))
			return
		}
		v.Set(reflect.ValueOf(p))
		return
	case t == durationType:
		if n.Kind != yaml.ScalarNode || isNull(n) {
			d.errorf(n, "%s: want a duration like 720h or 30m, got %s", path, describeNode(n))
			return
		}
		dur, err := time.ParseDuration(n.Value)
		if err != nil {
			d.errorf(n, "%s: want a duration like 720h or 30m, got %q", path, n.Value)
			return
		}
		v.SetInt(int64(dur))
		return
	case reflect.PointerTo(t).Implements(unmarshaler) && t.Kind() != reflect.Pointer:
		if err := n.Decode(v.Addr().Interface()); err != nil {
			d.errorf(n, "%s: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
		}
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		if isNull(n) {
			v.Set(reflect.Zero(t))
			return
		}
		nv := reflect.New(t.Elem())
		if !v.IsNil() {
			nv.Elem().Set(v.Elem())
		}
		d.decode(n, nv.Elem(), path, enum)
		v.Set(nv)
	case reflect.Struct:
		if isNull(n) {
			return
		}
		d.decodeStruct(n, v, path)
	case reflect.Map:
		d.decodeMap(n, v, path)
	case reflect.Slice:
		d.decodeSlice(n, v, path)
	case reflect.String:
		if isNull(n) {
			v.SetString("")
			return
		}
		if n.Kind != yaml.ScalarNode {
			d.errorf(n, "%s: want a string, got %s", path, describeNode(n))
			return
		}
		s := n.Value
		if enum != "" {
			var ok bool
			if s, ok = d.checkEnum(n, s, path, enum); !ok {
				return
			}
		}
		v.SetString(s)
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			d.errorf(n, "%s: want true or false, got %s", path, describeNode(n))
			return
		}
		b, err := strconv.ParseBool(strings.ToLower(n.Value))
		if err != nil {
			d.errorf(n, "%s: want true or false, got %q", path, n.Value)
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var i int64
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&i) != nil || v.OverflowInt(i) {
			d.errorf(n, "%s: want a whole number, got %s", path, describeNode(n))
			return
		}
		v.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		var i uint64
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&i) != nil || v.OverflowUint(i) {
			d.errorf(n, "%s: want a whole number of at least 0, got %s", path, describeNode(n))
			return
		}
		v.SetUint(i)
	case reflect.Float32, reflect.Float64:
		var f float64
		if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") || n.Decode(&f) != nil {
			d.errorf(n, "%s: want a number, got %s", path, describeNode(n))
			return
		}
		if f != f || f > 1e300 || f < -1e300 {
			d.errorf(n, "%s: want a finite number, got %s", path, describeNode(n))
			return
		}
		v.SetFloat(f)
	case reflect.Interface:
		var x any
		if err := n.Decode(&x); err != nil {
			d.errorf(n, "%s: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
			return
		}
		if x != nil {
			v.Set(reflect.ValueOf(x))
		}
	default:
		d.errorf(n, "%s: values of Go type %s are not supported", path, t)
	}
}

func (d *decoder) checkEnum(n *yaml.Node, s, path, enum string) (string, bool) {
	options := strings.Split(enum, ",")
	for _, o := range options {
		if strings.EqualFold(o, s) {
			return o, true
		}
	}
	d.errorf(n, "%s: invalid value %q: want %s%s", path, s, orList(options), didYouMean(s, options))
	return "", false
}

func orList(options []string) string {
	switch len(options) {
	case 1:
		return options[0]
	case 2:
		return options[0] + " or " + options[1]
	}
	return strings.Join(options[:len(options)-1], ", ") + " or " + options[len(options)-1]
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s: want a mapping of keys to values, got %s", pathOrTop(path), describeNode(n))
		return
	}
	fields := structFields(v.Type())
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, "%s: keys must be plain names, got %s", pathOrTop(path), describeNode(k))
			continue
		}
		if seen[k.Value] {
			d.errorf(k, "duplicate key %q %s", k.Value, where(path))
			continue
		}
		seen[k.Value] = true
		f, ok := fields.byName[k.Value]
		if !ok {
			d.failed[join(path, k.Value)] = true
			d.errorf(k, "unknown key %q %s%s", k.Value, where(path), didYouMeanOrList(k.Value, fields.names))
			continue
		}
		d.decode(val, v.FieldByIndex(f.index), join(path, k.Value), f.enum)
	}
}

func pathOrTop(path string) string {
	if path == "" {
		return "the file"
	}
	return path
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		v.Set(reflect.Zero(v.Type()))
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s: want a mapping of keys to values, got %s", path, describeNode(n))
		return
	}
	t := v.Type()
	if t.Key().Kind() != reflect.String {
		d.errorf(n, "%s: maps keyed by %s are not supported", path, t.Key())
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(t))
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || isNull(k) || k.Value == "" {
			d.errorf(k, "%s: keys must be non-empty names, got %s", path, describeNode(k))
			continue
		}
		if seen[k.Value] {
			d.errorf(k, "duplicate key %q in %s", k.Value, path)
			continue
		}
		seen[k.Value] = true
		key := reflect.ValueOf(k.Value).Convert(t.Key())
		elem := reflect.New(t.Elem()).Elem()
		if old := v.MapIndex(key); old.IsValid() {
			elem.Set(old)
		}
		p := join(path, k.Value)
		d.pos["key:"+p] = Pos{k.Line, k.Column}
		d.decode(val, elem, p, "")
		v.SetMapIndex(key, elem)
	}
}

func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		v.Set(reflect.Zero(v.Type()))
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "%s: want a list, got %s", path, describeNode(n))
		return
	}
	out := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		d.decode(item, out.Index(i), fmt.Sprintf("%s[%d]", path, i), "")
	}
	v.Set(out)
}

// reError shortens regexp's error text to its reason.
func reError(err error) string {
	var e *syntax.Error
	if errors.As(err, &e) {
		return fmt.Sprintf("%s in %q", e.Code, e.Expr)
	}
	return err.Error()
}

// fieldInfo is one key of a struct in the file.
type fieldInfo struct {
	name     string
	index    []int
	enum     string
	doc      string
	kind     string
	required bool
}

type structInfo struct {
	list   []fieldInfo
	byName map[string]fieldInfo
	names  []string
}

var structCache struct{ m sync.Map }

// structFields lists the yaml keys of t, following inline embedded
// structs, in declaration order.
func structFields(t reflect.Type) *structInfo {
	if si, ok := structCache.m.Load(t); ok {
		return si.(*structInfo)
	}
	si := &structInfo{byName: map[string]fieldInfo{}}
	var walk func(t reflect.Type, index []int)
	walk = func(t reflect.Type, index []int) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := f.Tag.Get("yaml")
			if tag == "-" || (!f.IsExported() && !f.Anonymous) {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			idx := append(append([]int(nil), index...), i)
			if strings.Contains(opts, "inline") && f.Type.Kind() == reflect.Struct {
				walk(f.Type, idx)
				continue
			}
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			fi := fieldInfo{
				name:     name,
				index:    idx,
				enum:     f.Tag.Get("enum"),
				doc:      f.Tag.Get("doc"),
				kind:     f.Tag.Get("kind"),
				required: f.Tag.Get("required") == "true",
			}
			si.list = append(si.list, fi)
			si.byName[name] = fi
			si.names = append(si.names, name)
		}
	}
	walk(t, nil)
	actual, _ := structCache.m.LoadOrStore(t, si)
	return actual.(*structInfo)
}

// didYouMean suggests the closest of options to s, formatted as
// ` (did you mean "x"?)`, or "" when none is close.
func didYouMean(s string, options []string) string {
	best, bestDist := "", -1
	ls := strings.ToLower(s)
	for _, o := range options {
		d := levenshtein(ls, strings.ToLower(o))
		if bestDist < 0 || d < bestDist {
			best, bestDist = o, d
		}
	}
	limit := max(2, len(s)/3)
	if best == "" || bestDist > limit || best == s {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// didYouMeanOrList is didYouMean, or when nothing is close, the list of
// what is allowed, so a name no typo explains still gets a fix.
func didYouMeanOrList(s string, options []string) string {
	if h := didYouMean(s, options); h != "" || len(options) == 0 {
		return h
	}
	return ": want one of " + strings.Join(options, ", ")
}

// levenshtein is the optimal-string-alignment distance: insertions,
// deletions, substitutions and adjacent transpositions each cost one.
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		return max(len(ra), len(rb))
	}
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// markFailed records path as failed when decoding it added errors that no
// deeper path accounts for, so later checks do not pile onto them.
func (d *decoder) markFailed(path string, before int) {
	if len(d.errs) == before {
		return
	}
	for p := range d.failed {
		if strings.HasPrefix(p, path+".") || strings.HasPrefix(p, path+"[") || (path == "" && p != "") {
			return
		}
	}
	d.failed[path] = true
}
