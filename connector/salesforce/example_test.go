package salesforce_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"

	"healthsync/connector"
	"healthsync/connector/salesforce"
	"healthsync/emulator/gen"
	emu "healthsync/emulator/salesforce"
)

// Open a connection with the environment's configuration (JWT bearer
// here, to the emulated org) and pull the accounts changed since a stored
// cursor (none: all of them).
func ExampleOpen() {
	org := emu.New(emu.Options{})
	if err := org.LoadGen(gen.Options{Seed: 7, Accounts: 3, Now: gen.DefaultNow}); err != nil {
		panic(err)
	}
	srv := httptest.NewServer(org)
	defer srv.Close()
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	key := filepath.Join(dir, "salesforce.key")
	if err := org.WritePrivateKey(key); err != nil {
		panic(err)
	}

	ctx := context.Background()
	cfg := salesforce.DefaultConfig()
	cfg.LoginURL, cfg.ClientID = srv.URL, org.Credentials().ClientID
	cfg.Username, cfg.JWTKeyFile = org.Credentials().Username, key
	c, err := salesforce.Open(ctx, cfg, salesforce.Deps{Connection: "salesforce"})
	if err != nil {
		fmt.Println(err)
		return
	}
	accounts := 0
	err = c.Pull(ctx, connector.PullRequest{Object: "Account", Fields: []string{"Name", "OwnerId"}}, func(_ context.Context, p connector.Page) error {
		// commit p.Records and p.Cursor in one transaction
		accounts += len(p.Records)
		return nil
	})
	fmt.Println(err, accounts)
	// Output:
	// <nil> 3
}
