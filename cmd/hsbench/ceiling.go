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
)

// query is one SOQL query the connector ran during a full sync, captured
// by the parent so the ceiling client fetches exactly the same data.
type query struct {
	Object string `json:"object"`
	SOQL   string `json:"soql"`
	All    bool   `json:"all"` // queryAll (deleted rows included)
}

// runCeiling is the minimal client: one password-flow token, then every
// captured query through the REST query endpoint, following
// nextRecordsUrl, decoding each page's JSON and storing nothing. Its
// records/s is the most any client could reach against this server.
func runCeiling(ctx context.Context, spec childSpec) (childResult, error) {
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
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, body)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
