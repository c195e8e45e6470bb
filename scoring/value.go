package scoring

import (
	"encoding/json"
	"strconv"
	"time"
)

// Value is one metric or output value, typed by Kind.
type Value struct {
	Kind   ValueKind
	Number float64
	Date   time.Time // a date: midnight UTC
	Text   string
}

// NumberValue, DateValue and TextValue build values.
func NumberValue(f float64) Value { return Value{Kind: KindNumber, Number: f} }

// DateValue builds a date value.
func DateValue(t time.Time) Value { return Value{Kind: KindDate, Date: t} }

// TextValue builds a text value.
func TextValue(s string) Value { return Value{Kind: KindText, Text: s} }

// String formats the value: numbers without needless decimals, dates as
// YYYY-MM-DD.
func (v Value) String() string {
	switch v.Kind {
	case KindNumber:
		return formatNumber(v.Number)
	case KindDate:
		return v.Date.UTC().Format("2006-01-02")
	case KindText:
		return v.Text
	}
	return ""
}

// MarshalJSON writes numbers as numbers and the rest as strings.
func (v Value) MarshalJSON() ([]byte, error) {
	if v.Kind == KindNumber {
		return json.Marshal(v.Number)
	}
	return json.Marshal(v.String())
}

// formatNumber prints up to two decimals and drops trailing zeros.
func formatNumber(f float64) string {
	return strconv.FormatFloat(roundTo(f, 2), 'f', -1, 64)
}

func roundTo(f float64, places int) float64 {
	p := 1.0
	for range places {
		p *= 10
	}
	if f < 0 {
		return -float64(int64(-f*p+0.5)) / p
	}
	return float64(int64(f*p+0.5)) / p
}
