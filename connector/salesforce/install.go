package salesforce

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"healthsync/connector"
)

// PermissionSetName is the permission set Install creates and assigns to
// the integration user; deploy/salesforce holds the same one.
const PermissionSetName = "Healthsync"

// FieldMetadata returns the Tooling API CustomField Metadata Install sends
// for spec (the same values deploy/salesforce's .field-meta.xml files hold).
func FieldMetadata(spec connector.FieldSpec) (map[string]any, error) {
	if !strings.HasSuffix(spec.Name, "__c") {
		return nil, fmt.Errorf("field %s.%s: custom field names end in __c", spec.Object, spec.Name)
	}
	label := spec.Label
	if label == "" {
		label = strings.ReplaceAll(strings.TrimSuffix(spec.Name, "__c"), "_", " ")
	}
	m := map[string]any{"label": label}
	if spec.Help != "" {
		m["inlineHelpText"] = spec.Help
		m["description"] = spec.Help
	}
	switch spec.Type {
	case connector.FieldNumber:
		p, s := spec.Precision, spec.Scale
		if p == 0 {
			p = 18
		}
		m["type"], m["precision"], m["scale"] = "Number", p, s
	case connector.FieldText:
		l := spec.Length
		if l == 0 {
			l = 255
		}
		m["type"], m["length"] = "Text", l
	case connector.FieldLongText:
		l := spec.Length
		if l == 0 {
			l = 32768
		}
		m["type"], m["length"], m["visibleLines"] = "LongTextArea", l, 5
	case connector.FieldDate:
		m["type"] = "Date"
	case connector.FieldDateTime:
		m["type"] = "DateTime"
	default:
		return nil, fmt.Errorf("field %s.%s: unknown type %q (use number, text, longtext, date or datetime)", spec.Object, spec.Name, spec.Type)
	}
	return m, nil
}

// Install implements sync.Sink. Idempotently, it creates
//
//   - each custom field of fields missing from its object's describe
//     (POST tooling/sobjects/CustomField; a duplicate answer counts as
//     present),
//   - the permission set "Healthsync" (sobjects/PermissionSet),
//   - a FieldPermissions record granting read and edit on every field
//     (an existing one without edit is updated),
//   - the permission set's assignment to the integration user,
//
// and returns a line per thing it created or changed (none on a re-run).
func (c *Client) Install(ctx context.Context, fields []connector.FieldSpec) ([]string, error) {
	var done []string
	base, err := c.dataURL(ctx)
	if err != nil {
		return nil, fmt.Errorf("install: %w", err)
	}
	objects := map[string]bool{}
	for _, f := range fields {
		if err := soqlName(f.Object); err != nil {
			return done, fmt.Errorf("install: %w", err)
		}
		if err := soqlName(f.Name); err != nil {
			return done, fmt.Errorf("install: %w", err)
		}
		meta, err := FieldMetadata(f)
		if err != nil {
			return done, fmt.Errorf("install: %w", err)
		}
		d, err := c.fetchDescribe(ctx, f.Object)
		if err != nil {
			return done, fmt.Errorf("install: %w", err)
		}
		objects[f.Object] = true
		if _, ok := d.field(f.Name); ok {
			continue
		}
		var out struct {
			ID string `json:"id"`
		}
		err = c.sendJSON(connector.NonIdempotent(ctx), http.MethodPost, base+"/tooling/sobjects/CustomField",
			map[string]any{"FullName": f.Object + "." + f.Name, "Metadata": meta}, &out)
		var apiErr *connector.APIError
		switch {
		case err == nil:
			done = append(done, fmt.Sprintf("created field %s.%s (%s)", f.Object, f.Name, meta["type"]))
		case errors.As(err, &apiErr) && strings.HasPrefix(apiErr.Code, "DUPLICATE"):
			// Present but hidden from the integration user's describe.
		default:
			return done, fmt.Errorf("install: create field %s.%s: %w", f.Object, f.Name, err)
		}
	}
	for o := range objects {
		c.forgetDescribe(o)
	}

	psID, created, err := c.ensurePermissionSet(ctx, base)
	if err != nil {
		return done, fmt.Errorf("install: %w", err)
	}
	if created {
		done = append(done, "created permission set "+PermissionSetName)
	}
	lines, err := c.ensureFieldPermissions(ctx, base, psID, fields)
	done = append(done, lines...)
	if err != nil {
		return done, fmt.Errorf("install: %w", err)
	}
	user, err := c.integrationUserID(ctx)
	if err != nil {
		return done, fmt.Errorf("install: %w", err)
	}
	n, err := c.count(ctx, "query", "SELECT COUNT() FROM PermissionSetAssignment WHERE PermissionSetId = "+soqlString(psID)+" AND AssigneeId = "+soqlString(user))
	if err != nil {
		return done, fmt.Errorf("install: find the permission set assignment: %w", err)
	}
	if n == 0 {
		if err := c.sendJSON(connector.NonIdempotent(ctx), http.MethodPost, base+"/sobjects/PermissionSetAssignment",
			map[string]any{"PermissionSetId": psID, "AssigneeId": user}, nil); err != nil {
			return done, fmt.Errorf("install: assign permission set %s to user %s: %w", PermissionSetName, user, err)
		}
		done = append(done, fmt.Sprintf("assigned permission set %s to the integration user %s", PermissionSetName, user))
	}
	return done, nil
}

// ensurePermissionSet finds or creates the Healthsync permission set.
func (c *Client) ensurePermissionSet(ctx context.Context, base string) (id string, created bool, err error) {
	err = c.queryPages(ctx, "query", "SELECT Id FROM PermissionSet WHERE Name = "+soqlString(PermissionSetName), func(recs []rawRecord, _ int) error {
		if len(recs) > 0 {
			id = recs[0].str("Id")
		}
		return nil
	})
	if err != nil {
		return "", false, fmt.Errorf("find permission set %s: %w", PermissionSetName, err)
	}
	if id != "" {
		return id, false, nil
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := c.sendJSON(connector.NonIdempotent(ctx), http.MethodPost, base+"/sobjects/PermissionSet",
		map[string]any{"Name": PermissionSetName, "Label": PermissionSetName}, &out); err != nil {
		return "", false, fmt.Errorf("create permission set %s: %w", PermissionSetName, err)
	}
	if out.ID == "" {
		return "", false, fmt.Errorf("create permission set %s: the answer has no id", PermissionSetName)
	}
	return out.ID, true, nil
}

// ensureFieldPermissions grants read and edit on every field through the
// permission set.
func (c *Client) ensureFieldPermissions(ctx context.Context, base, psID string, fields []connector.FieldSpec) ([]string, error) {
	type fp struct {
		id         string
		read, edit bool
	}
	have := map[string]fp{}
	err := c.queryPages(ctx, "query", "SELECT Id, Field, PermissionsRead, PermissionsEdit FROM FieldPermissions WHERE ParentId = "+soqlString(psID), func(recs []rawRecord, _ int) error {
		for _, r := range recs {
			read, _ := r["PermissionsRead"].(bool)
			edit, _ := r["PermissionsEdit"].(bool)
			have[strings.ToLower(r.str("Field"))] = fp{id: r.str("Id"), read: read, edit: edit}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read field permissions: %w", err)
	}
	specs := append([]connector.FieldSpec(nil), fields...)
	sort.Slice(specs, func(i, j int) bool { return specs[i].Object+"."+specs[i].Name < specs[j].Object+"."+specs[j].Name })
	var done []string
	for _, f := range specs {
		full := f.Object + "." + f.Name
		cur, ok := have[strings.ToLower(full)]
		switch {
		case !ok:
			if err := c.sendJSON(connector.NonIdempotent(ctx), http.MethodPost, base+"/sobjects/FieldPermissions",
				map[string]any{"ParentId": psID, "SobjectType": f.Object, "Field": full, "PermissionsRead": true, "PermissionsEdit": true}, nil); err != nil {
				return done, fmt.Errorf("grant read/edit on %s: %w", full, err)
			}
			done = append(done, "granted read/edit on "+full+" to permission set "+PermissionSetName)
		case !cur.read || !cur.edit:
			if err := c.sendJSON(ctx, http.MethodPatch, base+"/sobjects/FieldPermissions/"+cur.id,
				map[string]any{"PermissionsRead": true, "PermissionsEdit": true}, nil); err != nil {
				return done, fmt.Errorf("grant read/edit on %s: %w", full, err)
			}
			done = append(done, "changed "+full+" to read/edit in permission set "+PermissionSetName)
		}
		have[strings.ToLower(full)] = fp{read: true, edit: true}
	}
	return done, nil
}
