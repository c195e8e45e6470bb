package mapping

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"healthsync/crm"
	"healthsync/internal/inputfile"
)

// Options tune Load and Parse.
type Options struct {
	// System is the CRM to use when the file does not set crm.system (the
	// HEALTHSYNC_CRM setting). When both are set they must agree.
	System crm.System
	// Clock decides "now" for rules that need it (a meeting whose start
	// time has passed counts as held). Default crm.SystemClock.
	Clock crm.Clock
}

// maxFileSize bounds the mapping file; a real one is a few kilobytes.
const maxFileSize = 1 << 20

// Load reads and parses the mapping file at path. Every problem in the
// file is reported at once, as an Errors value whose lines read
// "path:line:column: message".
//
// The path must name a regular file under 1 MiB: a FIFO, a device or a
// directory is refused before it is opened, and a larger file before it
// is read, each as an Errors value naming the file.
func Load(path string, opts Options) (*Mapping, error) {
	data, err := inputfile.Read(path, inputfile.Rules{What: "mapping file", Max: maxFileSize})
	var refused *inputfile.Error
	switch {
	case errors.As(err, &refused):
		return nil, Errors{{File: path, Msg: refused.Problem}}
	case err != nil:
		return nil, fmt.Errorf("read mapping file: %w", err)
	}
	return Parse(path, data, opts)
}

// Parse parses a mapping file held in memory; name is used in error
// messages (normally the file's path). Empty data gives the defaults.
func Parse(name string, data []byte, opts Options) (*Mapping, error) {
	if len(data) > maxFileSize {
		return nil, Errors{{File: name, Msg: fmt.Sprintf("file is %d bytes; a mapping file must be under %d bytes (1 MiB): is this the right file?", len(data), maxFileSize)}}
	}
	if i := notText(data); i >= 0 {
		return nil, Errors{{File: name, Line: 1 + bytes.Count(data[:i], []byte("\n")), Column: i - bytes.LastIndexByte(data[:i], '\n'),
			Msg: fmt.Sprintf("not a text file (byte %d is 0x%02x): a mapping file is YAML saved as UTF-8", i, data[i])}}
	}
	root, err := parseOneDocument(name, data)
	if err != nil {
		return nil, err
	}
	if errs := checkTags(name, &root); len(errs) > 0 {
		return nil, errs
	}
	if doc := root.Content; root.Kind == yaml.DocumentNode && len(doc) == 1 && doc[0].Kind != yaml.MappingNode && !isNull(doc[0]) {
		// Before choosing the CRM: "no CRM chosen" would miss the point.
		return nil, Errors{{File: name, Line: doc[0].Line, Column: doc[0].Column,
			Msg: fmt.Sprintf("the file: want a mapping of sections (crm:, fields:, outputs:, …), got %s", describeNode(doc[0]))}}
	}
	sys, err := chooseSystem(name, &root, opts.System)
	if err != nil {
		return nil, err
	}
	d := &decoder{file: name, pos: map[string]Pos{}, failed: map[string]bool{}}
	f := Default(sys)
	if root.Kind != 0 {
		d.decode(&root, reflect.ValueOf(&f).Elem(), "", "")
	}
	checkFile(d, &f, sys)
	if len(d.errs) > 0 {
		d.errs.sort()
		return nil, d.errs
	}
	m, err := compile(name, f, sys, d.pos, opts.Clock)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// parseOneDocument parses data as one YAML document. A second document
// (after a "---" line) would be ignored by a plain parse, and whatever
// RevOps wrote there silently lost: it is an error at that line. A
// trailing "---" followed by nothing is harmless and allowed.
func parseOneDocument(name string, data []byte) (yaml.Node, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	switch err := dec.Decode(&root); {
	case errors.Is(err, io.EOF):
		return yaml.Node{}, nil // empty file: the defaults
	case err != nil:
		return root, Errors{yamlSyntaxError(name, err)}
	}
	for {
		var next yaml.Node
		err := dec.Decode(&next)
		switch {
		case errors.Is(err, io.EOF):
			return root, nil
		case err != nil:
			return root, Errors{yamlSyntaxError(name, err)}
		}
		if len(next.Content) == 1 && isNull(next.Content[0]) {
			continue // "---" with nothing (or only comments) after it
		}
		return root, Errors{{File: name, Line: next.Line,
			Msg: "a second YAML document starts here (after ---), and healthsync reads only one: remove this --- line and merge what follows into the sections above it"}}
	}
}

// coreTags are the tags a mapping file may spell out: YAML's own scalar
// and collection types, which the decoder checks against each setting.
var coreTags = map[string]bool{"!!str": true, "!!int": true, "!!float": true, "!!bool": true, "!!null": true,
	"!!map": true, "!!seq": true, "!!timestamp": true, "!!merge": true}

// checkTags refuses explicit tags that would change what a value means
// without the decoder noticing: !!binary (base64 read as its own text)
// and application tags such as !env or !include, which healthsync does
// not expand.
func checkTags(name string, root *yaml.Node) Errors {
	var errs Errors
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		if n == nil {
			return
		}
		if n.Style&yaml.TaggedStyle != 0 && !coreTags[n.Tag] {
			what := path
			if what == "" {
				what = "the file"
			}
			msg := fmt.Sprintf("%s: the tag %s is not read by healthsync (it does not expand tags): write the value itself, as plain text", what, n.Tag)
			if n.Tag == "!!binary" {
				msg = fmt.Sprintf("%s: a !!binary value would be read as its base64 text, not decoded: write the value itself, as plain text, without !!binary", what)
			}
			errs = append(errs, &Error{File: name, Line: n.Line, Column: n.Column, Msg: msg})
		}
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := k.Value
				if path != "" {
					p = path + "." + k.Value
				}
				walk(k, p)
				walk(v, p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, fmt.Sprintf("%s[%d]", path, i))
			}
		}
	}
	walk(root, "")
	return errs
}

// New returns the mapping of an empty file for sys: the built-in defaults.
func New(sys crm.System, clock crm.Clock) (*Mapping, error) {
	return Parse("(defaults)", nil, Options{System: sys, Clock: clock})
}

// notText returns the offset of the first byte that cannot be in a UTF-8
// text file (invalid UTF-8 or a NUL), or -1.
func notText(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == 0 || (r == utf8.RuneError && n == 1) {
			return i
		}
		i += n
	}
	return -1
}

// yamlParserError reports whether a yaml.v3 problem comes from its parser,
// whose "line N" is 0-based (its scanner's is 1-based).
func yamlParserError(problem string) bool {
	for _, p := range []string{"did not find expected ", "found duplicate %", "found incompatible YAML document", "found undefined tag handle"} {
		if strings.HasPrefix(problem, p) {
			return true
		}
	}
	return false
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func yamlSyntaxError(name string, err error) *Error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		if yamlParserError(m[2]) {
			line++
		}
		return &Error{File: name, Line: line, Msg: "invalid YAML: " + m[2]}
	}
	return &Error{File: name, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

// chooseSystem finds crm.system in the file without decoding the rest,
// because the defaults the file is merged over depend on it.
func chooseSystem(name string, root *yaml.Node, fallback crm.System) (crm.System, error) {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	var fromFile *yaml.Node
	if crmNode := mappingValue(n, "crm"); crmNode != nil {
		if s := mappingValue(crmNode, "system"); s != nil && s.Kind == yaml.ScalarNode && s.Tag != "!!null" {
			fromFile = s
		}
	}
	if fromFile == nil {
		if fallback == "" {
			return "", Errors{{File: name, Msg: ErrNoSystem.Error()}}
		}
		return fallback, nil
	}
	sys, err := crm.ParseSystem(fromFile.Value)
	if err != nil {
		return "", Errors{{File: name, Line: fromFile.Line, Column: fromFile.Column,
			Msg: fmt.Sprintf("crm.system: invalid value %q: want salesforce or hubspot%s", fromFile.Value,
				didYouMean(fromFile.Value, []string{"salesforce", "hubspot"}))}}
	}
	if fallback != "" && sys != fallback {
		return "", Errors{{File: name, Line: fromFile.Line, Column: fromFile.Column,
			Msg: fmt.Sprintf("crm.system is %s but the configured CRM (HEALTHSYNC_CRM) is %s: make them agree", sys, fallback)}}
	}
	return sys, nil
}

func mappingValue(n *yaml.Node, key string) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			v := n.Content[i+1]
			for v.Kind == yaml.AliasNode && v.Alias != nil {
				v = v.Alias
			}
			return v
		}
	}
	return nil
}

// errAt adds a semantic error at the position of a path in the file, or
// of its closest parent that the file holds, or without position when the
// value is a default.
func (d *decoder) errAt(path string, format string, args ...any) {
	if d.related(path) {
		return // the value already had a decoding error; do not pile on
	}
	e := &Error{File: d.file, Msg: fmt.Sprintf(format, args...)}
	for p := path; ; {
		if pos, ok := d.pos[p]; ok {
			e.Line, e.Column = pos.Line, pos.Column
			break
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	d.errs = append(d.errs, e)
}

// errAtKey is errAt for problems with a map key rather than its value.
func (d *decoder) errAtKey(path string, format string, args ...any) {
	if pos, ok := d.pos["key:"+path]; ok {
		d.errs = append(d.errs, &Error{File: d.file, Line: pos.Line, Column: pos.Column, Msg: fmt.Sprintf(format, args...)})
		return
	}
	d.errAt(path, format, args...)
}

// related reports whether path, one of its parents or one of its children
// already failed to decode.
func (d *decoder) related(path string) bool {
	for p := range d.failed {
		if p == path || strings.HasPrefix(p, path+".") || strings.HasPrefix(p, path+"[") ||
			strings.HasPrefix(path, p+".") || strings.HasPrefix(path, p+"[") {
			return true
		}
	}
	return false
}
