package connector

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestClosedSubjectAndDescription(t *testing.T) {
	t.Parallel()
	day := time.Date(2026, 1, 15, 23, 30, 0, 0, time.FixedZone("PST", -8*3600)) // 2026-01-16 in UTC
	tests := []struct {
		name, subject, prev, note string
		max                       int
		wantSubject, wantDesc     string
	}{
		{name: "note and evidence", subject: "Book an exec meeting", prev: "Only one contact.", note: "the account churned",
			wantSubject: "Closed by healthsync: Book an exec meeting",
			wantDesc:    "Closed by healthsync on 2026-01-16, not by a CSM: the account churned.\n\nOnly one contact."},
		{name: "note ending with a full stop", subject: "S", note: "the flag cleared.",
			wantSubject: "Closed by healthsync: S", wantDesc: "Closed by healthsync on 2026-01-16, not by a CSM: the flag cleared."},
		{name: "no note", subject: "S", prev: "  ",
			wantSubject: "Closed by healthsync: S", wantDesc: "Closed by healthsync on 2026-01-16, not by a CSM."},
		{name: "already marked", subject: "Closed by healthsync: S", prev: "Closed by healthsync on 2025-12-01, not by a CSM: x.\n\ny", note: "z",
			wantSubject: "Closed by healthsync: S", wantDesc: "Closed by healthsync on 2025-12-01, not by a CSM: x.\n\ny"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ClosedSubject(tt.subject, tt.max); got != tt.wantSubject {
				t.Errorf("subject = %q, want %q", got, tt.wantSubject)
			}
			if got := ClosedDescription(tt.prev, tt.note, day, tt.max); got != tt.wantDesc {
				t.Errorf("description = %q, want %q", got, tt.wantDesc)
			}
		})
	}
	// Cut to the field's length, in characters, keeping the mark.
	long := strings.Repeat("é", 300)
	if got := ClosedSubject(long, 255); utf8.RuneCountInString(got) != 255 || !strings.HasPrefix(got, ClosedSubjectPrefix) || !utf8.ValidString(got) {
		t.Errorf("long subject: %d characters", utf8.RuneCountInString(got))
	}
	if got := ClosedDescription(long, "n", day, 100); utf8.RuneCountInString(got) != 100 || !strings.HasPrefix(got, "Closed by healthsync on 2026-01-16, not by a CSM: n.\n\néé") {
		t.Errorf("long description: %q", got)
	}
}
