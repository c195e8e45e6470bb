package hubspot_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"healthsync/connector/hubspot"
)

// createCalls creates n calls modified at stamp.
func createCalls(t *testing.T, b *bundle, n int, stamp time.Time) {
	t.Helper()
	at := stamp.UTC().Format("2006-01-02T15:04:05.000Z")
	for i := range n {
		if _, err := b.srv.Create("calls", map[string]string{"hs_call_title": "Call " + strconv.Itoa(i),
			"hs_timestamp": at, "hs_createdate": at, "hs_lastmodifieddate": at}); err != nil {
			t.Fatal(err)
		}
	}
}

// A bulk import stamps many records with one millisecond. Once stored, the
// cursor sits at that stamp; the next run's search must not page through
// them again (they are all at or below the cursor), and records re-read by
// the look-back that are stored as they are are not handed on, so their
// associations are not read again either.
func TestIncrementalPullSkipsWhatTheCursorAndTheStoreHold(t *testing.T) {
	t.Parallel()
	b := setup(t, noLimits())
	m := loadDefaults(t)
	last := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	createCalls(t, b, 50, last.Add(-30*time.Second)) // inside the one-minute look-back
	createCalls(t, b, 1000, last)                    // one import, the newest stamp
	c := b.open(b.config(), hubspot.Deps{})
	r := newReplica()
	if err := r.pull(t, c, "calls", m.Fields("calls")); err != nil {
		t.Fatal(err)
	}
	if len(r.live["calls"]) != 1050 {
		t.Fatalf("full pull stored %d calls, want 1050", len(r.live["calls"]))
	}

	// Nothing changed: the probe (200 results, all at the cursor's stamp,
	// so it does not reach back past the look-back) and one search of the
	// look-back without the records at the cursor's stamp. Before, the
	// search read the 1,000 again (5 pages) and handed on the 50 with
	// three association reads.
	calls0 := c.APICalls()
	if err := r.pull(t, c, "calls", m.Fields("calls")); err != nil {
		t.Fatal(err)
	}
	if got := c.APICalls() - calls0; got != 2 {
		t.Errorf("unchanged pull made %d calls, want 2 (the probe and one search page)", got)
	}
	if r.emitted["calls"] != 0 {
		t.Errorf("unchanged pull handed on %d calls, want none", r.emitted["calls"])
	}

	// A call at the cursor's stamp with a higher ID than the cursor's (a
	// late one of the same import) is new, and so is a stored call whose
	// stored copy differs from the portal's (the replica's copy edited).
	createCalls(t, b, 1, last)
	var edited string
	for id, rec := range r.live["calls"] {
		if strings.Contains(string(rec.Raw), "Call 7\"") && rec.ModifiedAt.Before(last) {
			rec.Raw = []byte(strings.Replace(string(rec.Raw), "Call 7\"", "Call seven\"", 1))
			r.live["calls"][id], edited = rec, id
			break
		}
	}
	if edited == "" {
		t.Fatal("no stored call 'Call 7' inside the look-back to edit")
	}
	before := len(r.live["calls"])
	if err := r.pull(t, c, "calls", m.Fields("calls")); err != nil {
		t.Fatal(err)
	}
	if r.emitted["calls"] != 2 || len(r.live["calls"]) != before+1 {
		t.Errorf("pull handed on %d calls (stored %d, was %d), want 2: the late one of the import and the one whose stored copy differs",
			r.emitted["calls"], len(r.live["calls"]), before)
	}
	if !strings.Contains(string(r.live["calls"][edited].Raw), "Call 7\"") {
		t.Errorf("the call whose stored copy differed was not handed on again: %s", r.live["calls"][edited].Raw)
	}
}
