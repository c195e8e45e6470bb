package salesforce_test

import (
	"context"
	"fmt"

	"healthsync/connector"
	"healthsync/connector/salesforce"
)

// Open a connection with the environment's configuration (JWT bearer here)
// and pull the accounts changed since a stored cursor.
func ExampleOpen() {
	ctx := context.Background()
	cfg := salesforce.DefaultConfig()
	cfg.ClientID = "3MVG9..."
	cfg.Username, cfg.JWTKeyFile = "integration@example.com", "/etc/healthsync/salesforce.key"
	c, err := salesforce.Open(ctx, cfg, salesforce.Deps{Connection: "salesforce"})
	if err != nil {
		fmt.Println(err)
		return
	}
	err = c.Pull(ctx, connector.PullRequest{Object: "Account", Fields: []string{"Name", "OwnerId"}}, func(_ context.Context, p connector.Page) error {
		// commit p.Records and p.Cursor in one transaction
		return nil
	})
	fmt.Println(err, c.APICalls())
}
