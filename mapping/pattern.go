package mapping

import (
	"encoding/json"
	"regexp"
)

// Pattern is a compiled regular expression (RE2 syntax) from the mapping
// file. The zero Pattern matches nothing.
type Pattern struct {
	src string
	re  *regexp.Regexp
}

// CompilePattern compiles src; an empty src gives the zero Pattern.
func CompilePattern(src string) (Pattern, error) {
	if src == "" {
		return Pattern{}, nil
	}
	re, err := regexp.Compile(src)
	if err != nil {
		return Pattern{}, err
	}
	return Pattern{src: src, re: re}, nil
}

// MustPattern is CompilePattern for built-in patterns; it panics on a bad
// one, which is a programming error caught by the package's tests.
func MustPattern(src string) Pattern {
	p, err := CompilePattern(src)
	if err != nil {
		panic(err)
	}
	return p
}

// String returns the source text.
func (p Pattern) String() string { return p.src }

// IsZero reports whether the pattern is empty.
func (p Pattern) IsZero() bool { return p.re == nil }

// MatchString reports whether s contains a match. The zero Pattern
// matches nothing.
func (p Pattern) MatchString(s string) bool { return p.re != nil && p.re.MatchString(s) }

// MarshalJSON encodes the source text (used for the mapping's hash).
func (p Pattern) MarshalJSON() ([]byte, error) { return json.Marshal(p.src) }
