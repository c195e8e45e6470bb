package main

import (
	"os"
	"testing"

	"healthsync/crm"
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

// TestBenchSmallOrg runs every scenario on a small org and checks the
// figures are consistent: the ceiling fetched at least what the sync
// stored, no count is below its theoretical minimum (which would mean the
// minimum is wrong), the 1% change was seen, and every run reported its
// peak RSS.
func TestBenchSmallOrg(t *testing.T) {
	t.Parallel()
	for _, sys := range []crm.System{crm.Salesforce, crm.HubSpot} {
		t.Run(string(sys), func(t *testing.T) {
			t.Parallel()
			r, err := benchOne(options{runs: 1, seed: 7}, sys, 30, "sqlite")
			if err != nil {
				t.Fatal(err)
			}
			checkRow(t, r)
		})
	}
}

func checkRow(t *testing.T, r row) {
	t.Helper()
	if r.Records == 0 || r.CeilingRecords < r.Records {
		t.Errorf("full sync stored %d records, the ceiling client fetched %d", r.Records, r.CeilingRecords)
	}
	for name, c := range map[string][2]int64{
		"full":      {r.FullCalls, int64(r.FullMin)},
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
	if r.Updated == 0 || r.ScoreRate <= 0 {
		t.Errorf("apply updated %d records, scoring ran at %v accounts/s", r.Updated, r.ScoreRate)
	}
	for _, n := range []string{"full sync", "1% changed sync", "unchanged sync", "score", "apply", "ceiling"} {
		if r.RSSMiB[n] <= 0 {
			t.Errorf("no peak RSS for %s: %v", n, r.RSSMiB)
		}
	}
}
