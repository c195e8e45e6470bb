package hubspot_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	stdsync "sync"
	"testing"

	"healthsync/connector"
	"healthsync/connector/hubspot"
	"healthsync/crm"
	emu "healthsync/emulator/hubspot"
)

// countingTransport counts 429 answers by policy.
type countingTransport struct {
	mu     stdsync.Mutex
	policy map[string]int
	next   http.RoundTripper
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusTooManyRequests {
		return resp, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	var b struct {
		PolicyName string `json:"policyName"`
	}
	_ = json.Unmarshal(body, &b)
	c.mu.Lock()
	c.policy[b.PolicyName]++
	c.mu.Unlock()
	return resp, nil
}

func TestSyncSurvivesA429StormWithinTheLimits(t *testing.T) {
	t.Parallel()
	// Real limits on the wall clock (100 per 10 s, 5 searches per second)
	// and a third of the other calls refused with 429 on top.
	b := setup(t, emu.Options{Clock: crm.SystemClock{}, Faults: emu.Faults{Seed: 3, RateLimitRate: 0.3}})
	loadOrg(t, b, 6)
	m := loadDefaults(t)
	cfg := b.config()
	cfg.SearchRate = hubspot.DefaultConfig().SearchRate // 5, HubSpot's limit
	ct := &countingTransport{policy: map[string]int{}, next: http.DefaultTransport}
	c := b.open(cfg, hubspot.Deps{Transport: ct, Clock: crm.SystemClock{}})
	r := newReplica()
	for _, obj := range allObjects {
		if err := r.pull(t, c, obj, m.Fields(obj)); err != nil {
			t.Fatalf("pull %s: %v", obj, err)
		}
	}
	verify(t, b, r, m)
	t.Logf("429s by policy: %v; %d calls", ct.policy, c.APICalls())
	if ct.policy["TEN_SECONDLY_ROLLING"] == 0 {
		t.Error("the storm injected no 429: the test proves nothing")
	}
	if ct.policy["SECONDLY"] != 0 || ct.policy["DAILY"] != 0 {
		t.Errorf("the client exceeded the search or daily limit: %v", ct.policy)
	}
}

func TestDailyLimitIsACleanStop(t *testing.T) {
	t.Parallel()
	// Search answers carry no rate-limit headers, so the budget cannot see
	// the limit coming: the portal's DAILY 429 stops the pull.
	b := setup(t, emu.Options{RateLimits: emu.RateLimits{Daily: 2, TenSecondMax: 1000, SearchPerSecond: 1000}})
	for i := range 600 {
		if _, err := b.srv.Create("companies", map[string]string{"name": "Co " + strconv.Itoa(i)}); err != nil {
			t.Fatal(err)
		}
	}
	c := b.open(b.config(), hubspot.Deps{})
	r := newReplica()
	err := r.pull(t, c, "companies", nil)
	if !errors.Is(err, connector.ErrDailyLimit) {
		t.Fatalf("pull at the daily limit: %v, want ErrDailyLimit", err)
	}
	if len(r.live["companies"]) != 400 {
		t.Errorf("%d companies delivered before the limit, want the 2 pages admitted", len(r.live["companies"]))
	}
}

func TestBudgetStopsBeforeTheDailyLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, emu.Options{RateLimits: emu.RateLimits{Daily: 20, TenSecondMax: 1000, SearchPerSecond: 1000}})
	loadOrg(t, b, 6)
	c := b.open(b.config(), hubspot.Deps{}) // default budget: 20% of the daily limit per run
	r := newReplica()
	var err error
	for _, obj := range allObjects {
		if err = r.pull(t, c, obj, nil); err != nil {
			break
		}
	}
	if !errors.Is(err, connector.ErrBudgetExhausted) {
		t.Fatalf("pull: %v, want ErrBudgetExhausted", err)
	}
	if c.APICalls() > 20 {
		t.Errorf("%d calls made against a daily limit of 20", c.APICalls())
	}
}
