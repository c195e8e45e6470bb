package connector_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/sethvargo/go-envconfig"

	"healthsync/connector"
)

func TestConfigFromEnvironment(t *testing.T) {
	t.Parallel()
	type all struct {
		HTTP   connector.HTTPConfig
		Budget connector.BudgetConfig
	}
	var c all
	if err := envconfig.ProcessWith(context.Background(), &envconfig.Config{Target: &c, Lookuper: envconfig.MapLookuper(nil)}); err != nil {
		t.Fatal(err)
	}
	if c.HTTP != connector.DefaultHTTPConfig() || c.Budget != connector.DefaultBudgetConfig() {
		t.Fatalf("defaults %+v, want %+v and %+v", c, connector.DefaultHTTPConfig(), connector.DefaultBudgetConfig())
	}
	if err := c.HTTP.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := c.Budget.Validate(); err != nil {
		t.Fatal(err)
	}

	bad := map[string]string{
		"HEALTHSYNC_HTTP_TIMEOUT":           "0s",
		"HEALTHSYNC_HTTP_MAX_RETRIES":       "-1",
		"HEALTHSYNC_HTTP_RETRY_WAIT_MIN":    "2s",
		"HEALTHSYNC_HTTP_RETRY_WAIT_MAX":    "1s",
		"HEALTHSYNC_API_BUDGET_RUN_SHARE":   "20",
		"HEALTHSYNC_API_BUDGET_TOTAL_SHARE": "0",
		"HEALTHSYNC_HTTP_RATE_LIMIT":        "-3",
	}
	var b all
	if err := envconfig.ProcessWith(context.Background(), &envconfig.Config{Target: &b, Lookuper: envconfig.MapLookuper(bad)}); err != nil {
		t.Fatal(err)
	}
	msg := fmt.Sprint(b.HTTP.Validate(), b.Budget.Validate())
	for name := range bad {
		if !strings.Contains(msg, name) {
			t.Errorf("validation does not name %s: %s", name, msg)
		}
	}
	if _, err := connector.NewStack(b.HTTP, nil); err == nil {
		t.Fatal("NewStack accepted an invalid config")
	}
}
