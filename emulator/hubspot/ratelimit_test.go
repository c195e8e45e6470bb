package hubspot_test

import (
	"net/http"
	"testing"
	"time"

	"healthsync/emulator/hubspot"
)

func TestTenSecondlyLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, hubspot.Options{RateLimits: hubspot.RateLimits{TenSecondMax: 3, Daily: 1000}})
	for i := 0; i < 3; i++ {
		r := b.call("GET", "/crm/v3/objects/companies", nil).must(t, 200)
		h := r.header
		if h.Get("X-HubSpot-RateLimit-Max") != "3" || h.Get("X-HubSpot-RateLimit-Interval-Milliseconds") != "10000" ||
			h.Get("X-HubSpot-RateLimit-Daily") != "1000" {
			t.Fatalf("headers = %v", h)
		}
		if want := []string{"2", "1", "0"}[i]; h.Get("X-HubSpot-RateLimit-Remaining") != want {
			t.Fatalf("call %d: remaining %q, want %s", i, h.Get("X-HubSpot-RateLimit-Remaining"), want)
		}
		if want := []string{"999", "998", "997"}[i]; h.Get("X-HubSpot-RateLimit-Daily-Remaining") != want {
			t.Fatalf("call %d: daily remaining %q, want %s", i, h.Get("X-HubSpot-RateLimit-Daily-Remaining"), want)
		}
	}
	b.clock.Add(5 * time.Second)
	r := b.call("GET", "/crm/v3/objects/companies", nil).must(t, http.StatusTooManyRequests)
	if r.str("status") != "error" || r.str("message") != "You have reached your ten_secondly_rolling limit." ||
		r.str("errorType") != "RATE_LIMIT" || r.str("policyName") != "TEN_SECONDLY_ROLLING" || r.str("correlationId") == "" {
		t.Fatalf("429 body = %s", r.raw)
	}
	if r.header.Get("X-HubSpot-RateLimit-Remaining") != "0" {
		t.Fatalf("429 headers = %v", r.header)
	}
	if b.srv.APICalls() != 3 {
		t.Fatalf("APICalls = %d, want 3 (refused calls do not count)", b.srv.APICalls())
	}
	// The window rolls: ten seconds after the first calls there is room again.
	b.clock.Add(5 * time.Second)
	b.call("GET", "/crm/v3/objects/companies", nil).must(t, 200)
	// Another app (token) has its own window.
	other := b.srv.NewPrivateAppToken("crm.objects.companies.read")
	b.callAs(other, "GET", "/crm/v3/objects/companies", nil).must(t, 200)
}

func TestDailyLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, hubspot.Options{RateLimits: hubspot.RateLimits{Daily: 2}})
	b.call("GET", "/crm/v3/objects/companies", nil).must(t, 200)
	b.call("POST", "/crm/v3/objects/companies/search", map[string]any{}).must(t, 200) // search counts toward the day
	r := b.call("GET", "/crm/v3/objects/companies", nil).must(t, 429)
	if r.str("policyName") != "DAILY" || r.str("message") != "You have reached your daily limit." || r.header.Get("X-HubSpot-RateLimit-Daily-Remaining") != "0" {
		t.Fatalf("daily 429 = %s %v", r.raw, r.header)
	}
	b.clock.Add(24 * time.Hour)
	b.call("GET", "/crm/v3/objects/companies", nil).must(t, 200)
}

func TestFaults(t *testing.T) {
	t.Parallel()
	run := func(seed uint64) []int {
		b := setup(t, hubspot.Options{Faults: hubspot.Faults{Seed: seed, ServerErrorRate: 0.3}, RateLimits: hubspot.RateLimits{Disabled: true}})
		var codes []int
		for i := 0; i < 40; i++ {
			codes = append(codes, b.call("GET", "/crm/v3/objects/companies", nil).status)
		}
		return codes
	}
	a, again := run(7), run(7)
	fails := 0
	for i := range a {
		if a[i] != again[i] {
			t.Fatalf("faults differ for the same seed: %v vs %v", a, again)
		}
		if a[i] >= 500 {
			fails++
		}
	}
	if fails == 0 || fails == len(a) {
		t.Fatalf("%d of %d calls failed with rate 0.3", fails, len(a))
	}

	b := setup(t, hubspot.Options{Faults: hubspot.Faults{RateLimitRate: 1}})
	r := b.call("GET", "/crm/v3/objects/companies", nil).must(t, 429)
	if r.str("policyName") != "TEN_SECONDLY_ROLLING" {
		t.Fatalf("pressure 429 = %s", r.raw)
	}

	e := setup(t, hubspot.Options{Faults: hubspot.Faults{TokenExpiryRate: 1}, AutoApprove: true, RateLimits: hubspot.RateLimits{Disabled: true}})
	tok := oauthToken(t, e)
	e.callAs(tok, "GET", "/crm/v3/objects/companies", nil).expectError(t, 401, "EXPIRED_AUTHENTICATION")
	// Private-app tokens never expire.
	e.call("GET", "/crm/v3/objects/companies", nil).must(t, 200)

	l := setup(t, hubspot.Options{Faults: hubspot.Faults{Latency: time.Millisecond}, RateLimits: hubspot.RateLimits{Disabled: true}})
	l.call("GET", "/crm/v3/objects/companies", nil).must(t, 200)
}

// With limits disabled nothing is refused and no rate-limit headers are
// sent: headers announcing the default 100 per ten seconds would make a
// client that honours them (as the connector does) pace every test to
// ten calls a second for a limit that is not there.
func TestDisabledLimitsSendNoHeaders(t *testing.T) {
	t.Parallel()
	b := setup(t, hubspot.Options{RateLimits: hubspot.RateLimits{Disabled: true, TenSecondMax: 2, Daily: 3}})
	for i := 0; i < 5; i++ {
		r := b.call("GET", "/crm/v3/objects/companies", nil).must(t, 200)
		for _, h := range []string{"X-HubSpot-RateLimit-Max", "X-HubSpot-RateLimit-Remaining",
			"X-HubSpot-RateLimit-Interval-Milliseconds", "X-HubSpot-RateLimit-Daily", "X-HubSpot-RateLimit-Daily-Remaining"} {
			if v := r.header.Get(h); v != "" {
				t.Fatalf("call %d: %s = %q with limits disabled, want no header", i, h, v)
			}
		}
	}
	if b.srv.APICalls() != 5 {
		t.Fatalf("APICalls = %d, want 5", b.srv.APICalls())
	}
}
