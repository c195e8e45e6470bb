package scoring

import (
	"fmt"
	"regexp"
	"strings"

	"healthsync/crm"
)

// Role says whether a contact is an executive (director or above) or a user.
type Role string

// Roles.
const (
	RoleExecutive Role = "executive"
	RoleUser      Role = "user"
)

// roleMatcher classifies contacts by the configured patterns.
type roleMatcher struct {
	title, seniority, exclude *regexp.Regexp // nil when no pattern
}

func newRoleMatcher(c RoleConfig) (roleMatcher, error) {
	var m roleMatcher
	var err error
	if m.title, err = joinPatterns("roles.executive_title_patterns", c.ExecutiveTitlePatterns); err != nil {
		return m, err
	}
	if m.seniority, err = joinPatterns("roles.executive_seniority_patterns", c.ExecutiveSeniorityPatterns); err != nil {
		return m, err
	}
	if m.exclude, err = joinPatterns("roles.exclude_title_patterns", c.ExcludeTitlePatterns); err != nil {
		return m, err
	}
	return m, nil
}

// joinPatterns compiles the patterns into one case-insensitive alternation.
func joinPatterns(key string, pats []string) (*regexp.Regexp, error) {
	var parts []string
	for _, p := range pats {
		if strings.TrimSpace(p) != "" {
			parts = append(parts, "(?:"+p+")")
		}
	}
	if len(parts) == 0 {
		return nil, nil
	}
	re, err := regexp.Compile("(?i)" + strings.Join(parts, "|"))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalidConfig, key, err)
	}
	return re, nil
}

// role classifies a contact: a title or seniority matching the executive
// patterns makes an executive, unless the title matches an exclusion
// ("Executive Assistant"). The exclusion runs only on candidates, so most
// users cost one match.
func (m roleMatcher) role(c crm.Contact) Role {
	exec := (m.title != nil && c.Title != "" && m.title.MatchString(c.Title)) ||
		(m.seniority != nil && c.Seniority != "" && m.seniority.MatchString(c.Seniority))
	if !exec || (m.exclude != nil && c.Title != "" && m.exclude.MatchString(c.Title)) {
		return RoleUser
	}
	return RoleExecutive
}
