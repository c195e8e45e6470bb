package render

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"healthsync/scoring"
)

// dash stands for a value that is not there.
const dash = "—"

// days renders a day count in words: "1 day", "41 days", as scoring's
// reasons do.
func days(n int) string {
	if n == 1 || n == -1 {
		return fmt.Sprintf("%d day", n)
	}
	return fmt.Sprintf("%d days", n)
}

// Money renders an amount with thousands separators and no decimals:
// 1234567.8 is "1,234,568".
func Money(v float64) string {
	neg := v < 0
	s := strconv.FormatInt(int64(math.Round(math.Abs(v))), 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// number renders a number as scoring's values read: up to two decimals,
// no trailing zeros.
func number(v float64) string { return scoring.NumberValue(v).String() }

// plural renders "1 passive", "2 passives".
func plural(n int, singular, pluralForm string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, singular)
	}
	return fmt.Sprintf("%d %s", n, pluralForm)
}

func formatScore(v float64) string { return fmt.Sprintf("%.0f", v) }

// signed renders a whole number with its sign: +3, -12, 0.
func signed(v float64) string {
	v = math.Round(v)
	if v > 0 {
		return fmt.Sprintf("+%.0f", v)
	}
	return fmt.Sprintf("%.0f", v+0) // +0 turns -0 into 0
}

// signed1 renders a measure's impact with one decimal and its sign.
func signed1(v float64) string {
	if v > 0 {
		return fmt.Sprintf("+%.1f", v)
	}
	if v == 0 {
		return "0.0"
	}
	return fmt.Sprintf("%.1f", v)
}

func dueText(d int) string {
	switch d {
	case 0:
		return "due today"
	case 1:
		return "due tomorrow"
	}
	return fmt.Sprintf("due in %s", days(d))
}

func pct(v *float64) string {
	if v == nil {
		return dash
	}
	return fmt.Sprintf("%.1f%%", *v*100)
}

func moneyPtr(v *float64) string {
	if v == nil {
		return dash
	}
	return Money(*v)
}

func signedInt(v float64) string {
	if v > 0 {
		return fmt.Sprintf("+%.0f", v)
	}
	return fmt.Sprintf("%.0f", v)
}
