package hubspot_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"healthsync/connector"
	"healthsync/connector/hubspot"
	emu "healthsync/emulator/hubspot"
)

// Open a portal's connection with a private-app token (the environment's
// HEALTHSYNC_HUBSPOT_* configuration) and pull the companies.
func ExampleOpen() {
	portal := emu.New(emu.Options{RateLimits: emu.RateLimits{Disabled: true}})
	srv := httptest.NewServer(portal)
	defer srv.Close()
	for _, name := range []string{"Acme", "Globex", "Initech"} {
		if _, err := portal.Create("companies", map[string]string{"name": name}); err != nil {
			panic(err)
		}
	}

	cfg := hubspot.DefaultConfig()
	cfg.BaseURL, cfg.Token = srv.URL, portal.Credentials().PrivateAppToken
	c, err := hubspot.Open(context.Background(), cfg, hubspot.Deps{})
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
