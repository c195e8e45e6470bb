package salesforce

import (
	"context"
	"testing"
	"time"

	"healthsync/connector"
	emu "healthsync/emulator/salesforce"
)

func TestRefreshCalculatedEmitsOnlyUnknownOrChanged(t *testing.T) {
	t.Parallel()
	b := setup(t, 3, emu.Options{})
	ctx := context.Background()
	req := connector.PullRequest{Object: "Contact", Fields: []string{"FirstName", "LastName", "Name"}}
	calc, err := b.c.CalculatedFields(ctx, "Contact", req.Fields)
	if err != nil || len(calc) != 1 || calc[0] != "Name" {
		t.Fatalf("calculated fields = %v, %v; want [Name]", calc, err)
	}
	n := 0
	count := func(_ context.Context, p connector.Page) error {
		if p.Cursor != req.Since {
			t.Errorf("refresh moved the cursor to %v", p.Cursor)
		}
		n += len(p.Records)
		return nil
	}
	if err := b.c.Pull(ctx, req, func(context.Context, connector.Page) error { return nil }); err != nil {
		t.Fatal(err)
	}
	// Every value is known from the pull: nothing to emit, one call.
	before := b.c.APICalls()
	if err := b.c.RefreshCalculated(ctx, req, count); err != nil {
		t.Fatal(err)
	}
	if n != 0 || b.c.APICalls()-before != 1 {
		t.Errorf("refresh after a pull emitted %d records in %d calls, want 0 in 1", n, b.c.APICalls()-before)
	}
	// A new process knows nothing: everything is re-fetched once.
	c2 := b.open(b.cfg)
	if err := c2.RefreshCalculated(ctx, req, count); err != nil {
		t.Fatal(err)
	}
	if live := len(b.srv.IDs("Contact", false)); n != live {
		t.Errorf("first refresh of a new client emitted %d records, want all %d", n, live)
	}
	// Due-ness follows HEALTHSYNC_SALESFORCE_FORMULA_REFRESH.
	last := b.clock.Now()
	if b.c.CalculatedDue(last) || !b.c.CalculatedDue(time.Time{}) {
		t.Error("CalculatedDue wrong right after a refresh or for never")
	}
	b.clock.Add(24 * time.Hour)
	if !b.c.CalculatedDue(last) {
		t.Error("CalculatedDue false after 24h")
	}
}

func TestListIDsStreamsLiveIDs(t *testing.T) {
	t.Parallel()
	b := setup(t, 5, emu.Options{})
	dead := b.srv.IDs("Contact", false)[0]
	if err := b.srv.Delete("Contact", dead); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	if err := b.c.ListIDs(context.Background(), "Contact", func(ids []string) error {
		for _, id := range ids {
			got[id] = true
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	live := b.srv.IDs("Contact", false)
	if len(got) != len(live) || got[dead] {
		t.Errorf("ListIDs gave %d IDs (deleted one included: %v), want the %d live ones", len(got), got[dead], len(live))
	}
}
