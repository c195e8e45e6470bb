package hubspot_test

import (
	"fmt"
	"strings"
	"testing"
)

func inputs(n int, f func(i int) map[string]any) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

func TestBatchEndpoints(t *testing.T) {
	t.Parallel()
	b := setup(t, noLimits())
	created := b.call("POST", "/crm/v3/objects/companies/batch/create", map[string]any{
		"inputs": inputs(3, func(i int) map[string]any {
			return map[string]any{"properties": map[string]string{"name": fmt.Sprintf("Co %d", i)}}
		}),
	}).must(t, 201)
	if created.str("status") != "COMPLETE" || len(created.results()) != 3 {
		t.Fatalf("batch create = %s", created.raw)
	}
	var idList []string
	for _, r := range created.results() {
		idList = append(idList, r["id"].(string))
	}

	read := b.call("POST", "/crm/v3/objects/companies/batch/read", map[string]any{
		"properties": []string{"name"},
		"inputs":     []map[string]string{{"id": idList[0]}, {"id": "999999"}, {"id": idList[2]}},
	}).must(t, 207)
	if len(read.results()) != 2 || read.body["numErrors"] != float64(1) {
		t.Fatalf("batch read with a missing id = %s", read.raw)
	}
	errs := read.body["errors"].([]any)
	e0 := errs[0].(map[string]any)
	if e0["category"] != "OBJECT_NOT_FOUND" || fmt.Sprint(e0["context"].(map[string]any)["ids"]) != "[999999]" {
		t.Fatalf("batch read error = %v", e0)
	}
	b.call("POST", "/crm/v3/objects/companies/batch/read", map[string]any{"inputs": []map[string]string{{"id": idList[0]}}}).must(t, 200)

	upd := b.call("POST", "/crm/v3/objects/companies/batch/update", map[string]any{
		"inputs": []map[string]any{
			{"id": idList[0], "properties": map[string]string{"industry": "Software"}},
			{"id": "424242", "properties": map[string]string{"industry": "Software"}},
		},
	}).must(t, 207)
	if len(upd.results()) != 1 || upd.body["numErrors"] != float64(1) {
		t.Fatalf("batch update = %s", upd.raw)
	}
	if rec, _ := b.srv.Record("companies", idList[0]); rec.Properties["industry"] != "Software" {
		t.Fatalf("batch update did not write: %v", rec.Properties)
	}
	// An invalid value anywhere rejects the whole batch; nothing is written.
	r := b.call("POST", "/crm/v3/objects/companies/batch/update", map[string]any{
		"inputs": []map[string]any{
			{"id": idList[1], "properties": map[string]string{"industry": "Retail"}},
			{"id": idList[2], "properties": map[string]string{"no_such_prop": "x"}},
		},
	})
	r.expectError(t, 400, "VALIDATION_ERROR")
	if !strings.Contains(r.str("message"), "PROPERTY_DOESNT_EXIST") {
		t.Fatalf("message = %s", r.str("message"))
	}
	if rec, _ := b.srv.Record("companies", idList[1]); rec.Properties["industry"] != "" {
		t.Fatal("a rejected batch wrote a record")
	}
	b.call("POST", "/crm/v3/objects/companies/batch/update", map[string]any{
		"inputs": []map[string]any{{"id": idList[1], "properties": map[string]string{}}, {"id": idList[1], "properties": map[string]string{}}},
	}).expectError(t, 400, "VALIDATION_ERROR")

	big := inputs(101, func(i int) map[string]any { return map[string]any{"id": fmt.Sprint(i + 1)} })
	for _, op := range []string{"read", "create", "update", "archive"} {
		r := b.call("POST", "/crm/v3/objects/companies/batch/"+op, map[string]any{"inputs": big})
		r.expectError(t, 400, "VALIDATION_ERROR")
		if !strings.Contains(r.str("message"), "100") {
			t.Errorf("%s: message %q does not name the limit", op, r.str("message"))
		}
	}
	b.call("POST", "/crm/v3/objects/companies/batch/read", map[string]any{"inputs": []any{}}).expectError(t, 400, "VALIDATION_ERROR")
	b.call("POST", "/crm/v3/objects/companies/batch/upsertish", map[string]any{"inputs": []any{}}).expectError(t, 404, "OBJECT_NOT_FOUND")
	b.call("POST", "/crm/v3/objects/companies/batch/read", `{"inputs": [{"id": `).expectError(t, 400, "VALIDATION_ERROR")

	b.call("POST", "/crm/v3/objects/companies/batch/archive", map[string]any{
		"inputs": []map[string]string{{"id": idList[0]}, {"id": idList[1]}},
	}).must(t, 204)
	if n := b.srv.Count("companies"); n != 1 {
		t.Fatalf("after archiving two of three, %d companies are live", n)
	}
}
