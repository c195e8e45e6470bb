package connector

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxRetryAfter bounds a Retry-After: a longer wait is read as this long
// (and the stack, whose RetryWaitMax is shorter, does not wait at all).
const maxRetryAfter = 24 * time.Hour

// retryAfter reads a Retry-After header given in seconds or as an HTTP
// date, relative to now, bounded to [0, 24h].
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 {
			return 0, false
		}
		if s > int64(maxRetryAfter/time.Second) {
			s = int64(maxRetryAfter / time.Second)
		}
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), maxRetryAfter), true
	}
	return 0, false
}

// backoff is the retryablehttp.Backoff of the stack: the response's
// Retry-After when it has one, otherwise exponential from min, doubling
// per attempt, bounded by max, with the upper half jittered.
func backoff(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil {
		if d, ok := retryAfter(resp.Header, time.Now()); ok {
			return d
		}
	}
	d := maxWait
	if attempt < 30 {
		if e := minWait << uint(attempt); e > 0 && e < maxWait {
			d = e
		}
	}
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + rand.N(half+1)
}
