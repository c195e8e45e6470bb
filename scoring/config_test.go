package scoring

import (
	"errors"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestDefaultConfigValid(t *testing.T) {
	t.Parallel()
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("DefaultConfig().Validate() = %v", err)
	}
}

func TestConfigValidateNamesKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"half life", func(c *Config) { c.Relationship.HalfLifeDays = 0 }, "relationship.half_life_days"},
		{"bad regexp", func(c *Config) { c.Roles.ExecutiveTitlePatterns = []string{"(vp"} }, "roles.executive_title_patterns[0]"},
		{"negative weight", func(c *Config) { c.Weights.Adoption = -1 }, "weights.adoption"},
		{"all weights zero", func(c *Config) { c.Weights = Weights{} }, "weights: at least one"},
		{"grade order", func(c *Config) { c.Grades.Yellow = 80 }, "grades.green, grades.yellow"},
		{"levels", func(c *Config) { c.Relationship.StrongMin = 20 }, "relationship.weak_min"},
		{"nps scale", func(c *Config) { c.Measures.NPSScale = "pct" }, "measures.nps_scale"},
		{"min measures", func(c *Config) { c.MinMeasures = 9 }, "min_measures"},
		{"trend", func(c *Config) { c.TrendLookbackDays = 0 }, "trend_lookback_days"},
		{"flag window", func(c *Config) { c.Flags.RenewalExecGap.RenewalWithinDays = 0 }, "flags.renewal_exec_gap.renewal_within_days"},
		{"flag priority", func(c *Config) { c.Flags.AdoptionEmergency.Task.Priority = "urgent" }, "flags.adoption_emergency.task.priority"},
		{"custom metric", func(c *Config) {
			c.CustomFlags = []FlagRule{{Name: "x", When: []Condition{{Metric: "days_since_nothing", Op: ">", Value: 1}}, Task: TaskSpec{Subject: "s", Priority: "low"}}}
		}, "custom_flags[0].when[0].metric"},
		{"custom op", func(c *Config) {
			c.CustomFlags = []FlagRule{{Name: "x", When: []Condition{{Metric: MetricNPS, Op: "=>", Value: 1}}, Task: TaskSpec{Subject: "s", Priority: "low"}}}
		}, "custom_flags[0].when[0].op"},
		{"custom text metric", func(c *Config) {
			c.CustomFlags = []FlagRule{{Name: "x", When: []Condition{{Metric: MetricSegment, Op: "==", Value: 1}}, Task: TaskSpec{Subject: "s", Priority: "low"}}}
		}, "not numeric"},
		{"custom duplicate", func(c *Config) {
			c.CustomFlags = []FlagRule{{Name: FlagSingleThreaded, When: []Condition{{Metric: MetricNPS, Op: ">", Value: 1}}, Task: TaskSpec{Subject: "s", Priority: "low"}}}
		}, "custom_flags[0].name"},
		{"segment rule", func(c *Config) { c.Segments.Rules = []SegmentRule{{Segment: "X"}} }, "segments.rules[0]"},
		{"lifecycle default", func(c *Config) { c.Lifecycle.DefaultStage = "" }, "lifecycle.default_stage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := DefaultConfig()
			tt.mutate(&c)
			err := c.Validate()
			if err == nil {
				t.Fatalf("Validate() = nil, want error naming %q", tt.want)
			}
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v, want ErrInvalidConfig naming %q", err, tt.want)
			}
		})
	}
}

// A partial yaml document over DefaultConfig keeps the defaults it omits.
func TestConfigYAMLOverlay(t *testing.T) {
	t.Parallel()
	doc := `
relationship:
  half_life_days: 45
weights:
  adoption: 40
custom_flags:
  - name: no_ebr
    when:
      - {metric: days_since_last_ebr, op: ">", value: 180, if_missing: true}
    task: {subject: "Schedule an EBR", due_in_days: 7, priority: normal}
`
	c := DefaultConfig()
	if err := yaml.Unmarshal([]byte(doc), &c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate() = %v", err)
	}
	if c.Relationship.HalfLifeDays != 45 || c.Weights.Adoption != 40 || c.Weights.Sentiment != 10 || c.Relationship.StrongMin != 3 {
		t.Errorf("overlay = %+v %+v", c.Relationship, c.Weights)
	}
	if len(c.CustomFlags) != 1 || c.CustomFlags[0].When[0].Metric != MetricDaysSinceLastEBR || !c.CustomFlags[0].When[0].IfMissing {
		t.Errorf("custom flags = %+v", c.CustomFlags)
	}
	out, err := yaml.Marshal(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"half_life_days:", "relationship_breadth:", "renewal_exec_gap:", "trend_lookback_days: 30", "green: 70", "yellow: 40"} {
		if !strings.Contains(string(out), key) {
			t.Errorf("marshalled defaults lack %q", key)
		}
	}
}
