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
	if spec.Formula != "" {
		// A formula field: Salesforce computes it when it is read, so a
		// day counter never needs a write. A blank input (no date yet)
		// gives a blank counter, not a count from 0.
		switch spec.Type {
		case connector.FieldNumber:
			p, s := spec.Precision, spec.Scale
			if p == 0 {
				p = 18
			}
			m["type"], m["precision"], m["scale"] = "Number", p, s
		case connector.FieldDate:
			m["type"] = "Date"
		default:
			return nil, fmt.Errorf("field %s.%s: a formula field healthsync installs is a number or a date, not %q", spec.Object, spec.Name, spec.Type)
		}
		m["formula"], m["formulaTreatBlanksAs"] = spec.Formula, "BlankAsBlank"
		return m, nil
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
//     present), formula fields after the fields they reference,
//   - the permission set "Healthsync" (sobjects/PermissionSet),
//   - a FieldPermissions record granting read and edit on every field,
//     read only on formula fields (Salesforce refuses edit on them; an
//     existing one without read, or without edit on a field healthsync
//     writes, is updated),
//   - the permission set's assignment to the integration user,
//
// and returns a line per thing it created or changed (none on a re-run).
// A field that exists with the other kind (a plain field where healthsync
// now installs a formula, or the reverse) is left alone and reported in
// the error, with the fix, after everything else is done.
func (c *Client) Install(ctx context.Context, fields []connector.FieldSpec) ([]string, error) {
	var done []string
	base, err := c.dataURL(ctx)
	if err != nil {
		return nil, fmt.Errorf("install: %w", err)
	}
	ordered, err := installOrder(fields)
	if err != nil {
		return nil, fmt.Errorf("install: %w", err)
	}
	describes := map[string]*objectDescribe{}
	var problems []error
	var grant []connector.FieldSpec
	for _, f := range ordered {
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
		d := describes[f.Object]
		if d == nil {
			if d, err = c.fetchDescribe(ctx, f.Object); err != nil {
				return done, fmt.Errorf("install: %w", err)
			}
			describes[f.Object] = d
		}
		if have, ok := d.field(f.Name); ok {
			switch {
			case f.Formula != "" && !have.Calculated:
				problems = append(problems, fmt.Errorf("field %s.%s exists as a plain field, but healthsync now installs it as a formula field (%s) that Salesforce keeps current by itself: delete the field in Setup (Object Manager → %s → Fields & Relationships), erase it from the recycle bin, and run install again",
					f.Object, f.Name, f.Formula, f.Object))
				continue
			case f.Formula == "" && have.Calculated:
				problems = append(problems, fmt.Errorf("field %s.%s is a formula field in the org, but healthsync writes to it: delete it in Setup (Object Manager → %s → Fields & Relationships) and run install again, or name another field in the mapping's outputs",
					f.Object, f.Name, f.Object))
				continue
			}
			grant = append(grant, f)
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
			kind := fmt.Sprint(meta["type"])
			if f.Formula != "" {
				kind = "formula " + kind + ": " + f.Formula
			}
			done = append(done, fmt.Sprintf("created field %s.%s (%s)", f.Object, f.Name, kind))
		case errors.As(err, &apiErr) && strings.HasPrefix(apiErr.Code, "DUPLICATE"):
			// Present but hidden from the integration user's describe.
		default:
			return done, fmt.Errorf("install: create field %s.%s: %w", f.Object, f.Name, err)
		}
		grant = append(grant, f)
	}
	for o := range describes {
		c.forgetDescribe(o)
	}

	psID, created, err := c.ensurePermissionSet(ctx, base)
	if err != nil {
		return done, fmt.Errorf("install: %w", err)
	}
	if created {
		done = append(done, "created permission set "+PermissionSetName)
	}
	lines, err := c.ensureFieldPermissions(ctx, base, psID, grant)
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
	if len(problems) > 0 {
		return done, fmt.Errorf("install: %w", errors.Join(problems...))
	}
	return done, nil
}

// installOrder returns fields with the plain fields first, in their
// order, then the formula fields, each after the fields of the same
// object its formula names: Salesforce refuses a formula that names a
// field not created yet.
func installOrder(fields []connector.FieldSpec) ([]connector.FieldSpec, error) {
	var out, pending []connector.FieldSpec
	formulaField := map[string]bool{} // lower-case Object.Name of formula specs
	for _, f := range fields {
		if f.Formula == "" {
			out = append(out, f)
			continue
		}
		pending = append(pending, f)
		formulaField[strings.ToLower(f.Object+"."+f.Name)] = true
	}
	placed := map[string]bool{}
	for len(pending) > 0 {
		var rest []connector.FieldSpec
		for _, f := range pending {
			ready := true
			for _, ref := range formulaNames(f.Formula) {
				key := strings.ToLower(f.Object + "." + ref)
				if formulaField[key] && !placed[key] {
					ready = false
				}
			}
			if ready {
				out = append(out, f)
				placed[strings.ToLower(f.Object+"."+f.Name)] = true
			} else {
				rest = append(rest, f)
			}
		}
		if len(rest) == len(pending) {
			names := make([]string, len(rest))
			for i, f := range rest {
				names[i] = f.Object + "." + f.Name
			}
			return nil, fmt.Errorf("the formulas of %s name each other: Salesforce cannot create them", strings.Join(names, ", "))
		}
		pending = rest
	}
	return out, nil
}

// formulaNames returns the names a formula's text holds (fields and
// functions alike), outside string literals.
func formulaNames(formula string) []string {
	var out []string
	var quote rune
	start := -1
	flush := func(end int) {
		if start >= 0 {
			out = append(out, formula[start:end])
			start = -1
		}
	}
	for i, r := range formula {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '"' || r == '\'':
			flush(i)
			quote = r
		case r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
			if start < 0 {
				start = i
			}
		default:
			flush(i)
		}
	}
	flush(len(formula))
	return out
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
// permission set; read only on formula fields.
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
		// Salesforce refuses edit on a formula field: healthsync only reads it.
		edit := f.Formula == ""
		access := "read/edit"
		if !edit {
			access = "read"
		}
		switch {
		case !ok:
			if err := c.sendJSON(connector.NonIdempotent(ctx), http.MethodPost, base+"/sobjects/FieldPermissions",
				map[string]any{"ParentId": psID, "SobjectType": f.Object, "Field": full, "PermissionsRead": true, "PermissionsEdit": edit}, nil); err != nil {
				return done, fmt.Errorf("grant %s on %s: %w", access, full, err)
			}
			done = append(done, "granted "+access+" on "+full+" to permission set "+PermissionSetName)
		case !cur.read || (edit && !cur.edit):
			if err := c.sendJSON(ctx, http.MethodPatch, base+"/sobjects/FieldPermissions/"+cur.id,
				map[string]any{"PermissionsRead": true, "PermissionsEdit": edit}, nil); err != nil {
				return done, fmt.Errorf("grant %s on %s: %w", access, full, err)
			}
			done = append(done, "changed "+full+" to "+access+" in permission set "+PermissionSetName)
		}
		have[strings.ToLower(full)] = fp{read: true, edit: edit}
	}
	return done, nil
}
