package hubspot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"

	"healthsync/connector"
)

// PropertyGroup is the property group healthsync's properties live in.
const PropertyGroup = "healthsync"

// PropertyGroupLabel is its label.
const PropertyGroupLabel = "Healthsync"

// Property is a HubSpot property definition as POST /crm/v3/properties/{type}
// takes it (and as deploy/hubspot/properties.json lists it).
type Property struct {
	Name        string `json:"name"`
	Label       string `json:"label"`
	Type        string `json:"type"`
	FieldType   string `json:"fieldType"`
	GroupName   string `json:"groupName"`
	Description string `json:"description,omitempty"`
}

// Definitions are the property group and properties healthsync installs,
// by object type.
type Definitions struct {
	Group      map[string]string     `json:"group"`
	Properties map[string][]Property `json:"properties"`
}

// PropertyFor turns a portable field spec into a HubSpot property.
func PropertyFor(f connector.FieldSpec) (Property, error) {
	if f.Formula != "" {
		return Property{}, fmt.Errorf("property %s.%s: a formula field is a Salesforce field: HubSpot properties healthsync installs hold values it writes", f.Object, f.Name)
	}
	p := Property{Name: f.Name, Label: f.Label, GroupName: PropertyGroup, Description: f.Help}
	switch f.Type {
	case connector.FieldNumber:
		p.Type, p.FieldType = "number", "number"
	case connector.FieldText:
		p.Type, p.FieldType = "string", "text"
	case connector.FieldLongText:
		p.Type, p.FieldType = "string", "textarea"
	case connector.FieldDate:
		p.Type, p.FieldType = "date", "date"
	case connector.FieldDateTime:
		p.Type, p.FieldType = "datetime", "date"
	default:
		return Property{}, fmt.Errorf("property %s.%s: field type %q is not one healthsync installs", f.Object, f.Name, f.Type)
	}
	if p.Label == "" {
		p.Label = f.Name
	}
	return p, nil
}

// DefinitionsFor returns the definitions Install creates for fields.
func DefinitionsFor(fields []connector.FieldSpec) (Definitions, error) {
	d := Definitions{Group: map[string]string{"name": PropertyGroup, "label": PropertyGroupLabel}, Properties: map[string][]Property{}}
	for _, f := range fields {
		if _, err := lookup(f.Object); err != nil {
			return Definitions{}, fmt.Errorf("property %s: %w", f.Name, err)
		}
		p, err := PropertyFor(f)
		if err != nil {
			return Definitions{}, err
		}
		d.Properties[f.Object] = append(d.Properties[f.Object], p)
	}
	for _, ps := range d.Properties {
		sort.Slice(ps, func(i, j int) bool { return ps[i].Name < ps[j].Name })
	}
	return d, nil
}

// Install creates the property group "healthsync" and each property on
// its object, idempotently: what exists is left alone (a property of the
// same name but another type is an error naming it), a 409 from a
// concurrent install counts as existing. It returns what it created:
// "companies group healthsync", "companies.healthsync_score", ...
func (c *Client) Install(ctx context.Context, fields []connector.FieldSpec) ([]string, error) {
	defs, err := DefinitionsFor(fields)
	if err != nil {
		return nil, fmt.Errorf("install: %w", err)
	}
	objs := make([]string, 0, len(defs.Properties))
	for o := range defs.Properties {
		objs = append(objs, o)
	}
	sort.Strings(objs)
	var created []string
	var problems []error
	for _, obj := range objs {
		var groups struct {
			Results []struct {
				Name string `json:"name"`
			} `json:"results"`
		}
		if _, err := c.call(ctx, http.MethodGet, "/crm/v3/properties/"+objPath(obj)+"/groups", nil, nil, &groups); err != nil {
			return created, fmt.Errorf("install: list %s property groups: %w", obj, err)
		}
		hasGroup := false
		for _, g := range groups.Results {
			hasGroup = hasGroup || g.Name == PropertyGroup
		}
		if !hasGroup {
			_, err := c.call(ctx, http.MethodPost, "/crm/v3/properties/"+objPath(obj)+"/groups", nil, defs.Group, nil)
			if e, ok := apiError(err); err != nil && !(ok && e.Status == http.StatusConflict) {
				return created, fmt.Errorf("install: create %s property group %s: %w", obj, PropertyGroup, err)
			} else if err == nil {
				created = append(created, obj+" group "+PropertyGroup)
			}
		}
		existing, err := c.properties(ctx, obj)
		if err != nil {
			return created, fmt.Errorf("install: list %s properties: %w", obj, err)
		}
		byName := map[string]propertyDef{}
		for _, p := range existing {
			byName[p.Name] = p
		}
		for _, p := range defs.Properties[obj] {
			if have, ok := byName[p.Name]; ok {
				if have.Type != p.Type {
					problems = append(problems, fmt.Errorf("property %s.%s exists with type %s but healthsync writes %s: delete it in HubSpot or name another property in the mapping's outputs",
						obj, p.Name, have.Type, p.Type))
				}
				continue
			}
			_, err := c.call(ctx, http.MethodPost, "/crm/v3/properties/"+objPath(obj), nil, p, nil)
			if e, ok := apiError(err); err != nil && ok && e.Status == http.StatusConflict {
				continue
			} else if err != nil {
				return created, fmt.Errorf("install: create property %s.%s: %w", obj, p.Name, err)
			}
			created = append(created, obj+"."+p.Name)
		}
	}
	return created, errors.Join(problems...)
}
