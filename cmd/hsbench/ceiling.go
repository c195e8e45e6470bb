package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
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

	Method   string `json:"method,omitempty"`
	Path     string `json:"path,omitempty"`
	RawQuery string `json:"raw_query,omitempty"`
	Body     string `json:"body,omitempty"`
	Records  bool   `json:"records,omitempty"` // its results are records (not associations)
}

// runCeiling is the minimal client: one password-flow token, then every
// captured query through the REST query endpoint, following
// nextRecordsUrl, decoding each page's JSON and storing nothing. Its
// records/s is the most any client could reach against this server.
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
	start := time.Now()
	for _, q := range spec.Queries {
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
			res.Records += len(page.Records)
			res.PerObject[q.Object] += len(page.Records)
			next = page.NextRecordsURL
		}
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
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
		if q.Records {
			res.Records += len(page.Results)
			res.PerObject[q.Object] += len(page.Results)
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
