// Package mapping reads the RevOps mapping file (healthsync.yaml) and
// applies it: it says which CRM objects and fields healthsync reads, how
// raw Salesforce and HubSpot records become the canonical model of package
// crm, and which CRM fields and tasks the results are written to.
//
// What flows in: the mapping file's bytes, raw records (connector.Record)
// and, for `healthsync check`, a CRM's describe of its fields. What flows
// out: canonical crm entities, the scoring configuration the file carries
// (Config().Scoring, handed to package scoring; see docs/adr/0002), the
// output fields and task templates the writeback may use, and the field
// specs `healthsync install` creates. It does no I/O beyond reading its
// file.
//
// # Loading
//
// [Load] (or [Parse] for bytes) decodes the file through yaml.v3's node
// tree, strictly: unknown keys (with a "did you mean" hint), wrong types,
// invalid regular expressions, unknown canonical fields, unknown objects
// and two outputs writing one field are all reported at once, each as
// "healthsync.yaml:line:column: message" in an [Errors] value. The file is
// merged over built-in defaults for the chosen CRM ([Default]), so an
// empty file works for a standard Salesforce org or HubSpot portal. The
// same struct definitions (config.go) drive the loader and the JSON Schema
// returned by [Schema] and shipped as docs/mapping/healthsync.schema.json.
//
// # Mapping records
//
// A [Mapping] is immutable once loaded. [Mapping.Objects] lists the CRM
// objects in sync order and [Mapping.Fields] the fields to download for
// each. [Mapping.Map] turns a connector.Record into an [Entity] holding a
// crm.Account, Contact, Opportunity, Activity or User; values that cannot
// be converted produce a [*RecordError] naming the record, field and
// value, never a panic. [Mapping.Hash] and [Mapping.MissingFields] let the
// sync engine decide between re-mapping stored raw records and pulling an
// object again.
//
// # Writing back
//
// [Mapping.Outputs], [Mapping.OutputField], [Mapping.AllowedOutputs] and
// [Mapping.FieldSpecs] say where results go; nothing outside them may be
// written. [Mapping.Task] gives the task template of a risk flag.
//
// # Checking against the CRM
//
// [Mapping.Validate] compares the mapping with an object's fields as the
// CRM's describe/properties API reports them (exists, type, updateable)
// without doing I/O itself; [Report] renders the problems for
// `healthsync check`.
package mapping
