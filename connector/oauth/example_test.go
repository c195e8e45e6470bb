package oauth_test

import (
	"fmt"

	"healthsync/connector/oauth"
)

// The authorize URL of a Salesforce sandbox login with PKCE; Login builds
// it with a random state and verifier and serves the redirect itself.
func ExampleConfig_AuthCodeURL() {
	cfg := &oauth.Config{
		Connector: "salesforce",
		ClientID:  "3MVG9-example",
		AuthURL:   "https://test.salesforce.com/services/oauth2/authorize",
		TokenURL:  "https://test.salesforce.com/services/oauth2/token",
		Scopes:    []string{"api", "refresh_token"},
	}
	fmt.Println(cfg.AuthCodeURL("http://127.0.0.1:8484/callback", "st4te", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", nil))
	// Output:
	// https://test.salesforce.com/services/oauth2/authorize?client_id=3MVG9-example&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&redirect_uri=http%3A%2F%2F127.0.0.1%3A8484%2Fcallback&response_type=code&scope=api+refresh_token&state=st4te
}
