package connector_test

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

// above are the packages that sit above the connectors: they consume what
// a connector hands out, so a connector (or its tests) importing one would
// turn the arrows round (cmd → sync → {connector/*, mapping, scoring,
// store} → crm).
var above = []string{"healthsync/sync", "healthsync/mapping", "healthsync/scoring", "healthsync/store", "healthsync/status", "healthsync/cmd"}

// TestConnectorsImportNothingAbove lists every package ./connector/...
// and its tests build on, directly or not, and fails on any of above.
func TestConnectorsImportNothingAbove(t *testing.T) {
	t.Parallel()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list the imports: %v", err)
	}
	cmd := exec.Command(goTool, "list", "-deps", "-test", "-f", "{{.ImportPath}}\t{{join .Imports \" \"}}", "./...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	listed := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		pkg, imports, _ := strings.Cut(sc.Text(), "\t")
		listed++
		if name, _, _ := strings.Cut(pkg, " "); isAbove(name) {
			continue // reported where a connector package imports it
		}
		for _, imp := range strings.Fields(imports) {
			if isAbove(imp) {
				t.Errorf("%s imports %s: a connector must not depend on the packages that use it; move the shared type down into connector", pkg, imp)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if listed < 5 {
		t.Fatalf("go list named %d packages: it did not see ./connector/...:\n%s", listed, out)
	}
}

func isAbove(path string) bool {
	for _, a := range above {
		if path == a || strings.HasPrefix(path, a+"/") {
			return true
		}
	}
	return false
}
