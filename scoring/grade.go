package scoring

import "strings"

// Grade is the score band: green, yellow or red; empty when there is no score.
type Grade string

// Grades.
const (
	GradeGreen  Grade = "green"
	GradeYellow Grade = "yellow"
	GradeRed    Grade = "red"
)

// Grade returns the band of a score: green at or above Green, yellow at or
// above Yellow, red below.
func (b GradeBands) Grade(score float64) Grade {
	switch {
	case score >= b.Green:
		return GradeGreen
	case score >= b.Yellow:
		return GradeYellow
	}
	return GradeRed
}

// ParseGrade reads a grade case-insensitively.
func ParseGrade(s string) (Grade, bool) {
	switch g := Grade(strings.ToLower(strings.TrimSpace(s))); g {
	case GradeGreen, GradeYellow, GradeRed:
		return g, true
	}
	return "", false
}
