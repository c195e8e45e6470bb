package connector_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"healthsync/connector"
)

// A Salesforce connection's stack: a static token for brevity (a real
// connection passes an *oauth.Source), Salesforce's retry policy and error
// format, and the API budget fed by Sforce-Limit-Info.
func ExampleNewStack() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Sforce-Limit-Info", "api-usage=18/15000")
		if r.URL.Path == "/bad" {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `[{"message":"unexpected token: FORM","errorCode":"MALFORMED_QUERY"}]`)
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
		connector.WithPolicy(connector.SalesforcePolicy),
		connector.WithDecoder(connector.DecodeSalesforce),
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
