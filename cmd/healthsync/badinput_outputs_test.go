package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"healthsync/crm"
	"healthsync/mapping"
)

// TestBadInputOutputs: healthsync writes only to fields it owns. Every
// output that is not (a standard field holding the customer's data, the
// task's own text, another app's field, a field install has not created)
// is refused by check, plan and apply alike, with the field named and the
// fix, and nothing is written to the CRM.
func TestBadInputOutputs(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	r := newCRMRig(t, bin, crm.Salesforce)
	r.run(t, "score").expect(t, exitOK, nil)
	accounts := func() map[string]map[string]any {
		out := map[string]map[string]any{}
		for _, id := range r.sf.IDs("Account", false) {
			rec, _ := r.sf.Record("Account", id)
			out[id] = rec
		}
		return out
	}
	// assertUntouched fails when the CRM holds any change or new task.
	assertUntouched := func(t *testing.T, before map[string]map[string]any) {
		t.Helper()
		if !reflect.DeepEqual(before, accounts()) {
			t.Error("an account changed in the CRM although the writeback was refused")
		}
		if n := len(r.sf.CreatedTasks()); n != 0 {
			t.Errorf("%d tasks created although the writeback was refused", n)
		}
	}

	// install was never run on this org: plan and apply say to run it.
	t.Run("install_not_run", func(t *testing.T) {
		before := accounts()
		for _, cmd := range []string{"plan", "apply"} {
			r.run(t, cmd).expect(t, exitFailure, []string{"Account.Health_Score__c", "no such field on Account", "run `healthsync install`", "Nothing was written"})
		}
		assertUntouched(t, before)
	})
	r.run(t, "install").expect(t, exitOK, []string{"created field Account.Health_Score__c"})

	rows := []struct {
		name string
		// mapping replaces the outputs of the example mapping.
		mapping string
		want    []string
		// loadFails: the mapping file itself is refused (no CRM call),
		// else plan and apply refuse after asking the CRM's describe.
		loadFails bool
	}{
		{name: "customer_data", loadFails: true,
			mapping: "outputs:\n  reasons: Description\n  grade: Phone\n  metrics:\n    days_to_renewal: Website\n",
			want: []string{"outputs.reasons: Description is a standard Account field", "outputs.grade: Phone is a standard Account field",
				"outputs.metrics.days_to_renewal: Website is a standard Account field", "healthsync install"}},
		{name: "task_description_as_key", loadFails: true,
			mapping: "outputs:\n  task_key: Description\n",
			want:    []string{"outputs.task_key: Description is a standard Task field"}},
		{name: "day_counter_written", loadFails: true,
			mapping: "outputs:\n  metrics:\n    days_since_exec_contact: Healthsync_Days__c\n",
			want:    []string{"days_since_exec_contact changes every day by itself", "outputs.counters.days_since_exec_contact"}},
		{name: "another_apps_field",
			mapping: "outputs:\n  trend: Licenses__c\n",
			want:    []string{"Account.Licenses__c", "was not created by `healthsync install`", "outputs.owned_fields", "Nothing was written"}},
		{name: "missing_field",
			mapping: "outputs:\n  metrics:\n    next_renewal_date: Healthsync_Not_Installed__c\n",
			want:    []string{"Account.Healthsync_Not_Installed__c", "no such field on Account", "run `healthsync install`"}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			path := filepath.Join(r.dir, row.name+".yaml")
			text := "crm: {system: salesforce}\n" + row.mapping
			if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			env := append(append([]string(nil), r.env...), "HEALTHSYNC_MAPPING_FILE="+path)
			before, calls := accounts(), r.apiCalls()
			for _, cmd := range []string{"check", "plan", "apply"} {
				out := runBad(t, r.bin, r.dir, env, cmd)
				want := row.want
				if cmd == "check" && !row.loadFails {
					// check reports every problem in its table.
					want = []string{row.want[0], row.want[1]}
				}
				out.expect(t, exitFailure, want, secrets(env)...)
			}
			if row.loadFails && r.apiCalls() != calls {
				t.Errorf("a mapping refused on load made %d API calls", r.apiCalls()-calls)
			}
			assertUntouched(t, before)
		})
	}

	// The example mapping, installed, writes: the rig itself is sound.
	r.run(t, "apply").expect(t, exitOK, []string{"Applied:"})
	if len(r.sf.CreatedTasks()) == 0 {
		t.Error("the sound mapping created no task")
	}
}

// TestMappingChangeIsAnnounced: after a mapping change, score, plan and
// apply say that the stored records still follow the old mapping and that
// sync applies the new one; after the sync they stop saying it.
func TestMappingChangeIsAnnounced(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	r := newCRMRig(t, bin, crm.Salesforce)
	r.run(t, "install").expect(t, exitOK, nil)
	note := "the mapping changed since the last sync"
	if out := r.run(t, "score"); strings.Contains(out.stdout, note) {
		t.Fatalf("score announced a change before any:\n%s", out.stdout)
	}
	text := strings.Replace(string(mapping.Example(crm.Salesforce)), "types: [Renewal]", "types: [Renewal, Renouvellement]", 1)
	if err := os.WriteFile(filepath.Join(r.dir, "healthsync.yaml"), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"score", "plan", "apply"} {
		r.run(t, cmd).expect(t, exitOK, []string{note, "`healthsync sync` applies the new one"})
	}
	r.run(t, "sync").expect(t, exitOK, []string{"re-mapped from stored records"})
	if out := r.run(t, "score"); strings.Contains(out.stdout, note) {
		t.Fatalf("score still announces the change after the sync:\n%s", out.stdout)
	}
}
