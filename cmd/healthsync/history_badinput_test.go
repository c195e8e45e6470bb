package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	emusalesforce "healthsync/emulator/salesforce"
)

// copyExport copies testdata/sfexport to a temporary directory and
// appends lines to its files.
func copyExport(t *testing.T, appends map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join("testdata", "sfexport")
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		b = append(b, appends[e.Name()]...)
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestHistoryBadInput: bad rows in the CRM's field history (issue 20's
// bad input) are problem lines of the sync, which succeeds and stores
// everything else, and the report still runs:
//
//   - a value that does not read as the field's type (ARR "five
//     thousand"): read as empty for its span, and said so;
//   - a change dated after the record's last modification (a clock or an
//     import gone wrong): left out, and said so;
//   - changes whose timestamps are out of order (the later change's old
//     value is not what the earlier one set): kept as dated, and said so.
func TestHistoryBadInput(t *testing.T) {
	t.Parallel()
	dir := copyExport(t, map[string]string{"AccountHistory.csv": "" +
		// A14's ARR: not a number.
		"0175g0000000030AAA,false,0015g0000000014AAA,ARR__c,Currency,5000,five thousand,2024-03-01T09:00:00.000Z,0055g0000000001AAA\n" +
		"0175g0000000031AAA,false,0015g0000000014AAA,ARR__c,Currency,five thousand,5000,2024-03-02T09:00:00.000Z,0055g0000000001AAA\n" +
		// A10's NPS: dated after the account's LastModifiedDate (2025-10-01).
		"0175g0000000032AAA,false,0015g0000000010AAA,NPS__c,Double,6,7,2026-01-01T09:00:00.000Z,0055g0000000001AAA\n" +
		// A12's ARR: a June change from 52,000 while December's says it
		// went from 50,000: out of order.
		"0175g0000000033AAA,false,0015g0000000012AAA,ARR__c,Currency,52000,53000,2024-06-01T09:00:00.000Z,0055g0000000001AAA\n",
	})
	vars, _ := exportOrgFrom(t, dir, filepath.Join(t.TempDir(), "hs.db"), exportMapping, nil)
	code, out, errOut := run(t, vars, "sync")
	if code != exitOK {
		t.Fatalf("sync failed on bad history rows: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"3 records had problems",
		"Account 0015g0000000014AAA: history of Account 0015g0000000014AAA: field ARR__c: value \"five thousand\" is not a number; read as empty",
		"Account 0015g0000000010AAA: history of Account 0015g0000000010AAA: NPS__c changed on 2026-01-01T09:00:00Z, after the record's last modification (2025-10-01T08:00:00Z); left out",
		"Account 0015g0000000012AAA: history of Account 0015g0000000012AAA: ARR__c changed on 2024-12-15T15:00:00Z from 50000, but the change before it (2024-06-01T09:00:00Z) set 53000: the CRM's history of it is out of order or incomplete",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the sync did not say %q:\n%s", want, out)
		}
	}
	// Everything else is stored: the accounts the bad rows do not touch
	// count as in TestReportOnADataLoaderExport, and the report runs.
	k := exportReport(t, vars, "2024-01-01", "2025-01-01")
	if k.CustomersAtStart != 11 || k.ChurnedLogos != 2 || k.RenewalsDue != 9 || k.RenewalsWon != 7 || k.CustomersAtEnd != 10 {
		t.Errorf("2024 after bad history rows: customers at start %d, churned %d, renewals %d of %d, at end %d; want 11, 2, 7 of 9, 10",
			k.CustomersAtStart, k.ChurnedLogos, k.RenewalsWon, k.RenewalsDue, k.CustomersAtEnd)
	}
	// A second sync neither fails nor reads the history again.
	if code, out, errOut := run(t, vars, "sync"); code != exitOK || strings.Contains(out, "problems (") {
		t.Errorf("second sync: exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestHistoryNotReadable: an org whose field history the integration
// user cannot read (tracking off, or no access: Salesforce then answers
// INVALID_TYPE for AccountHistory and OpportunityFieldHistory) syncs
// without failing; `check` names every mapped field whose history the CRM
// keeps not, says what that costs and how to fix it; and a report for a
// past year says it is exact only from the first sync.
func TestHistoryNotReadable(t *testing.T) {
	t.Parallel()
	vars, loaded := exportOrgFrom(t, filepath.Join("testdata", "sfexport"), filepath.Join(t.TempDir(), "hs.db"), exportMapping,
		func(o *emusalesforce.Options) { o.FieldHistory = map[string][]string{} })
	if !strings.Contains(loaded, "skipped AccountHistory.csv: field history of Account is not tracked") {
		t.Errorf("the CSV import did not say it skipped the history:\n%s", loaded)
	}
	code, out, errOut := run(t, vars, "sync")
	if code != exitOK {
		t.Fatalf("sync failed on an org without readable history: exit %d\n%s\n%s", code, out, errOut)
	}
	firstSync := time.Now().UTC().Format(time.DateOnly)
	if code, out, errOut := run(t, vars, "install"); code != exitOK {
		t.Fatalf("install: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = run(t, vars, "check")
	if code != exitOK {
		t.Fatalf("check failed on an org without readable history: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"Field history: the CRM keeps no history of",
		"Account arr (ARR__c)", "Account nps (NPS__c)", "Account csat (CSAT__c)", "Account status (Type)",
		"Opportunity stage (StageName)", "Opportunity amount (Amount)",
		"Their history starts at the first sync", "Set History Tracking",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("check did not say %q:\n%s", want, out)
		}
	}
	k := exportReport(t, vars, "2024-01-01", "2025-01-01")
	if k.ExactFrom == nil || !strings.HasPrefix(*k.ExactFrom, firstSync) {
		t.Errorf("2024 without field history: exact_from %v, want the first sync (%s)", deref(k.ExactFrom), firstSync)
	}
}
