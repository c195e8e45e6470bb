package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"healthsync/store/storetest"
)

// lateAccount is an account of testdata/sfexport's org created on
// 2024-04-10 as a "Customer" paying 18,000, with no field history (its
// Type and ARR never changed) and no deal: A15 in the figures below.
const lateAccount = "0015g0000000015AAA,false,,Nutmeg Studio,Customer,,,Leeds,United Kingdom,GBP,0055g0000000001AAA,18000,,,2024-04-10T10:00:00.000Z,2024-04-10T10:00:00.000Z,2024-04-10T10:00:00.000Z\n"

// exportWithLateAccount copies testdata/sfexport and adds lateAccount to
// its Account.csv.
func exportWithLateAccount(t *testing.T) string {
	t.Helper()
	return copyExport(t, map[string]string{"Account.csv": lateAccount})
}

// TestReportAccountCreatedLater: an account created in the CRM on
// 2024-04-10 whose Type has said "Customer" ever since (no Type history,
// so the history says "Customer" for every date) did not exist on
// 2024-01-01. The 2024 report must leave it out of the starting cohort
// and its ARR out of the start ARR (the figures of
// TestReportOnADataLoaderExport: 11 customers, 239,000 — not 12 and
// 257,000), count it among the customers at the end, and a score as of a
// day before its creation must not score it. On SQLite and Postgres.
func TestReportAccountCreatedLater(t *testing.T) {
	t.Parallel()
	for _, be := range []struct {
		name string
		db   func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "hs.db") }},
		{"postgres", func(t *testing.T) string { return storetest.FreshPostgres(t).DatabaseURL }},
	} {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			vars, loaded := exportOrgFrom(t, exportWithLateAccount(t), be.db(t), exportMapping, nil)
			if !strings.Contains(loaded, "loaded 15 Account") {
				t.Fatalf("the CSV import did not load the added account:\n%s", loaded)
			}
			if code, out, errOut := run(t, vars, "sync"); code != exitOK {
				t.Fatalf("sync: exit %d\n%s\n%s", code, out, errOut)
			}
			// 2024: at the start, the 11 customers and 239,000 of
			// TestReportOnADataLoaderExport (A15 did not exist yet); A15
			// is a customer at the end: 10 + 1 = 11, ARR at the end
			// 240,000 + 18,000 = 258,000, ARPA 258,000 / 11. Churn,
			// contraction and expansion are those of the starting cohort:
			// unchanged. NPS and CSAT: A15 has neither.
			k := exportReport(t, vars, "2024-01-01", "2025-01-01")
			expectKPIs(t, "2024 with A15", k, exportKPIs{
				CustomersAtStart: 11, CustomersAtEnd: 11, RenewalsDue: 9, RenewalsWon: 7, RenewalRate: f64(7.0 / 9),
				ChurnedLogos: 2, LogoChurnRate: f64(2.0 / 11),
				StartARR: f64(239000), ChurnedARR: f64(35000), ContractionARR: f64(6000), ExpansionARR: f64(12000),
				GRR: f64(198000.0 / 239000), NRR: f64(210000.0 / 239000), EndARR: f64(258000), ARPA: f64(258000.0 / 11),
				ExpansionRevenue: 12000,
				NPS:              f64(37.5), NPSAccounts: 8, Promoters: 5, Passives: 1, Detractors: 2,
				CSAT: f64(81.9), CSATAccounts: 8,
			})
			// 2025: A15 is in the starting cohort now and stays:
			// 240,000 + 18,000 = 258,000 at the start, 11 customers; 1
			// churned (A11, 9,000), contraction 3,000 (A06).
			k = exportReport(t, vars, "2025-01-01", "2026-01-01")
			if k.CustomersAtStart != 11 || k.StartARR == nil || *k.StartARR != 258000 || k.ChurnedLogos != 1 {
				t.Errorf("2025 with A15: customers at start %d, start ARR %v, churned %d; want 11, 258000, 1",
					k.CustomersAtStart, deref(k.StartARR), k.ChurnedLogos)
			}

			// Scores as of a day before its creation leave it out (not a
			// customer, no score); as of a day after, it is a live
			// customer.
			for _, c := range []struct{ day, status string }{{"2024-04-09", "prospect"}, {"2024-04-11", "customer"}} {
				code, out, errOut := run(t, vars, "score", "--as-of", c.day, "--json")
				if code != exitOK {
					t.Fatalf("score --as-of %s: exit %d\n%s\n%s", c.day, code, out, errOut)
				}
				found := false
				sc := bufio.NewScanner(strings.NewReader(out))
				sc.Buffer(nil, 1<<20)
				for sc.Scan() {
					var l pastLine
					if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
						t.Fatalf("score --as-of --json: %v\n%s", err, sc.Text())
					}
					if l.AccountID != "0015g0000000015AAA" {
						continue
					}
					found = true
					if l.Status != c.status || (c.status != "customer" && l.Score != nil) {
						t.Errorf("as of %s A15 is %q, score %v; want %q", c.day, l.Status, deref(l.Score), c.status)
					}
				}
				if !found {
					t.Errorf("score --as-of %s --json does not list A15:\n%s", c.day, out)
				}
			}
		})
	}
}

// TestUpgradeReadsAccountCreation: a store synced by a version that did
// not read Account.CreatedDate (here: a mapping with created_at "")
// lacks it in its raw records; the first sync with it mapped pulls
// Account again once, by itself, and the report's 2024 start ARR then
// leaves out the account created in April (257,000 before, 239,000
// after); the sync after that pulls nothing again.
func TestUpgradeReadsAccountCreation(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "hs.db")
	old := strings.Replace(exportMapping, "    csat: CSAT__c\n", "    csat: CSAT__c\n    created_at: \"\"\n", 1)
	oldVars, _ := exportOrgFrom(t, exportWithLateAccount(t), db, old, nil)
	if code, out, errOut := run(t, oldVars, "sync"); code != exitOK {
		t.Fatalf("sync without created_at: exit %d\n%s\n%s", code, out, errOut)
	}
	if k := exportReport(t, oldVars, "2024-01-01", "2025-01-01"); k.StartARR == nil || *k.StartARR != 257000 {
		t.Fatalf("without the creation date, start ARR %v; want the overstated 257000", deref(k.StartARR))
	}
	// The same store and org, with the mapping as shipped now.
	vars := map[string]string{}
	for k, v := range oldVars {
		vars[k] = v
	}
	mapFile := filepath.Join(t.TempDir(), "healthsync.yaml")
	if err := os.WriteFile(mapFile, []byte(exportMapping), 0o600); err != nil {
		t.Fatal(err)
	}
	vars["HEALTHSYNC_MAPPING_FILE"] = mapFile
	code, out, errOut := run(t, vars, "sync")
	if code != exitOK || !strings.Contains(out, "pulled again for new fields [CreatedDate]") {
		t.Fatalf("first sync after the upgrade did not pull Account again for CreatedDate: exit %d\n%s\n%s", code, out, errOut)
	}
	if k := exportReport(t, vars, "2024-01-01", "2025-01-01"); k.StartARR == nil || *k.StartARR != 239000 || k.CustomersAtStart != 11 {
		t.Errorf("after the upgrade: start ARR %v, customers at start %d; want 239000, 11", deref(k.StartARR), k.CustomersAtStart)
	}
	if code, out, errOut := run(t, vars, "sync"); code != exitOK || strings.Contains(out, "pulled again") {
		t.Errorf("second sync after the upgrade: exit %d\n%s\n%s", code, out, errOut)
	}
}
