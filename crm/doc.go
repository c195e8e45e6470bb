// Package crm holds healthsync's canonical model: the accounts, contacts,
// opportunities, activities and users that every CRM is mapped onto, the
// tasks healthsync asks a CRM to create, typed identifiers, and the one way
// the project handles time.
//
// Every other package speaks this model. Connectors receive raw CRM records,
// the mapping package turns them into these types, the store persists them
// and scoring reads them. The package imports nothing of the project.
//
// Time is always UTC with millisecond precision (the finest precision both
// Salesforce and HubSpot keep); use [Normalize] on every time that enters
// the model and a [Clock] wherever "now" matters, so tests can fix it.
package crm
