package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"healthsync/connector/hubspot"
	"healthsync/mapping"
)

// checkCommand is `healthsync check`.
func checkCommand() *command {
	return &command{
		name:    "check",
		summary: "validate the configuration and mapping against the live CRM (describe)",
		help: `Checks every field the mapping names against the CRM's describe (Salesforce)
or properties (HubSpot): that it exists, has a fitting type, and is updateable
where healthsync writes to it. For HubSpot it also checks the token's scopes.
Prints a report; exits 1 when there is an error.`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			return func(ctx context.Context, e *env, args []string) error {
				if err := noArgs("check", args); err != nil {
					return err
				}
				a, c, err := openAppCRM(ctx, e, true)
				if err != nil {
					return err
				}
				defer a.Close()
				if hc, ok := c.(*hubspot.Client); ok {
					if err := hc.CheckScopes(ctx, hubspot.RequiredScopes(a.mapping.Objects(), true)); err != nil {
						return err
					}
				}
				var problems []mapping.Problem
				objects := a.mapping.DescribeObjects()
				for _, obj := range objects {
					fields, err := c.Describe(ctx, obj)
					if err != nil {
						return fmt.Errorf("describe %s: %w", obj, err)
					}
					problems = append(problems, a.mapping.Validate(obj, fields)...)
				}
				fmt.Fprint(e.stdout, mapping.Report(problems, len(objects)))
				if mapping.HasErrors(problems) {
					return errors.New("the mapping does not fit the CRM: fix the errors above (or run `healthsync install` for missing output fields)")
				}
				return nil
			}
		},
	}
}
