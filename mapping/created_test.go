package mapping

import (
	"testing"
	"time"

	"healthsync/crm"
)

// TestAccountCreatedAt: an account's creation date is read from
// Salesforce's CreatedDate (mapped by default, so the pull selects it)
// and from a HubSpot record's createdAt, which every read carries (no
// property to download); created_at names another field when set.
func TestAccountCreatedAt(t *testing.T) {
	t.Parallel()
	want := time.Date(2024, 4, 10, 10, 0, 0, 0, time.UTC)
	sf := mustParse(t, crm.Salesforce, "crm: {system: salesforce}\n")
	e, err := sf.Map(record("Account", "0015g0000000015AAA", `{"Id":"0015g0000000015AAA","Name":"Nutmeg","CreatedDate":"2024-04-10T10:00:00.000+0000"}`))
	if err != nil || e.Account == nil || !e.Account.CreatedAt.Equal(want) {
		t.Errorf("Salesforce: %+v, %v; want created %s", e.Account, err, want)
	}
	hs := mustParse(t, crm.HubSpot, "crm: {system: hubspot}\n")
	e, err = hs.Map(record("companies", "77", `{"id":"77","properties":{"name":"Nutmeg","createdate":"2023-01-01T00:00:00Z"},"createdAt":"2024-04-10T10:00:00.000Z"}`))
	if err != nil || e.Account == nil || !e.Account.CreatedAt.Equal(want) {
		t.Errorf("HubSpot: %+v, %v; want created %s (the record's createdAt)", e.Account, err, want)
	}
	custom := mustParse(t, crm.Salesforce, "crm: {system: salesforce}\nfields:\n  account:\n    created_at: Legacy_Created__c\n")
	e, err = custom.Map(record("Account", "0015g0000000015AAA", `{"Id":"0015g0000000015AAA","Name":"Nutmeg","CreatedDate":"2025-01-01T00:00:00.000+0000","Legacy_Created__c":"2024-04-10T10:00:00.000+0000"}`))
	if err != nil || e.Account == nil || !e.Account.CreatedAt.Equal(want) {
		t.Errorf("created_at: Legacy_Created__c: %+v, %v; want created %s", e.Account, err, want)
	}
}
