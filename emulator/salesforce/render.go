package salesforce

import (
	"strconv"
	"time"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, escaping as encoding/json
// does (without HTML escaping).
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendValue appends a field value the way the REST API renders it.
func appendValue(b []byte, f *field, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return appendJSONString(b, x)
	case bool:
		return strconv.AppendBool(b, x)
	case float64:
		if f != nil && f.typ == tInt {
			return strconv.AppendInt(b, int64(x), 10)
		}
		if x == float64(int64(x)) && x < 1e15 && x > -1e15 {
			b = strconv.AppendInt(b, int64(x), 10)
			return append(b, '.', '0')
		}
		return strconv.AppendFloat(b, x, 'f', -1, 64)
	case time.Time:
		b = append(b, '"')
		if f != nil && f.typ == tDate {
			b = x.UTC().AppendFormat(b, "2006-01-02")
		} else {
			b = x.UTC().AppendFormat(b, "2006-01-02T15:04:05.000+0000")
		}
		return append(b, '"')
	}
	return append(b, "null"...)
}

// appendAttributes appends {"type":..,"url":..}.
func appendAttributes(b []byte, version string, r *record) []byte {
	b = append(b, `{"type":`...)
	b = appendJSONString(b, r.t.obj.name)
	b = append(b, `,"url":"/services/data/v`...)
	b = append(b, version...)
	b = append(b, "/sobjects/"...)
	b = append(b, r.t.obj.name...)
	b = append(b, '/')
	b = append(b, r.id...)
	return append(b, `"}`...)
}

// appendRecord renders r with the selected fields as a query result row.
func (d *db) appendRecord(b []byte, version string, r *record, nodes []*selNode) []byte {
	b = append(b, `{"attributes":`...)
	b = appendAttributes(b, version, r)
	for _, n := range nodes {
		b = append(b, ',')
		b = appendJSONString(b, n.key)
		b = append(b, ':')
		if n.path != nil {
			var v any
			if n.path.poly {
				v = r.getName(n.key)
			} else {
				v = r.get(n.path.idx)
			}
			b = appendValue(b, n.path.fld, v)
			continue
		}
		id, _ := r.get(n.relIdx).(string)
		parent := d.byID[id]
		if id == "" || parent == nil || parent.deleted {
			b = append(b, "null"...)
			continue
		}
		b = d.appendRecord(b, version, parent, n.children)
	}
	return append(b, '}')
}

// appendFullRecord renders every field of r, as GET /sobjects/T/id does.
func appendFullRecord(b []byte, version string, r *record, only map[string]bool) []byte {
	b = append(b, `{"attributes":`...)
	b = appendAttributes(b, version, r)
	for i, f := range r.t.obj.fields {
		if only != nil && !only[f.name] {
			continue
		}
		b = append(b, ',')
		b = appendJSONString(b, f.name)
		b = append(b, ':')
		b = appendValue(b, f, r.get(i))
	}
	return append(b, '}')
}
