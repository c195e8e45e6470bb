package scoring

import (
	"strings"
	"time"

	"healthsync/crm"
)

// Result is one account's score as of At.
type Result struct {
	AccountID   crm.AccountID `json:"account_id"`
	AccountName string        `json:"account_name"`
	OwnerID     crm.UserID    `json:"owner_id,omitempty"`
	OwnerName   string        `json:"owner_name,omitempty"`
	At          time.Time     `json:"at"`
	// Status says whether the account is a prospect, a live customer or a
	// former customer, and why. Only live customers get a score and flags.
	Status Status `json:"status"`
	// DataGaps name what the CRM lacks for this account's relationship
	// measures and flags ("no contacts synced"): findings for RevOps.
	DataGaps []string `json:"data_gaps,omitempty"`

	Metrics  Metrics   `json:"metrics"`
	Measures []Measure `json:"measures"`
	// Score is 0..100 (a whole number), nil when there is too little data;
	// NoScoreReason then says what is missing. With a CSM override in force
	// Score is the override and ComputedScore what the model says.
	Score         *float64  `json:"score"`
	ComputedScore *float64  `json:"computed_score"`
	NoScoreReason string    `json:"no_score_reason,omitempty"`
	Override      *Override `json:"override,omitempty"`
	// Grade is the band of Score, or the CSM's grade override in force.
	Grade Grade `json:"grade"`
	// Trend is Score minus the stored score about trend_lookback_days
	// earlier; nil without such a score.
	Trend   *float64 `json:"trend"`
	Reasons []string `json:"reasons"`
	Flags   []Flag   `json:"flags"`
	// Contacts are the per-contact relationships, strongest first.
	Contacts []ContactRelationship `json:"contacts"`
}

// Override is a CSM's manual score or grade, in force until Expires.
type Override struct {
	Score   *float64   `json:"score,omitempty"`
	Grade   Grade      `json:"grade,omitempty"`
	Comment string     `json:"comment,omitempty"`
	Expires *time.Time `json:"expires,omitempty"`
}

// Value returns a metric, a scorecard output (score, grade, trend, reasons,
// flags) or a measure ("measure.adoption") by name; ok is false when the
// name is unknown or has no value. Reasons join with "; " and flags with ", ".
func (r *Result) Value(name string) (Value, bool) {
	switch name {
	case OutputScore:
		if r.Score == nil {
			return Value{}, false
		}
		return NumberValue(*r.Score), true
	case OutputGrade:
		if r.Grade != "" {
			return TextValue(string(r.Grade)), true
		}
		return Value{}, false
	case OutputTrend:
		if r.Trend == nil {
			return Value{}, false
		}
		return NumberValue(*r.Trend), true
	case OutputReasons:
		if len(r.Reasons) == 0 {
			return Value{}, false
		}
		return TextValue(strings.Join(r.Reasons, "; ")), true
	case OutputFlags:
		if len(r.Flags) == 0 {
			return Value{}, false
		}
		names := make([]string, len(r.Flags))
		for i, f := range r.Flags {
			names[i] = FlagLabel(f.Name)
		}
		return TextValue(strings.Join(names, "; ")), true
	}
	if m, ok := strings.CutPrefix(name, "measure."); ok {
		for _, me := range r.Measures {
			if me.Name == m && me.HasData {
				return NumberValue(round1(me.Value)), true
			}
		}
		return Value{}, false
	}
	return r.Metrics.Value(name)
}

// HasFlag reports whether the named flag is raised.
func (r *Result) HasFlag(name string) bool {
	for _, f := range r.Flags {
		if f.Name == name {
			return true
		}
	}
	return false
}
