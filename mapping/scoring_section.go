package mapping

// ScoringSection is a placeholder until scoring.Config lands.
type ScoringSection struct{}

func defaultScoring() ScoringSection { return ScoringSection{} }

func knownFlags(f *File) []string { return builtinFlags }

func checkScoring(d *decoder, f *File) {}
