package connector

import (
	"strings"
	"time"
	"unicode/utf8"
)

// ClosedSubjectPrefix starts the subject of every task healthsync closes,
// so that a closed task never reads as work a CSM did.
const ClosedSubjectPrefix = "Closed by healthsync: "

// closedDescriptionLead starts the description of every task healthsync
// closes; ClosedDescription recognises a task it already marked by it.
const closedDescriptionLead = "Closed by healthsync on "

// ClosedSubject returns subject marked as closed by healthsync: prefixed
// with ClosedSubjectPrefix, once (a subject that already has it comes
// back unchanged). maxLen (in characters; 0: no limit) is the CRM field's
// length: the old subject is cut to fit.
func ClosedSubject(subject string, maxLen int) string {
	if strings.HasPrefix(subject, ClosedSubjectPrefix) {
		return subject
	}
	out := ClosedSubjectPrefix + subject
	if maxLen > 0 {
		out = truncateRunes(out, maxLen)
	}
	return out
}

// ClosedDescription returns the description of a task healthsync closes
// on day, for the reason note: "Closed by healthsync on YYYY-MM-DD, not by
// a CSM: <note>." then, after a blank line, the previous description prev.
// A description healthsync already marked comes back unchanged, so closing
// twice never stacks a second line. An empty note gives "…, not by a
// CSM." maxLen (in characters; 0: no limit) is the CRM field's length: the
// end of the previous description is cut to fit, never the note.
func ClosedDescription(prev, note string, day time.Time, maxLen int) string {
	if strings.HasPrefix(prev, closedDescriptionLead) {
		return prev
	}
	head := closedDescriptionLead + day.UTC().Format("2006-01-02") + ", not by a CSM"
	if n := strings.TrimRight(strings.TrimSpace(note), ". "); n != "" {
		head += ": " + n
	}
	head += "."
	if strings.TrimSpace(prev) == "" {
		if maxLen > 0 {
			head = truncateRunes(head, maxLen)
		}
		return head
	}
	out := head + "\n\n" + prev
	if maxLen > 0 {
		out = truncateRunes(out, maxLen)
	}
	return out
}

// truncateRunes cuts s to at most n characters.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}
