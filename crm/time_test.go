package crm

import (
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	t.Parallel()
	want := time.Date(2024, 2, 29, 13, 4, 5, 123e6, time.UTC)
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2024-02-29T13:04:05.123+0000", want},
		{"2024-02-29T15:04:05.123+0200", want},
		{"2024-02-29T13:04:05.123Z", want},
		{"2024-02-29T13:04:05.123456Z", want},
		{"1709211845123", want},
		{"2024-02-29", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		got, err := ParseTime(tt.in)
		if err != nil {
			t.Errorf("ParseTime(%q): %v", tt.in, err)
			continue
		}
		if !got.Equal(tt.want) || got.Location() != time.UTC {
			t.Errorf("ParseTime(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
	for _, bad := range []string{"", "yesterday", "2024-13-01", "12"} {
		if _, err := ParseTime(bad); err == nil {
			t.Errorf("ParseTime(%q): want error", bad)
		}
	}
}

func TestFormatRoundTrip(t *testing.T) {
	t.Parallel()
	in := time.Date(2023, 12, 31, 23, 59, 59, 999e6, time.FixedZone("x", -5*3600))
	for _, s := range []string{FormatSalesforce(in), FormatSOQL(in), FormatMillis(in)} {
		got, err := ParseTime(s)
		if err != nil || !got.Equal(in) {
			t.Errorf("round trip %q = %v, %v; want %v", s, got, err, in)
		}
	}
}

func TestDaysBetween(t *testing.T) {
	t.Parallel()
	a := time.Date(2024, 2, 28, 23, 0, 0, 0, time.UTC)
	b := time.Date(2024, 3, 1, 1, 0, 0, 0, time.UTC)
	if got := DaysBetween(a, b); got != 2 {
		t.Errorf("DaysBetween across leap day = %d, want 2", got)
	}
	if got := DaysBetween(b, a); got != -2 {
		t.Errorf("DaysBetween reversed = %d, want -2", got)
	}
}

func TestSalesforceID18(t *testing.T) {
	t.Parallel()
	got, err := SalesforceID18("001D000000IqhSL")
	if err != nil || got != "001D000000IqhSLIAZ" {
		t.Errorf("SalesforceID18 = %q, %v; want 001D000000IqhSLIAZ", got, err)
	}
	if _, err := SalesforceID18("short"); err == nil {
		t.Error("want error for a 5-character id")
	}
}
