package hubspot

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// RequiredScopes returns the scopes healthsync needs to read objects and,
// with write, to write back (companies, tasks) and install properties.
func RequiredScopes(objectNames []string, write bool) []string {
	set := map[string]bool{}
	for _, name := range objectNames {
		if name == Owners {
			set[ownersScope] = true
			continue
		}
		if o, ok := objects[name]; ok {
			set[o.scope] = true
			set[o.schema] = true
		}
	}
	if write {
		for _, s := range []string{"crm.objects.companies.write", "crm.objects.contacts.write",
			"crm.schemas.companies.write", "crm.schemas.contacts.write"} {
			set[s] = true
		}
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// CheckScopes reports, before a run starts, which of the needed scopes the
// token lacks, with an error wrapping ErrMissingScopes that names them. An
// OAuth token's scopes are read from HubSpot's token information endpoint
// (one call); a private-app token is probed with one cheap request per
// scope: a 1-record list (read), an empty batch update or property create
// that HubSpot rejects as invalid after checking the scope (write). Scopes
// this connector has no probe for are assumed granted.
func (c *Client) CheckScopes(ctx context.Context, needed []string) error {
	var missing []string
	if c.tokenScopes != nil {
		granted, err := c.tokenScopes(ctx)
		if err != nil {
			return fmt.Errorf("check scopes: %w", err)
		}
		have := map[string]bool{}
		for _, s := range granted {
			have[s] = true
		}
		for _, s := range needed {
			if !have[s] {
				missing = append(missing, s)
			}
		}
	} else {
		for _, s := range needed {
			ok, err := c.probe(ctx, s)
			if err != nil {
				return fmt.Errorf("check scope %s: %w", s, err)
			}
			if !ok {
				missing = append(missing, s)
			}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	sort.Strings(missing)
	return fmt.Errorf("%w: %s: grant them to the private app (HubSpot settings → Integrations → Private apps) or add them to the OAuth app and run `healthsync auth hubspot` again",
		ErrMissingScopes, strings.Join(missing, ", "))
}

// probe sends the cheapest request needing scope and reports whether the
// scope is granted (anything but 403 MISSING_SCOPES).
func (c *Client) probe(ctx context.Context, scope string) (bool, error) {
	parts := strings.Split(scope, ".")
	var method, path string
	var query url.Values
	var body any
	switch {
	case scope == ownersScope:
		method, path, query = http.MethodGet, "/crm/v3/owners", url.Values{"limit": {"1"}}
	case len(parts) == 4 && parts[0] == "crm" && parts[1] == "objects" && parts[3] == "read":
		method, path, query = http.MethodGet, "/crm/v3/objects/"+objPath(parts[2]), url.Values{"limit": {"1"}, "properties": {"hs_object_id"}}
	case len(parts) == 4 && parts[0] == "crm" && parts[1] == "objects" && parts[3] == "write":
		method, path, body = http.MethodPost, "/crm/v3/objects/"+objPath(parts[2])+"/batch/update", map[string]any{"inputs": []any{}}
	case len(parts) == 4 && parts[0] == "crm" && parts[1] == "schemas" && parts[3] == "read":
		method, path = http.MethodGet, "/crm/v3/properties/"+objPath(parts[2])+"/groups"
	case len(parts) == 4 && parts[0] == "crm" && parts[1] == "schemas" && parts[3] == "write":
		method, path, body = http.MethodPost, "/crm/v3/properties/"+objPath(parts[2]), map[string]any{}
	default:
		return true, nil
	}
	_, err := c.call(ctx, method, path, query, body, nil)
	if err == nil {
		return true, nil
	}
	if e, ok := apiError(err); ok {
		switch {
		case e.Status == http.StatusForbidden && e.Code == "MISSING_SCOPES":
			return false, nil
		case e.Status == http.StatusBadRequest:
			return true, nil // the scope passed; the probe's body was (deliberately) invalid
		}
	}
	return false, err
}
