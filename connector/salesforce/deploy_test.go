package salesforce

import (
	"bytes"
	"encoding/xml"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"healthsync/connector"
)

var update = flag.Bool("update", false, "rewrite deploy/salesforce from the mapping defaults")

const deployDir = "../../deploy/salesforce/force-app/main/default"

// dxField renders a CustomField as Salesforce DX source, from the same
// Metadata Install sends.
func dxField(spec connector.FieldSpec) ([]byte, error) {
	meta, err := FieldMetadata(spec)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CustomField xmlns=\"http://soap.sforce.com/2006/04/metadata\">\n")
	fmt.Fprintf(&b, "    <fullName>%s</fullName>\n", spec.Name)
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		var v bytes.Buffer
		_ = xml.EscapeText(&v, []byte(fmt.Sprint(meta[k])))
		fmt.Fprintf(&b, "    <%s>%s</%s>\n", k, v.String(), k)
	}
	b.WriteString("    <externalId>false</externalId>\n    <required>false</required>\n</CustomField>\n")
	return b.Bytes(), nil
}

func dxPermissionSet(specs []connector.FieldSpec) []byte {
	var b bytes.Buffer
	b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PermissionSet xmlns=\"http://soap.sforce.com/2006/04/metadata\">\n")
	b.WriteString("    <description>Read and edit the fields healthsync writes</description>\n")
	names := make([]string, len(specs))
	editable := map[string]bool{}
	for i, s := range specs {
		names[i] = s.Object + "." + s.Name
		editable[names[i]] = s.Formula == "" // formula fields are read-only
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "    <fieldPermissions>\n        <editable>%t</editable>\n        <field>%s</field>\n        <readable>true</readable>\n    </fieldPermissions>\n", editable[n], n)
	}
	fmt.Fprintf(&b, "    <hasActivationRequired>false</hasActivationRequired>\n    <label>%s</label>\n</PermissionSet>\n", PermissionSetName)
	return b.Bytes()
}

// TestDeployMetadataMatchesInstall checks that deploy/salesforce holds
// exactly the fields and permission set Install creates from the mapping
// defaults, as testdata/mapping-defaults.json holds them (go test -run
// TestDeploy -update rewrites deploy/salesforce).
func TestDeployMetadataMatchesInstall(t *testing.T) {
	m := loadDefaults(t)
	specs := m.FieldSpecs()
	want := map[string][]byte{}
	for _, s := range specs {
		b, err := dxField(s)
		if err != nil {
			t.Fatal(err)
		}
		want[filepath.Join("objects", s.Object, "fields", s.Name+".field-meta.xml")] = b
	}
	want[filepath.Join("permissionsets", PermissionSetName+".permissionset-meta.xml")] = dxPermissionSet(specs)
	if *update {
		_ = os.RemoveAll(deployDir)
		for p, b := range want {
			full := filepath.Join(deployDir, p)
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(full, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	got := map[string]bool{}
	err := filepath.WalkDir(deployDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(deployDir, p)
		got[rel] = true
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if w, ok := want[rel]; !ok {
			t.Errorf("deploy/salesforce has %s, which Install does not create", rel)
		} else if !bytes.Equal(w, data) {
			t.Errorf("deploy/salesforce %s differs from what Install creates (run go test -run TestDeploy -update):\n%s", rel, data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for p := range want {
		if !got[p] {
			t.Errorf("deploy/salesforce lacks %s", p)
		}
	}
	// The XML is well formed.
	for p := range want {
		var v struct{ XMLName xml.Name }
		if err := xml.Unmarshal(want[p], &v); err != nil || !strings.HasSuffix(p, ".xml") {
			t.Errorf("%s: %v", p, err)
		}
	}
}
