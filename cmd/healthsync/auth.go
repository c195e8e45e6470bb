package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"healthsync/connector/hubspot"
	"healthsync/connector/oauth"
	"healthsync/connector/salesforce"
	"healthsync/crm"
	"healthsync/store"
)

// authCommand is `healthsync auth`.
func authCommand() *command {
	return &command{
		name:    "auth",
		args:    "salesforce|hubspot",
		summary: "log in to the CRM in the browser (OAuth) and store the tokens, encrypted",
		help: `Runs the OAuth authorization-code flow (with PKCE and state for Salesforce) with
a callback on 127.0.0.1: it opens your browser (or prints the URL to open),
waits for the login, and stores the tokens encrypted in the store under
HEALTHSYNC_CONNECTION. Unattended Salesforce workers can use the JWT bearer
flow instead (HEALTHSYNC_SALESFORCE_USERNAME + HEALTHSYNC_SALESFORCE_JWT_KEY_FILE)
and need no auth; HubSpot private apps use HEALTHSYNC_HUBSPOT_TOKEN.`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			timeout := fs.Duration("timeout", 5*time.Minute, "how long to wait for the browser `login`")
			return func(ctx context.Context, e *env, args []string) error {
				if len(args) != 1 {
					return usagef("auth", "name the CRM: healthsync auth salesforce or healthsync auth hubspot")
				}
				sys, err := crm.ParseSystem(args[0])
				if err != nil {
					return usagef("auth", "%v", err)
				}
				cfg, err := loadConfig(ctx, e)
				if err != nil {
					return err
				}
				log := newLogger(cfg.Log, e)
				st, err := openStore(ctx, cfg, log, store.Options{})
				if err != nil {
					return err
				}
				defer st.Close()
				conn := cfg.Sync.Connection
				switch sys {
				case crm.Salesforce:
					sc, err := salesforceConfig(ctx, e)
					if err != nil {
						return err
					}
					tok, err := salesforce.Login(ctx, sc, st, conn, salesforce.LoginOptions{Out: e.stderr, Timeout: *timeout})
					if err != nil {
						return err
					}
					fmt.Fprintf(e.stdout, "Logged in to Salesforce (%s); tokens stored encrypted for connection %q.\n", tok.InstanceURL, conn)
				case crm.HubSpot:
					hc, err := hubspotConfig(ctx, e)
					if err != nil {
						return err
					}
					if err := hubspot.Login(ctx, hc, st, conn, oauth.LoginOptions{Out: e.stderr, Timeout: *timeout}, nil); err != nil {
						return err
					}
					fmt.Fprintf(e.stdout, "Logged in to HubSpot; tokens stored encrypted for connection %q.\n", conn)
				}
				return nil
			}
		},
	}
}
