package salesforce

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"healthsync/connector"
)

// objectDescribe is the part of an object's describe healthsync uses.
type objectDescribe struct {
	name          string
	replicateable bool
	fields        []connector.Field
	byName        map[string]connector.Field // lower-cased name
	types         map[string]string          // lower-cased name → Salesforce type
}

func (d *objectDescribe) field(name string) (connector.Field, bool) {
	f, ok := d.byName[strings.ToLower(name)]
	return f, ok
}

// Describe implements sync.Source: the fields of object as the org
// describes them to the integration user (through simpleforce).
func (c *Client) Describe(ctx context.Context, object string) ([]connector.Field, error) {
	d, err := c.describe(ctx, object)
	if err != nil {
		return nil, err
	}
	return append([]connector.Field(nil), d.fields...), nil
}

// describe returns the object's describe, from the cache when present.
func (c *Client) describe(ctx context.Context, object string) (*objectDescribe, error) {
	c.mu.Lock()
	d := c.describes[object]
	c.mu.Unlock()
	if d != nil {
		return d, nil
	}
	d, err := c.fetchDescribe(ctx, object)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.describes[object] = d
	c.mu.Unlock()
	return d, nil
}

// forgetDescribe drops a cached describe (after Install added fields).
func (c *Client) forgetDescribe(object string) {
	c.mu.Lock()
	delete(c.describes, object)
	c.mu.Unlock()
}

func (c *Client) fetchDescribe(ctx context.Context, object string) (*objectDescribe, error) {
	if err := soqlName(object); err != nil {
		return nil, fmt.Errorf("describe: %w", err)
	}
	sc, t, err := c.simple(ctx)
	if err != nil {
		return nil, err
	}
	meta := sc.SObject(object).Describe()
	if meta == nil {
		// simpleforce's Describe drops its error; the transport kept it.
		if t.err != nil {
			return nil, fmt.Errorf("describe %s: %w", object, describeHint(object, t.err))
		}
		return nil, fmt.Errorf("describe %s: the answer is not a describe result", object)
	}
	data, err := json.Marshal(map[string]any(*meta))
	if err != nil {
		return nil, fmt.Errorf("describe %s: %w", object, err)
	}
	var raw struct {
		Name          string `json:"name"`
		Replicateable bool   `json:"replicateable"`
		Fields        []struct {
			Name       string `json:"name"`
			Label      string `json:"label"`
			Type       string `json:"type"`
			Updateable bool   `json:"updateable"`
			Calculated bool   `json:"calculated"`
			Custom     bool   `json:"custom"`
		} `json:"fields"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("describe %s: %w", object, err)
	}
	if len(raw.Fields) == 0 {
		return nil, fmt.Errorf("describe %s: no fields in the answer", object)
	}
	d := &objectDescribe{name: raw.Name, replicateable: raw.Replicateable, byName: map[string]connector.Field{}, types: map[string]string{}}
	for _, f := range raw.Fields {
		cf := connector.Field{Name: f.Name, Label: f.Label, Type: f.Type, Updateable: f.Updateable, Calculated: f.Calculated, Custom: f.Custom}
		d.fields = append(d.fields, cf)
		d.byName[strings.ToLower(f.Name)] = cf
		d.types[strings.ToLower(f.Name)] = f.Type
	}
	return d, nil
}

// describeHint adds the fix to the errors a describe commonly gets.
func describeHint(object string, err error) error {
	var apiErr *connector.APIError
	if ok := asAPIError(err, &apiErr); ok && (apiErr.Status == 404 || apiErr.Code == "NOT_FOUND" || apiErr.Code == "INVALID_TYPE") {
		return fmt.Errorf("object %s does not exist in the org or the integration user cannot see it (check the mapping file's objects and the user's profile): %w", object, err)
	}
	return err
}

// checkFields verifies that every field exists in the org, naming the
// object, the field and the fix.
func checkFields(object string, d *objectDescribe, fields []string) error {
	var missing []string
	for _, f := range fields {
		if _, ok := d.field(f); !ok {
			missing = append(missing, f)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	names := make([]string, len(missing))
	for i, f := range missing {
		names[i] = object + "." + f
	}
	return fmt.Errorf("%w: %s not found in the org's describe of %s: create the field (and grant the integration user field-level security on it), or change the mapping file (healthsync.yaml fields section) to a field that exists: %w",
		ErrMissingField, strings.Join(names, ", "), object, &connector.APIError{Code: "INVALID_FIELD", Message: "No such column " + strings.Join(missing, ", ") + " on entity " + object, Fields: missing})
}
