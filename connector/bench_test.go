package connector_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"healthsync/connector"
)

// BenchmarkStackDo measures what the stack adds to a request: the auth
// header, retryablehttp, the limiter, the budget and header parsing.
func BenchmarkStackDo(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Sforce-Limit-Info", "api-usage=18/15000")
		io.WriteString(w, `{"done":true}`)
	}))
	defer srv.Close()
	budget, _ := connector.NewBudget(connector.BudgetConfig{RunShare: 1, TotalShare: 1})
	stack, err := connector.NewStack(connector.DefaultHTTPConfig(), nil,
		connector.WithAuth(connector.StaticToken("tok")), connector.WithBudget(budget),
		connector.WithPolicy(connector.SalesforcePolicy), connector.WithDecoder(connector.DecodeSalesforce))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("stack", func(b *testing.B) {
		for b.Loop() {
			budget.StartRun()
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL, nil)
			resp, err := stack.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
	b.Run("plain", func(b *testing.B) {
		for b.Loop() {
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL, nil)
			resp, err := srv.Client().Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}
