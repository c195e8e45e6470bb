package crm

import (
	"testing"
	"time"
)

// FuzzParseTime feeds ParseTime arbitrary strings: it must never panic,
// every accepted value must be normalised (UTC, whole milliseconds), and a
// parsed instant must round-trip through FormatSOQL, the form the
// connectors put into incremental query filters. Instants outside the
// four-digit years that ISO 8601 and SOQL literals can express (epoch
// milliseconds far in the future or past) are checked for normalisation
// only: no CRM sends them and no SOQL literal can carry them.
//
// Run it longer with: go test -run '^$' -fuzz FuzzParseTime ./crm
func FuzzParseTime(f *testing.F) {
	for _, seed := range []string{
		"2024-02-29T13:04:05.123+0000",
		"2024-02-29T15:04:05.123+0200",
		"2024-02-29T13:04:05.123Z",
		"2024-02-29T13:04:05.123456789Z",
		"2024-02-29T13:04:05-0800",
		"2024-02-29T13:04:05",
		"2024-02-29",
		"1709211845123",
		"0001-01-01T00:00:00Z",
		"0001-01-01T00:00:00+01:00",
		"9999-12-31T23:59:59.999Z",
		"99999999999999999999",
		"  2024-01-02  ",
		"",
		"2024-13-40",
		"2024-02-29T25:00:00Z",
		"not a date",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTime(s)
		if err != nil {
			if !got.IsZero() {
				t.Fatalf("ParseTime(%q) failed (%v) but returned %v", s, err, got)
			}
			return
		}
		if got.Location() != time.UTC || got.Nanosecond()%int(time.Millisecond) != 0 {
			t.Fatalf("ParseTime(%q) = %v: not normalised to UTC milliseconds", s, got)
		}
		if y := got.Year(); y < 0 || y > 9999 {
			return
		}
		lit := FormatSOQL(got)
		back, err := ParseTime(lit)
		if err != nil {
			t.Fatalf("ParseTime(%q) = %v, but its SOQL literal %q does not parse: %v", s, got, lit, err)
		}
		if !back.Equal(got) {
			t.Fatalf("ParseTime(%q) = %v, SOQL literal %q parses back as %v", s, got, lit, back)
		}
	})
}
