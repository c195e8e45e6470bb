package salesforce

import (
	"encoding/csv"
	"io"
	"net/http"
	"strings"
	"testing"
)

func (b *bundle) doCSV(method, path, body string) response {
	b.t.Helper()
	req, _ := http.NewRequest(method, b.ts.URL+"/services/data/v60.0/"+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+b.token)
	req.Header.Set("Content-Type", "text/csv")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

func readCSV(t *testing.T, body []byte) [][]string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if err != nil {
		t.Fatalf("csv %q: %v", body, err)
	}
	return rows
}

func TestBulkQueryJob(t *testing.T) {
	t.Parallel()
	b := setup(t, 60, Options{})
	r := b.do("POST", "jobs/query", map[string]any{"operation": "queryAll", "query": "SELECT Id, Name, Account.Name, IsDeleted, CreatedDate FROM Contact"})
	var job map[string]any
	r.json(t, &job)
	if r.status != 200 || job["state"] != "UploadComplete" || job["object"] != "Contact" || job["id"].(string)[:3] != "750" {
		t.Fatalf("create job: %d %s", r.status, r.body)
	}
	id := job["id"].(string)
	r = b.do("GET", "jobs/query/"+id+"/results", nil)
	if code, _ := r.errorCode(t); r.status != 412 || code != "JOB_NOT_COMPLETE" {
		t.Fatalf("results before complete: %d %s", r.status, r.body)
	}
	b.do("GET", "jobs/query/"+id, nil).json(t, &job)
	if job["state"] != "InProgress" {
		t.Fatalf("first poll: %v", job["state"])
	}
	b.do("GET", "jobs/query/"+id, nil).json(t, &job)
	if job["state"] != "JobComplete" {
		t.Fatalf("second poll: %v", job["state"])
	}
	total := len(b.s.IDs("Contact", true))
	var rows [][]string
	locator := ""
	pages := 0
	for {
		path := "jobs/query/" + id + "/results?maxRecords=100"
		if locator != "" {
			path += "&locator=" + locator
		}
		r := b.do("GET", path, nil)
		if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
			t.Fatalf("results: %d %s", r.status, r.body)
		}
		page := readCSV(t, r.body)
		if strings.Join(page[0], ",") != "Id,Name,Account.Name,IsDeleted,CreatedDate" {
			t.Fatalf("header %v", page[0])
		}
		if r.header.Get("Sforce-NumberOfRecords") != itoa(len(page)-1) {
			t.Fatalf("Sforce-NumberOfRecords %q for %d rows", r.header.Get("Sforce-NumberOfRecords"), len(page)-1)
		}
		rows = append(rows, page[1:]...)
		pages++
		locator = r.header.Get("Sforce-Locator")
		if locator == "null" {
			break
		}
		if locator == "" || pages > 100 {
			t.Fatalf("bad locator %q", locator)
		}
	}
	if len(rows) != total || pages != (total+99)/100 {
		t.Fatalf("bulk rows %d in %d pages, want %d", len(rows), pages, total)
	}
	deleted := 0
	for _, row := range rows {
		if row[3] == "true" {
			deleted++
		}
		if !strings.HasSuffix(row[4], "Z") {
			t.Fatalf("CreatedDate %q", row[4])
		}
	}
	if deleted == 0 {
		t.Error("queryAll job returned no deleted contacts")
	}
	if r := b.do("DELETE", "jobs/query/"+id, nil); r.status != 204 {
		t.Errorf("delete job: %d", r.status)
	}
	// Abort a fresh job; a bad query is refused up front.
	b.do("POST", "jobs/query", map[string]any{"operation": "query", "query": "SELECT Id FROM Account"}).json(t, &job)
	r = b.do("PATCH", "jobs/query/"+job["id"].(string), map[string]any{"state": "Aborted"})
	r.json(t, &job)
	if job["state"] != "Aborted" {
		t.Errorf("abort: %s", r.body)
	}
	if r := b.do("POST", "jobs/query", map[string]any{"operation": "query", "query": "SELECT Nope FROM Account"}); r.status != 400 {
		t.Errorf("bad query job: %d", r.status)
	}
}

func TestBulkIngestUpdate(t *testing.T) {
	t.Parallel()
	b := setup(t, 10, Options{})
	ids := b.s.IDs("Account", false)
	r := b.do("POST", "jobs/ingest", map[string]any{"object": "Account", "operation": "update", "contentType": "CSV", "lineEnding": "LF"})
	var job map[string]any
	r.json(t, &job)
	if job["state"] != "Open" {
		t.Fatalf("create: %s", r.body)
	}
	id := job["id"].(string)
	if r := b.do("GET", "jobs/ingest/"+id+"/successfulResults/", nil); r.status != 412 {
		t.Errorf("results while open: %d", r.status)
	}
	csvBody := "Id,Description,NumberOfEmployees\n" + ids[0] + ",bulk one,10\n" + ids[1] + ",bulk two,not-a-number\n001000000000000AAA,ghost,5\n"
	if r := b.doCSV("PUT", "jobs/ingest/"+id+"/batches", csvBody); r.status != 201 {
		t.Fatalf("upload: %d %s", r.status, r.body)
	}
	if r := b.do("PATCH", "jobs/ingest/"+id, map[string]any{"state": "UploadComplete"}); r.status != 200 {
		t.Fatalf("upload complete: %d %s", r.status, r.body)
	}
	for i := 0; i < 3; i++ {
		b.do("GET", "jobs/ingest/"+id, nil).json(t, &job)
	}
	if job["state"] != "JobComplete" || job["numberRecordsProcessed"] != 3.0 || job["numberRecordsFailed"] != 2.0 {
		t.Fatalf("job: %v", job)
	}
	ok := readCSV(t, b.do("GET", "jobs/ingest/"+id+"/successfulResults/", nil).body)
	failed := readCSV(t, b.do("GET", "jobs/ingest/"+id+"/failedResults/", nil).body)
	if len(ok) != 2 || ok[0][0] != "sf__Id" || ok[0][1] != "sf__Created" || ok[1][0] != ids[0] || ok[1][1] != "false" {
		t.Fatalf("successfulResults %v", ok)
	}
	if len(failed) != 3 || failed[0][1] != "sf__Error" || !strings.HasPrefix(failed[1][1], "INVALID_TYPE_ON_FIELD_IN_RECORD") {
		t.Fatalf("failedResults %v", failed)
	}
	if a, _ := b.s.Record("Account", ids[0]); a["Description"] != "bulk one" || a["NumberOfEmployees"] != 10.0 {
		t.Errorf("account not updated: %v", a["Description"])
	}
	// An insert job that is aborted leaves its rows unprocessed.
	b.do("POST", "jobs/ingest", map[string]any{"object": "Task", "operation": "insert"}).json(t, &job)
	id = job["id"].(string)
	b.doCSV("PUT", "jobs/ingest/"+id+"/batches", "Subject,WhatId\nCall,"+ids[0]+"\n")
	b.do("PATCH", "jobs/ingest/"+id, map[string]any{"state": "Aborted"})
	un := readCSV(t, b.do("GET", "jobs/ingest/"+id+"/unprocessedrecords/", nil).body)
	if len(un) != 2 || un[1][0] != "Call" {
		t.Errorf("unprocessed %v", un)
	}
	// An insert job that completes.
	b.do("POST", "jobs/ingest", map[string]any{"object": "Task", "operation": "insert"}).json(t, &job)
	id = job["id"].(string)
	b.doCSV("PUT", "jobs/ingest/"+id+"/batches", "Subject,WhatId,Status\nCall,"+ids[0]+",Completed\n")
	b.do("PATCH", "jobs/ingest/"+id, map[string]any{"state": "UploadComplete"})
	b.do("GET", "jobs/ingest/"+id, nil)
	b.do("GET", "jobs/ingest/"+id, nil)
	ok = readCSV(t, b.do("GET", "jobs/ingest/"+id+"/successfulResults/", nil).body)
	if len(ok) != 2 || ok[1][1] != "true" {
		t.Fatalf("insert results %v", ok)
	}
	if task, _ := b.s.Record("Task", ok[1][0]); task["IsClosed"] != true || task["AccountId"] != ids[0] {
		t.Errorf("inserted task %v", task)
	}
}
