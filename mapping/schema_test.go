package mapping

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

const shippedSchema = "../docs/mapping/healthsync.schema.json"

// TestShippedSchemaIsCurrent fails when docs/mapping/healthsync.schema.json
// no longer matches the config structs. Regenerate it with
// `go test ./mapping -run Schema -update`.
func TestShippedSchemaIsCurrent(t *testing.T) {
	t.Parallel()
	got, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(shippedSchema, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(shippedSchema)
	if err != nil {
		t.Fatalf("read %s (run with -update to create it): %v", shippedSchema, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale: run `go test ./mapping -run Schema -update` and commit it", shippedSchema)
	}
}

func TestSchemaDescribesTheLoader(t *testing.T) {
	t.Parallel()
	b, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Properties map[string]struct {
			AdditionalProperties any                        `json:"additionalProperties"`
			Properties           map[string]json.RawMessage `json:"properties"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"version", "crm", "fields", "classify", "outputs", "tasks", "scoring"} {
		if _, ok := s.Properties[key]; !ok {
			t.Errorf("schema lacks top-level key %q", key)
		}
	}
	if s.Properties["scoring"].AdditionalProperties != false {
		t.Error("scoring must reject unknown keys in the schema, as the loader does")
	}
	var system struct {
		Enum []string `json:"enum"`
	}
	if err := json.Unmarshal(s.Properties["crm"].Properties["system"], &system); err != nil || len(system.Enum) != 2 {
		t.Errorf("crm.system enum = %v, %v", system.Enum, err)
	}
	if _, ok := s.Properties["scoring"].Properties["weights"]; !ok {
		t.Error("schema lacks scoring.weights")
	}
}
