package status_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"healthsync/connector"
	"healthsync/status"
	"healthsync/store"
	"healthsync/store/storetest"
	"healthsync/sync"
)

// The worker feeds the metrics after each step and serves the handler on
// its --listen address; here a recorder stands in for the listener.
func ExampleNewServer() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "status-example")
	defer os.RemoveAll(dir)
	st, err := store.Open(ctx, store.Config{DatabaseURL: "sqlite://" + filepath.Join(dir, "hs.db"), EncryptionKey: storetest.Key}, store.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		fmt.Println(err)
		return
	}

	m := status.NewMetrics()
	srv, err := status.NewServer(status.Options{
		Store:      st,
		Connection: "default",
		Metrics:    m,
		Token:      "an-example-token-of-24-chars",
		Ready:      func(context.Context) error { return nil }, // e.g. check the CRM token
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// After each step of a run:
	m.ObserveSync("default", &sync.Report{Status: store.RunOK, Duration: 2 * time.Second, APICalls: 4})
	m.ObserveBudget("default", connector.Usage{Calls: 4, DailyUsed: 120, DailyLimit: 15000})

	for _, target := range []string{"/healthz", "/readyz", "/metrics", "/metrics?token=an-example-token-of-24-chars"} {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
		fmt.Println(target, rec.Code)
	}
	// Output:
	// /healthz 200
	// /readyz 200
	// /metrics 401
	// /metrics?token=an-example-token-of-24-chars 200
}
