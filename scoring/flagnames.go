package scoring

import "strings"

// Names of the four default flags.
const (
	FlagRenewalExecGap      = "renewal_exec_gap"
	FlagSingleThreaded      = "single_threaded"
	FlagChampionOpportunity = "champion_opportunity"
	FlagAdoptionEmergency   = "adoption_emergency"
)

// FlagLabel is a flag's name as a CSM reads it on the account: "renewal
// without executive contact", "single-threaded"; a custom flag's name with
// spaces.
func FlagLabel(name string) string {
	switch name {
	case FlagRenewalExecGap:
		return "renewal without executive contact"
	case FlagSingleThreaded:
		return "single-threaded"
	case FlagChampionOpportunity:
		return "champion opportunity"
	case FlagAdoptionEmergency:
		return "adoption emergency"
	}
	return strings.ReplaceAll(name, "_", " ")
}
