package sync_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"healthsync/connector"
	"healthsync/connector/salesforce"
	"healthsync/crm"
	"healthsync/emulator/gen"
	emusalesforce "healthsync/emulator/salesforce"
	"healthsync/mapping"
	"healthsync/store"
	"healthsync/store/storetest"
	hsync "healthsync/sync"
)

// wbRig is an emulated Salesforce org with the healthsync fields
// installed, a store synced from it and scored.
type wbRig struct {
	em  *emusalesforce.Server
	c   *salesforce.Client
	st  *store.Store
	m   *mapping.Mapping
	cfg hsync.Config
	// ingestJobs counts the Bulk API 2.0 ingest jobs created.
	ingestJobs atomic.Int64
	// fault, when set, sees every request before the emulator and
	// answers it itself by returning true.
	fault atomic.Pointer[func(http.ResponseWriter, *http.Request) bool]
	// storeCfg is where the store is, for tests that look at its tables.
	storeCfg store.Config
}

// newWBRig builds the rig with mappingText as its mapping file (empty:
// the Salesforce example mapping), synced and scored.
func newWBRig(t *testing.T, accounts int, mappingText string, tweaks ...func(*salesforce.Config)) *wbRig {
	t.Helper()
	r := newWBRigAt(t, accounts, mappingText, time.Now(), nil, nil, tweaks...)
	r.syncAndScore(t)
	return r
}

// newWBRigAt is newWBRig with the generated org's history ending at
// orgNow, neither synced nor scored yet.
//
// storeAt gives the store's configuration (nil: a SQLite file).
func newWBRigAt(t *testing.T, accounts int, mappingText string, orgNow time.Time, beforeInstall func(*salesforce.Client),
	storeAt func(testing.TB) store.Config, tweaks ...func(*salesforce.Config)) *wbRig {
	t.Helper()
	ctx := context.Background()
	em := emusalesforce.New(emusalesforce.Options{})
	o, err := gen.Generate(gen.Options{Seed: 5, Accounts: accounts, Now: orgNow})
	if err != nil {
		t.Fatal(err)
	}
	if err := em.LoadOrg(o); err != nil {
		t.Fatal(err)
	}
	r := &wbRig{em: em}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/jobs/ingest") {
			r.ingestJobs.Add(1)
		}
		if f := r.fault.Load(); f != nil && (*f)(w, req) {
			return
		}
		em.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	sc := salesforceConfig(t, em, srv.URL)
	for _, tweak := range tweaks {
		tweak(&sc)
	}
	m := wbMapping(t, mappingText)
	c, err := salesforce.Open(ctx, sc, salesforce.Deps{Connection: "default", TaskKeyField: m.TaskKeyField(),
		Snooze: connector.Snooze{Field: m.Snooze().Field, Status: m.Snooze().Status}, WriteRetryWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if beforeInstall != nil {
		beforeInstall(c)
	}
	if _, err := c.Install(ctx, m.FieldSpecs()); err != nil {
		t.Fatal(err)
	}
	r.c, r.m, r.cfg = c, m, hsync.Config{Connection: "default", ReconcileEvery: time.Hour}
	cfg := store.Config{DatabaseURL: filepath.Join(t.TempDir(), "hs.db")}
	if storeAt != nil {
		cfg = storeAt(t)
	}
	cfg.EncryptionKey = storetest.Key
	r.st = storetest.Open(t, cfg, store.Options{})
	r.storeCfg = cfg
	return r
}

func wbMapping(t *testing.T, text string) *mapping.Mapping {
	t.Helper()
	if text == "" {
		text = string(mapping.Example(crm.Salesforce))
	}
	m, err := mapping.Parse("wb.yaml", []byte(text), mapping.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (r *wbRig) syncAndScore(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	if _, err := hsync.NewEngine(hsync.EngineOptions{Store: r.st, Source: r.c, Mapping: r.m, Config: r.cfg}).Sync(ctx, hsync.SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.scorer(time.Now()).ScoreAll(ctx); err != nil {
		t.Fatal(err)
	}
}

// scorer scores the rig's accounts with its mapping as of at.
func (r *wbRig) scorer(at time.Time) *hsync.Scorer {
	return hsync.NewScorer(hsync.ScorerOptions{Store: r.st, Connection: "default", Mapping: r.m, Clock: crm.FixedClock(at)})
}

// wbOptions are the rig's writeback: its store and mapping, the system
// clock, a guard that lets the tests' changes through.
func (r *wbRig) wbOptions() hsync.WritebackOptions {
	return hsync.WritebackOptions{Store: r.st, Connection: "default", Mapping: r.m,
		Config: hsync.WritebackConfig{MaxChangeShare: 0.3, MaxTasks: 10000}}
}

func (r *wbRig) wb(hooks hsync.ApplyHooks) *hsync.Writeback {
	o := r.wbOptions()
	o.Hooks = hooks
	return hsync.NewWriteback(o)
}

func (r *wbRig) planApply(t *testing.T, force bool) (*hsync.Plan, *hsync.ApplyReport) {
	t.Helper()
	p := r.plan(t)
	rep, err := r.wb(hsync.ApplyHooks{}).Apply(context.Background(), r.c, p, force)
	if err != nil {
		t.Fatal(err)
	}
	return p, rep
}

// plan plans the writeback: it checks the output fields against the
// describe first (at most one describe call per object, then cached) and
// asks which open tasks a CSM snoozed (one lookup per 100).
func (r *wbRig) plan(t *testing.T) *hsync.Plan {
	t.Helper()
	ctx := context.Background()
	open, err := r.st.Tasks(ctx, "default", store.TaskOpen)
	if err != nil {
		t.Fatal(err)
	}
	before := r.c.APICalls()
	p, err := r.wb(hsync.ApplyHooks{}).Plan(ctx, r.c)
	if err != nil {
		t.Fatal(err)
	}
	if calls, most := r.c.APICalls()-before, int64(2+(len(open)+99)/100); calls > most {
		t.Fatalf("planning made %d API calls; two describes (Account, Task) and %d snooze lookups are the most", calls, most-2)
	}
	return p
}

// liveAccount reports whether an emulated account is a live customer in
// the generated org (churned ones are former customers: never scored).
func liveAccount(rec map[string]any) bool { return rec["Churned__c"] != true }

func (r *wbRig) assertEmptyPlan(t *testing.T) {
	t.Helper()
	p, err := r.wb(hsync.ApplyHooks{}).Plan(context.Background(), r.c)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Empty() {
		t.Fatalf("plan after apply is not empty: %d updates, %d creates, %d closes", len(p.Updates), len(p.Creates), len(p.Closes))
	}
}

func (r *wbRig) assertNoDuplicateTasks(t *testing.T) int {
	t.Helper()
	seen := map[any]bool{}
	for _, task := range r.em.CreatedTasks() {
		k := task["Healthsync_Key__c"]
		if k == nil || seen[k] {
			t.Fatalf("task %v has no key or a duplicate key", task["Id"])
		}
		seen[k] = true
	}
	return len(seen)
}

func TestPlanApplyPlanIsEmptyAndCallsAreMinimal(t *testing.T) {
	t.Parallel()
	r := newWBRig(t, 250, "")
	p := r.plan(t)
	before := r.c.APICalls()
	rep, err := r.wb(hsync.ApplyHooks{}).Apply(context.Background(), r.c, p, false)
	if err != nil {
		t.Fatal(err)
	}
	u := len(p.Updates)
	if u < 220 || rep.Records != u || len(rep.Failures) != 0 {
		t.Fatalf("first apply: %d planned, %d written, failures %v", u, rep.Records, rep.Failures)
	}
	// Updates: ceil(u/200) composite calls; tasks: one SOQL lookup by key
	// per 100 keys (the query must fit a GET URL) and ceil(n/200) creations.
	n := len(p.Creates)
	want := int64((u+199)/200 + (n+99)/100 + (n+199)/200)
	if got := r.c.APICalls() - before; got != want {
		t.Fatalf("apply made %d API calls for 450 updates and %d tasks, want %d", got, n, want)
	}
	t.Logf("apply: %d records, %d tasks, %d API calls", u, n, want)
	r.syncAndScore(t)
	r.assertEmptyPlan(t)
	if got := r.assertNoDuplicateTasks(t); got != n {
		t.Fatalf("%d tasks in the CRM, want %d", got, n)
	}
}

// TestLargeApplyWritesThroughOneBulkJob lowers the Bulk write threshold
// below the plan's size: the updates go out as one Bulk API 2.0 ingest
// job, their calls are counted as write calls (not estimated), the ledger
// records them and the next plan is empty.
func TestLargeApplyWritesThroughOneBulkJob(t *testing.T) {
	t.Parallel()
	r := newWBRig(t, 250, "", func(c *salesforce.Config) { c.BulkWriteThreshold = 100 })
	p := r.plan(t)
	before := r.c.APICalls()
	rep, err := r.wb(hsync.ApplyHooks{}).Apply(context.Background(), r.c, p, false)
	if err != nil {
		t.Fatal(err)
	}
	if u := len(p.Updates); u <= 100 || rep.Records != u || len(rep.Failures) != 0 {
		t.Fatalf("apply: %d planned, %d written, failures %v", u, rep.Records, rep.Failures)
	}
	if got := r.ingestJobs.Load(); got != 1 {
		t.Errorf("%d Bulk ingest jobs for %d updates above the threshold, want 1", got, len(p.Updates))
	}
	n := len(p.Creates)
	lookups := int64((n + 99) / 100)
	if got, all := int64(rep.WriteCalls), r.c.APICalls()-before; got != all-lookups {
		t.Errorf("apply reports %d write calls; it made %d calls of which %d task lookups", got, all, lookups)
	}
	t.Logf("apply: %d records through Bulk, %d tasks, %d write calls", len(p.Updates), n, rep.WriteCalls)
	r.syncAndScore(t)
	r.assertEmptyPlan(t)
}

// TestCrashBetweenWriteAndLedger stops the apply after each CRM write call
// and before its ledger entry, then re-plans and applies: no task is
// duplicated and every field ends up written.
func TestCrashBetweenWriteAndLedger(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// Count the write calls of a clean apply first.
	probe := newWBRig(t, 210, "")
	calls := 0
	p, err := probe.wb(hsync.ApplyHooks{}).Plan(ctx, probe.c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := probe.wb(hsync.ApplyHooks{AfterWrite: func(string, int) error { calls++; return nil }}).Apply(ctx, probe.c, p, false); err != nil {
		t.Fatal(err)
	}
	if calls < 2 {
		t.Fatalf("a clean apply made %d write calls; the test needs several", calls)
	}
	crash := errors.New("crash")
	for at := 1; at <= calls; at++ {
		t.Run(fmt.Sprint("call", at), func(t *testing.T) {
			r := newWBRig(t, 210, "")
			n := 0
			p, err := r.wb(hsync.ApplyHooks{}).Plan(ctx, r.c)
			if err != nil {
				t.Fatal(err)
			}
			_, err = r.wb(hsync.ApplyHooks{AfterWrite: func(string, int) error {
				n++
				if n == at {
					return crash
				}
				return nil
			}}).Apply(ctx, r.c, p, false)
			if !errors.Is(err, crash) {
				t.Fatalf("apply error %v, want the crash", err)
			}
			r.planApply(t, false)
			r.syncAndScore(t)
			r.assertEmptyPlan(t)
			r.assertNoDuplicateTasks(t)
			for _, id := range r.em.IDs("Account", false) {
				rec, _ := r.em.Record("Account", id)
				if liveAccount(rec) && rec["Health_Grade__c"] == nil {
					t.Fatalf("live account %s has no grade after the resumed apply", id)
				}
			}
		})
	}
}

func TestGuardTripsOnAMappingThatChangesEveryScore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newWBRig(t, 60, "")
	r.planApply(t, false)
	// A broken mapping: everything weighs on one measure.
	broken, err := mapping.Parse("broken.yaml", []byte("crm: {system: salesforce}\nscoring:\n  weights: {relationship_breadth: 0, relationship_depth: 0, engagement_recency: 0, executive_engagement: 0, adoption: 0, sentiment: 0, renewal_risk: 1}\n  min_measures: 1\n"), mapping.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r.m = broken
	if _, err := r.scorer(time.Now().Add(time.Second)).ScoreAll(ctx); err != nil {
		t.Fatal(err)
	}
	p, err := r.wb(hsync.ApplyHooks{}).Plan(ctx, r.c)
	if err != nil {
		t.Fatal(err)
	}
	if p.Guard == "" {
		t.Fatalf("guard did not trip: %d of %d written scores change", p.Changed, p.Written)
	}
	before := r.c.APICalls()
	if _, err := r.wb(hsync.ApplyHooks{}).Apply(ctx, r.c, p, false); !errors.Is(err, hsync.ErrGuard) {
		t.Fatalf("apply without --force: %v, want ErrGuard", err)
	}
	if r.c.APICalls() != before {
		t.Fatal("a refused apply called the CRM")
	}
	if _, err := r.wb(hsync.ApplyHooks{}).Apply(ctx, r.c, p, true); err != nil {
		t.Fatalf("apply --force: %v", err)
	}
}

// TestAutoCloseAndSnooze clears a flag and checks that its open tasks are
// closed, except one a CSM snoozed.
func TestAutoCloseAndSnooze(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newWBRig(t, 40, "")
	r.planApply(t, false)
	var single []string
	for _, task := range r.em.CreatedTasks() {
		if k, _ := task["Healthsync_Key__c"].(string); len(k) > 0 && contains(k, ":single_threaded:") {
			single = append(single, task["Id"].(string))
		}
	}
	if len(single) < 2 {
		t.Fatalf("only %d single_threaded tasks; the test needs two", len(single))
	}
	// The CSM defers one task; the mapping says Deferred means snoozed.
	if err := r.em.SetField("Task", single[0], "Status", "Deferred"); err != nil {
		t.Fatal(err)
	}
	var err error
	r.m, err = mapping.Parse("cleared.yaml", []byte("crm: {system: salesforce}\ntasks:\n  snooze: {status: Deferred}\nscoring:\n  flags:\n    single_threaded: {disabled: true}\n"), mapping.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.scorer(time.Now().Add(time.Second)).ScoreAll(ctx); err != nil {
		t.Fatal(err)
	}
	p, _ := r.planApply(t, true)
	for _, c := range p.Closes {
		if c.TaskID == single[0] {
			t.Fatalf("the snoozed task %s was planned for closing", single[0])
		}
	}
	if rec, _ := r.em.Record("Task", single[0]); rec["Status"] != "Deferred" {
		t.Fatalf("snoozed task status %v, want Deferred", rec["Status"])
	}
	for _, id := range single[1:] {
		if rec, _ := r.em.Record("Task", id); rec["Status"] != "Completed" {
			t.Fatalf("task %s of the cleared flag has status %v, want Completed", id, rec["Status"])
		}
	}
}

// TestOverrideIsWritten maps a CSM override field and checks that the
// written score follows it.
func TestOverrideIsWritten(t *testing.T) {
	t.Parallel()
	r := newWBRig(t, 30, "")
	ovr, err := mapping.Parse("override.yaml", []byte("crm: {system: salesforce}\nfields:\n  account:\n    score_override: NPS__c\n"), mapping.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r.m = ovr
	r.syncAndScore(t)
	r.planApply(t, true)
	checked := 0
	for _, id := range r.em.IDs("Account", false) {
		rec, _ := r.em.Record("Account", id)
		nps, ok := rec["NPS__c"].(float64)
		if !ok || !liveAccount(rec) {
			continue
		}
		checked++
		if got, _ := rec["Health_Score__c"].(float64); got != nps {
			t.Fatalf("account %s: written score %v, override %v", id, rec["Health_Score__c"], nps)
		}
	}
	if checked == 0 {
		t.Fatal("no account has an override value")
	}
}

// TestChurnClosesTasksSayingWhy churns an account that has open
// healthsync tasks: the next run closes them, and each closed task says
// that healthsync closed it and why, so it never reads as a CSM's work.
// The account's score and grade are cleared and its reasons say it is a
// former customer.
func TestChurnClosesTasksSayingWhy(t *testing.T) {
	t.Parallel()
	eachStore(t, testChurnClosesTasksSayingWhy)
}

// eachStore runs test on SQLite and, when HEALTHSYNC_TEST_DATABASE_URL is
// set, on Postgres (skipped with a message otherwise).
func eachStore(t *testing.T, test func(t *testing.T, storeAt func(testing.TB) store.Config)) {
	t.Run("sqlite", func(t *testing.T) { t.Parallel(); test(t, nil) })
	t.Run("postgres", func(t *testing.T) { t.Parallel(); test(t, storetest.PostgresConfig) })
}

func testChurnClosesTasksSayingWhy(t *testing.T, storeAt func(testing.TB) store.Config) {
	r := newWBRigAt(t, 40, "", time.Now(), nil, storeAt)
	r.syncAndScore(t)
	r.planApply(t, false)
	open, err := r.st.Tasks(context.Background(), "default", store.TaskOpen)
	if err != nil || len(open) == 0 {
		t.Fatalf("no open task after the first apply: %v", err)
	}
	acct := open[0].AccountID
	if err := r.em.SetField("Account", acct, "Churned__c", true); err != nil {
		t.Fatal(err)
	}
	if err := r.em.SetField("Account", acct, "Churn_Date__c", time.Now().AddDate(0, 0, -2).Format("2006-01-02")); err != nil {
		t.Fatal(err)
	}
	r.syncAndScore(t)
	p, rep := r.planApply(t, false)
	var closed []string
	for _, c := range p.Closes {
		if c.AccountID != acct {
			continue
		}
		if !c.Close || !strings.Contains(c.Note, "former customer") {
			t.Errorf("close of %s: %+v, want a close noting the former customer", c.Key, c)
		}
		closed = append(closed, c.TaskID)
	}
	if len(closed) == 0 || rep.TasksClosed < len(closed) {
		t.Fatalf("the churned account's tasks were not closed: plan %d, closed %d", len(closed), rep.TasksClosed)
	}
	for _, id := range closed {
		task, _ := r.em.Record("Task", id)
		subject, _ := task["Subject"].(string)
		desc, _ := task["Description"].(string)
		if task["Status"] != "Completed" || !strings.HasPrefix(subject, "Closed by healthsync: ") ||
			!strings.Contains(desc, "not by a CSM: the account is a former customer") {
			t.Errorf("closed task %s: status %v, subject %q, description %q", id, task["Status"], subject, desc)
		}
	}
	rec, _ := r.em.Record("Account", acct)
	if rec["Health_Score__c"] != nil || rec["Health_Grade__c"] != nil || !strings.Contains(fmt.Sprint(rec["Health_Reasons__c"]), "former customer") {
		t.Errorf("churned account: score %v grade %v reasons %v", rec["Health_Score__c"], rec["Health_Grade__c"], rec["Health_Reasons__c"])
	}
	r.syncAndScore(t)
	r.assertEmptyPlan(t)
}

// TestSnoozeFieldGarbage: a snooze field (here a text field the admin
// made) holding no date snoozes nothing, says so as a problem of the plan,
// and causes neither a crash nor new tasks.
func TestSnoozeFieldGarbage(t *testing.T) {
	t.Parallel()
	text := exampleText(t, "  snooze:\n    # CSMs defer a task they cannot act on yet; healthsync leaves it alone.\n    status: Deferred",
		"  snooze:\n    field: Snooze_Note__c")
	// The admin's own text field, created before install (which then
	// leaves it as it is).
	r := newWBRigAt(t, 40, text, time.Now(), func(c *salesforce.Client) {
		spec := connector.FieldSpec{Object: "Task", Name: "Snooze_Note__c", Label: "Snooze note", Type: connector.FieldText, Length: 80}
		if _, err := c.Install(context.Background(), []connector.FieldSpec{spec}); err != nil {
			t.Fatal(err)
		}
	}, nil)
	r.syncAndScore(t)
	r.planApply(t, false)
	tasks := r.em.CreatedTasks()
	if len(tasks) == 0 {
		t.Fatal("no task created")
	}
	id := tasks[0]["Id"].(string)
	if err := r.em.SetField("Task", id, "Snooze_Note__c", "after the holidays"); err != nil {
		t.Fatal(err)
	}
	r.syncAndScore(t)
	p := r.plan(t)
	if len(p.Problems) != 1 || !strings.Contains(p.Problems[0], `holds "after the holidays", not a date; ignored`) {
		t.Fatalf("problems = %q, want the unreadable snooze named", p.Problems)
	}
	for _, c := range p.Creates {
		if c.Retry {
			continue
		}
		for _, task := range tasks {
			if task["Healthsync_Key__c"] == c.Key {
				t.Fatalf("task %s planned again", c.Key)
			}
		}
	}
	for _, c := range p.Closes {
		if c.TaskID == id {
			t.Fatalf("the task with an unreadable snooze was planned for closing: %+v", c)
		}
	}
}

// exampleText is the Salesforce example mapping with one passage replaced.
func exampleText(t *testing.T, old, new string) string {
	t.Helper()
	text := string(mapping.Example(crm.Salesforce))
	if !strings.Contains(text, old) {
		t.Fatalf("the example mapping no longer holds %q", old)
	}
	return strings.Replace(text, old, new, 1)
}

// smallBatches is the rig's Salesforce client handing Update fewer
// updates per call, so an apply of a 250-account org takes several calls.
type smallBatches struct {
	*salesforce.Client
	updates int
}

func (s smallBatches) WriteBatch() connector.WriteBatch {
	b := s.Client.WriteBatch()
	b.Updates = s.updates
	return b
}

// TestPlanToApplyWritesWhatPlanHolds: the plan a worker's apply makes
// holds only a preview, and Apply, deriving the updates again a batch at
// a time, writes exactly what the full plan lists, in as many calls as
// batches, and says nothing about replanning; scores stored between plan
// and apply are written as they stand, and the report says so.
func TestPlanToApplyWritesWhatPlanHolds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newWBRig(t, 250, "")
	full := r.plan(t)
	lean, err := r.wb(hsync.ApplyHooks{}).PlanToApply(ctx, r.c, hsync.PreviewUpdates)
	if err != nil {
		t.Fatal(err)
	}
	if len(lean.Updates) != hsync.PreviewUpdates || lean.Records != len(full.Updates) || lean.Fields() != full.Fields() || lean.Records < 200 {
		t.Fatalf("lean plan holds %d updates of %d records (%d fields); the full plan has %d records (%d fields)",
			len(lean.Updates), lean.Records, lean.Fields(), len(full.Updates), full.Fields())
	}
	want := map[string]string{}
	_, stamp, _ := r.m.OutputField(mapping.OutputUpdatedAt)
	for _, u := range full.Updates {
		for _, c := range u.Changes {
			if c.Field != stamp {
				want[u.RecordID+"."+c.Field] = c.New
			}
		}
	}
	const batch = 40
	calls := 0
	wb := r.wb(hsync.ApplyHooks{AfterWrite: func(kind string, call int) error {
		if kind == "updates" {
			calls = call
		}
		return nil
	}})
	rep, err := wb.Apply(ctx, smallBatches{r.c, batch}, lean, false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Records != lean.Records || rep.Fields != lean.Fields() || rep.Replanned != "" || calls != (lean.Records+batch-1)/batch {
		t.Fatalf("apply wrote %d records (%d fields) in %d update calls, replanned %q; want %d records (%d fields) in %d calls",
			rep.Records, rep.Fields, calls, rep.Replanned, lean.Records, lean.Fields(), (lean.Records+batch-1)/batch)
	}
	got := map[string]string{}
	if err := r.st.ForEachLedger(ctx, "default", "Account", func(e store.LedgerEntry) error {
		if e.Field != stamp {
			got[e.RecordID+"."+e.Field] = e.Value
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("ledger holds %d field values, the full plan %d", len(got), len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("ledger %s = %q, the full plan says %q", k, got[k], v)
		}
	}
	r.assertEmptyPlan(t)
	first := fmt.Sprintf("%d records in %d calls of %d", lean.Records, calls, batch)

	// Scores stored between plan and apply: written as they stand, and
	// the report says the counts moved.
	if _, err := r.scorer(time.Now().AddDate(0, 4, 0)).ScoreAll(ctx); err != nil {
		t.Fatal(err)
	}
	lean, err = r.wb(hsync.ApplyHooks{}).PlanToApply(ctx, r.c, hsync.PreviewUpdates)
	if err != nil || lean.Records <= hsync.PreviewUpdates {
		t.Fatalf("plan four months on: %d records, %v", lean.Records, err)
	}
	if _, err := r.scorer(time.Now().AddDate(1, 0, 0)).ScoreAll(ctx); err != nil {
		t.Fatal(err)
	}
	lean.Creates = nil
	rep, err = r.wb(hsync.ApplyHooks{}).Apply(ctx, smallBatches{r.c, batch}, lean, true)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Records == 0 || rep.Replanned == "" {
		t.Fatalf("apply after rescoring wrote %d records, replanned %q", rep.Records, rep.Replanned)
	}
	t.Logf("%s; after rescoring: %s", first, rep.Replanned)
}

// TestBudgetKeepsTheMostUrgentPerOwner: with the daily budget, each
// owner's planned creations are exactly the most urgent of what the same
// plan without a budget creates for them, and the rest are counted as
// waiting.
func TestBudgetKeepsTheMostUrgentPerOwner(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newWBRig(t, 250, "")
	budget := r.m.DailyTaskBudget()
	o := r.wbOptions()
	o.Mapping = exampleWith(t, "daily_budget_per_owner: 5", "daily_budget_per_owner: 0")
	all, err := hsync.NewWriteback(o).Plan(ctx, r.c)
	if err != nil {
		t.Fatal(err)
	}
	p := r.plan(t)
	want := map[crm.UserID][]string{}
	waiting := map[string]int{}
	for _, c := range all.Creates { // most urgent first
		owner := c.Task.OwnerID
		if len(want[owner]) < budget {
			want[owner] = append(want[owner], c.Key)
		} else {
			waiting[string(owner)]++
		}
	}
	got := map[crm.UserID][]string{}
	for i, c := range p.Creates {
		got[c.Task.OwnerID] = append(got[c.Task.OwnerID], c.Key)
		if i > 0 && p.Creates[i-1].Urgency < c.Urgency {
			t.Fatalf("creations not most urgent first: %v before %v", p.Creates[i-1].Urgency, c.Urgency)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("budgeted creations by owner:\n got %v\nwant %v", got, want)
	}
	gotWaiting := map[string]int{}
	for _, w := range p.Waiting {
		gotWaiting[w.OwnerID] = w.Tasks
	}
	if fmt.Sprint(gotWaiting) != fmt.Sprint(waiting) || p.WaitingTasks() == 0 {
		t.Fatalf("waiting = %v, want %v (and some)", gotWaiting, waiting)
	}
	t.Logf("%d creations kept of %d, %d waiting", len(p.Creates), len(all.Creates), p.WaitingTasks())
}
