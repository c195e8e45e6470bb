package mapping

import (
	"embed"

	"healthsync/crm"
)

//go:embed examples/*.yaml
var examples embed.FS

// Example returns the fully commented example mapping file for sys: a
// realistic RevOps configuration that also fits the emulated orgs (the
// demo runs with it).
func Example(sys crm.System) []byte {
	data, err := examples.ReadFile("examples/" + string(sys) + ".example.yaml")
	if err != nil {
		panic("mapping: example for " + string(sys) + " not embedded: " + err.Error())
	}
	return data
}
