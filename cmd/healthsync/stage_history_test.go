package main

import (
	"bufio"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	emusalesforce "healthsync/emulator/salesforce"
	"healthsync/store/storetest"
)

// flippedRenewal is A16 of testdata/sfexport's org: a customer since
// 2022 (ARR 30,000) whose renewal closing 2024-03-20 went from
// Negotiation to Signed on 2024-03-20 and, in November, from Signed to
// Lost. Salesforce keeps no history of IsClosed and IsWon (it derives
// them from StageName and cannot track them): only the StageName rows
// say the renewal was won from March to November.
var flippedRenewal = map[string]string{
	"Account.csv": "0015g0000000016AAA,false,,Olive Bakery,Customer,,,York,United Kingdom,GBP,0055g0000000001AAA,30000,,,2022-01-05T10:00:00.000Z,2024-11-05T10:00:00.000Z,2024-11-05T10:00:00.000Z\n",
	"Opportunity.csv": "0065g0000000040AAA,false,0015g0000000016AAA,Olive new business,New Business,Signed,true,true,30000,2022-03-20,100,false,GBP,0055g0000000001AAA,2022-01-05T10:00:00.000Z,2022-03-20T10:00:00.000Z,2022-03-20T10:00:00.000Z\n" +
		"0065g0000000041AAA,false,0015g0000000016AAA,Olive renewal 2024,Renewal,Lost,true,false,30000,2024-03-20,0,false,GBP,0055g0000000001AAA,2023-12-20T10:00:00.000Z,2024-11-05T10:00:00.000Z,2024-11-05T10:00:00.000Z\n",
	"OpportunityFieldHistory.csv": "0175g0000000040AAA,false,0065g0000000041AAA,StageName,DynamicEnum,Negotiation,Signed,2024-03-20T10:00:00.000Z,0055g0000000001AAA\n" +
		"0175g0000000041AAA,false,0065g0000000041AAA,StageName,DynamicEnum,Signed,Lost,2024-11-05T10:00:00.000Z,0055g0000000001AAA\n",
}

// TestStageHistoryGivesClosedAndWon: a renewal signed in March and lost
// in November was won from March on. The backfill derives IsClosed and
// IsWon's history from StageName's through the org's OpportunityStage
// records, so the first half of 2024 counts A16's renewal as won and A16
// as a customer throughout; read at today's values (lost) it would be a
// churn. The figures are the export org's plus A16's, derived by hand:
// one more customer at the start and at the end, one more renewal due
// and won, no more churn, 30,000 more ARR at the start and at the end.
// `score --as-of 2024-06-30` calls A16 a live customer, and 2024-12-01 a
// former one. On SQLite and Postgres.
func TestStageHistoryGivesClosedAndWon(t *testing.T) {
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
			base, _ := exportOrg(t, be.db(t), exportMapping)
			vars, loaded := exportOrgFrom(t, copyExport(t, flippedRenewal), be.db(t), exportMapping, nil)
			if !strings.Contains(loaded, "loaded 15 Account") || !strings.Contains(loaded, "loaded 38 Opportunity") || !strings.Contains(loaded, "loaded 10 OpportunityFieldHistory") {
				t.Fatalf("the CSV import did not load A16:\n%s", loaded)
			}
			for _, v := range []map[string]string{base, vars} {
				if code, out, errOut := run(t, v, "sync"); code != exitOK {
					t.Fatalf("sync: exit %d\n%s\n%s", code, out, errOut)
				}
			}
			b := exportReport(t, base, "2024-01-01", "2024-07-01")
			k := exportReport(t, vars, "2024-01-01", "2024-07-01")
			diffs := []struct {
				name        string
				got, want   float64
				base, added float64
			}{
				{"customers at start", float64(k.CustomersAtStart), 0, float64(b.CustomersAtStart), 1},
				{"customers at end", float64(k.CustomersAtEnd), 0, float64(b.CustomersAtEnd), 1},
				{"renewals due", float64(k.RenewalsDue), 0, float64(b.RenewalsDue), 1},
				{"renewals won", float64(k.RenewalsWon), 0, float64(b.RenewalsWon), 1},
				{"churned logos", float64(k.ChurnedLogos), 0, float64(b.ChurnedLogos), 0},
				{"start ARR", *k.StartARR, 0, *b.StartARR, 30000},
				{"churned ARR", *k.ChurnedARR, 0, *b.ChurnedARR, 0},
				{"end ARR", *k.EndARR, 0, *b.EndARR, 30000},
			}
			for _, d := range diffs {
				if d.got != d.base+d.added {
					t.Errorf("H1 2024 %s: %v with A16, %v without; want %v more", d.name, d.got, d.base, d.added)
				}
			}
			for day, want := range map[string]string{"2024-06-30": "customer", "2024-12-01": "former_customer"} {
				code, out, errOut := run(t, vars, "score", "--as-of", day, "--json")
				if code != exitOK {
					t.Fatalf("score --as-of %s: exit %d\n%s\n%s", day, code, out, errOut)
				}
				got := ""
				sc := bufio.NewScanner(strings.NewReader(out))
				sc.Buffer(nil, 1<<20)
				for sc.Scan() {
					var l pastLine
					if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
						t.Fatalf("score --as-of --json: %v\n%s", err, sc.Text())
					}
					if l.AccountID == "0015g0000000016AAA" {
						got = l.Status
					}
				}
				if got != want {
					t.Errorf("as of %s A16 is %q, want %q", day, got, want)
				}
			}
		})
	}
}

// TestCheckClosedWonFollowStage: `check` does not ask an admin to track
// IsClosed or IsWon (Salesforce cannot): with StageName tracked they are
// not listed; with StageName not tracked, check says that stage, closed
// and won history all start at the first sync and that tracking
// StageName backfills them.
func TestCheckClosedWonFollowStage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		opp        []string
		want, nope []string
	}{
		{"StageName tracked", []string{"StageName", "Amount", "CloseDate", "Type"}, nil,
			[]string{"IsClosed", "IsWon", "is_closed", "is_won"}},
		{"StageName not tracked", []string{"Amount", "CloseDate", "Type"}, []string{
			"Opportunity stage (StageName)",
			"Opportunity is_closed (IsClosed, IsWon: follows StageName)",
			"Opportunity is_won (IsWon: follows StageName)",
			"Opportunity StageName is not tracked, so the history of IsClosed and IsWon, which the CRM derives from it and cannot track, also starts at the first sync: track StageName to backfill them all.",
		}, []string{"is_closed (IsClosed, IsWon)\n", "is_won (IsWon)\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			vars, _ := exportOrgFrom(t, filepath.Join("testdata", "sfexport"), filepath.Join(t.TempDir(), "hs.db"), exportMapping,
				func(o *emusalesforce.Options) {
					o.FieldHistory = map[string][]string{"Account": {"ARR__c", "NPS__c", "CSAT__c", "Type"}, "Opportunity": tc.opp}
				})
			if code, out, errOut := run(t, vars, "install"); code != exitOK {
				t.Fatalf("install: exit %d\n%s\n%s", code, out, errOut)
			}
			code, out, errOut := run(t, vars, "check")
			if code != exitOK {
				t.Fatalf("check: exit %d\n%s\n%s", code, out, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("check did not say %q:\n%s", w, out)
				}
			}
			for _, n := range tc.nope {
				if strings.Contains(out, n) {
					t.Errorf("check said %q:\n%s", n, out)
				}
			}
		})
	}
}
