package hubspot

// assocType is one association type (label) from one object type to
// another, with the id of the same relation seen from the other side.
type assocType struct {
	category string // HUBSPOT_DEFINED or USER_DEFINED
	typeID   int
	label    string // "" for unlabelled (null on the wire)
	inverse  int
	primary  bool
}

// pairKey names an ordered pair of object types.
type pairKey struct{ from, to string }

// assocTypes are HubSpot's default association types between the served
// objects (HUBSPOT_DEFINED ids, as GET /crm/v4/associations/{from}/{to}/labels
// returns them). The first entry of each pair is its default (unlabelled)
// type.
var assocTypes = map[pairKey][]assocType{}

func defineAssoc(from, to string, fwd, back int, fwdPrimary, backPrimary int) {
	assocTypes[pairKey{from, to}] = append(assocTypes[pairKey{from, to}], assocType{category: "HUBSPOT_DEFINED", typeID: fwd, inverse: back})
	assocTypes[pairKey{to, from}] = append(assocTypes[pairKey{to, from}], assocType{category: "HUBSPOT_DEFINED", typeID: back, inverse: fwd})
	if fwdPrimary != 0 {
		assocTypes[pairKey{from, to}] = append(assocTypes[pairKey{from, to}],
			assocType{category: "HUBSPOT_DEFINED", typeID: fwdPrimary, label: "Primary", inverse: backPrimary, primary: true})
	}
	if backPrimary != 0 {
		assocTypes[pairKey{to, from}] = append(assocTypes[pairKey{to, from}],
			assocType{category: "HUBSPOT_DEFINED", typeID: backPrimary, label: "Primary", inverse: fwdPrimary, primary: true})
	}
}

func init() {
	defineAssoc("contacts", "companies", 279, 280, 1, 2)
	defineAssoc("deals", "companies", 341, 342, 5, 6)
	defineAssoc("deals", "contacts", 3, 4, 0, 0)
	activities := []struct {
		name                              string
		toCompany, toContact, toDeal, off int
	}{
		{"calls", 182, 194, 206, 1},
		{"emails", 186, 198, 210, 1},
		{"meetings", 188, 200, 212, 1},
		{"notes", 190, 202, 214, 1},
		{"tasks", 192, 204, 216, 1},
	}
	for _, a := range activities {
		defineAssoc(a.name, "companies", a.toCompany, a.toCompany-a.off, 0, 0)
		defineAssoc(a.name, "contacts", a.toContact, a.toContact-a.off, 0, 0)
		defineAssoc(a.name, "deals", a.toDeal, a.toDeal-a.off, 0, 0)
	}
}

// findAssocType finds a type id of an ordered pair.
func findAssocType(from, to string, typeID int) (assocType, bool) {
	for _, at := range assocTypes[pairKey{from, to}] {
		if at.typeID == typeID {
			return at, true
		}
	}
	return assocType{}, false
}

// defaultAssocType is the unlabelled type of a pair.
func defaultAssocType(from, to string) (assocType, bool) {
	ts := assocTypes[pairKey{from, to}]
	if len(ts) == 0 {
		return assocType{}, false
	}
	return ts[0], true
}

// v3TypeName is the association type name CRM v3 object reads show.
func v3TypeName(from, to *objectType, at assocType) string {
	base := from.singular + "_to_" + to.singular
	if at.primary {
		return base
	}
	for _, other := range assocTypes[pairKey{from.name, to.name}] {
		if other.primary {
			return base + "_unlabeled"
		}
	}
	return base
}
