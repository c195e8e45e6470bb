package salesforce

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"healthsync/connector"
	emu "healthsync/emulator/salesforce"
)

// counterSpecs are day counters as healthsync installs them: the dates it
// writes and the formula fields that count from them. The input order
// names formulas before what they reference, as a mapping may.
func counterSpecs() []connector.FieldSpec {
	help := func(s string) string { return s + " Installed and kept by healthsync." }
	return []connector.FieldSpec{
		{Object: "Account", Name: "Weeks_To_Renewal__c", Label: "Weeks To Renewal", Type: connector.FieldNumber, Precision: 18, Scale: 1,
			Formula: "Days_To_Renewal__c / 7", Help: help("Weeks until the next renewal.")},
		{Object: "Account", Name: "Days_To_Renewal__c", Label: "Days To Renewal", Type: connector.FieldNumber,
			Formula: "Healthsync_Next_Renewal__c - TODAY()", Help: help("Days until the next renewal.")},
		{Object: "Account", Name: "Days_Since_Exec_Contact__c", Label: "Days Since Exec Contact", Type: connector.FieldNumber,
			Formula: "TODAY() - Healthsync_Last_Exec_Contact__c", Help: help("Days since the last executive contact.")},
		{Object: "Account", Name: "Healthsync_Next_Renewal__c", Label: "Next Renewal", Type: connector.FieldDate, Help: help("The next renewal date.")},
		{Object: "Account", Name: "Healthsync_Last_Exec_Contact__c", Label: "Last Exec Contact", Type: connector.FieldDate, Help: help("The last executive contact.")},
	}
}

func TestFieldMetadataOfAFormula(t *testing.T) {
	t.Parallel()
	m, err := FieldMetadata(counterSpecs()[1])
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"label": "Days To Renewal", "type": "Number", "precision": 18, "scale": 0,
		"formula": "Healthsync_Next_Renewal__c - TODAY()", "formulaTreatBlanksAs": "BlankAsBlank",
		"inlineHelpText": "Days until the next renewal. Installed and kept by healthsync.", "description": "Days until the next renewal. Installed and kept by healthsync."}
	if len(m) != len(want) {
		t.Errorf("metadata %v, want %v", m, want)
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	if _, err := FieldMetadata(connector.FieldSpec{Object: "Account", Name: "X__c", Type: connector.FieldText, Formula: "Name"}); err == nil {
		t.Error("a text formula was accepted")
	}
	order, err := installOrder(counterSpecs())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range order {
		names = append(names, f.Name)
	}
	if got := strings.Join(names, " "); got != "Healthsync_Next_Renewal__c Healthsync_Last_Exec_Contact__c Days_To_Renewal__c Days_Since_Exec_Contact__c Weeks_To_Renewal__c" {
		t.Errorf("install order %s", got)
	}
	if _, err := installOrder([]connector.FieldSpec{{Object: "Account", Name: "A__c", Formula: "B__c + 1"}, {Object: "Account", Name: "B__c", Formula: "A__c + 1"}}); err == nil {
		t.Error("formulas naming each other were ordered")
	}
}

// readAccount queries fields of one account through the client.
func readAccount(t *testing.T, c *Client, id string, fields ...string) rawRecord {
	t.Helper()
	var out rawRecord
	err := c.queryPages(context.Background(), "query", "SELECT "+strings.Join(fields, ", ")+" FROM Account WHERE Id = "+soqlString(id), func(recs []rawRecord, _ int) error {
		if len(recs) == 1 {
			out = recs[0]
		}
		return nil
	})
	if err != nil || out == nil {
		t.Fatalf("read account %s: %v", id, err)
	}
	return out
}

func TestInstallFormulaDayCounters(t *testing.T) {
	t.Parallel()
	b := setup(t, 1, emu.Options{})
	ctx := context.Background()
	specs := counterSpecs()
	created, err := b.c.Install(ctx, specs)
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(created, "\n")
	t.Logf("install:\n%s", joined)
	for _, want := range []string{
		"created field Account.Days_To_Renewal__c (formula Number: Healthsync_Next_Renewal__c - TODAY())",
		"created field Account.Healthsync_Next_Renewal__c (Date)",
		"granted read on Account.Days_To_Renewal__c to permission set Healthsync",
		"granted read/edit on Account.Healthsync_Next_Renewal__c to permission set Healthsync",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("install did not say %q", want)
		}
	}
	if again, err := b.c.Install(ctx, specs); err != nil || len(again) != 0 {
		t.Errorf("second install: %v %v", again, err)
	}

	fields, err := b.c.Describe(ctx, "Account")
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]connector.Field{}
	for _, f := range fields {
		byName[f.Name] = f
	}
	if f := byName["Days_To_Renewal__c"]; !f.Calculated || f.Updateable || f.Type != "double" || !f.Custom || f.Help != specs[1].Help {
		t.Errorf("described counter: %+v", f)
	}
	if f := byName["Healthsync_Next_Renewal__c"]; f.Calculated || !f.Updateable || f.Help != specs[3].Help {
		t.Errorf("described date: %+v", f)
	}
	if f := byName["Name"]; f.Custom || f.Help != "" {
		t.Errorf("described standard field: %+v", f)
	}

	// healthsync writes the dates; Salesforce counts the days.
	acc := b.srv.IDs("Account", false)[0]
	res, err := b.c.Update(ctx, "Account", []connector.Update{{ID: acc, Fields: map[string]any{
		"Healthsync_Next_Renewal__c": "2026-03-01", "Healthsync_Last_Exec_Contact__c": "2025-12-16"}}})
	if err != nil || !res[0].OK() {
		t.Fatalf("write dates: %v %+v", err, res)
	}
	today := b.clock.Now()
	renewal := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	exec := time.Date(2025, 12, 16, 0, 0, 0, 0, time.UTC)
	days := func(a, b time.Time) float64 {
		a, b = time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, time.UTC), time.Date(b.Year(), b.Month(), b.Day(), 0, 0, 0, 0, time.UTC)
		return b.Sub(a).Hours() / 24
	}
	r := readAccount(t, b.c, acc, "Days_To_Renewal__c", "Days_Since_Exec_Contact__c", "Weeks_To_Renewal__c", "SystemModstamp")
	if r["Days_To_Renewal__c"] != days(today, renewal) || r["Days_Since_Exec_Contact__c"] != days(exec, today) {
		t.Errorf("counters %v, want %v and %v", r, days(today, renewal), days(exec, today))
	}
	stamp := r["SystemModstamp"]
	b.clock.Add(24 * time.Hour)
	r = readAccount(t, b.c, acc, "Days_To_Renewal__c", "Days_Since_Exec_Contact__c", "SystemModstamp")
	if r["Days_To_Renewal__c"] != days(today, renewal)-1 || r["Days_Since_Exec_Contact__c"] != days(exec, today)+1 || r["SystemModstamp"] != stamp {
		t.Errorf("a day later: %v", r)
	}

	// Salesforce refuses a write to the counter, per record, for good.
	res, err = b.c.Update(ctx, "Account", []connector.Update{{ID: acc, Fields: map[string]any{"Days_To_Renewal__c": 3}}})
	if err != nil || res[0].OK() || res[0].Err.Code != "INVALID_FIELD_FOR_INSERT_UPDATE" || res[0].Retryable {
		t.Errorf("write to a formula field: %v %+v", err, res)
	}
}

func TestInstallReportsAFieldOfTheOtherKind(t *testing.T) {
	t.Parallel()
	b := setup(t, 1, emu.Options{})
	ctx := context.Background()
	// An older healthsync installed the counter as a plain number.
	old := connector.FieldSpec{Object: "Account", Name: "Days_To_Renewal__c", Label: "Days To Renewal", Type: connector.FieldNumber, Precision: 5}
	if _, err := b.c.Install(ctx, []connector.FieldSpec{old}); err != nil {
		t.Fatal(err)
	}
	created, err := b.c.Install(ctx, counterSpecs())
	if err == nil || !strings.Contains(err.Error(), "Account.Days_To_Renewal__c exists as a plain field") || !strings.Contains(err.Error(), "delete the field in Setup") {
		t.Fatalf("install over a plain counter: %v", err)
	}
	// The rest was installed: the dates, the other counter, their grants.
	joined := strings.Join(created, "\n")
	for _, want := range []string{"Healthsync_Next_Renewal__c (Date)", "Days_Since_Exec_Contact__c (formula", "granted read on Account.Days_Since_Exec_Contact__c"} {
		if !strings.Contains(joined, want) {
			t.Errorf("install did not say %q:\n%s", want, joined)
		}
	}
	// The weekly counter names the plain field: Salesforce takes it (a
	// number), so it was created too.
	if !strings.Contains(joined, "Weeks_To_Renewal__c (formula") {
		t.Errorf("weekly counter not created:\n%s", joined)
	}

	// The reverse: a formula field where healthsync writes values.
	_, err = b.c.Install(ctx, []connector.FieldSpec{{Object: "Account", Name: "Days_Since_Exec_Contact__c", Label: "x", Type: connector.FieldNumber}})
	if err == nil || !strings.Contains(err.Error(), "is a formula field in the org, but healthsync writes to it") {
		t.Errorf("install of a written field over a formula: %v", err)
	}
}

func TestDescribeCacheCarriesHelpAndRefetchesOldFormats(t *testing.T) {
	t.Parallel()
	b := setup(t, 1, emu.Options{})
	ctx := context.Background()
	if _, err := b.c.Install(ctx, counterSpecs()); err != nil {
		t.Fatal(err)
	}
	cache := newMemDescribeCache()
	first, log := b.openLogged(cache)
	if _, _, err := first.describe(ctx, "Account"); err != nil {
		t.Fatal(err)
	}
	if calls := log.take(); calls["describe"] != 1 {
		t.Fatalf("first describe: %v", calls)
	}
	// The next run reads it, help text included, from the cache.
	second, log := b.openLogged(cache)
	d, fetched, err := second.describe(ctx, "Account")
	if err != nil || fetched {
		t.Fatalf("cached describe: fetched %v, %v", fetched, err)
	}
	if f, _ := d.field("Days_To_Renewal__c"); f.Help != counterSpecs()[1].Help || !f.Calculated {
		t.Errorf("cached field: %+v", f)
	}
	if calls := log.take(); calls["describe"] != 0 {
		t.Errorf("cached describe made calls %v", calls)
	}
	// A describe an older healthsync cached (no format, no help) is not
	// reused: it would report healthsync's fields without their help.
	raw, _, _ := cache.Get(ctx, describeCacheKey("Account"))
	var cd map[string]any
	if err := json.Unmarshal(raw, &cd); err != nil {
		t.Fatal(err)
	}
	delete(cd, "format")
	raw, _ = json.Marshal(cd)
	if err := cache.Put(ctx, describeCacheKey("Account"), raw); err != nil {
		t.Fatal(err)
	}
	third, log := b.openLogged(cache)
	d, fetched, err = third.describe(ctx, "Account")
	if err != nil || !fetched {
		t.Fatalf("old-format cached describe: fetched %v, %v", fetched, err)
	}
	if f, _ := d.field("Days_To_Renewal__c"); f.Help == "" {
		t.Errorf("refetched field without help: %+v", f)
	}
	if calls := log.take(); calls["describe"] != 1 {
		t.Errorf("old-format describe: calls %v, want one describe", calls)
	}
}
