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

// TestJSONFieldsEqualDecodedRaw: the fields a record hands the mapping are
// exactly what decoding its raw JSON with UseNumber gives, for the values
// Salesforce records carry and their edges (floats on both sides of the
// exponent switch, -0, invalid UTF-8 in values and keys, nested
// relationship objects and arrays).
func TestJSONFieldsEqualDecodedRaw(t *testing.T) {
	t.Parallel()
	values := []any{nil, true, false, "", "plain", "<b>&amp;</b>", "caf\xe9", "\xff\xfe ok \xc3", "\u2028", "emoji 🙂",
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
		raw, err := r.marshal()
		if err != nil {
			t.Fatal(err)
		}
		got, ok := r.jsonFields()
		if !ok {
			t.Fatalf("record %d: jsonFields refused %v", i, r)
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
	if _, ok := (rawRecord{"x": int32(1)}).jsonFields(); ok {
		t.Error("a value of a type the encoder may write differently was accepted; the reader must decode raw then")
	}
}
