package hubspot

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// TestRecordFieldsEqualDecodedRaw: the fields a HubSpot record hands the
// mapping (decoded once, with the associations added in place) are
// exactly what decoding its raw JSON gives, so the mapping reads the same
// record whether it decodes Raw (a record read back from the store) or
// takes Fields (a record just pulled); and the raw JSON with associations
// is valid and carries them once.
func TestRecordFieldsEqualDecodedRaw(t *testing.T) {
	t.Parallel()
	o, err := lookup("calls")
	if err != nil {
		t.Fatal(err)
	}
	results := []string{
		`{"id":"1","properties":{"hs_lastmodifieddate":"2025-01-02T03:04:05.678Z","hs_call_title":"Q&A <b>call</b> with Zoë","hs_call_duration":null},"createdAt":"2025-01-01T00:00:00Z","updatedAt":"2025-01-02T03:04:05.678Z","archived":false}`,
		"{\"id\" : \"2\",\n \"properties\":{\"hs_lastmodifieddate\":\"2025-01-02T03:04:05Z\",\"amount\":\"1e3\"}, \"extra\": [1.50, 2e-7, {\"n\": 12345678901234567890}] }\n",
		`{"id":"3","properties":{"hs_lastmodifieddate":"2025-01-02T03:04:05Z"},"associations":{"companies":{"results":[{"id":"9","type":"call_to_company"}]}}}`,
		`{"id":"4","properties":{"hs_lastmodifieddate":"2025-01-02T03:04:05Z","bad":12},"updatedAt":"2025-01-02T03:04:05Z"}`,
	}
	assocs := []associations{nil, {"companies": {Results: []assocRef{{ID: "7", Type: "call_to_company"}}}, "contacts": {Results: []assocRef{{ID: "8", Type: "call_to_contact"}, {ID: "10", Type: "call_to_contact"}}}}}
	decode := func(raw []byte) map[string]any {
		t.Helper()
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("raw %s does not decode: %v", raw, err)
		}
		return m
	}
	for _, res := range results {
		r, _, err := decodeRecord(o, json.RawMessage(res))
		if err != nil {
			t.Fatal(err)
		}
		if want := decode([]byte(res)); !reflect.DeepEqual(r.fields, want) {
			t.Errorf("fields of %s:\n got %v\nwant %v", res, r.fields, want)
		}
		for _, a := range assocs {
			raw, fields, err := withAssociations(r, a)
			if err != nil {
				t.Fatal(err)
			}
			if want := decode(raw); !reflect.DeepEqual(fields, want) {
				t.Errorf("with associations %v, fields of %s:\n got %v\nwant %v", a, raw, fields, want)
			}
			if n := bytes.Count(raw, []byte(`"associations"`)); n != 1 {
				t.Errorf("raw %s carries %d associations members, want 1", raw, n)
			}
			back := map[string]json.RawMessage{}
			if err := json.Unmarshal(raw, &back); err != nil {
				t.Fatal(err)
			}
			var got associations
			if err := json.Unmarshal(back["associations"], &got); err != nil {
				t.Fatal(err)
			}
			if want := a; (len(want) != 0 || len(got) != 0) && !reflect.DeepEqual(got, want) {
				t.Errorf("raw %s: associations %v, want %v", raw, got, want)
			}
		}
	}
}
