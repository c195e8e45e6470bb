package crm

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Clock tells the current time. Production code uses [SystemClock]; tests
// pass a [FixedClock] or their own implementation.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock, normalised with [Normalize].
type SystemClock struct{}

// Now returns the current time in UTC at millisecond precision.
func (SystemClock) Now() time.Time { return Normalize(time.Now()) }

// FixedClock always returns the same instant. It is meant for tests and for
// replaying history (scoring "as of" a past date).
type FixedClock time.Time

// Now returns the fixed instant.
func (c FixedClock) Now() time.Time { return Normalize(time.Time(c)) }

// Normalize converts t to UTC and truncates it to whole milliseconds. The
// zero time stays zero.
func Normalize(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Millisecond)
}

// Date returns midnight UTC of t's calendar day in UTC.
func Date(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// DaysBetween returns the number of whole days from a to b (negative when b
// is before a), counting calendar days in UTC so that daylight-saving changes
// and times of day never shift the result.
func DaysBetween(a, b time.Time) int {
	return int(Date(b).Sub(Date(a)).Hours() / 24)
}

// timeLayouts are the shapes in which CRMs send instants and dates, tried in
// order by ParseTime.
var timeLayouts = []string{
	"2006-01-02T15:04:05.000-0700", // Salesforce datetime
	"2006-01-02T15:04:05-0700",
	time.RFC3339Nano, // HubSpot createdAt/updatedAt, ISO 8601 with Z
	"2006-01-02T15:04:05",
	"2006-01-02", // Salesforce date, HubSpot date properties
}

// ParseTime parses the date and datetime formats Salesforce and HubSpot use:
// ISO 8601 with a numeric or Z zone, with or without milliseconds, plain
// dates (as midnight UTC) and HubSpot's epoch milliseconds as a decimal
// string. The result is normalised. An empty string is an error; callers
// that accept a missing value check for it first.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, fmt.Errorf("parse time: empty value")
	}
	if isDigits(s) && len(s) >= 10 {
		ms, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("parse time %q: %w", s, err)
		}
		return Normalize(time.UnixMilli(ms)), nil
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return Normalize(t), nil
		}
	}
	return time.Time{}, fmt.Errorf("parse time %q: not an ISO 8601 date, datetime or epoch milliseconds", s)
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// FormatSalesforce formats t the way Salesforce returns datetimes
// (2024-01-02T03:04:05.000+0000).
func FormatSalesforce(t time.Time) string {
	return Normalize(t).Format("2006-01-02T15:04:05.000-0700")
}

// FormatSOQL formats t as an unquoted SOQL datetime literal
// (2024-01-02T03:04:05.000Z).
func FormatSOQL(t time.Time) string {
	return Normalize(t).Format("2006-01-02T15:04:05.000Z")
}

// FormatMillis formats t as epoch milliseconds, the way HubSpot search
// filters take datetimes.
func FormatMillis(t time.Time) string {
	return strconv.FormatInt(Normalize(t).UnixMilli(), 10)
}
