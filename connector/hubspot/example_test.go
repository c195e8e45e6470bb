package hubspot_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"healthsync/connector"
	"healthsync/connector/hubspot"
	emu "healthsync/emulator/hubspot"
)

// bearer adds a private-app token to every request.
type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

// NewClient works with any *http.Client that authenticates; Open builds
// one on the shared stack from the environment's configuration.
func ExampleNewClient() {
	portal := emu.New(emu.Options{RateLimits: emu.RateLimits{Disabled: true}})
	srv := httptest.NewServer(portal)
	defer srv.Close()
	for _, name := range []string{"Acme", "Globex", "Initech"} {
		if _, err := portal.Create("companies", map[string]string{"name": name}); err != nil {
			panic(err)
		}
	}

	c, err := hubspot.NewClient(&http.Client{Transport: bearer{portal.Credentials().PrivateAppToken}}, srv.URL)
	if err != nil {
		panic(err)
	}
	var cursor connector.Cursor
	err = c.Pull(context.Background(), connector.PullRequest{Object: "companies", Fields: []string{"name"}},
		func(_ context.Context, p connector.Page) error {
			for _, r := range p.Records {
				fmt.Println(r.ID, r.Deleted)
			}
			cursor = p.Cursor
			return nil
		})
	fmt.Println(err, cursor.LastID, c.APICalls())
	// Output:
	// 1001 false
	// 1002 false
	// 1003 false
	// <nil> 1003 2
}
