package main

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"healthsync/crm"
	"healthsync/mapping"
)

// TestMain lets the test binary serve as hsbench's child process, as the
// real binary does: benchOne re-executes os.Executable().
func TestMain(m *testing.M) {
	if raw := os.Getenv(childEnv); raw != "" {
		if err := runChild(raw); err != nil {
			os.Stderr.WriteString("hsbench child: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestBenchSmallOrg runs every scenario on a small org, two runs each,
// and checks the figures are consistent: the ceiling fetched at least
// what the sync stored, no count is below its theoretical minimum (which
// would mean the minimum is wrong), each 1%-changed run saw its own
// changes (and on Salesforce only those: no earlier round's changes
// inside the look-back), and every run reported its peak RSS.
func TestBenchSmallOrg(t *testing.T) {
	t.Parallel()
	for _, sys := range []crm.System{crm.Salesforce, crm.HubSpot} {
		t.Run(string(sys), func(t *testing.T) {
			t.Parallel()
			r, err := benchOne(options{runs: 2, seed: 7}, sys, 30, "sqlite")
			if err != nil {
				t.Fatal(err)
			}
			checkRow(t, r)
		})
	}
}

// TestBenchSalesforceBulkCeiling takes the Bulk path on a small org (a
// Bulk threshold of 100 records) with field history, and checks the
// ceiling fetched exactly the rows the sync read, object by object:
// the REST probe the connector discarded is not replayed, each Bulk job
// is (its result pages), and the backfill's history rows are counted
// apart. It also runs the jsforce peer where node is installed.
func TestBenchSalesforceBulkCeiling(t *testing.T) {
	t.Parallel()
	o := options{runs: 1, seed: 7, bulkThreshold: 100, history: true, peer: true}
	p := preparePeer(context.Background(), true)
	o.prepared = &p
	r, err := benchOne(o, crm.Salesforce, 30, "sqlite")
	if err != nil {
		t.Fatal(err)
	}
	checkRow(t, r)
	if !strings.Contains(r.FullPath, "Bulk") {
		t.Fatalf("the full sync took the path %q, want Bulk jobs with a threshold of 100", r.FullPath)
	}
	for obj, n := range r.Rows {
		if obj != mapping.SFUser && r.CeilingPerObject[obj] != n {
			t.Errorf("%s: a full read returns %d rows, the ceiling fetched %d (all: org %v, ceiling %v)", obj, n, r.CeilingPerObject[obj], r.Rows, r.CeilingPerObject)
		}
	}
	if r.HistoryChanges == 0 || r.CeilingHistoryRows == 0 {
		t.Errorf("the org has field history, yet the backfill stored %d changes and the ceiling read %d history rows", r.HistoryChanges, r.CeilingHistoryRows)
	}
	switch {
	case strings.Contains(p.skipped, "not installed"), strings.HasPrefix(p.skipped, "npm ci"):
		// No node, or the npm registry out of reach: the bench prints the
		// reason; the rest of the row is still checked.
		t.Logf("peer not run: %s", p.skipped)
	case r.PeerSkipped != "":
		t.Errorf("peer: %s", r.PeerSkipped)
	default:
		for _, obj := range strings.Split(peerObjects, ",") {
			if r.PeerPerObject[obj] != r.Live[obj] {
				t.Errorf("the jsforce peer pulled %d %s records, the org has %d live", r.PeerPerObject[obj], obj, r.Live[obj])
			}
		}
		if r.PeerCalls < 10 || r.PeerRate <= 0 || r.PeerRatio <= 0 {
			t.Errorf("peer: %d calls, %.0f records/s, ratio %.2f", r.PeerCalls, r.PeerRate, r.PeerRatio)
		}
	}
}

// TestKeptQueries: a REST query whose SOQL later ran as a Bulk job was
// the probe whose first page the connector discarded; the rest stay in
// order.
func TestKeptQueries(t *testing.T) {
	qs := []query{
		{Object: "Account", SOQL: "SELECT Id FROM Account"},
		{Object: "Contact", SOQL: "SELECT Id FROM Contact"},
		{Object: "Contact", SOQL: "SELECT Id FROM Contact", Bulk: true},
		{Object: "Task", SOQL: "SELECT Id FROM Task"},
		{Object: "companies", Method: "POST", Path: "/crm/v3/objects/companies/search"},
	}
	got := keptQueries(qs)
	want := []query{qs[0], qs[2], qs[3], qs[4]}
	if !slices.Equal(got, want) {
		t.Fatalf("kept %+v, want %+v", got, want)
	}
}

func checkRow(t *testing.T, r row) {
	t.Helper()
	if r.Records == 0 || r.CeilingRecords < r.Records {
		t.Errorf("full sync stored %d records, the ceiling client fetched %d", r.Records, r.CeilingRecords)
	}
	for name, c := range map[string][2]int64{
		"full":      {r.FullCalls, int64(r.FullMin)},
		"backfill":  {r.BackfillCalls, int64(r.BackfillMin)},
		"1% change": {r.IncrCalls, int64(r.IncrMin)},
		"unchanged": {r.NoopCalls, int64(r.NoopMin)},
		"apply":     {int64(r.ApplyWrites), int64(r.ApplyMin)},
	} {
		if c[1] <= 0 || c[0] < c[1] {
			t.Errorf("%s: %d calls, below the computed minimum %d", name, c[0], c[1])
		}
	}
	if r.Changed == 0 || r.IncrRecords < r.Changed {
		t.Errorf("changed %d records, the incremental sync picked up %d", r.Changed, r.IncrRecords)
	}
	if len(r.IncrRuns) != r.Runs {
		t.Errorf("%d 1%%-changed runs recorded, want %d", len(r.IncrRuns), r.Runs)
	}
	for i, ir := range r.IncrRuns {
		if ir.Synced < ir.Changed || (r.CRM == string(crm.Salesforce) && ir.Synced != ir.Changed) {
			t.Errorf("1%%-changed run %d: %d records changed, the sync picked up %d", i+1, ir.Changed, ir.Synced)
		}
	}
	if r.Updated == 0 || r.ScoreRate <= 0 {
		t.Errorf("apply updated %d records, scoring ran at %v accounts/s", r.Updated, r.ScoreRate)
	}
	for _, n := range []string{"full sync", "1% changed sync", "unchanged sync", "score", "apply", "ceiling"} {
		if r.RSSMiB[n] <= 0 {
			t.Errorf("no peak RSS for %s: %v", n, r.RSSMiB)
		}
	}
}

// TestPeerSkippedWithoutNode: where node is not installed the peer is
// skipped with the reason, which the table prints, and the bench goes on.
func TestPeerSkippedWithoutNode(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	p := preparePeer(context.Background(), true)
	if !strings.Contains(p.skipped, "node is not installed") {
		t.Fatalf("peer without node: skipped %q, want the reason that node is not installed", p.skipped)
	}
	var b strings.Builder
	printTable(&b, results{Runs: 1, Rows: []row{{CRM: "salesforce", Accounts: 10, Backend: "sqlite", Runs: 1, PeerSkipped: p.skipped}}})
	if !strings.Contains(b.String(), "peer: skipped (node is not installed") {
		t.Fatalf("the table does not say the peer was skipped:\n%s", b.String())
	}
}
