package salesforce

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// TestEncodeIsMarshalAndItsDecoding: a record's raw JSON is byte for
// byte what json.Marshal writes (the stored raw records of earlier
// versions stay equal, and REST and Bulk records of equal content too),
// and the fields it hands the mapping are exactly what decoding that JSON
// with UseNumber gives, for the values Salesforce records carry and their
// edges (floats on both sides of the exponent switch, -0, invalid UTF-8
// in values and keys, HTML characters, control characters, U+2028,
// nested relationship objects and arrays).
func TestEncodeIsMarshalAndItsDecoding(t *testing.T) {
	t.Parallel()
	values := []any{nil, true, false, "", "plain", "<b>&amp;</b>", "caf\xe9", "\xff\xfe ok \xc3", "\u2028", "emoji 🙂", "tab\tand\nnew line", "quote \" and \\", "\x00\x1f\x7f", "Zoë & Söhne <GmbH>",
		0.0, math.Copysign(0, -1), 1.0, 1.5, -2.25, 0.1, 1e-6, 9.99e-7, 1e-7, 1e20, 1e21, 123456789012345678.0, 3.14159e-300, math.MaxFloat64, math.SmallestNonzeroFloat64,
		json.Number("12.50"), map[string]any{"type": "Account", "url": "/x"}, []any{1.0, "a", nil, map[string]any{"k": 2.5}}}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		r := rawRecord{"Id": "001000000000001AAA", "bad\xffkey": 1.0}
		for j := range 12 {
			var v any
			if j%3 == 0 {
				v = rng.NormFloat64() * math.Pow(10, float64(rng.IntN(60)-30))
			} else {
				v = values[rng.IntN(len(values))]
			}
			r[strings.Repeat("F", j+1)+"__c"] = v
		}
		raw, got, err := r.encode()
		if err != nil {
			t.Fatal(err)
		}
		if got == nil {
			t.Fatalf("record %d: encode left the fields to the reader: %v", i, r)
		}
		if want, err := json.Marshal(map[string]any(r)); err != nil || !bytes.Equal(raw, want) {
			t.Fatalf("record %d: raw\n%s\njson.Marshal writes\n%s (%v)", i, raw, want, err)
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var want map[string]any
		if err := dec.Decode(&want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("record %d:\ngot  %#v\nwant %#v\nraw %s", i, got, want, raw)
		}
	}
	for _, odd := range []rawRecord{{"x": int32(1)}, {"a\xff": 1.0, "a\xfe": 2.0}} {
		raw, fields, err := odd.encode()
		if err != nil {
			t.Fatal(err)
		}
		if fields != nil {
			t.Errorf("%q: encode handed on fields; the reader must decode raw then", raw)
		}
		if want, _ := json.Marshal(map[string]any(odd)); !bytes.Equal(raw, want) {
			t.Errorf("raw %s, json.Marshal writes %s", raw, want)
		}
	}
	if _, _, err := (rawRecord{"x": math.NaN()}).encode(); err == nil {
		t.Error("NaN encoded; json.Marshal refuses it")
	}
}
