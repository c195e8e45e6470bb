package hubspot

import (
	"net/http"
	"strconv"
	stdsync "sync"
	"time"
)

// rateBody is HubSpot's 429 body.
type rateBody struct {
	Status     string `json:"status"`
	Message    string `json:"message"`
	ErrorType  string `json:"errorType"`
	CorrID     string `json:"correlationId"`
	PolicyName string `json:"policyName"`
	GroupName  string `json:"groupName,omitempty"`
}

// usage tracks one app's calls.
type usage struct {
	window []time.Time // admitted calls in the rolling ten seconds, oldest first
	search []time.Time // admitted search calls in the rolling second
	day    string      // UTC day the daily count belongs to
	daily  int
}

type limiter struct {
	mu    stdsync.Mutex
	users map[string]*usage
}

func (l *limiter) init() { l.users = map[string]*usage{} }

func prune(ts []time.Time, cutoff time.Time) []time.Time {
	i := 0
	for i < len(ts) && !ts[i].After(cutoff) {
		i++
	}
	return ts[i:]
}

// rollingWindow is the span of the TEN_SECONDLY_ROLLING limit.
const rollingWindow = 10 * time.Second

// admit applies the daily, ten-secondly and search limits to a call. It sets
// the rate-limit headers (not on search answers, as in HubSpot, nor when the
// limits are disabled) and returns the 429 body when the call is refused.
func (s *Server) admit(w http.ResponseWriter, c *caller, search bool) *rateBody {
	rl := s.opts.RateLimits
	now := s.now()
	s.limits.mu.Lock()
	defer s.limits.mu.Unlock()
	u := s.limits.users[c.rateKey]
	if u == nil {
		u = &usage{}
		s.limits.users[c.rateKey] = u
	}
	day := now.UTC().Format("2006-01-02")
	if u.day != day {
		u.day, u.daily = day, 0
	}
	u.window = prune(u.window, now.Add(-rollingWindow))
	u.search = prune(u.search, now.Add(-time.Second))
	setHeaders := func() {
		// Search answers carry none, as in HubSpot; with limits disabled
		// there is no limit to report, and headers announcing one would
		// make a well-behaved client pace itself for nothing.
		if search || rl.Disabled {
			return
		}
		h := w.Header()
		h.Set("X-HubSpot-RateLimit-Max", strconv.Itoa(rl.TenSecondMax))
		h.Set("X-HubSpot-RateLimit-Remaining", strconv.Itoa(max(0, rl.TenSecondMax-len(u.window))))
		h.Set("X-HubSpot-RateLimit-Interval-Milliseconds", "10000")
		h.Set("X-HubSpot-RateLimit-Daily", strconv.Itoa(rl.Daily))
		h.Set("X-HubSpot-RateLimit-Daily-Remaining", strconv.Itoa(max(0, rl.Daily-u.daily)))
	}
	refuse := func(policy, msg string) *rateBody {
		setHeaders()
		return &rateBody{Status: "error", Message: msg, ErrorType: "RATE_LIMIT", CorrID: s.correlationID(),
			PolicyName: policy, GroupName: "publicapi:" + policyGroup(c.rateKey)}
	}
	if !rl.Disabled {
		if u.daily >= rl.Daily {
			return refuse("DAILY", "You have reached your daily limit.")
		}
		if search && len(u.search) >= rl.SearchPerSecond {
			return refuse("SECONDLY", "You have reached your secondly limit.")
		}
		if !search && (len(u.window) >= rl.TenSecondMax || s.draw(s.faultsNow().RateLimitRate)) {
			return refuse("TEN_SECONDLY_ROLLING", "You have reached your ten_secondly_rolling limit.")
		}
	} else if s.draw(s.faultsNow().RateLimitRate) && !search {
		return refuse("TEN_SECONDLY_ROLLING", "You have reached your ten_secondly_rolling limit.")
	}
	u.daily++
	if search {
		u.search = append(u.search, now)
	} else {
		u.window = append(u.window, now)
	}
	setHeaders()
	return nil
}

func policyGroup(key string) string {
	if len(key) > 12 {
		return key[:12]
	}
	return key
}
