package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/sethvargo/go-envconfig"

	"healthsync/connector"
	"healthsync/connector/hubspot"
	"healthsync/connector/salesforce"
	"healthsync/crm"
	hsync "healthsync/sync"
)

// crmClient is a connected CRM: what sync pulls from and writes to.
type crmClient interface {
	hsync.Source
	hsync.Sink
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
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: &cc, Lookuper: e.lookuper}); err != nil {
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
		c, err := salesforce.Open(ctx, cfg, salesforce.Deps{Tokens: a.store, Connection: conn, Log: a.log.Named("salesforce"),
			HTTP: cc.HTTP, Budget: cc.Budget, TaskKeyField: a.mapping.TaskKeyField(), Snooze: salesforce.Snooze{Field: sn.Field, Status: sn.Status},
			DescribeCache: a.store.StateCache(conn)})
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
			HTTP: cc.HTTP, Budget: cc.Budget, TaskKeyField: a.mapping.TaskKeyField(), Snooze: hubspot.Snooze{Field: sn.Field, Status: sn.Status}})
		if err != nil {
			return nil, explainConnectError("hubspot", err)
		}
		return c, nil
	}
	return nil, fmt.Errorf("unknown CRM %q", a.mapping.System())
}

func explainConnectError(name string, err error) error {
	if errors.Is(err, salesforce.ErrNoToken) || errors.Is(err, hubspot.ErrNoToken) {
		return fmt.Errorf("connect to %s: %w; run `healthsync auth %s` first", name, err, name)
	}
	return fmt.Errorf("connect to %s: %w", name, err)
}

func salesforceConfig(ctx context.Context, e *env) (salesforce.Config, error) {
	var cfg salesforce.Config
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: &cfg, Lookuper: e.lookuper}); err != nil {
		return cfg, fmt.Errorf("read Salesforce configuration: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("Salesforce configuration: %w", err)
	}
	return cfg, nil
}

func hubspotConfig(ctx context.Context, e *env) (hubspot.Config, error) {
	var cfg hubspot.Config
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: &cfg, Lookuper: e.lookuper}); err != nil {
		return cfg, fmt.Errorf("read HubSpot configuration: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("HubSpot configuration: %w", err)
	}
	return cfg, nil
}
