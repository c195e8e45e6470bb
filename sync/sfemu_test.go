package sync_test

import (
	"net/http/httptest"
	"path/filepath"
	"testing"

	"healthsync/connector/salesforce"
	emusalesforce "healthsync/emulator/salesforce"
)

// salesforceConfig writes em's JWT signing key into the test's temporary
// directory and returns the connector configuration that logs in to em,
// served at url, as its integration user.
func salesforceConfig(t testing.TB, em *emusalesforce.Server, url string) salesforce.Config {
	t.Helper()
	key := filepath.Join(t.TempDir(), "jwt.key")
	if err := em.WritePrivateKey(key); err != nil {
		t.Fatal(err)
	}
	creds := em.Credentials()
	sc := salesforce.DefaultConfig()
	sc.LoginURL, sc.ClientID, sc.Username, sc.JWTKeyFile = url, creds.ClientID, creds.Username, key
	return sc
}

// serveSalesforce serves em over loopback for the test's duration and
// returns the configuration that logs in to it.
func serveSalesforce(t testing.TB, em *emusalesforce.Server) salesforce.Config {
	t.Helper()
	srv := httptest.NewServer(em)
	t.Cleanup(srv.Close)
	return salesforceConfig(t, em, srv.URL)
}
