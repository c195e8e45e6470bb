package main

import (
	"fmt"
	"strings"
	"testing"

	"healthsync/mapping"
)

// TestSalesforceSyncReusesDescribes: describes outlive the process (in the
// store's state table), so a sync with nothing changed costs one call per
// object (its query's first page and deleted/ in one composite request),
// no describe.
func TestSalesforceSyncReusesDescribes(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	em, env, mapFile := salesforceEnv(t)
	m, err := mapping.Load(mapFile, mapping.Options{})
	if err != nil {
		t.Fatal(err)
	}
	objects := len(m.Objects())
	runBinary(t, bin, env, "sync")
	before := em.APICalls()
	out := runBinary(t, bin, env, "sync")
	want := objects
	if got := int(em.APICalls() - before); got != want {
		t.Errorf("unchanged sync made %d API calls, want %d (one composite query + deleted/ per object, no describe):\n%s", got, want, out)
	}
	if !strings.Contains(out, fmt.Sprintf("API calls: %d.", want)) {
		t.Errorf("the sync report does not say %d API calls:\n%s", want, out)
	}
}
