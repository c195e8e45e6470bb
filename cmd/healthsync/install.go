package main

import (
	"context"
	"flag"
	"fmt"
)

// installCommand is `healthsync install`.
func installCommand() *command {
	return &command{
		name:    "install",
		summary: "create the custom fields/properties the mapping writes to (idempotent)",
		help: `Creates every output field of the mapping in the CRM: Salesforce custom fields
through the Tooling API plus a "Healthsync" permission set granting them to the
integration user; HubSpot properties in a "healthsync" group. Fields that
exist are left alone, so running it again changes nothing. Admins who deploy
metadata their own way use deploy/salesforce or deploy/hubspot instead.`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			return func(ctx context.Context, e *env, args []string) error {
				if err := noArgs("install", args); err != nil {
					return err
				}
				a, c, err := openAppCRM(ctx, e, false)
				if err != nil {
					return err
				}
				defer a.Close()
				created, err := c.Install(ctx, a.mapping.FieldSpecs())
				if err != nil {
					return err
				}
				if len(created) == 0 {
					fmt.Fprintln(e.stdout, "Everything is installed already; nothing was changed.")
					return nil
				}
				fmt.Fprintf(e.stdout, "Created %d items:\n", len(created))
				for _, c := range created {
					fmt.Fprintf(e.stdout, "  + %s\n", c)
				}
				return nil
			}
		},
	}
}
