package scoring

import (
	"fmt"
	"math"
	"strconv"
)

// days renders a day count in words: "1 day", "41 days".
func days(n int) string {
	if n == 1 || n == -1 {
		return fmt.Sprintf("%d day", n)
	}
	return fmt.Sprintf("%d days", n)
}

// count renders "one strong relationship", "3 strong relationships".
func count(n int, singular, plural string) string {
	switch n {
	case 0:
		return "no " + plural
	case 1:
		return "one " + singular
	}
	return fmt.Sprintf("%d %s", n, plural)
}

// percent renders a fraction as a whole percentage: 0.353 is "35%".
func percent(v float64) string { return fmt.Sprintf("%.0f%%", v*100) }

// wholeNumber renders a score-like number without decimals.
func wholeNumber(v float64) string { return strconv.FormatFloat(math.Round(v), 'f', -1, 64) }

// sentimentWord turns a 0..100 CSM sentiment into the CSM's own words.
func sentimentWord(v float64) string {
	switch {
	case v < 34:
		return "red"
	case v < 67:
		return "yellow"
	}
	return "green"
}
