package mapping

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"healthsync/connector"
	"healthsync/crm"
)

// FuzzLoad feeds arbitrary bytes to the loader. It must never panic, and
// what it accepts must be usable: every object maps a record without
// panicking and the hash is stable. Seeds: testdata/fuzz/FuzzLoad and the
// example and error files.
func FuzzLoad(f *testing.F) {
	for _, glob := range []string{"testdata/errors/*.yaml", "examples/*.yaml"} {
		files, _ := filepath.Glob(glob)
		for _, name := range files {
			if data, err := os.ReadFile(name); err == nil {
				f.Add(data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse("healthsync.yaml", data, Options{System: crm.HubSpot, Clock: crm.FixedClock(testNow)})
		if err != nil {
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error %v is not a non-empty Errors", err)
			}
			for _, e := range es {
				if !strings.HasPrefix(e.Error(), "healthsync.yaml") {
					t.Fatalf("error without the file name: %q", e)
				}
			}
			return
		}
		m2, err := Parse("healthsync.yaml", data, Options{System: crm.HubSpot, Clock: crm.FixedClock(testNow)})
		if err != nil || m2.Hash() != m.Hash() {
			t.Fatalf("second parse: %v, hash stable %v", err, err == nil && m2.Hash() == m.Hash())
		}
		raw, _ := json.Marshal(map[string]any{"id": "1", "properties": map[string]string{
			"name": "x", "hs_timestamp": "1736496000000", "amount": "12", "csm_health": "Green"}})
		for _, obj := range m.Objects() {
			_, _ = m.Map(connector.Record{Object: obj, ID: "1", Raw: raw})
			_ = m.Fields(obj)
		}
		_ = m.FieldSpecs()
		for _, flag := range m.TaskFlags() {
			spec, _ := m.Task(flag)
			_, _ = spec.Build("k", TaskData{AccountName: "Acme"}, "1", testNow)
		}
	})
}
