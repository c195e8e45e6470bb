package scoring

import (
	"fmt"
	"regexp"
	"strings"

	"healthsync/crm"
)

// Config holds every threshold and weight of the scoring model. The mapping
// file embeds it under its scoring key; DefaultConfig returns the defaults
// documented in docs/scoring.md, and fields the mapping file omits keep them.
type Config struct {
	Roles        RoleConfig         `yaml:"roles"`
	Relationship RelationshipConfig `yaml:"relationship"`
	Weights      Weights            `yaml:"weights"`
	Measures     MeasureConfig      `yaml:"measures"`
	Grades       GradeBands         `yaml:"grades"`
	// MinMeasures is how many measures must have data for an account to get
	// a score; below it the account gets no score and the reason says why.
	MinMeasures int `yaml:"min_measures"`
	// TrendLookbackDays is how far back the trend compares (score now minus
	// the score this many days earlier).
	TrendLookbackDays int `yaml:"trend_lookback_days"`
	// TrendToleranceDays is how far from the lookback instant a stored score
	// may be and still serve as the earlier score.
	TrendToleranceDays int `yaml:"trend_tolerance_days"`
	// MaxReasons is how many reasons accompany a score (2–3 reads best).
	MaxReasons  int             `yaml:"max_reasons"`
	Flags       FlagConfig      `yaml:"flags"`
	CustomFlags []FlagRule      `yaml:"custom_flags"`
	Lifecycle   LifecycleConfig `yaml:"lifecycle"`
	Segments    SegmentConfig   `yaml:"segments"`
}

// RoleConfig decides whether a contact is an executive or a user.
type RoleConfig struct {
	// ExecutiveTitlePatterns are case-insensitive regular expressions; a
	// contact whose title matches any is an executive.
	ExecutiveTitlePatterns []string `yaml:"executive_title_patterns"`
	// ExecutiveSeniorityPatterns match the mapped seniority field the same way.
	ExecutiveSeniorityPatterns []string `yaml:"executive_seniority_patterns"`
	// ExcludeTitlePatterns override the above: "Assistant to the VP" is a user.
	ExcludeTitlePatterns []string `yaml:"exclude_title_patterns"`
}

// RelationshipConfig turns a contact's activities into a strength.
type RelationshipConfig struct {
	// HalfLifeDays: an activity this old counts half as much as one today.
	HalfLifeDays float64 `yaml:"half_life_days"`
	// LookbackDays: older activities are ignored entirely.
	LookbackDays int `yaml:"lookback_days"`
	// Points per completed activity, before recency and direction.
	MeetingPoints float64 `yaml:"meeting_points"`
	CallPoints    float64 `yaml:"call_points"`
	EmailPoints   float64 `yaml:"email_points"`
	TaskPoints    float64 `yaml:"task_points"`
	// InboundMultiplier scales activities the contact started (inbound
	// email or call) over ones we started.
	InboundMultiplier float64 `yaml:"inbound_multiplier"`
	// TwoWayMultiplier scales the whole strength when the communication is
	// two-way: the contact replied or wrote, or met or spoke with us.
	TwoWayMultiplier float64 `yaml:"two_way_multiplier"`
	// Level thresholds on the strength. Below WeakMin is none. A one-way
	// relationship (no sign the contact engaged) is capped at weak.
	WeakMin       float64 `yaml:"weak_min"`
	StrongMin     float64 `yaml:"strong_min"`
	VeryStrongMin float64 `yaml:"very_strong_min"`
}

// Weights are the measures' relative weights. Only ratios matter: the score
// divides by the sum of the weights of the measures that have data.
type Weights struct {
	RelationshipBreadth float64 `yaml:"relationship_breadth"`
	RelationshipDepth   float64 `yaml:"relationship_depth"`
	EngagementRecency   float64 `yaml:"engagement_recency"`
	ExecutiveEngagement float64 `yaml:"executive_engagement"`
	Adoption            float64 `yaml:"adoption"`
	Sentiment           float64 `yaml:"sentiment"`
	RenewalRisk         float64 `yaml:"renewal_risk"`
}

// Get returns the weight of the named measure.
func (w Weights) Get(measure string) float64 {
	switch measure {
	case MeasureRelationshipBreadth:
		return w.RelationshipBreadth
	case MeasureRelationshipDepth:
		return w.RelationshipDepth
	case MeasureEngagementRecency:
		return w.EngagementRecency
	case MeasureExecutiveEngagement:
		return w.ExecutiveEngagement
	case MeasureAdoption:
		return w.Adoption
	case MeasureSentiment:
		return w.Sentiment
	case MeasureRenewalRisk:
		return w.RenewalRisk
	}
	return 0
}

// MeasureConfig maps metrics onto each measure's 0–100 scale.
type MeasureConfig struct {
	// BreadthTarget strong relationships score 100 on breadth; a weak one
	// counts as WeakRelationshipCredit of a strong one. BreadthTargets
	// sets it per segment (matched case-insensitively): a large account
	// needs more relationships than a small one.
	BreadthTarget          float64            `yaml:"breadth_target"`
	BreadthTargets         map[string]float64 `yaml:"breadth_targets"`
	WeakRelationshipCredit float64            `yaml:"weak_relationship_credit"`
	// DepthTopContacts: depth weighs the strongest N relationships, each
	// against the strong threshold (a strong relationship is a deep one),
	// the strongest most and each next one half as much.
	DepthTopContacts int `yaml:"depth_top_contacts"`
	// Engagement recency: last contact within RecencyFullDays scores 100,
	// RecencyZeroDays or more (or never) scores 0, linear between.
	RecencyFullDays int `yaml:"recency_full_days"`
	RecencyZeroDays int `yaml:"recency_zero_days"`
	// Executive engagement: last EBR within EBRFullDays scores 100,
	// EBRZeroDays or more (or never) 0; averaged with executive-contact
	// recency on the recency scale.
	EBRFullDays int `yaml:"ebr_full_days"`
	EBRZeroDays int `yaml:"ebr_zero_days"`
	// Adoption in the account's mapped units: AdoptionZero or less scores 0,
	// AdoptionFull or more 100.
	AdoptionZero float64 `yaml:"adoption_zero"`
	AdoptionFull float64 `yaml:"adoption_full"`
	// NPSScale says what Account.NPS holds: "score" (−100..100, an account
	// NPS) or "response" (0..10, a survey answer).
	NPSScale string `yaml:"nps_scale"`
	// RenewalHorizonDays: a renewal this far away or more carries no risk;
	// the risk grows as it nears, softened by executive preparation.
	RenewalHorizonDays int `yaml:"renewal_horizon_days"`
	// RenewalExecRecentDays: executive contact this recent counts as
	// preparation for the renewal.
	RenewalExecRecentDays int `yaml:"renewal_exec_recent_days"`
}

// GradeBands are the lower bounds of green and yellow; below yellow is red.
type GradeBands struct {
	Green  float64 `yaml:"green"`
	Yellow float64 `yaml:"yellow"`
}

// TaskSpec describes the CRM task a flag creates.
type TaskSpec struct {
	Subject   string       `yaml:"subject" json:"subject"`
	DueInDays int          `yaml:"due_in_days" json:"due_in_days"`
	Priority  crm.Priority `yaml:"priority" json:"priority"`
}

// FlagConfig holds the four default risk flags.
type FlagConfig struct {
	RenewalExecGap      RenewalExecGapFlag      `yaml:"renewal_exec_gap"`
	SingleThreaded      SingleThreadedFlag      `yaml:"single_threaded"`
	ChampionOpportunity ChampionOpportunityFlag `yaml:"champion_opportunity"`
	AdoptionEmergency   AdoptionEmergencyFlag   `yaml:"adoption_emergency"`
}

// RenewalExecGapFlag: renewal within RenewalWithinDays and no executive
// contact for NoExecContactDays (or never).
type RenewalExecGapFlag struct {
	Disabled          bool     `yaml:"disabled"`
	RenewalWithinDays int      `yaml:"renewal_within_days"`
	NoExecContactDays int      `yaml:"no_exec_contact_days"`
	Task              TaskSpec `yaml:"task"`
}

// SingleThreadedFlag: fewer executive relationships than the account's
// segment requires: MinStrongExecs strong ones (Enterprise needs two), or
// MinExecRelationships of any strength (an SMB needs one). Segment names
// match case-insensitively; segments not listed require the defaults.
type SingleThreadedFlag struct {
	Disabled                    bool           `yaml:"disabled"`
	MinStrongExecs              map[string]int `yaml:"min_strong_execs"`
	DefaultMinStrongExecs       int            `yaml:"default_min_strong_execs"`
	MinExecRelationships        map[string]int `yaml:"min_exec_relationships"`
	DefaultMinExecRelationships int            `yaml:"default_min_exec_relationships"`
	Task                        TaskSpec       `yaml:"task"`
}

// ChampionOpportunityFlag: adoption at least StrongAdoption (a fraction)
// but no more than MaxUserRelationships user relationships of any
// strength and MaxStrongUserRelationships strong ones.
type ChampionOpportunityFlag struct {
	Disabled                   bool     `yaml:"disabled"`
	StrongAdoption             float64  `yaml:"strong_adoption"`
	MaxUserRelationships       int      `yaml:"max_user_relationships"`
	MaxStrongUserRelationships int      `yaml:"max_strong_user_relationships"`
	Task                       TaskSpec `yaml:"task"`
}

// AdoptionEmergencyFlag: adoption fell by at least MinDrop (a fraction of
// the previous value) and no user contact for NoUserContactDays (or never).
type AdoptionEmergencyFlag struct {
	Disabled          bool     `yaml:"disabled"`
	MinDrop           float64  `yaml:"min_drop"`
	NoUserContactDays int      `yaml:"no_user_contact_days"`
	Task              TaskSpec `yaml:"task"`
}

// FlagRule is a flag defined in the mapping file: it is raised when every
// condition holds.
type FlagRule struct {
	Name        string      `yaml:"name"`
	Description string      `yaml:"description"`
	When        []Condition `yaml:"when"`
	Task        TaskSpec    `yaml:"task"`
}

// Condition compares a numeric metric with a threshold. A metric with no
// value makes the condition false unless IfMissing is true.
type Condition struct {
	Metric    string  `yaml:"metric"`
	Op        string  `yaml:"op"`
	Value     float64 `yaml:"value"`
	IfMissing bool    `yaml:"if_missing"`
}

// LifecycleConfig assigns a lifecycle stage when the CRM does not hold one:
// the first rule whose conditions all hold wins, else DefaultStage.
type LifecycleConfig struct {
	Rules        []StageRule `yaml:"rules"`
	DefaultStage string      `yaml:"default_stage"`
}

// StageRule names a stage and the conditions that put an account in it.
type StageRule struct {
	Stage string      `yaml:"stage"`
	When  []Condition `yaml:"when"`
}

// SegmentConfig assigns a segment when the CRM does not hold one: the first
// rule the account meets wins, else DefaultSegment.
type SegmentConfig struct {
	Rules          []SegmentRule `yaml:"rules"`
	DefaultSegment string        `yaml:"default_segment"`
}

// SegmentRule matches an account with at least MinEmployees employees or at
// least MinARR ARR (a nil bound is not checked; a rule needs one of them).
type SegmentRule struct {
	Segment      string   `yaml:"segment"`
	MinEmployees *int     `yaml:"min_employees"`
	MinARR       *float64 `yaml:"min_arr"`
}

// ActionSubject is the default task subject: the flag's action, worded
// for the account ("Build an executive relationship" where none exists,
// "Build a second executive relationship" where one does).
const ActionSubject = "{{.Action}}"

// Comparison operators accepted in conditions.
var conditionOps = []string{"<", "<=", ">", ">=", "==", "!="}

// DefaultConfig returns the defaults of docs/scoring.md.
func DefaultConfig() Config {
	intp := func(v int) *int { return &v }
	floatp := func(v float64) *float64 { return &v }
	return Config{
		Roles: RoleConfig{
			ExecutiveTitlePatterns: []string{
				`\bdirector\b`, `\bhead of\b`, `\bvp\b`, `\bvice[- ]president\b`,
				`\b[se]vp\b`, `\bchief\b`, `\bc[efotirm]o\b`, `\bpresident\b`,
				`\bfounder\b`, `\bco-?founder\b`, `\bowner\b`, `\bpartner\b`,
			},
			ExecutiveSeniorityPatterns: []string{
				`\bdirector\b`, `\bvp\b`, `\bexecutive\b`, `\bc-?level\b`, `\bc-?suite\b`, `\bowner\b`, `\bpartner\b`,
			},
			ExcludeTitlePatterns: []string{
				`\bassistant\b`, `\bexecutive assistant\b`, `\bpartner (manager|success|marketing)\b`, `\bproduct owner\b`,
			},
		},
		Relationship: RelationshipConfig{
			HalfLifeDays:      30,
			LookbackDays:      365,
			MeetingPoints:     3,
			CallPoints:        2,
			EmailPoints:       1,
			TaskPoints:        0.5,
			InboundMultiplier: 2,
			TwoWayMultiplier:  1.5,
			// Strong: regular two-way contact (a meeting every month or
			// two keeps a contact above 3); very strong: weekly.
			WeakMin:       0.5,
			StrongMin:     3,
			VeryStrongMin: 8,
		},
		Weights: Weights{
			RelationshipBreadth: 15,
			RelationshipDepth:   15,
			EngagementRecency:   15,
			ExecutiveEngagement: 10,
			Adoption:            20,
			Sentiment:           10,
			RenewalRisk:         15,
		},
		Measures: MeasureConfig{
			BreadthTarget:          2,
			BreadthTargets:         map[string]float64{"Enterprise": 4, "Mid-market": 3},
			WeakRelationshipCredit: 0.5,
			DepthTopContacts:       3,
			// Full marks for contact in the last two weeks, none after a
			// quarter of silence.
			RecencyFullDays:       14,
			RecencyZeroDays:       90,
			EBRFullDays:           90,
			EBRZeroDays:           365,
			AdoptionZero:          0.1,
			AdoptionFull:          0.8,
			NPSScale:              "score",
			RenewalHorizonDays:    180,
			RenewalExecRecentDays: 30,
		},
		Grades:             GradeBands{Green: 70, Yellow: 40},
		MinMeasures:        3,
		TrendLookbackDays:  30,
		TrendToleranceDays: 7,
		MaxReasons:         3,
		Flags: FlagConfig{
			RenewalExecGap: RenewalExecGapFlag{
				RenewalWithinDays: 90,
				NoExecContactDays: 15,
				Task:              TaskSpec{Subject: ActionSubject, DueInDays: 2, Priority: crm.PriorityHigh},
			},
			SingleThreaded: SingleThreadedFlag{
				// The relationship-metrics article: an enterprise needs strong
				// relationships with two executives; a smaller account needs
				// one executive relationship at all.
				MinStrongExecs:              map[string]int{"Enterprise": 2},
				DefaultMinStrongExecs:       0,
				MinExecRelationships:        map[string]int{},
				DefaultMinExecRelationships: 1,
				Task:                        TaskSpec{Subject: ActionSubject, DueInDays: 14, Priority: crm.PriorityNormal},
			},
			ChampionOpportunity: ChampionOpportunityFlag{
				StrongAdoption:             0.7,
				MaxUserRelationships:       0,
				MaxStrongUserRelationships: 0,
				Task:                       TaskSpec{Subject: ActionSubject, DueInDays: 14, Priority: crm.PriorityNormal},
			},
			AdoptionEmergency: AdoptionEmergencyFlag{
				MinDrop:           0.1,
				NoUserContactDays: 30,
				Task:              TaskSpec{Subject: ActionSubject, DueInDays: 0, Priority: crm.PriorityHigh},
			},
		},
		Lifecycle: LifecycleConfig{
			Rules: []StageRule{
				{Stage: "Renewal", When: []Condition{{Metric: MetricDaysToRenewal, Op: "<=", Value: 90}}},
				{Stage: "Onboarding", When: []Condition{{Metric: MetricDaysAsCustomer, Op: "<", Value: 90}}},
				{Stage: "Advocacy", When: []Condition{{Metric: MetricNPSNormalized, Op: ">=", Value: 80}, {Metric: MetricAdoption, Op: ">=", Value: 0.7}}},
				{Stage: "Growth", When: []Condition{{Metric: MetricOpenExpansionPipeline, Op: ">", Value: 0}}},
			},
			DefaultStage: "Adoption",
		},
		Segments: SegmentConfig{
			Rules: []SegmentRule{
				{Segment: "Enterprise", MinEmployees: intp(1000), MinARR: floatp(100000)},
				{Segment: "Mid-market", MinEmployees: intp(100), MinARR: floatp(25000)},
			},
			DefaultSegment: "SMB",
		},
	}
}

// Validate checks every field and reports each problem with its yaml key.
func (c Config) Validate() error {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	checkPatterns := func(key string, pats []string) {
		for i, p := range pats {
			if strings.TrimSpace(p) == "" {
				add("roles.%s[%d]: empty pattern; remove it", key, i)
				continue
			}
			if _, err := regexp.Compile("(?i)" + p); err != nil {
				add("roles.%s[%d]: %q is not a valid regular expression: %v", key, i, p, err)
			}
		}
	}
	checkPatterns("executive_title_patterns", c.Roles.ExecutiveTitlePatterns)
	checkPatterns("executive_seniority_patterns", c.Roles.ExecutiveSeniorityPatterns)
	checkPatterns("exclude_title_patterns", c.Roles.ExcludeTitlePatterns)
	if len(c.Roles.ExecutiveTitlePatterns)+len(c.Roles.ExecutiveSeniorityPatterns) == 0 {
		add("roles.executive_title_patterns: at least one pattern is needed to recognise executives")
	}

	r := c.Relationship
	if r.HalfLifeDays <= 0 {
		add("relationship.half_life_days: must be > 0 (got %g)", r.HalfLifeDays)
	}
	if r.LookbackDays <= 0 {
		add("relationship.lookback_days: must be > 0 (got %d)", r.LookbackDays)
	}
	for key, v := range map[string]float64{
		"meeting_points": r.MeetingPoints, "call_points": r.CallPoints,
		"email_points": r.EmailPoints, "task_points": r.TaskPoints,
	} {
		if v < 0 {
			add("relationship.%s: must be >= 0 (got %g)", key, v)
		}
	}
	if r.InboundMultiplier < 1 {
		add("relationship.inbound_multiplier: must be >= 1 so inbound counts at least as much as outbound (got %g)", r.InboundMultiplier)
	}
	if r.TwoWayMultiplier < 1 {
		add("relationship.two_way_multiplier: must be >= 1 (got %g)", r.TwoWayMultiplier)
	}
	if !(r.WeakMin > 0 && r.WeakMin < r.StrongMin && r.StrongMin < r.VeryStrongMin) {
		add("relationship.weak_min, strong_min, very_strong_min: need 0 < weak_min < strong_min < very_strong_min (got %g, %g, %g)", r.WeakMin, r.StrongMin, r.VeryStrongMin)
	}

	total := 0.0
	for _, m := range measureOrder {
		w := c.Weights.Get(m)
		if w < 0 {
			add("weights.%s: must be >= 0 (got %g)", m, w)
		}
		total += w
	}
	if total <= 0 {
		add("weights: at least one weight must be > 0")
	}
	positive := 0
	for _, m := range measureOrder {
		if c.Weights.Get(m) > 0 {
			positive++
		}
	}
	if total > 0 && c.MinMeasures > positive {
		add("min_measures: %d exceeds the %d measures with a weight above 0, so no account could get a score; lower min_measures or give more measures a weight", c.MinMeasures, positive)
	}

	m := c.Measures
	if m.BreadthTarget <= 0 {
		add("measures.breadth_target: must be > 0 (got %g)", m.BreadthTarget)
	}
	for seg, v := range m.BreadthTargets {
		if v <= 0 {
			add("measures.breadth_targets.%s: must be > 0 (got %g)", seg, v)
		}
	}
	if m.WeakRelationshipCredit < 0 || m.WeakRelationshipCredit > 1 {
		add("measures.weak_relationship_credit: must be within 0..1 (got %g)", m.WeakRelationshipCredit)
	}
	if m.DepthTopContacts < 1 {
		add("measures.depth_top_contacts: must be >= 1 (got %d)", m.DepthTopContacts)
	}
	if m.RecencyFullDays < 0 || m.RecencyZeroDays <= m.RecencyFullDays {
		add("measures.recency_full_days, recency_zero_days: need 0 <= recency_full_days < recency_zero_days (got %d, %d)", m.RecencyFullDays, m.RecencyZeroDays)
	}
	if m.EBRFullDays < 0 || m.EBRZeroDays <= m.EBRFullDays {
		add("measures.ebr_full_days, ebr_zero_days: need 0 <= ebr_full_days < ebr_zero_days (got %d, %d)", m.EBRFullDays, m.EBRZeroDays)
	}
	if m.AdoptionFull <= m.AdoptionZero {
		add("measures.adoption_zero, adoption_full: need adoption_zero < adoption_full (got %g, %g)", m.AdoptionZero, m.AdoptionFull)
	}
	checkFraction := func(key string, v float64) {
		if v < 0 || v > 1 {
			add("%s: %g is not a fraction: adoption thresholds are fractions from 0 to 1 (write %g%% as %g); the adoption field's own unit is declared by classify.adoption.unit", key, v, v, v/100)
		}
	}
	checkFraction("measures.adoption_zero", m.AdoptionZero)
	checkFraction("measures.adoption_full", m.AdoptionFull)
	if m.NPSScale != "score" && m.NPSScale != "response" {
		add("measures.nps_scale: %q is not known; use score (-100..100) or response (0..10)", m.NPSScale)
	}
	if m.RenewalHorizonDays <= 0 {
		add("measures.renewal_horizon_days: must be > 0 (got %d)", m.RenewalHorizonDays)
	}
	if m.RenewalExecRecentDays <= 0 {
		add("measures.renewal_exec_recent_days: must be > 0 (got %d)", m.RenewalExecRecentDays)
	}

	if !(c.Grades.Yellow > 0 && c.Grades.Yellow < c.Grades.Green && c.Grades.Green <= 100) {
		add("grades.green, grades.yellow: need 0 < yellow < green <= 100 (got green %g, yellow %g)", c.Grades.Green, c.Grades.Yellow)
	}
	if c.MinMeasures < 1 || c.MinMeasures > len(measureOrder) {
		add("min_measures: must be within 1..%d (got %d)", len(measureOrder), c.MinMeasures)
	}
	if c.TrendLookbackDays <= 0 {
		add("trend_lookback_days: must be > 0 (got %d)", c.TrendLookbackDays)
	}
	if c.TrendToleranceDays < 0 || c.TrendToleranceDays >= c.TrendLookbackDays {
		add("trend_tolerance_days: must be >= 0 and below trend_lookback_days (got %d)", c.TrendToleranceDays)
	}
	if c.MaxReasons < 1 || c.MaxReasons > len(measureOrder) {
		add("max_reasons: must be within 1..%d (got %d)", len(measureOrder), c.MaxReasons)
	}

	f := c.Flags
	checkTask := func(key string, t TaskSpec) {
		if strings.TrimSpace(t.Subject) == "" {
			add("%s.task.subject: must not be empty", key)
		}
		if t.DueInDays < 0 {
			add("%s.task.due_in_days: must be >= 0 (got %d)", key, t.DueInDays)
		}
		switch t.Priority {
		case crm.PriorityLow, crm.PriorityNormal, crm.PriorityHigh:
		default:
			add("%s.task.priority: %q is not known; use low, normal or high", key, t.Priority)
		}
	}
	if !f.RenewalExecGap.Disabled {
		if f.RenewalExecGap.RenewalWithinDays <= 0 {
			add("flags.renewal_exec_gap.renewal_within_days: must be > 0 (got %d)", f.RenewalExecGap.RenewalWithinDays)
		}
		if f.RenewalExecGap.NoExecContactDays <= 0 {
			add("flags.renewal_exec_gap.no_exec_contact_days: must be > 0 (got %d)", f.RenewalExecGap.NoExecContactDays)
		}
		checkTask("flags.renewal_exec_gap", f.RenewalExecGap.Task)
	}
	if !f.SingleThreaded.Disabled {
		for seg, n := range f.SingleThreaded.MinStrongExecs {
			if n < 0 {
				add("flags.single_threaded.min_strong_execs.%s: must be >= 0 (got %d)", seg, n)
			}
		}
		if f.SingleThreaded.DefaultMinStrongExecs < 0 {
			add("flags.single_threaded.default_min_strong_execs: must be >= 0 (got %d)", f.SingleThreaded.DefaultMinStrongExecs)
		}
		for seg, n := range f.SingleThreaded.MinExecRelationships {
			if n < 0 {
				add("flags.single_threaded.min_exec_relationships.%s: must be >= 0 (got %d)", seg, n)
			}
		}
		if f.SingleThreaded.DefaultMinExecRelationships < 0 {
			add("flags.single_threaded.default_min_exec_relationships: must be >= 0 (got %d)", f.SingleThreaded.DefaultMinExecRelationships)
		}
		checkTask("flags.single_threaded", f.SingleThreaded.Task)
	}
	if !f.ChampionOpportunity.Disabled {
		checkFraction("flags.champion_opportunity.strong_adoption", f.ChampionOpportunity.StrongAdoption)
		if f.ChampionOpportunity.MaxUserRelationships < 0 {
			add("flags.champion_opportunity.max_user_relationships: must be >= 0 (got %d)", f.ChampionOpportunity.MaxUserRelationships)
		}
		if f.ChampionOpportunity.MaxStrongUserRelationships < 0 {
			add("flags.champion_opportunity.max_strong_user_relationships: must be >= 0 (got %d)", f.ChampionOpportunity.MaxStrongUserRelationships)
		}
		checkTask("flags.champion_opportunity", f.ChampionOpportunity.Task)
	}
	if !f.AdoptionEmergency.Disabled {
		if f.AdoptionEmergency.MinDrop <= 0 || f.AdoptionEmergency.MinDrop >= 1 {
			add("flags.adoption_emergency.min_drop: must be a fraction within (0, 1) (got %g)", f.AdoptionEmergency.MinDrop)
		}
		if f.AdoptionEmergency.NoUserContactDays <= 0 {
			add("flags.adoption_emergency.no_user_contact_days: must be > 0 (got %d)", f.AdoptionEmergency.NoUserContactDays)
		}
		checkTask("flags.adoption_emergency", f.AdoptionEmergency.Task)
	}

	seen := map[string]bool{
		FlagRenewalExecGap: true, FlagSingleThreaded: true,
		FlagChampionOpportunity: true, FlagAdoptionEmergency: true,
	}
	for i, rule := range c.CustomFlags {
		key := fmt.Sprintf("custom_flags[%d]", i)
		if !flagNameRE.MatchString(rule.Name) {
			add("%s.name: %q must be snake_case letters, digits and underscores", key, rule.Name)
		} else if seen[rule.Name] {
			add("%s.name: %q is already used by another flag; pick a unique name", key, rule.Name)
		}
		seen[rule.Name] = true
		if len(rule.When) == 0 {
			add("%s.when: needs at least one condition", key)
		}
		for j, cond := range rule.When {
			validateCondition(fmt.Sprintf("%s.when[%d]", key, j), cond, add)
		}
		checkTask(key, rule.Task)
	}

	for i, rule := range c.Lifecycle.Rules {
		key := fmt.Sprintf("lifecycle.rules[%d]", i)
		if strings.TrimSpace(rule.Stage) == "" {
			add("%s.stage: must not be empty", key)
		}
		if len(rule.When) == 0 {
			add("%s.when: needs at least one condition", key)
		}
		for j, cond := range rule.When {
			validateCondition(fmt.Sprintf("%s.when[%d]", key, j), cond, add)
			if cond.Metric == MetricLifecycleStage {
				add("%s.when[%d].metric: lifecycle rules cannot depend on lifecycle_stage", key, j)
			}
		}
	}
	if strings.TrimSpace(c.Lifecycle.DefaultStage) == "" {
		add("lifecycle.default_stage: must not be empty")
	}
	for i, rule := range c.Segments.Rules {
		key := fmt.Sprintf("segments.rules[%d]", i)
		if strings.TrimSpace(rule.Segment) == "" {
			add("%s.segment: must not be empty", key)
		}
		if rule.MinEmployees == nil && rule.MinARR == nil {
			add("%s: set min_employees or min_arr (or both)", key)
		}
		if rule.MinEmployees != nil && *rule.MinEmployees < 0 {
			add("%s.min_employees: must be >= 0 (got %d)", key, *rule.MinEmployees)
		}
		if rule.MinARR != nil && *rule.MinARR < 0 {
			add("%s.min_arr: must be >= 0 (got %g)", key, *rule.MinARR)
		}
	}
	if strings.TrimSpace(c.Segments.DefaultSegment) == "" {
		add("segments.default_segment: must not be empty")
	}

	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalidConfig, strings.Join(problems, "; "))
	}
	return nil
}

var flagNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

func validateCondition(key string, c Condition, add func(string, ...any)) {
	if (c.Metric == MetricAdoption || c.Metric == MetricAdoptionPrevious) && (c.Value < 0 || c.Value > 1) {
		add("%s.value: %g is not a fraction: adoption is compared as a fraction from 0 to 1 (write %g%% as %g); the adoption field's own unit is declared by classify.adoption.unit", key, c.Value, c.Value, c.Value/100)
	}
	if _, ok := metricKinds[c.Metric]; !ok {
		add("%s.metric: %q is not a metric; use one of %s", key, c.Metric, strings.Join(numericMetricNames(), ", "))
	} else if !IsNumericMetric(c.Metric) {
		add("%s.metric: %q is not numeric and cannot be compared; use one of %s", key, c.Metric, strings.Join(numericMetricNames(), ", "))
	}
	ok := false
	for _, op := range conditionOps {
		if c.Op == op {
			ok = true
		}
	}
	if !ok {
		add("%s.op: %q is not a comparison; use one of %s", key, c.Op, strings.Join(conditionOps, " "))
	}
}

func numericMetricNames() []string {
	var out []string
	for _, n := range MetricNames() {
		if IsNumericMetric(n) {
			out = append(out, n)
		}
	}
	return out
}
