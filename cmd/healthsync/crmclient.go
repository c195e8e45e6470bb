package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/go-hclog"

	"healthsync/connector"
	"healthsync/connector/hubspot"
	"healthsync/connector/oauth"
	"healthsync/connector/salesforce"
	"healthsync/crm"
	"healthsync/store"
	hsync "healthsync/sync"
)

// crmClient is a connected CRM: what sync pulls from and writes to, and
// the connection's API budget, which each run starts afresh and the
// status page reports.
type crmClient interface {
	hsync.Source
	hsync.Sink
	Budget() *connector.Budget
}

// connectorConfig is the configuration of the CRM connectors. Only the
// chosen CRM's part is read and validated, so a HubSpot user is never
// asked for Salesforce settings.
type connectorConfig struct {
	HTTP   connector.HTTPConfig
	Budget connector.BudgetConfig
}

// openCRM connects to the CRM the mapping names, with tokens from the
// store.
func (a *app) openCRM(ctx context.Context, e *env) (crmClient, error) {
	var cc connectorConfig
	if err := processEnv(ctx, &cc, e.lookuper); err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	if err := cc.HTTP.Validate(); err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	if err := cc.Budget.Validate(); err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	conn := a.cfg.Sync.Connection
	sn := a.mapping.Snooze()
	switch a.mapping.System() {
	case crm.Salesforce:
		cfg, err := salesforceConfig(ctx, e)
		if err != nil {
			return nil, err
		}
		var tokens oauth.TokenStore = a.store
		if cfg.Username != "" && cfg.JWTKeyFile != "" {
			tokens = &mintedTokens{TokenStore: a.store, log: a.log.Named("salesforce")}
		}
		c, err := salesforce.Open(ctx, cfg, salesforce.Deps{Tokens: tokens, Connection: conn, Log: a.log.Named("salesforce"),
			HTTP: cc.HTTP, Budget: cc.Budget, TaskKeyField: a.mapping.TaskKeyField(), Snooze: connector.Snooze{Field: sn.Field, Status: sn.Status},
			ClosedStatus: a.mapping.ClosedStatus(), DescribeCache: a.store.StateCache(conn)})
		if err != nil {
			return nil, explainConnectError("salesforce", err)
		}
		return c, nil
	case crm.HubSpot:
		cfg, err := hubspotConfig(ctx, e)
		if err != nil {
			return nil, err
		}
		c, err := hubspot.Open(ctx, cfg, hubspot.Deps{Tokens: a.store, Connection: conn, Log: a.log.Named("hubspot"),
			HTTP: cc.HTTP, Budget: cc.Budget, TaskKeyField: a.mapping.TaskKeyField(), Snooze: connector.Snooze{Field: sn.Field, Status: sn.Status},
			ClosedStatus: a.mapping.ClosedStatus()})
		if err != nil {
			return nil, explainConnectError("hubspot", err)
		}
		return c, nil
	}
	return nil, fmt.Errorf("unknown CRM %q", a.mapping.System())
}

// mintedTokens keeps the tokens of a JWT bearer connection. Such a token
// is a cache: the flow mints a new one from the private key whenever
// needed, no person involved. So a stored token sealed under another
// encryption key (the key was rotated or lost) is not a reason to stop
// and send the operator to `healthsync auth`, which the JWT flow does not
// use: it is dropped with a warning, a new token is minted and stored
// under the current key.
type mintedTokens struct {
	oauth.TokenStore
	log hclog.Logger
}

// LoadToken implements oauth.TokenStore.
func (m *mintedTokens) LoadToken(ctx context.Context, connection string) ([]byte, error) {
	blob, err := m.TokenStore.LoadToken(ctx, connection)
	if errors.Is(err, store.ErrDecrypt) {
		m.log.Warn("the stored token was sealed with another encryption key (HEALTHSYNC_ENCRYPTION_KEY or _FILE changed); the JWT bearer flow mints a new one, stored under the current key",
			"connection", connection)
		return nil, nil
	}
	return blob, err
}

func explainConnectError(name string, err error) error {
	if errors.Is(err, oauth.ErrNoToken) {
		return fmt.Errorf("connect to %s: %w; run `healthsync auth %s` first", name, err, name)
	}
	return fmt.Errorf("connect to %s: %w", name, err)
}

func salesforceConfig(ctx context.Context, e *env) (salesforce.Config, error) {
	var cfg salesforce.Config
	if err := processEnv(ctx, &cfg, e.lookuper); err != nil {
		return cfg, fmt.Errorf("read Salesforce configuration: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("invalid Salesforce configuration: %w", err)
	}
	return cfg, nil
}

func hubspotConfig(ctx context.Context, e *env) (hubspot.Config, error) {
	var cfg hubspot.Config
	if err := processEnv(ctx, &cfg, e.lookuper); err != nil {
		return cfg, fmt.Errorf("read HubSpot configuration: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("HubSpot configuration: %w", err)
	}
	return cfg, nil
}

// explainAPIError adds to a CRM API refusal that ends a command what the
// user can do about it; the connectors' messages say what the CRM said.
func explainAPIError(err error) error {
	var apiErr *connector.APIError
	if err == nil || !errors.As(err, &apiErr) {
		return err
	}
	if hint := apiHint(apiErr); hint != "" {
		return fmt.Errorf("%w\n%s", err, hint)
	}
	return err
}

func apiHint(e *connector.APIError) string {
	switch {
	case e.Code == "INVALID_SESSION_ID":
		return "Salesforce refused the session: run `healthsync auth salesforce` again, or for the JWT flow check HEALTHSYNC_SALESFORCE_USERNAME, HEALTHSYNC_SALESFORCE_JWT_KEY_FILE and the connected app's pre-authorization."
	case e.Code == "INVALID_AUTHENTICATION" || e.Code == "EXPIRED_AUTHENTICATION":
		return "HubSpot refused the credentials: check HEALTHSYNC_HUBSPOT_TOKEN (the private app's access token), or run `healthsync auth hubspot` again for an OAuth app."
	case e.Code == "MISSING_SCOPES":
		return "Grant the scope named above to the HubSpot private app (or add it to the OAuth app and run `healthsync auth hubspot` again); `healthsync check` lists every scope healthsync needs."
	case e.Status == 429:
		return "The CRM's rate limit held through the retries: what was done is committed and the next run resumes. If it keeps happening, lower HEALTHSYNC_HUBSPOT_SEARCH_RATE or set HEALTHSYNC_HTTP_RATE_LIMIT."
	case e.Code == connector.CodeMalformedResponse:
		return "The CRM's answer could not be read (a proxy's error page, a login page, a cut connection, or a record healthsync cannot parse): check HEALTHSYNC_SALESFORCE_LOGIN_URL or HEALTHSYNC_HUBSPOT_BASE_URL and any proxy, then run again; nothing stored was lost."
	case e.Status >= 500:
		return "The CRM failed through the retries: run again later; nothing stored was lost and the next run resumes."
	case e.Code == "OBJECT_NOT_FOUND":
		return "HubSpot does not know that object: check crm.objects in the mapping file and HEALTHSYNC_HUBSPOT_BASE_URL."
	}
	return ""
}
