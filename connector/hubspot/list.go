package hubspot

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"healthsync/connector"
)

// ListIDs streams the IDs of every live record of object (100 per call,
// only hs_object_id requested), for the reconciliation that finds hard
// deletes. For owners it lists live and archived owners, as Pull emits both.
func (c *Client) ListIDs(ctx context.Context, objectName string, fn func(ids []string) error) error {
	if objectName == Owners {
		for _, archived := range []bool{false, true} {
			err := c.listOwners(ctx, archived, func(raws []json.RawMessage) error {
				ids := make([]string, 0, len(raws))
				for _, raw := range raws {
					var w owner
					if err := json.Unmarshal(raw, &w); err != nil || w.ID == "" {
						return fmt.Errorf("list owners: %w", connector.MalformedError(http.StatusOK, nil, raw, err))
					}
					ids = append(ids, w.ID)
				}
				if len(ids) == 0 {
					return nil
				}
				return fn(ids)
			})
			if err != nil {
				return err
			}
		}
		return nil
	}
	o, err := lookup(objectName)
	if err != nil {
		return err
	}
	q := url.Values{}
	q.Set("limit", strconv.Itoa(listPageSize))
	q.Set("properties", "hs_object_id")
	guard := c.guard(http.MethodGet, "/crm/v3/objects/"+objPath(o.name))
	for {
		var res pageResponse
		if _, err := c.call(ctx, http.MethodGet, "/crm/v3/objects/"+objPath(o.name), q, nil, &res); err != nil {
			return fmt.Errorf("list %s IDs: %w", o.name, err)
		}
		next := res.next()
		if next != "" {
			if err := guard.Follow(next); err != nil {
				return fmt.Errorf("list %s IDs: %w", o.name, err)
			}
		}
		ids := make([]string, 0, len(res.Results))
		for _, raw := range res.Results {
			var w wireRecord
			if err := json.Unmarshal(raw, &w); err != nil || w.ID == "" {
				return fmt.Errorf("list %s IDs: %w", o.name, connector.MalformedError(http.StatusOK, nil, raw, err))
			}
			ids = append(ids, w.ID)
		}
		if len(ids) > 0 {
			if err := fn(ids); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		q.Set("after", next)
	}
}

// propertyDef is a property as GET /crm/v3/properties/{type} returns it.
type propertyDef struct {
	Name                 string `json:"name"`
	Label                string `json:"label"`
	Type                 string `json:"type"`
	FieldType            string `json:"fieldType"`
	GroupName            string `json:"groupName"`
	Description          string `json:"description"`
	Calculated           bool   `json:"calculated"`
	HubspotDefined       bool   `json:"hubspotDefined"`
	ModificationMetadata struct {
		ReadOnlyValue bool `json:"readOnlyValue"`
	} `json:"modificationMetadata"`
}

// ownerFields are the fields of an owner (there is no properties API for them).
var ownerFields = []connector.Field{
	{Name: "id", Label: "Owner ID", Type: "string"},
	{Name: "email", Label: "Email", Type: "string"},
	{Name: "firstName", Label: "First name", Type: "string"},
	{Name: "lastName", Label: "Last name", Type: "string"},
	{Name: "userId", Label: "User ID", Type: "number"},
	{Name: "archived", Label: "Archived", Type: "bool"},
	{Name: "createdAt", Label: "Created at", Type: "datetime"},
	{Name: "updatedAt", Label: "Updated at", Type: "datetime"},
}

// Describe returns the properties of object from
// GET /crm/v3/properties/{object} (owners: their fixed fields, no call).
func (c *Client) Describe(ctx context.Context, objectName string) ([]connector.Field, error) {
	if objectName == Owners {
		return append([]connector.Field(nil), ownerFields...), nil
	}
	o, err := lookup(objectName)
	if err != nil {
		return nil, err
	}
	defs, err := c.properties(ctx, o.name)
	if err != nil {
		return nil, fmt.Errorf("describe %s: %w", o.name, err)
	}
	out := make([]connector.Field, 0, len(defs))
	for _, d := range defs {
		out = append(out, connector.Field{Name: d.Name, Label: d.Label, Type: d.Type,
			Updateable: !d.ModificationMetadata.ReadOnlyValue && !d.Calculated,
			Calculated: d.Calculated, Custom: !d.HubspotDefined, Help: d.Description, Group: d.GroupName})
	}
	return out, nil
}

// properties lists an object's property definitions.
func (c *Client) properties(ctx context.Context, objectName string) ([]propertyDef, error) {
	var res struct {
		Results []propertyDef `json:"results"`
	}
	if _, err := c.call(ctx, http.MethodGet, "/crm/v3/properties/"+objPath(objectName), nil, nil, &res); err != nil {
		return nil, err
	}
	return res.Results, nil
}
