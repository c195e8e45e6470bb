package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"healthsync/crm"
)

// Mapping is a loaded, validated mapping file: the effective configuration
// and everything compiled from it. It is immutable and safe for concurrent
// use.
type Mapping struct {
	file    string
	sys     crm.System
	cfg     File
	objects []objectInfo
	clock   crm.Clock
	pos     map[string]Pos
	tasks   map[string]TaskSpec
	hash    string

	// Lower-cased lookup sets of the classification rules.
	renewalTypes, renewalRecordTypes     map[string]bool
	expansionTypes, expansionRecordTypes map[string]bool
	newTypes, newRecordTypes             map[string]bool
	ebrTypes                             map[string]bool
	completedStatuses                    map[string]bool
	callDirection                        map[string]crm.Direction
	sentimentValues                      map[string]float64
	segmentValues                        map[string]string
	lifecycleValues                      map[string]string
	customerStatus                       map[string]crm.CustomerStatus
}

func lowerSet(values []string) map[string]bool {
	out := make(map[string]bool, len(values))
	for _, v := range values {
		out[strings.ToLower(strings.TrimSpace(v))] = true
	}
	return out
}

func lowerMap[V any](m map[string]V) map[string]V {
	out := make(map[string]V, len(m))
	for k, v := range m {
		out[strings.ToLower(strings.TrimSpace(k))] = v
	}
	return out
}

func compile(name string, f File, sys crm.System, pos map[string]Pos, clock crm.Clock) (*Mapping, error) {
	if clock == nil {
		clock = crm.SystemClock{}
	}
	f.CRM.System = string(sys)
	m := &Mapping{file: name, sys: sys, cfg: f, clock: clock, pos: pos}
	for _, o := range standardObjects[sys] {
		if slices.Contains(f.CRM.Objects, o.name) {
			m.objects = append(m.objects, o)
		}
	}
	tasks, err := compileTasks(&f)
	if err != nil {
		return nil, Errors{{File: name, Msg: err.Error()}}
	}
	m.tasks = tasks
	c := f.Classify
	m.renewalTypes, m.renewalRecordTypes = lowerSet(c.Opportunities.Renewal.Types), lowerSet(c.Opportunities.Renewal.RecordTypes)
	m.expansionTypes, m.expansionRecordTypes = lowerSet(c.Opportunities.Expansion.Types), lowerSet(c.Opportunities.Expansion.RecordTypes)
	m.newTypes, m.newRecordTypes = lowerSet(c.Opportunities.New.Types), lowerSet(c.Opportunities.New.RecordTypes)
	m.ebrTypes = lowerSet(c.Activities.EBR.Types)
	m.completedStatuses = lowerSet(c.Activities.CompletedStatuses)
	m.callDirection = map[string]crm.Direction{}
	for k, v := range lowerMap(c.Activities.CallDirection) {
		m.callDirection[k] = crm.Direction(v)
	}
	m.sentimentValues = lowerMap(c.Sentiment.Values)
	m.segmentValues = lowerMap(c.Segments.Values)
	m.lifecycleValues = lowerMap(c.Lifecycle.Values)
	m.customerStatus = map[string]crm.CustomerStatus{}
	for status, values := range map[crm.CustomerStatus][]string{
		crm.StatusCustomer: c.CustomerStatus.Customer, crm.StatusFormer: c.CustomerStatus.Former, crm.StatusProspect: c.CustomerStatus.Prospect,
	} {
		for v := range lowerSet(values) {
			m.customerStatus[v] = status
		}
	}
	m.hash = hashOf(readPart{CRM: f.CRM, Fields: f.Fields, Classify: f.Classify})
	return m, nil
}

// System is the CRM the mapping is for.
func (m *Mapping) System() crm.System { return m.sys }

// Config returns the effective configuration: the defaults with the
// file's values merged over them. Callers must not modify the maps and
// slices it shares with the Mapping.
func (m *Mapping) Config() File { return m.cfg }

// Objects returns the CRM objects to sync, in sync order: accounts before
// contacts before opportunities before activities, users last.
func (m *Mapping) Objects() []string {
	out := make([]string, len(m.objects))
	for i, o := range m.objects {
		out[i] = o.name
	}
	return out
}

// Entity returns the canonical entity object maps to; ok is false for an
// object the mapping does not sync.
func (m *Mapping) Entity(object string) (kind EntityKind, ok bool) {
	for _, o := range m.objects {
		if o.name == object {
			return o.entity, true
		}
	}
	return "", false
}

// connectorFields are fields every connector adds to its requests itself;
// Fields leaves them out so a query never names one twice.
var connectorFields = map[string]bool{"Id": true, "SystemModstamp": true, "IsDeleted": true, "hs_object_id": true}

// Fields returns the CRM fields to download for object, sorted: every
// field the mapping reads from it. It leaves out the ones connectors
// always add (Salesforce Id, SystemModstamp, IsDeleted; HubSpot
// hs_object_id). HubSpot owners have fixed fields and return nil. An
// object the mapping does not sync returns nil.
func (m *Mapping) Fields(object string) []string {
	v, ok := m.fieldStruct(object)
	if !ok || (m.sys == crm.HubSpot && object == HSOwners) {
		return nil
	}
	set := map[string]bool{}
	for _, fi := range structFields(v.Type()).list {
		if name := v.FieldByIndex(fi.index).String(); name != "" && !connectorFields[name] {
			set[name] = true
		}
	}
	return sortedKeys(set)
}

// fieldStruct returns the canonical field struct for object.
func (m *Mapping) fieldStruct(object string) (reflect.Value, bool) {
	kind, ok := m.Entity(object)
	if !ok {
		return reflect.Value{}, false
	}
	switch kind {
	case KindAccount:
		return reflect.ValueOf(m.cfg.Fields.Account), true
	case KindContact:
		return reflect.ValueOf(m.cfg.Fields.Contact), true
	case KindOpportunity:
		return reflect.ValueOf(m.cfg.Fields.Opportunity), true
	case KindUser:
		return reflect.ValueOf(m.cfg.Fields.User), true
	}
	return reflect.ValueOf(m.cfg.Fields.Activity[object]), true
}

// Hash is a content hash of what turns raw records into canonical ones:
// the objects, the fields read and the classification rules. When it
// changes, stored raw records must be mapped again (a sync
// does it without a download). Scoring settings and outputs are not in it:
// scoring and writeback read them afresh on every run.
func (m *Mapping) Hash() string { return m.hash }

// readPart is the part of the mapping Hash covers.
type readPart struct {
	CRM      CRMConfig
	Fields   FieldsConfig
	Classify ClassifyConfig
}

// FieldsHash is a hash of the field set Fields(object) returns; when it
// changes, the object's stored raw records may lack a field the mapping
// now needs.
func (m *Mapping) FieldsHash(object string) string {
	sum := sha256.Sum256([]byte(strings.Join(m.Fields(object), "\n")))
	return hex.EncodeToString(sum[:])
}

// MissingFields returns the fields the mapping needs from object that are
// not in downloaded (the field list the stored records were pulled with).
// A non-empty result means the object must be pulled again before its
// stored records can be re-mapped; an empty one means a re-map is enough.
func (m *Mapping) MissingFields(object string, downloaded []string) []string {
	have := map[string]bool{}
	for _, f := range downloaded {
		have[strings.ToLower(f)] = true
	}
	var out []string
	for _, f := range m.Fields(object) {
		if !have[strings.ToLower(f)] {
			out = append(out, f)
		}
	}
	return out
}

func hashOf(v readPart) string {
	// encoding/json sorts map keys, so equal configurations hash equally.
	b, err := json.Marshal(v)
	if err != nil {
		// Every type in File marshals; should one stop doing so, hash its
		// printed form rather than fail.
		b = []byte(fmt.Sprintf("%+v", v))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
