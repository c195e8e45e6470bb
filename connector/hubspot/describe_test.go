package hubspot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"healthsync/connector"
	"healthsync/connector/hubspot"
)

// TestDescribeTellsHealthsyncPropertiesApart: what install created is in
// the healthsync group with its help text; HubSpot's own and other apps'
// properties are not.
func TestDescribeTellsHealthsyncPropertiesApart(t *testing.T) {
	t.Parallel()
	b := setup(t, noLimits())
	c := b.open(b.config(), hubspot.Deps{})
	installDefaults(t, c, b.clock)
	// Another app's property, in a group of its own.
	other := hubspot.Property{Name: "renewal_owner", Label: "Renewal owner", Type: "string", FieldType: "text", GroupName: "companyinformation", Description: "Set by the billing app."}
	body, _ := json.Marshal(other)
	req, _ := http.NewRequest(http.MethodPost, b.ts.URL+"/crm/v3/properties/companies", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+b.config().Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create another app's property: %s", resp.Status)
	}
	fields, err := c.Describe(context.Background(), "companies")
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]connector.Field{}
	for _, f := range fields {
		byName[f.Name] = f
	}
	m := loadDefaults(t)
	for _, spec := range m.FieldSpecs() {
		if spec.Object != "companies" {
			continue
		}
		f := byName[spec.Name]
		if f.Group != hubspot.PropertyGroup || !f.Custom || f.Help != spec.Help || !f.Updateable {
			t.Errorf("installed %s described as %+v, want group %s and help %q", spec.Name, f, hubspot.PropertyGroup, spec.Help)
		}
	}
	if f := byName["website"]; f.Custom || f.Group != "companyinformation" {
		t.Errorf("HubSpot's website described as %+v", f)
	}
	if f := byName["renewal_owner"]; !f.Custom || f.Group != "companyinformation" || f.Help != "Set by the billing app." || strings.Contains(f.Help, "healthsync") {
		t.Errorf("another app's property described as %+v", f)
	}
}

func TestPropertyForRefusesFormulas(t *testing.T) {
	t.Parallel()
	_, err := hubspot.PropertyFor(connector.FieldSpec{Object: "companies", Name: "days_to_renewal", Type: connector.FieldNumber, Formula: "x - TODAY()"})
	if err == nil {
		t.Error("a formula spec became a HubSpot property")
	}
}
