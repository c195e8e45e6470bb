package salesforce

import (
	"testing"
)

// FuzzParseSOQL checks that no input makes the SOQL parser or compiler
// panic, and that every rejection carries a position inside the query.
// Run with: go test -fuzz FuzzParseSOQL ./emulator/salesforce
func FuzzParseSOQL(f *testing.F) {
	for _, q := range []string{
		"SELECT Id FROM Account",
		"SELECT Id, Name, Account.Owner.Email FROM Contact WHERE Title LIKE 'VP%' ORDER BY Name DESC NULLS LAST LIMIT 10 OFFSET 5",
		"SELECT COUNT() FROM Task WHERE IsClosed = false AND (ActivityDate = LAST_N_DAYS:30 OR ActivityDate = TODAY)",
		"SELECT Id FROM Opportunity WHERE Type IN ('Renewal', 'Upsell') AND NOT Amount < 100.5",
		"SELECT Id FROM Account WHERE SystemModstamp >= 2024-01-01T00:00:00.000Z ORDER BY SystemModstamp, Id",
		"SELECT Id FROM Account WHERE Name = 'it\\'s'",
		"SELECT Id FROM Account WHERE",
		"SELECT COUNT(Id) cnt FROM Account",
	} {
		f.Add(q)
	}
	d := newDB()
	f.Fuzz(func(t *testing.T, q string) {
		parsed, err := parseSOQL(q)
		if err != nil {
			se, ok := err.(*soqlError)
			if !ok || se.pos < 0 || se.pos > len(q) {
				t.Fatalf("%q: error %v without a valid position", q, err)
			}
			_ = se.message(q)
			return
		}
		cq, err := d.compile(parsed, testNow, false)
		if err != nil {
			if se, ok := err.(*soqlError); ok {
				_ = se.message(q)
			}
			return
		}
		_ = d.execute(cq, true)
	})
}
