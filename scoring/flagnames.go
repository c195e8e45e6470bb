package scoring

// Names of the four default flags.
const (
	FlagRenewalExecGap      = "renewal_exec_gap"
	FlagSingleThreaded      = "single_threaded"
	FlagChampionOpportunity = "champion_opportunity"
	FlagAdoptionEmergency   = "adoption_emergency"
)
