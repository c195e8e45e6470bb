package salesforce

import (
	"sort"
	"strings"
)

type picklistEntry struct {
	Active       bool    `json:"active"`
	DefaultValue bool    `json:"defaultValue"`
	Label        string  `json:"label"`
	ValidFor     *string `json:"validFor"`
	Value        string  `json:"value"`
}

// fieldDescribe is one entry of describe's "fields", with the keys the
// real API returns.
type fieldDescribe struct {
	Aggregatable            bool            `json:"aggregatable"`
	AutoNumber              bool            `json:"autoNumber"`
	ByteLength              int             `json:"byteLength"`
	Calculated              bool            `json:"calculated"`
	CalculatedFormula       *string         `json:"calculatedFormula"`
	CascadeDelete           bool            `json:"cascadeDelete"`
	CaseSensitive           bool            `json:"caseSensitive"`
	ControllerName          *string         `json:"controllerName"`
	Createable              bool            `json:"createable"`
	Custom                  bool            `json:"custom"`
	DefaultValue            any             `json:"defaultValue"`
	DefaultValueFormula     *string         `json:"defaultValueFormula"`
	DefaultedOnCreate       bool            `json:"defaultedOnCreate"`
	DependentPicklist       bool            `json:"dependentPicklist"`
	DeprecatedAndHidden     bool            `json:"deprecatedAndHidden"`
	Digits                  int             `json:"digits"`
	ExternalID              bool            `json:"externalId"`
	Filterable              bool            `json:"filterable"`
	FormulaTreatNullAsZero  bool            `json:"formulaTreatNullNumberAsZero"`
	Groupable               bool            `json:"groupable"`
	HTMLFormatted           bool            `json:"htmlFormatted"`
	IDLookup                bool            `json:"idLookup"`
	InlineHelpText          *string         `json:"inlineHelpText"`
	Label                   string          `json:"label"`
	Length                  int             `json:"length"`
	Name                    string          `json:"name"`
	NameField               bool            `json:"nameField"`
	NamePointing            bool            `json:"namePointing"`
	Nillable                bool            `json:"nillable"`
	Permissionable          bool            `json:"permissionable"`
	PicklistValues          []picklistEntry `json:"picklistValues"`
	Precision               int             `json:"precision"`
	ReferenceTo             []string        `json:"referenceTo"`
	RelationshipName        *string         `json:"relationshipName"`
	RelationshipOrder       *int            `json:"relationshipOrder"`
	RestrictedPicklist      bool            `json:"restrictedPicklist"`
	Scale                   int             `json:"scale"`
	SoapType                string          `json:"soapType"`
	Sortable                bool            `json:"sortable"`
	Type                    string          `json:"type"`
	Unique                  bool            `json:"unique"`
	Updateable              bool            `json:"updateable"`
	WriteRequiresMasterRead bool            `json:"writeRequiresMasterRead"`
}

var soapTypes = map[string]string{
	tID: "tns:ID", tReference: "tns:ID", tBoolean: "xsd:boolean", tDouble: "xsd:double", tCurrency: "xsd:double",
	tPercent: "xsd:double", tInt: "xsd:int", tDate: "xsd:date", tDateTime: "xsd:dateTime", tAnyType: "xsd:anyType",
}

func describeField(o *object, f *field, granted bool) fieldDescribe {
	d := fieldDescribe{
		Aggregatable: f.typ != tTextarea && f.typ != tBoolean, ByteLength: f.length * 3, Calculated: f.calculated,
		Createable: f.createable && granted, Custom: f.custom, DefaultedOnCreate: f.defaultedOnCreate,
		Digits: f.digits, ExternalID: f.externalID, Filterable: f.typ != tTextarea, Groupable: f.typ != tTextarea && !f.isNumber(),
		IDLookup: f.typ == tID || f.externalID || (f.nameField && o.name != "Contact" && o.name != "User") || f.name == "Email" && o.name == "User",
		Label:    f.label, Length: f.length, Name: f.name, NameField: f.nameField, Nillable: f.nillable,
		Permissionable: f.custom || (f.nillable && f.updateable), PicklistValues: []picklistEntry{}, Precision: f.precision,
		ReferenceTo: []string{}, Scale: f.scale, SoapType: "xsd:string", Sortable: f.typ != tTextarea, Type: f.typ,
		Unique: f.name == "Username", Updateable: f.updateable && granted,
	}
	if f.typ == tID {
		d.ByteLength = 18
	}
	if f.typ == tAnyType {
		// OldValue and NewValue sort but neither filter nor group.
		d.Filterable, d.Groupable, d.Aggregatable = false, false, false
	}
	if o.historyOf != "" && (f.name == "Field" || f.name == "DataType") {
		d.RestrictedPicklist = true
	}
	if f.helpText != "" {
		help := f.helpText
		d.InlineHelpText = &help
	}
	if f.formula != nil {
		text := f.formula.text
		d.CalculatedFormula = &text
		d.FormulaTreatNullAsZero = f.formula.blankAsZero
		d.Permissionable, d.Groupable = true, false
	}
	if st, ok := soapTypes[f.typ]; ok {
		d.SoapType = st
	}
	if f.typ == tBoolean {
		d.DefaultValue = false
	}
	for _, v := range f.picklist {
		d.PicklistValues = append(d.PicklistValues, picklistEntry{Active: true, DefaultValue: v == f.defaultPick, Label: v, Value: v})
	}
	if len(f.referenceTo) > 0 {
		d.ReferenceTo = append(d.ReferenceTo, f.referenceTo...)
		rel := f.relationshipName
		d.RelationshipName = &rel
		d.NamePointing = len(f.referenceTo) > 1
	}
	return d
}

func objectURLs(o *object, version string) map[string]string {
	p := "/services/data/v" + version + "/sobjects/" + o.name
	if o.tooling {
		p = "/services/data/v" + version + "/tooling/sobjects/" + o.name
	}
	return map[string]string{"sobject": p, "describe": p + "/describe", "rowTemplate": p + "/{ID}"}
}

type globalSObject struct {
	Activateable        bool              `json:"activateable"`
	Createable          bool              `json:"createable"`
	Custom              bool              `json:"custom"`
	CustomSetting       bool              `json:"customSetting"`
	Deletable           bool              `json:"deletable"`
	DeprecatedAndHidden bool              `json:"deprecatedAndHidden"`
	FeedEnabled         bool              `json:"feedEnabled"`
	KeyPrefix           string            `json:"keyPrefix"`
	Label               string            `json:"label"`
	LabelPlural         string            `json:"labelPlural"`
	Layoutable          bool              `json:"layoutable"`
	Mergeable           bool              `json:"mergeable"`
	MruEnabled          bool              `json:"mruEnabled"`
	Name                string            `json:"name"`
	Queryable           bool              `json:"queryable"`
	Replicateable       bool              `json:"replicateable"`
	Retrieveable        bool              `json:"retrieveable"`
	Searchable          bool              `json:"searchable"`
	Triggerable         bool              `json:"triggerable"`
	Undeletable         bool              `json:"undeletable"`
	Updateable          bool              `json:"updateable"`
	URLs                map[string]string `json:"urls"`
}

func globalOf(o *object, version string) globalSObject {
	if o.historyOf != "" {
		// History objects: query and retrieve only.
		return globalSObject{KeyPrefix: o.prefix, Label: o.label, LabelPlural: o.labelPlural, Name: o.name,
			Queryable: true, Replicateable: true, Retrieveable: true, URLs: objectURLs(o, version)}
	}
	return globalSObject{
		Createable: o.createable, Custom: o.custom, Deletable: o.deletable, KeyPrefix: o.prefix, Label: o.label,
		LabelPlural: o.labelPlural, Layoutable: !o.tooling, Mergeable: o.name == "Account" || o.name == "Contact",
		MruEnabled: !o.tooling, Name: o.name, Queryable: o.queryable, Replicateable: o.hasIsDeleted || o.name == "User",
		Retrieveable: true, Searchable: o.hasIsDeleted, Triggerable: o.hasIsDeleted, Undeletable: o.hasIsDeleted,
		Updateable: o.updateable, URLs: objectURLs(o, version),
	}
}

// describeGlobal lists the objects of one API (REST or Tooling).
func (s *Server) describeGlobal(version string, tooling bool) map[string]any {
	var objs []globalSObject
	for _, o := range s.db.schema {
		if !s.db.historyOn(o) {
			continue
		}
		if (tooling && (o.tooling || o.alsoTooling)) || (!tooling && !o.tooling) {
			objs = append(objs, globalOf(o, version))
		}
	}
	sort.Slice(objs, func(i, j int) bool { return objs[i].Name < objs[j].Name })
	return map[string]any{"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": objs}
}

type childRelationship struct {
	CascadeDelete       bool    `json:"cascadeDelete"`
	ChildSObject        string  `json:"childSObject"`
	DeprecatedAndHidden bool    `json:"deprecatedAndHidden"`
	Field               string  `json:"field"`
	RelationshipName    *string `json:"relationshipName"`
	RestrictedDelete    bool    `json:"restrictedDelete"`
}

// describe renders /sobjects/{Type}/describe for userID (custom fields
// the user may not edit are reported as not updateable).
func (s *Server) describe(o *object, version, userID string) map[string]any {
	g := globalOf(o, version)
	fields := make([]fieldDescribe, 0, len(o.fields))
	for _, f := range o.fields {
		d := describeField(o, f, s.isCustomFieldGranted(userID, o, f))
		if o.historyOf != "" && f.name == "Field" {
			d.PicklistValues = s.historyFieldPicklist(o)
		}
		fields = append(fields, d)
	}
	var children []childRelationship
	for _, other := range s.db.schema {
		if !s.db.historyOn(other) {
			continue
		}
		for _, f := range other.fields {
			for _, to := range f.referenceTo {
				if to == o.name && f.typ == tReference && f.name != "CreatedById" && f.name != "LastModifiedById" {
					rel := strings.TrimSuffix(other.labelPlural, "")
					rel = strings.ReplaceAll(rel, " ", "")
					if other.historyOf != "" {
						rel = "Histories"
					}
					children = append(children, childRelationship{ChildSObject: other.name, Field: f.name, RelationshipName: &rel, CascadeDelete: o.name == "Account" && f.name == "AccountId"})
				}
			}
		}
	}
	sort.Slice(children, func(i, j int) bool {
		if children[i].ChildSObject != children[j].ChildSObject {
			return children[i].ChildSObject < children[j].ChildSObject
		}
		return children[i].Field < children[j].Field
	})
	if children == nil {
		children = []childRelationship{}
	}
	urls := g.URLs
	return map[string]any{
		"actionOverrides": []any{}, "activateable": false, "childRelationships": children, "compactLayoutable": !o.tooling,
		"createable": g.Createable, "custom": g.Custom, "customSetting": false, "deletable": g.Deletable,
		"deprecatedAndHidden": false, "feedEnabled": false, "fields": fields, "hasSubtypes": false, "isSubtype": false,
		"keyPrefix": g.KeyPrefix, "label": g.Label, "labelPlural": g.LabelPlural, "layoutable": g.Layoutable,
		"listviewable": nil, "lookupLayoutable": nil, "mergeable": g.Mergeable, "mruEnabled": g.MruEnabled,
		"name": g.Name, "namedLayoutInfos": []any{}, "networkScopeFieldName": nil, "queryable": g.Queryable,
		"recordTypeInfos": []any{}, "replicateable": g.Replicateable, "retrieveable": true, "searchLayoutable": !o.tooling,
		"searchable": g.Searchable, "supportedScopes": []map[string]string{{"label": "All " + g.LabelPlural, "name": "everything"}},
		"triggerable": g.Triggerable, "undeletable": g.Undeletable, "updateable": g.Updateable, "urls": urls,
	}
}
