package hubspot_test

import (
	"fmt"
	"net/http/httptest"
	"strings"

	"healthsync/emulator/hubspot"
)

// Start a portal, seed a company and print the lines that point healthsync
// at it.
func Example() {
	srv := hubspot.New(hubspot.Options{})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	id, _ := srv.Create("companies", map[string]string{"name": "Acme", "domain": "acme.test"})
	rec, _ := srv.Record("companies", id)
	fmt.Println(rec.Properties["name"])
	for _, line := range srv.EnvLines(ts.URL) {
		key, _, _ := strings.Cut(line, "=")
		fmt.Println(key)
	}
	// Output:
	// Acme
	// HEALTHSYNC_CRM
	// HEALTHSYNC_HUBSPOT_BASE_URL
	// HEALTHSYNC_HUBSPOT_TOKEN
	// HEALTHSYNC_HUBSPOT_CLIENT_ID
	// HEALTHSYNC_HUBSPOT_CLIENT_SECRET
	// HEALTHSYNC_HUBSPOT_AUTH_URL
}
