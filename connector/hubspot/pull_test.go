package hubspot_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"healthsync/connector"
	"healthsync/connector/hubspot"
	"healthsync/crm"
	"healthsync/emulator/gen"
	emu "healthsync/emulator/hubspot"
)

var allObjects = []string{"companies", "contacts", "deals", "calls", "emails", "meetings", "notes", "tasks", "owners"}
var activityObjects = map[string]bool{"calls": true, "emails": true, "meetings": true, "notes": true, "tasks": true}

// assocTargetsOf are the object types whose associations the connector
// reads with obj's records: an activity's companies, contacts and deals,
// a deal's companies.
func assocTargetsOf(obj string) []string {
	switch {
	case activityObjects[obj]:
		return []string{"companies", "contacts", "deals"}
	case obj == "deals":
		return []string{"companies"}
	}
	return nil
}

func loadOrg(t *testing.T, b *bundle, accounts int) *emu.OrgIDs {
	t.Helper()
	org, err := gen.Generate(gen.Options{Seed: 7, Accounts: accounts})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := b.srv.LoadOrg(org)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func ceilDiv(n, d int) int { return (n + d - 1) / d }

// verify checks the replica against the portal: same live records with the
// same values of the pulled fields and associations, and every deletion
// an archived record.
func verify(t *testing.T, b *bundle, r *replica, m *mappingDefaults) {
	t.Helper()
	for _, obj := range allObjects {
		if obj == "owners" {
			owners := b.srv.Owners()
			if len(r.live[obj]) != len(owners) {
				t.Errorf("owners: replica has %d, portal %d", len(r.live[obj]), len(owners))
			}
			continue
		}
		want, err := b.srv.Records(obj)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.live[obj]) != len(want) {
			t.Errorf("%s: replica has %d live records, portal %d", obj, len(r.live[obj]), len(want))
		}
		for _, w := range want {
			got, ok := r.live[obj][w.ID]
			if !ok {
				t.Errorf("%s %s missing from the replica", obj, w.ID)
				continue
			}
			p := props(t, got)
			for _, f := range m.Fields(obj) {
				var gv string
				if p[f] != nil {
					gv = *p[f]
				}
				if gv != w.Properties[f] {
					t.Errorf("%s %s %s: replica %q, portal %q", obj, w.ID, f, gv, w.Properties[f])
				}
			}
			if !got.ModifiedAt.Equal(w.UpdatedAt) {
				t.Errorf("%s %s modified: replica %v, portal %v", obj, w.ID, got.ModifiedAt, w.UpdatedAt)
			}
			for _, to := range assocTargetsOf(obj) {
				as, _ := b.srv.Associations(obj, w.ID, to)
				var wantIDs []string
				for _, a := range as {
					wantIDs = append(wantIDs, a.ToID)
				}
				// Links to records archived since are stale outside
				// the association window; the deleted target is gone
				// from the replica anyway.
				var gotIDs []string
				for _, g := range assocIDs(t, got, to) {
					if !r.deleted[to][g] {
						gotIDs = append(gotIDs, g)
					}
				}
				sort.Strings(wantIDs)
				sort.Strings(gotIDs)
				if !slices.Equal(gotIDs, wantIDs) {
					t.Errorf("%s %s associations to %s: replica %v, portal %v", obj, w.ID, to, gotIDs, wantIDs)
				}
			}
		}
		for id := range r.deleted[obj] {
			rec, err := b.srv.Record(obj, id)
			if err != nil || !rec.Archived {
				t.Errorf("%s %s emitted as deleted but the portal has it live (%v)", obj, id, err)
			}
		}
	}
}

// api sends a request to the portal with the private-app token.
func (b *bundle) api(method, path, body string) {
	b.t.Helper()
	req, _ := http.NewRequest(method, b.ts.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+b.srv.Credentials().PrivateAppToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		b.t.Fatalf("%s %s: %d", method, path, resp.StatusCode)
	}
}

func TestFullThenIncrementalSyncReproducesThePortal(t *testing.T) {
	t.Parallel()
	b := setup(t, noLimits())
	ids := loadOrg(t, b, 30)
	m := loadDefaults(t)
	c := b.open(b.config(), hubspot.Deps{})
	r := newReplica()

	// Full sync, and its API calls against the formula.
	calls0, emu0 := c.APICalls(), b.srv.APICalls()
	want := 0
	for _, obj := range allObjects {
		if err := r.pull(t, c, obj, m.Fields(obj)); err != nil {
			t.Fatalf("pull %s: %v", obj, err)
		}
		if obj == "owners" {
			want += 2 // live and archived owners, one page each
			continue
		}
		n := b.srv.Count(obj)
		archived := len(r.deleted[obj])
		want += max(1, ceilDiv(n, 200)) + max(1, ceilDiv(archived, 100))
		want += len(assocTargetsOf(obj)) * ceilDiv(n, 1000)
	}
	got := c.APICalls() - calls0
	records := 0
	for _, obj := range allObjects {
		records += len(r.live[obj])
		t.Logf("%-9s %5d live %3d archived", obj, len(r.live[obj]), len(r.deleted[obj]))
	}
	t.Logf("full sync: %d API calls for %d live records", got, records)
	if got != int64(want) || int(got) != b.srv.APICalls()-emu0 {
		t.Errorf("full sync made %d calls (portal counted %d), want %d = search pages + association reads + archived lists + owners", got, b.srv.APICalls()-emu0, want)
	}
	verify(t, b, r, m)
	deletedBefore := 0
	for _, obj := range allObjects {
		deletedBefore += len(r.deleted[obj])
	}
	if deletedBefore == 0 {
		t.Fatal("the generated portal should hold archived records")
	}

	// Inserts, updates and archives, then an incremental sync.
	b.clock.Add(time.Hour)
	newID, err := b.srv.Create("companies", map[string]string{"name": "Fresh Co", "domain": "fresh.example"})
	if err != nil {
		t.Fatal(err)
	}
	b.clock.Add(time.Minute)
	b.api(http.MethodPatch, fmt.Sprintf("/crm/v3/objects/companies/%d", ids.Companies[0]), `{"properties":{"industry":"Aerospace"}}`)
	b.api(http.MethodPatch, fmt.Sprintf("/crm/v3/objects/deals/%d", ids.Deals[0]), `{"properties":{"amount":"4242"}}`)
	b.clock.Add(time.Minute)
	b.api(http.MethodDelete, fmt.Sprintf("/crm/v3/objects/contacts/%d", ids.Contacts[1]), "")
	call := ids.Activities[0]
	b.api(http.MethodDelete, fmt.Sprintf("/crm/v3/objects/%s/%d", call.Type, call.ID), "")

	for _, obj := range allObjects {
		if err := r.pull(t, c, obj, m.Fields(obj)); err != nil {
			t.Fatalf("incremental pull %s: %v", obj, err)
		}
	}
	verify(t, b, r, m)
	if _, ok := r.live["companies"][newID]; !ok {
		t.Error("the new company was not pulled")
	}
	if !r.deleted["contacts"][strconv.FormatInt(ids.Contacts[1], 10)] {
		t.Error("the archived contact was not emitted as a deletion")
	}
	if r.emitted["companies"] > 5 {
		t.Errorf("incremental companies pull emitted %d records, want the 2 changed ones (and look-back)", r.emitted["companies"])
	}
}

func TestFifteenThousandCompaniesSharingOneTimestamp(t *testing.T) {
	t.Parallel()
	b := setup(t, noLimits())
	stamp := "2025-06-01T00:00:00.000Z"
	const n = 15000
	for i := range n {
		if _, err := b.srv.Create("companies", map[string]string{"name": "Tie " + strconv.Itoa(i), "hs_lastmodifieddate": stamp, "createdate": stamp}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		if _, err := b.srv.Create("companies", map[string]string{"name": "Later " + strconv.Itoa(i), "hs_lastmodifieddate": "2025-06-02T00:00:00.000Z", "createdate": stamp}); err != nil {
			t.Fatal(err)
		}
	}
	c := b.open(b.config(), hubspot.Deps{})
	seen := map[string]int{}
	var cursor connector.Cursor
	calls0 := c.APICalls()
	err := c.Pull(context.Background(), pullReq("companies", nil, connector.Cursor{}), func(_ context.Context, p pageT) error {
		for _, rec := range p.Records {
			seen[rec.ID]++
		}
		cursor = p.Cursor
		return nil
	})
	if err != nil {
		t.Fatalf("pull: %v", err)
	}
	if len(seen) != n+3 {
		t.Fatalf("pulled %d distinct companies, want %d", len(seen), n+3)
	}
	for id, k := range seen {
		if k != 1 {
			t.Fatalf("company %s pulled %d times", id, k)
		}
	}
	// ceil(15003/200) search pages + 1 archived list.
	if got, want := c.APICalls()-calls0, int64(ceilDiv(n+3, 200)+1); got != want {
		t.Errorf("pull made %d calls, want %d", got, want)
	}
	// An incremental pull from the final cursor re-reads only the look-back.
	seen = map[string]int{}
	if err := c.Pull(context.Background(), pullReq("companies", nil, cursor), func(_ context.Context, p pageT) error {
		for _, rec := range p.Records {
			seen[rec.ID]++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 0 {
		t.Errorf("incremental pull at the end re-emitted %d records", len(seen))
	}
}

func TestActivitiesReassociatedAfterSyncArePickedUp(t *testing.T) {
	t.Parallel()
	b := setup(t, noLimits())
	ids := loadOrg(t, b, 10)
	m := loadDefaults(t)
	c := b.open(b.config(), hubspot.Deps{})
	r := newReplica()
	for _, obj := range []string{"companies", "calls", "emails", "meetings", "notes", "tasks"} {
		if err := r.pull(t, c, obj, m.Fields(obj)); err != nil {
			t.Fatal(err)
		}
	}
	// A recent activity (inside the 30-day window) moves to another company.
	var act emu.ActivityID
	found := false
	for _, a := range ids.Activities {
		rec, err := b.srv.Record(a.Type, strconv.FormatInt(a.ID, 10))
		if err != nil || rec.Archived {
			continue
		}
		ts, _ := crm.ParseTime(rec.Properties["hs_timestamp"])
		if ts.After(b.clock.Now().Add(-10*24*time.Hour)) && ts.Before(b.clock.Now()) {
			act, found = a, true
			break
		}
	}
	if !found {
		t.Fatal("no recent activity in the generated portal")
	}
	id := strconv.FormatInt(act.ID, 10)
	old, _ := b.srv.Associations(act.Type, id, "companies")
	var target string
	for _, cid := range ids.Companies {
		if s := strconv.FormatInt(cid, 10); len(old) == 0 || s != old[0].ToID {
			target = s
			break
		}
	}
	before, _ := b.srv.Record(act.Type, id)
	for _, a := range old {
		b.api(http.MethodDelete, "/crm/v4/objects/"+act.Type+"/"+id+"/associations/companies/"+a.ToID, "")
	}
	b.api(http.MethodPut, "/crm/v4/objects/"+act.Type+"/"+id+"/associations/default/companies/"+target, "")
	after, _ := b.srv.Record(act.Type, id)
	if !after.UpdatedAt.Equal(before.UpdatedAt) {
		t.Fatal("the emulator bumped the activity's modified date; the test needs it unchanged")
	}
	b.clock.Add(time.Hour)
	// The pull alone does not see the re-link: the activity's modified
	// date did not move.
	if err := r.pull(t, c, act.Type, m.Fields(act.Type)); err != nil {
		t.Fatal(err)
	}
	if got := assocIDs(t, r.live[act.Type][id], "companies"); slices.Equal(got, []string{target}) {
		t.Fatalf("the pull picked up the re-link of %s %s by itself: the test needs a re-link the pull cannot see", act.Type, id)
	}
	// The sweep does, and hands on that activity alone: every other one in
	// the window has the associations the replica stores.
	calls0 := c.APICalls()
	if err := r.sweep(t, c, act.Type, m.Fields(act.Type)); err != nil {
		t.Fatal(err)
	}
	got := assocIDs(t, r.live[act.Type][id], "companies")
	if !slices.Equal(got, []string{target}) {
		t.Errorf("after re-association the replica links %s %s to companies %v, want [%s]", act.Type, id, got, target)
	}
	if r.emitted[act.Type] != 1 {
		t.Errorf("the sweep of %s emitted %d records, want only the re-associated one", act.Type, r.emitted[act.Type])
	}
	inWindow := 0
	recs, _ := b.srv.Records(act.Type)
	for _, rec := range recs {
		if ts, err := crm.ParseTime(rec.Properties["hs_timestamp"]); err == nil && !ts.Before(b.clock.Now().Add(-720*time.Hour)) {
			inWindow++
		}
	}
	if got, want := c.APICalls()-calls0, int64(max(1, ceilDiv(inWindow, 200))+3*ceilDiv(inWindow, 1000)); got != want {
		t.Errorf("the sweep of %d activities made %d calls, want %d (search pages of 200, 3 association reads per 1,000)", inWindow, got, want)
	}
	// A second sweep finds nothing to hand on.
	if err := r.sweep(t, c, act.Type, m.Fields(act.Type)); err != nil {
		t.Fatal(err)
	}
	if r.emitted[act.Type] != 0 {
		t.Errorf("a second sweep emitted %d records, want none", r.emitted[act.Type])
	}
}

// TestRecycleBinReadOnlyWhenCountsDiffer: an incremental pull that knows
// what is stored makes one search per object when nothing changed (the
// newest-first probe, whose total is the live count), reads the recycle
// bin only when the portal's live count differs from the stored one plus
// what the pull added, and so still finds an archive hidden by a create.
func TestRecycleBinReadOnlyWhenCountsDiffer(t *testing.T) {
	t.Parallel()
	b := setup(t, noLimits())
	ids := loadOrg(t, b, 30)
	m := loadDefaults(t)
	c := b.open(b.config(), hubspot.Deps{})
	r := newReplica()
	pullAll := func() int64 {
		t.Helper()
		calls0 := c.APICalls()
		for _, obj := range allObjects {
			if err := r.pull(t, c, obj, m.Fields(obj)); err != nil {
				t.Fatalf("pull %s: %v", obj, err)
			}
		}
		return c.APICalls() - calls0
	}
	pullAll()
	b.clock.Add(time.Hour)
	// Unchanged: one probe per object, and the owners' two lists.
	if got, want := pullAll(), int64(len(allObjects)-1+2); got != want {
		t.Errorf("unchanged incremental sync made %d calls, want %d (one search per object, two owner lists)", got, want)
	}
	verify(t, b, r, m)

	// One contact archived and another created: the count is as before,
	// but the stored one gains the new contact, so the bin is read.
	gone := strconv.FormatInt(ids.Contacts[3], 10)
	b.api(http.MethodDelete, "/crm/v3/objects/contacts/"+gone, "")
	if _, err := b.srv.Create("contacts", map[string]string{"email": "new@example.com", "firstname": "New"}); err != nil {
		t.Fatal(err)
	}
	b.clock.Add(time.Hour)
	calls0 := c.APICalls()
	if err := r.pull(t, c, "contacts", m.Fields("contacts")); err != nil {
		t.Fatal(err)
	}
	if !r.deleted["contacts"][gone] {
		t.Error("the contact archived while another was created was not emitted as a deletion")
	}
	if got := c.APICalls() - calls0; got != 2 {
		t.Errorf("the pull made %d calls, want 2 (the probe and one recycle-bin page)", got)
	}
	// A company archived alone.
	company := strconv.FormatInt(ids.Companies[2], 10)
	b.api(http.MethodDelete, "/crm/v3/objects/companies/"+company, "")
	b.clock.Add(time.Hour)
	if err := r.pull(t, c, "companies", m.Fields("companies")); err != nil {
		t.Fatal(err)
	}
	if !r.deleted["companies"][company] {
		t.Error("the archived company was not emitted as a deletion")
	}
	// A changed company: the probe carries it, no bin read.
	b.api(http.MethodPatch, fmt.Sprintf("/crm/v3/objects/companies/%d", ids.Companies[0]), `{"properties":{"industry":"Aerospace"}}`)
	b.clock.Add(time.Hour)
	calls0 = c.APICalls()
	if err := r.pull(t, c, "companies", m.Fields("companies")); err != nil {
		t.Fatal(err)
	}
	if got := c.APICalls() - calls0; got != 1 || r.emitted["companies"] != 1 {
		t.Errorf("one changed company took %d calls and emitted %d records, want 1 and 1", got, r.emitted["companies"])
	}
	verify(t, b, r, m)
}
