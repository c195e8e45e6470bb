package salesforce

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestEqualityIndexAgreesWithScan runs IN and = queries (served from the
// equality index) beside OR forms of the same conditions (served by a
// scan), before and after records change: the answers must be the same
// records in the same order.
func TestEqualityIndexAgreesWithScan(t *testing.T) {
	t.Parallel()
	b := setup(t, 40, Options{})
	ids := func(q string) []string {
		t.Helper()
		_, recs, _ := b.queryAllPages("queryAll", q)
		out := make([]string, len(recs))
		for i, r := range recs {
			out[i] = r["Id"].(string)
		}
		return out
	}
	tasks := b.s.IDs("Task", false)
	accounts := b.s.IDs("Account", false)
	check := func(stage string) {
		t.Helper()
		pairs := [][2]string{
			{fmt.Sprintf("SELECT Id FROM Task WHERE Id IN ('%s', '%s', '%s') ORDER BY SystemModstamp, Id", tasks[0], tasks[5], tasks[5]),
				fmt.Sprintf("SELECT Id FROM Task WHERE (Id = '%s' OR Id = '%s') ORDER BY SystemModstamp, Id", tasks[0], tasks[5])},
			{fmt.Sprintf("SELECT Id FROM Task WHERE AccountId = '%s' AND IsDeleted = false", accounts[3]),
				fmt.Sprintf("SELECT Id FROM Task WHERE (AccountId = '%s' OR AccountId = '%s') AND IsDeleted = false", accounts[3], accounts[3])},
			{"SELECT Id FROM Task WHERE Subject IN ('INDEXED SUBJECT', 'nothing like it')",
				"SELECT Id FROM Task WHERE (Subject = 'indexed subject' OR Subject = 'nothing like it')"},
		}
		for _, p := range pairs {
			got, want := ids(p[0]), ids(p[1])
			if !slices.Equal(got, want) {
				t.Errorf("%s: %q gave %v, the scan %v", stage, p[0], got, want)
			}
		}
	}
	check("before")
	if err := b.s.SetField("Task", tasks[7], "Subject", "Indexed subject"); err != nil {
		t.Fatal(err)
	}
	if got := ids("SELECT Id FROM Task WHERE Subject IN ('indexed SUBJECT')"); !slices.Equal(got, []string{tasks[7]}) {
		t.Errorf("after a change the index answered %v, want [%s]", got, tasks[7])
	}
	if err := b.s.Delete("Task", tasks[5]); err != nil {
		t.Fatal(err)
	}
	check("after changes")
	if got := ids(fmt.Sprintf("SELECT Id FROM Task WHERE Id = '%s'", strings.ToLower(tasks[0][:15]))); len(got) != 0 {
		t.Errorf("IDs compare case-sensitively in the 15-character form; got %v", got)
	}
}
