package mapping

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	"healthsync/scoring"
)

// metricType is the kind of value a metric output holds, which decides
// the type of the field it is written to.
type metricType int

const (
	metricNumber metricType = iota + 1
	metricDate
	metricText
)

// metricKind returns the kind of an output or metric name scoring knows.
func metricKind(name string) (metricType, bool) {
	k, ok := scoring.MetricKind(name)
	if !ok {
		return 0, false
	}
	switch k {
	case scoring.KindDate:
		return metricDate, true
	case scoring.KindText:
		return metricText, true
	}
	return metricNumber, true
}

// metricNames lists the names outputs.metrics accepts.
func metricNames() []string { return scoring.OutputNames() }

// knownFlags lists the flags scoring can raise under f: the four built-in
// ones and the custom flags of the scoring section.
func knownFlags(f *File) []string {
	out := slices.Clone(builtinFlags)
	for _, cf := range f.Scoring.CustomFlags {
		if cf.Name != "" && !slices.Contains(out, cf.Name) {
			out = append(out, cf.Name)
		}
	}
	return out
}

// flagTask returns the scoring section's task spec of a flag and the path
// it is set at.
func flagTask(f *File, flag string) (scoring.TaskSpec, string, bool) {
	fl := f.Scoring.Flags
	switch flag {
	case scoring.FlagRenewalExecGap:
		return fl.RenewalExecGap.Task, "scoring.flags.renewal_exec_gap.task", !fl.RenewalExecGap.Disabled
	case scoring.FlagSingleThreaded:
		return fl.SingleThreaded.Task, "scoring.flags.single_threaded.task", !fl.SingleThreaded.Disabled
	case scoring.FlagChampionOpportunity:
		return fl.ChampionOpportunity.Task, "scoring.flags.champion_opportunity.task", !fl.ChampionOpportunity.Disabled
	case scoring.FlagAdoptionEmergency:
		return fl.AdoptionEmergency.Task, "scoring.flags.adoption_emergency.task", !fl.AdoptionEmergency.Disabled
	}
	for i, cf := range f.Scoring.CustomFlags {
		if cf.Name == flag {
			return cf.Task, "scoring.custom_flags[" + itoa(i) + "].task", true
		}
	}
	return scoring.TaskSpec{}, "", false
}

func itoa(i int) string { return strconv.Itoa(i) }

// scoringKey matches the start of one problem in scoring.Config.Validate's
// message: "weights.adoption: ..." or "relationship.weak_min, strong_min: ...".
var scoringKey = regexp.MustCompile(`^([a-z_][a-z0-9_]*(\[\d+\])?(\.[a-z0-9_]+(\[\d+\])?)*)(, [a-z0-9_., ]+)?: `)

// checkScoring runs scoring's own validation and places each problem at
// the key it names in the file.
func checkScoring(d *decoder, f *File) {
	err := f.Scoring.Validate()
	if err == nil {
		return
	}
	msg := err.Error()
	if i := strings.Index(msg, ": "); i >= 0 && strings.HasPrefix(msg, scoring.ErrInvalidConfig.Error()) {
		msg = msg[i+2:]
	}
	var problems []string
	for _, part := range strings.Split(msg, "; ") {
		if len(problems) > 0 && !scoringKey.MatchString(part) {
			problems[len(problems)-1] += "; " + part
			continue
		}
		problems = append(problems, part)
	}
	for _, p := range problems {
		key := ""
		if m := scoringKey.FindStringSubmatch(p); m != nil {
			key = m[1]
		}
		d.errAt(join("scoring", key), "scoring.%s", p)
	}
}
