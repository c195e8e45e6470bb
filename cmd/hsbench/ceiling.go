package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"healthsync/crm"
)

// query is one read the connector made during a full sync, captured by
// the parent so the ceiling client fetches exactly the same data: a SOQL
// query (Salesforce) or a request as sent (HubSpot).
type query struct {
	Object string `json:"object"`
	SOQL   string `json:"soql,omitempty"`
	All    bool   `json:"all,omitempty"` // queryAll (deleted rows included)
	// Bulk: the query ran as a Bulk API 2.0 job whose result pages were
	// read MaxRecords rows at a time.
	Bulk       bool `json:"bulk,omitempty"`
	MaxRecords int  `json:"max_records,omitempty"`
	// History: a field-history read of the first sync's backfill; its
	// rows are counted apart from the records.
	History bool `json:"history,omitempty"`

	Method   string `json:"method,omitempty"`
	Path     string `json:"path,omitempty"`
	RawQuery string `json:"raw_query,omitempty"`
	Body     string `json:"body,omitempty"`
	Records  bool   `json:"records,omitempty"` // its results are records (not associations)
}

// runCeiling is the minimal client: one password-flow token, then the
// pages the full sync kept, by the same path: each REST query through
// the REST query endpoint, following nextRecordsUrl; each Bulk API 2.0
// job run again (create, poll until complete, the result pages of the
// same maxRecords, following Sforce-Locator). Each page is decoded (JSON
// into maps, CSV into rows) and nothing is stored. Its records/s is the
// most any client could reach against this server on the same path.
func runCeiling(ctx context.Context, spec childSpec) (childResult, error) {
	if spec.CRM == string(crm.HubSpot) {
		return runHubSpotCeiling(ctx, spec)
	}
	var res childResult
	hc := &http.Client{Timeout: 5 * time.Minute}
	tok, instance, err := passwordToken(ctx, hc, spec)
	if err != nil {
		return res, err
	}
	res.PerObject = map[string]int{}
	count := func(q query, n int) {
		if q.History {
			res.HistoryRows += n
			return
		}
		res.Records += n
		res.PerObject[q.Object] += n
	}
	start := time.Now()
	for _, q := range spec.Queries {
		if q.Bulk {
			calls, n, err := bulkCeiling(ctx, hc, instance, tok, q)
			res.APICalls += calls
			if err != nil {
				return res, fmt.Errorf("%s (Bulk): %w", q.Object, err)
			}
			count(q, n)
			continue
		}
		endpoint := "/query"
		if q.All {
			endpoint = "/queryAll"
		}
		next := "/services/data/v62.0" + endpoint + "?q=" + url.QueryEscape(q.SOQL)
		for next != "" {
			var page struct {
				Records        []map[string]any `json:"records"`
				NextRecordsURL string           `json:"nextRecordsUrl"`
			}
			if err := getJSON(ctx, hc, instance+next, tok, &page); err != nil {
				return res, fmt.Errorf("%s: %w", q.Object, err)
			}
			res.APICalls++
			count(q, len(page.Records))
			next = page.NextRecordsURL
		}
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// bulkCeiling runs q as a Bulk API 2.0 query job and reads its CSV result
// pages, q.MaxRecords rows each (the server's default when the sync's
// were not seen). Status polls follow each other without a pause: the
// emulator completes a job after a number of polls, not of seconds.
func bulkCeiling(ctx context.Context, hc *http.Client, instance, tok string, q query) (calls int64, rows int, err error) {
	op := "query"
	if q.All {
		op = "queryAll"
	}
	body, _ := json.Marshal(map[string]any{"operation": op, "query": q.SOQL, "contentType": "CSV", "lineEnding": "LF", "columnDelimiter": "COMMA"})
	base := instance + "/services/data/v62.0/jobs/query"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base, bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	var job struct {
		ID    string `json:"id"`
		State string `json:"state"`
	}
	calls++
	if err := do(hc, req, &job); err != nil {
		return calls, 0, fmt.Errorf("create job: %w", err)
	}
	for polls := 0; job.State != "JobComplete"; polls++ {
		if job.State == "Failed" || job.State == "Aborted" || polls > 1000 {
			return calls, 0, fmt.Errorf("job %s is %s", job.ID, job.State)
		}
		calls++
		if err := getJSON(ctx, hc, base+"/"+job.ID, tok, &job); err != nil {
			return calls, 0, fmt.Errorf("poll job: %w", err)
		}
	}
	locator := ""
	for {
		v := url.Values{}
		if q.MaxRecords > 0 {
			v.Set("maxRecords", strconv.Itoa(q.MaxRecords))
		}
		if locator != "" {
			v.Set("locator", locator)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/"+job.ID+"/results?"+v.Encode(), nil)
		if err != nil {
			return calls, rows, err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept", "text/csv")
		calls++
		resp, err := hc.Do(req)
		if err != nil {
			return calls, rows, err
		}
		n, err := readCSV(resp)
		resp.Body.Close()
		if err != nil {
			return calls, rows, fmt.Errorf("results: %w", err)
		}
		rows += n
		locator = resp.Header.Get("Sforce-Locator")
		if locator == "" || locator == "null" {
			return calls, rows, nil
		}
	}
}

// readCSV decodes one Bulk result page and returns its row count (the
// header line excluded).
func readCSV(resp *http.Response) (int, error) {
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return 0, fmt.Errorf("HTTP %d: %s", resp.StatusCode, b)
	}
	r := csv.NewReader(resp.Body)
	r.ReuseRecord = true
	n := -1
	for {
		_, err := r.Read()
		if errors.Is(err, io.EOF) {
			return max(n, 0), nil
		}
		if err != nil {
			return 0, err
		}
		n++
	}
}

// runHubSpotCeiling replays every captured read with the private-app
// token, decoding each answer's results and storing nothing.
func runHubSpotCeiling(ctx context.Context, spec childSpec) (childResult, error) {
	res := childResult{PerObject: map[string]int{}}
	hc := &http.Client{Timeout: 5 * time.Minute}
	start := time.Now()
	for _, q := range spec.Queries {
		u := spec.BaseURL + q.Path
		if q.RawQuery != "" {
			u += "?" + q.RawQuery
		}
		var body io.Reader
		if q.Body != "" {
			body = strings.NewReader(q.Body)
		}
		req, err := http.NewRequestWithContext(ctx, q.Method, u, body)
		if err != nil {
			return res, err
		}
		req.Header.Set("Authorization", "Bearer "+spec.Token)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		var page struct {
			Results []map[string]any `json:"results"`
		}
		if err := do(hc, req, &page); err != nil {
			return res, fmt.Errorf("%s %s: %w", q.Method, q.Path, err)
		}
		res.APICalls++
		switch {
		case q.Records:
			res.Records += len(page.Results)
			res.PerObject[q.Object] += len(page.Results)
		case q.History:
			res.HistoryRows += len(page.Results)
		}
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// passwordToken gets an access token with the username-password flow.
func passwordToken(ctx context.Context, hc *http.Client, spec childSpec) (token, instance string, err error) {
	form := url.Values{"grant_type": {"password"}, "client_id": {spec.ClientID}, "client_secret": {spec.ClientSecret},
		"username": {spec.Username}, "password": {spec.Password}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, spec.LoginURL+"/services/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := hc.Do(req)
	if err != nil {
		return "", "", fmt.Errorf("token: %w", err)
	}
	defer resp.Body.Close()
	var t struct {
		AccessToken string `json:"access_token"`
		InstanceURL string `json:"instance_url"`
	}
	if resp.StatusCode != http.StatusOK {
		return "", "", fmt.Errorf("token: HTTP %d", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&t); err != nil {
		return "", "", fmt.Errorf("token: %w", err)
	}
	if t.InstanceURL == "" {
		t.InstanceURL = spec.LoginURL
	}
	return t.AccessToken, strings.TrimSuffix(t.InstanceURL, "/"), nil
}

// getJSON fetches one page and decodes it into v.
func getJSON(ctx context.Context, hc *http.Client, u, tok string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Sforce-Query-Options", "batchSize=2000")
	return do(hc, req, v)
}

// do sends req and decodes a 2xx answer (HubSpot batch reads answer 207)
// into v.
func do(hc *http.Client, req *http.Request, v any) error {
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, body)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
