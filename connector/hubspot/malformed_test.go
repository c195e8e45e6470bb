package hubspot_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"healthsync/connector"
	"healthsync/connector/hubspot"
)

func TestMalformedAnswersAreClearErrors(t *testing.T) {
	t.Parallel()
	answers := map[string]string{
		"/crm/v3/objects/companies/search": `<html><body>502 Bad Gateway from proxy</body></html>`,
		"/crm/v3/objects/contacts/search":  `{"total":2,"results":[{"id":"7","properties":{"lastmodifieddate":"2025-12-01T09:30:00Z"}},"7"]}`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(answers[r.URL.Path]))
	}))
	defer srv.Close()
	cfg := hubspot.DefaultConfig()
	cfg.BaseURL, cfg.Token = srv.URL, "pat-na1-test"
	c, err := hubspot.Open(context.Background(), cfg, hubspot.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	for obj, want := range map[string]string{"companies": "unexpected response body", "contacts": "result 2 of search page 1: a contact result is not a JSON object"} {
		err := c.Pull(context.Background(), pullReq(obj, nil, connector.Cursor{}), func(context.Context, pageT) error {
			t.Errorf("%s: a page was delivered from a malformed answer", obj)
			return nil
		})
		var apiErr *connector.APIError
		if !errors.As(err, &apiErr) || apiErr.Code != connector.CodeMalformedResponse || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want a %s error mentioning %q", obj, err, connector.CodeMalformedResponse, want)
		}
	}
	cfg.BaseURL = "api.hubapi.com"
	if _, err := hubspot.Open(context.Background(), cfg, hubspot.Deps{}); err == nil || !strings.Contains(err.Error(), "HEALTHSYNC_HUBSPOT_BASE_URL") {
		t.Errorf("bad base URL: %v", err)
	}
}
