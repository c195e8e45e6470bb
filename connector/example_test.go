package connector_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"

	"healthsync/connector"
)

// A connection's stack: a static token for brevity (a real connection
// passes an *oauth.Source), the CRM's retry policy and error format (here
// the defaults, for an API that answers OAuth-style errors), and the API
// budget fed by the daily usage each answer reports, read by the
// connector's own UsageReader. Each CRM's connector supplies its options
// (salesforce.StackOptions, hubspot.StackOptions).
func ExampleNewStack() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Daily-Usage", "18/15000")
		if r.URL.Path == "/bad" {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"MALFORMED_QUERY","error_description":"unexpected token: FORM"}`)
			return
		}
		fmt.Fprint(w, `{"done":true}`)
	}))
	defer api.Close()

	budget, err := connector.NewBudget(connector.DefaultBudgetConfig())
	if err != nil {
		panic(err)
	}
	stack, err := connector.NewStack(connector.DefaultHTTPConfig(), nil,
		connector.WithAuth(connector.StaticToken("00Dxx0000000001!example")),
		connector.WithPolicy(connector.DefaultPolicy),
		connector.WithDecoder(connector.DecodeOAuth),
		connector.WithUsageHeaders(dailyUsage),
		connector.WithBudget(budget))
	if err != nil {
		panic(err)
	}

	req, _ := http.NewRequest(http.MethodGet, api.URL+"/ok", nil)
	resp, err := stack.Do(req)
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(string(body))

	req, _ = http.NewRequest(http.MethodGet, api.URL+"/bad", nil)
	_, err = stack.Do(req)
	var apiErr *connector.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.Status, apiErr.Code)
	}
	u := budget.Usage()
	fmt.Println(stack.APICalls(), u.DailyUsed, u.DailyLimit)
	// Output:
	// {"done":true}
	// 400 MALFORMED_QUERY
	// 2 18 15000
}

// dailyUsage reads "X-Daily-Usage: used/limit".
func dailyUsage(h http.Header) (used, limit int64, ok bool) {
	u, l, found := strings.Cut(h.Get("X-Daily-Usage"), "/")
	used, err1 := strconv.ParseInt(u, 10, 64)
	limit, err2 := strconv.ParseInt(l, 10, 64)
	return used, limit, found && err1 == nil && err2 == nil
}
