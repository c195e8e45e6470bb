package sync_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"healthsync/connector"
	"healthsync/crm"
	"healthsync/mapping"
)

var updateFixtures = flag.Bool("update-fixtures", false, "rewrite the connectors' testdata/mapping-defaults.json from the mapping defaults")

// mappingDefaults is what the default mapping asks of a connector: the
// objects in sync order, the fields read from each and the custom fields
// written. The connectors' tests read it from their testdata, since they
// import nothing above connector; this test keeps it equal to mapping's
// defaults.
type mappingDefaults struct {
	Objects    []string              `json:"objects"`
	Fields     map[string][]string   `json:"fields"`
	FieldSpecs []connector.FieldSpec `json:"field_specs"`
}

func TestConnectorFixturesMatchMappingDefaults(t *testing.T) {
	t.Parallel()
	for sys, dir := range map[crm.System]string{crm.Salesforce: "salesforce", crm.HubSpot: "hubspot"} {
		m, err := mapping.New(sys, nil)
		if err != nil {
			t.Fatal(err)
		}
		d := mappingDefaults{Objects: m.Objects(), Fields: map[string][]string{}, FieldSpecs: m.FieldSpecs()}
		for _, obj := range d.Objects {
			d.Fields[obj] = m.Fields(obj)
		}
		want, err := json.MarshalIndent(d, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, '\n')
		path := filepath.Join("..", "connector", dir, "testdata", "mapping-defaults.json")
		if *updateFixtures {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the %s mapping defaults: run go test ./sync -run TestConnectorFixtures -update-fixtures", path, sys)
		}
	}
}
