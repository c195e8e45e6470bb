package hubspot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"

	"healthsync/connector/hubspot"
)

func TestConfigFromEnvironment(t *testing.T) {
	t.Parallel()
	var cfg hubspot.Config
	err := envconfig.ProcessWith(context.Background(), &envconfig.Config{Target: &cfg,
		Lookuper: envconfig.MapLookuper(map[string]string{"HEALTHSYNC_HUBSPOT_TOKEN": "pat-na1-x"})})
	if err != nil {
		t.Fatal(err)
	}
	if cfg != func() hubspot.Config { d := hubspot.DefaultConfig(); d.Token = "pat-na1-x"; return d }() {
		t.Errorf("defaults: %+v", cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("valid config: %v", err)
	}
	bad := hubspot.Config{BaseURL: "api.hubapi.com", AssociationWindow: -time.Hour, Lookback: 48 * time.Hour}
	err = bad.Validate()
	for _, v := range []string{"HEALTHSYNC_HUBSPOT_BASE_URL", "HEALTHSYNC_HUBSPOT_TOKEN", "HEALTHSYNC_HUBSPOT_CLIENT_ID",
		"HEALTHSYNC_HUBSPOT_AUTH_URL", "HEALTHSYNC_HUBSPOT_ASSOCIATION_WINDOW", "HEALTHSYNC_HUBSPOT_LOOKBACK", "HEALTHSYNC_HUBSPOT_SEARCH_RATE"} {
		if err == nil || !strings.Contains(err.Error(), v) {
			t.Errorf("error does not name %s: %v", v, err)
		}
	}
}

func TestListIDsAndDescribe(t *testing.T) {
	t.Parallel()
	b := setup(t, noLimits())
	loadOrg(t, b, 12)
	c := b.open(b.config(), hubspot.Deps{})
	for _, obj := range []string{"contacts", "owners"} {
		got := map[string]bool{}
		calls0 := c.APICalls()
		if err := c.ListIDs(context.Background(), obj, func(ids []string) error {
			for _, id := range ids {
				got[id] = true
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if obj == "owners" {
			if len(got) != len(b.srv.Owners()) {
				t.Errorf("owners: %d IDs, portal %d", len(got), len(b.srv.Owners()))
			}
			continue
		}
		recs, _ := b.srv.Records(obj)
		if len(got) != len(recs) {
			t.Errorf("%s: %d IDs, portal %d live", obj, len(got), len(recs))
		}
		if calls := c.APICalls() - calls0; calls != int64(max(1, ceilDiv(len(recs), 100))) {
			t.Errorf("%s: %d calls for %d IDs", obj, calls, len(recs))
		}
	}
	if _, err := c.Describe(context.Background(), "widgets"); err == nil || !strings.Contains(err.Error(), "companies") {
		t.Errorf("describe of an unknown object: %v", err)
	}
}
