package salesforce

import (
	"fmt"
	"testing"
)

type collResult struct {
	ID      string            `json:"id"`
	Success bool              `json:"success"`
	Errors  []collectionError `json:"errors"`
}

func TestCompositeCollections(t *testing.T) {
	t.Parallel()
	b := setup(t, 10, Options{})
	ids := b.s.IDs("Account", false)
	// Partial failure: the bad record fails, the others are written.
	recs := []map[string]any{
		{"attributes": map[string]any{"type": "Account"}, "id": ids[0], "Description": "one"},
		{"attributes": map[string]any{"type": "Account"}, "id": ids[1], "NoSuchField__c": 5},
		{"attributes": map[string]any{"type": "Account"}, "id": ids[2], "Description": "three"},
	}
	r := b.do("PATCH", "composite/sobjects", map[string]any{"allOrNone": false, "records": recs})
	var res []collResult
	r.json(t, &res)
	if r.status != 200 || len(res) != 3 || !res[0].Success || res[1].Success || !res[2].Success {
		t.Fatalf("partial failure: %d %s", r.status, r.body)
	}
	if res[1].Errors[0].StatusCode != "INVALID_FIELD" || res[0].ID != ids[0] || res[0].Errors == nil {
		t.Errorf("results: %s", r.body)
	}
	if a, _ := b.s.Record("Account", ids[2]); a["Description"] != "three" {
		t.Errorf("record 3 not written: %v", a["Description"])
	}

	// allOrNone: nothing is written and the good records say rolled back.
	recs[0]["Description"], recs[2]["Description"] = "uno", "tres"
	r = b.do("PATCH", "composite/sobjects", map[string]any{"allOrNone": true, "records": recs})
	res = nil
	r.json(t, &res)
	if res[0].Success || res[0].Errors[0].StatusCode != "ALL_OR_NONE_OPERATION_ROLLED_BACK" || res[1].Errors[0].StatusCode != "INVALID_FIELD" {
		t.Fatalf("allOrNone: %s", r.body)
	}
	if a, _ := b.s.Record("Account", ids[0]); a["Description"] != "one" {
		t.Errorf("allOrNone did not roll back: %v", a["Description"])
	}

	// Create: POST with types; an Id in an insert is refused.
	r = b.do("POST", "composite/sobjects", map[string]any{"records": []map[string]any{
		{"attributes": map[string]any{"type": "Task"}, "Subject": "Check in", "WhatId": ids[0]},
		{"attributes": map[string]any{"type": "Task"}, "Subject": "Bad", "id": ids[0]},
	}})
	res = nil
	r.json(t, &res)
	if !res[0].Success || res[0].ID[:3] != "00T" || res[1].Success {
		t.Fatalf("create: %s", r.body)
	}

	// 201 records: the whole call is refused.
	var many []map[string]any
	for i := 0; i < 201; i++ {
		many = append(many, map[string]any{"attributes": map[string]any{"type": "Account"}, "id": ids[0], "Description": fmt.Sprint(i)})
	}
	r = b.do("PATCH", "composite/sobjects", map[string]any{"records": many})
	if code, _ := r.errorCode(t); r.status != 400 || code != "EXCEEDED_ID_LIMIT" {
		t.Fatalf("201 records: %d %s", r.status, r.body)
	}
	if r := b.do("PATCH", "composite/sobjects", map[string]any{"records": many[:200]}); r.status != 200 {
		t.Fatalf("200 records: %d %s", r.status, r.body)
	}

	// DELETE by ids.
	r = b.do("DELETE", "composite/sobjects?ids="+res[0].ID+",00T5g0000000000AAA&allOrNone=false", nil)
	res = nil
	r.json(t, &res)
	if !res[0].Success || res[1].Success {
		t.Fatalf("delete: %s", r.body)
	}
}

func TestCompositeLockRowFault(t *testing.T) {
	t.Parallel()
	b := setup(t, 20, Options{Faults: Faults{LockRow: 0.3, Seed: 9}})
	ids := b.s.IDs("Account", false)
	var recs []map[string]any
	for _, id := range ids {
		recs = append(recs, map[string]any{"attributes": map[string]any{"type": "Account"}, "id": id, "Description": "x"})
	}
	r := b.do("PATCH", "composite/sobjects", map[string]any{"records": recs})
	var res []collResult
	r.json(t, &res)
	locked, ok := 0, 0
	for _, x := range res {
		if x.Success {
			ok++
		} else if x.Errors[0].StatusCode == "UNABLE_TO_LOCK_ROW" {
			locked++
		}
	}
	if locked == 0 || ok == 0 || locked+ok != len(ids) {
		t.Errorf("locked %d ok %d of %d", locked, ok, len(ids))
	}
}

func TestCompositeBatchAndComposite(t *testing.T) {
	t.Parallel()
	b := setup(t, 3, Options{})
	acc := b.s.GenID("Account", 0)
	r := b.do("POST", "composite/batch", map[string]any{"batchRequests": []map[string]any{
		{"method": "PATCH", "url": "v60.0/sobjects/Account/" + acc, "richInput": map[string]any{"Description": "batched"}},
		{"method": "GET", "url": "v60.0/sobjects/Account/" + acc + "?fields=Description"},
		{"method": "GET", "url": "v60.0/query?q=SELECT+Id+FROM+Nothing"},
	}})
	var batch struct {
		HasErrors bool `json:"hasErrors"`
		Results   []struct {
			StatusCode int `json:"statusCode"`
			Result     any `json:"result"`
		} `json:"results"`
	}
	r.json(t, &batch)
	if !batch.HasErrors || len(batch.Results) != 3 || batch.Results[0].StatusCode != 204 || batch.Results[2].StatusCode != 400 {
		t.Fatalf("batch: %s", r.body)
	}
	if batch.Results[1].Result.(map[string]any)["Description"] != "batched" {
		t.Errorf("batch GET: %v", batch.Results[1].Result)
	}
	calls := b.s.APICalls()
	r = b.do("POST", "composite", map[string]any{"allOrNone": false, "compositeRequest": []map[string]any{
		{"method": "POST", "url": "/services/data/v60.0/sobjects/Task", "referenceId": "newTask", "body": map[string]any{"Subject": "via composite", "WhatId": acc}},
		{"method": "GET", "url": "/services/data/v60.0/sobjects/Task/@{newTask.id}?fields=AccountId", "referenceId": "readBack"},
		{"method": "PATCH", "url": "/services/data/v60.0/sobjects/Task/@{newTask.id}", "referenceId": "close", "body": map[string]any{"Status": "Completed"}},
	}})
	var comp struct {
		CompositeResponse []struct {
			Body           any    `json:"body"`
			HTTPStatusCode int    `json:"httpStatusCode"`
			ReferenceID    string `json:"referenceId"`
		} `json:"compositeResponse"`
	}
	r.json(t, &comp)
	if len(comp.CompositeResponse) != 3 || comp.CompositeResponse[0].HTTPStatusCode != 201 || comp.CompositeResponse[1].HTTPStatusCode != 200 || comp.CompositeResponse[2].HTTPStatusCode != 204 {
		t.Fatalf("composite: %s", r.body)
	}
	if comp.CompositeResponse[1].Body.(map[string]any)["AccountId"] != acc {
		t.Errorf("composite read-back: %v", comp.CompositeResponse[1].Body)
	}
	if b.s.APICalls() != calls+1 {
		t.Errorf("composite counted %d calls, want 1", b.s.APICalls()-calls)
	}
}
