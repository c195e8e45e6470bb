package salesforce

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"healthsync/crm"
)

func TestQueryPagingOver10000Records(t *testing.T) {
	t.Parallel()
	b := setup(t, 800, Options{})
	live := b.s.Count("Task")
	if live < 10000 {
		t.Fatalf("only %d tasks generated; want over 10,000", live)
	}
	total, recs, pages := b.queryAllPages("query", "SELECT Id, Subject, AccountId FROM Task")
	if total != live || len(recs) != live {
		t.Fatalf("totalSize %d, records %d, want %d", total, len(recs), live)
	}
	if pages != (live+1999)/2000 {
		t.Errorf("pages = %d, want %d of 2000", pages, (live+1999)/2000)
	}
	seen := map[string]bool{}
	for _, r := range recs {
		id := r["Id"].(string)
		if seen[id] {
			t.Fatalf("record %s returned twice", id)
		}
		seen[id] = true
		attrs := r["attributes"].(map[string]any)
		if attrs["type"] != "Task" || attrs["url"] != "/services/data/v60.0/sobjects/Task/"+id {
			t.Fatalf("attributes = %v", attrs)
		}
	}
	// A smaller batch size gives more pages.
	_, recs, pages = b.queryAllPages("query", "SELECT Id FROM Task", "Sforce-Query-Options", "batchSize=500")
	if len(recs) != live || pages != (live+499)/500 {
		t.Errorf("batchSize=500: %d records in %d pages", len(recs), pages)
	}
}

func TestQueryAllReturnsDeletedRows(t *testing.T) {
	t.Parallel()
	b := setup(t, 50, Options{})
	ids := b.s.IDs("Contact", false)
	if err := b.s.Delete("Contact", ids[0]); err != nil {
		t.Fatal(err)
	}
	deleted := len(b.s.IDs("Contact", true)) - len(b.s.IDs("Contact", false))
	q := "SELECT Id, IsDeleted FROM Contact"
	_, live, _ := b.queryAllPages("query", q)
	_, all, _ := b.queryAllPages("queryAll", q)
	if len(all)-len(live) != deleted || deleted == 0 {
		t.Fatalf("queryAll %d, query %d, deleted %d", len(all), len(live), deleted)
	}
	n := 0
	for _, r := range all {
		if r["IsDeleted"] == true {
			n++
		}
	}
	if n != deleted {
		t.Errorf("IsDeleted rows = %d, want %d", n, deleted)
	}
	for _, r := range live {
		if r["IsDeleted"] != false || r["Id"] == ids[0] {
			t.Fatalf("query returned deleted row %v", r)
		}
	}
}

func TestIncrementalQueryOrderAndStart(t *testing.T) {
	t.Parallel()
	b := setup(t, 200, Options{})
	since := testNow.Add(-10 * 24 * time.Hour)
	q := fmt.Sprintf("SELECT Id, SystemModstamp FROM Task WHERE SystemModstamp >= %s ORDER BY SystemModstamp, Id", crm.FormatSOQL(since))
	_, recs, _ := b.queryAllPages("queryAll", q)
	want := 0
	for _, id := range b.s.IDs("Task", true) {
		f, _ := b.s.Record("Task", id)
		if !f["SystemModstamp"].(time.Time).Before(since) {
			want++
		}
	}
	if len(recs) != want || want == 0 {
		t.Fatalf("got %d records, want %d", len(recs), want)
	}
	shared := 0
	for i := 1; i < len(recs); i++ {
		a, _ := crm.ParseTime(recs[i-1]["SystemModstamp"].(string))
		c, _ := crm.ParseTime(recs[i]["SystemModstamp"].(string))
		if c.Before(a) || (c.Equal(a) && recs[i]["Id"].(string) <= recs[i-1]["Id"].(string)) {
			t.Fatalf("out of order at %d: %v then %v", i, recs[i-1], recs[i])
		}
		if c.Equal(a) {
			shared++
		}
	}
	if shared == 0 {
		t.Error("no two records share a SystemModstamp; the generator should produce ties")
	}
	if !strings.HasSuffix(recs[0]["SystemModstamp"].(string), "+0000") {
		t.Errorf("datetime format %q", recs[0]["SystemModstamp"])
	}
}

func TestSOQLFeatures(t *testing.T) {
	t.Parallel()
	b := setup(t, 150, Options{})
	org := b.org
	count := func(q string) int {
		t.Helper()
		total, recs, _ := b.queryAllPages("query", q)
		if total != len(recs) {
			t.Fatalf("%q: totalSize %d but %d records", q, total, len(recs))
		}
		return total
	}
	var renewalsOpen, enterprise, execTitles int
	for _, o := range org.Opportunities {
		if !o.Deleted && o.Type == "Renewal" && !o.Closed {
			renewalsOpen++
		}
	}
	for _, a := range org.Accounts {
		if !a.Deleted && a.Segment == "Enterprise" {
			enterprise++
		}
	}
	for _, c := range org.Contacts {
		if !c.Deleted && (strings.HasPrefix(c.Title, "VP") || strings.HasPrefix(c.Title, "Vice President")) {
			execTitles++
		}
	}
	tests := []struct {
		q    string
		want int
	}{
		{"SELECT Id FROM Opportunity WHERE Type = 'Renewal' AND IsClosed = false", renewalsOpen},
		{"select id from opportunity where type = 'renewal' and isclosed = FALSE", renewalsOpen},
		{"SELECT Id FROM Opportunity WHERE NOT (Type != 'Renewal' OR IsClosed = true)", renewalsOpen},
		{"SELECT Id FROM Account WHERE Segment__c IN ('Enterprise')", enterprise},
		{"SELECT Id FROM Account WHERE Segment__c NOT IN ('Mid-market', 'SMB') AND Segment__c != null", enterprise},
		{"SELECT Id FROM Contact WHERE Title LIKE 'VP%' OR Title LIKE 'vice president%'", execTitles},
		{"SELECT Id FROM Account LIMIT 7", 7},
		{"SELECT Id FROM Account ORDER BY Name LIMIT 5 OFFSET 140", min(5, max(0, b.s.Count("Account")-140))},
		{"SELECT Id FROM Task WHERE ActivityDate > TODAY", -1},
		{"SELECT Id FROM Task WHERE CreatedDate = LAST_N_DAYS:30", -1},
	}
	for _, tt := range tests {
		got := count(tt.q)
		if tt.want >= 0 && got != tt.want {
			t.Errorf("%q = %d, want %d", tt.q, got, tt.want)
		}
		if tt.want < 0 && got == 0 {
			t.Errorf("%q matched nothing", tt.q)
		}
	}

	// COUNT()
	p, r := b.query("query", "SELECT COUNT() FROM Account WHERE Segment__c = 'Enterprise'")
	if r.status != 200 || p.TotalSize != enterprise || len(p.Records) != 0 {
		t.Errorf("COUNT(): %d %s", r.status, r.body)
	}

	// Parent fields, including a polymorphic one.
	p, _ = b.query("query", "SELECT Id, Name, Account.Name, Account.Owner.Email, Owner.Name FROM Contact WHERE AccountId != null LIMIT 1")
	rec := p.Records[0]
	acc := rec["Account"].(map[string]any)
	if acc["Name"] == nil || acc["attributes"].(map[string]any)["type"] != "Account" || acc["Owner"].(map[string]any)["Email"] == nil {
		t.Errorf("parent fields: %v", rec)
	}
	p, _ = b.query("query", "SELECT Id, What.Name, Who.Name FROM Task WHERE WhoId != null LIMIT 1")
	if p.Records[0]["What"].(map[string]any)["Name"] == nil || p.Records[0]["Who"].(map[string]any)["Name"] == nil {
		t.Errorf("polymorphic parents: %v", p.Records[0])
	}

	// ORDER BY DESC NULLS LAST, multiple keys.
	_, recs, _ := b.queryAllPages("query", "SELECT Id, NPS__c, Name FROM Account ORDER BY NPS__c DESC NULLS LAST, Name ASC")
	seenNull := false
	prev := 11.0
	for _, r := range recs {
		v, ok := r["NPS__c"].(float64)
		if !ok {
			seenNull = true
			continue
		}
		if seenNull || v > prev {
			t.Fatalf("NULLS LAST / DESC order broken at %v", r)
		}
		prev = v
	}
	_, recs, _ = b.queryAllPages("query", "SELECT Id, NPS__c FROM Account ORDER BY NPS__c NULLS FIRST")
	if recs[0]["NPS__c"] != nil {
		t.Errorf("NULLS FIRST: first row %v", recs[0])
	}
}

func TestSOQLErrors(t *testing.T) {
	t.Parallel()
	b := setup(t, 0, Options{})
	tests := []struct {
		q, code, contains string
	}{
		{"SELECT Id FROM Account WHERE", "MALFORMED_QUERY", "ERROR at Row:1:Column:29"},
		{"SELECT Id FROM Account WHERE Name = 'x' AND Type = 'y' OR Type = 'z'", "MALFORMED_QUERY", "unexpected token: 'OR'"},
		{"SELECT Id Name FROM Account", "MALFORMED_QUERY", "unexpected token: 'Name'"},
		{"SELECT Id FROM Account WHERE Name = 'unterminated", "MALFORMED_QUERY", "Column:37"},
		{"SELECT Bogus__c FROM Account", "INVALID_FIELD", "No such column 'Bogus__c' on entity 'Account'"},
		{"SELECT Id FROM Account WHERE Nope = 1", "INVALID_FIELD", "'Nope'"},
		{"SELECT Foo.Name FROM Account", "INVALID_FIELD", "Didn't understand relationship 'Foo'"},
		{"SELECT Id FROM Widget__c", "INVALID_TYPE", "sObject type 'Widget__c' is not supported"},
		{"SELECT Id FROM Account WHERE SystemModstamp > '2024-01-01'", "INVALID_FIELD", "must be of type dateTime"},
		{"SELECT Id FROM Account WHERE NumberOfEmployees = 'ten'", "INVALID_FIELD", "must be of type int"},
		{"SELECT Id, Id FROM Account", "MALFORMED_QUERY", "duplicate field selected: Id"},
	}
	for _, tt := range tests {
		_, r := b.query("query", tt.q)
		if r.status != 400 {
			t.Errorf("%q: status %d %s", tt.q, r.status, r.body)
			continue
		}
		code, msg := r.errorCode(t)
		if code != tt.code || !strings.Contains(msg, tt.contains) {
			t.Errorf("%q: got %s %q, want %s containing %q", tt.q, code, msg, tt.code, tt.contains)
		}
	}
	// A bad locator.
	r := b.do("GET", "query/01gXXXXXXXXXXXXXXX-2000", nil)
	if code, _ := r.errorCode(t); r.status != 400 || code != "INVALID_QUERY_LOCATOR" {
		t.Errorf("bad locator: %d %s", r.status, r.body)
	}
}

func TestQueryCursorExpires(t *testing.T) {
	t.Parallel()
	b := setup(t, 300, Options{})
	p, _ := b.query("query", "SELECT Id FROM Task")
	if p.Done {
		t.Fatal("want more than one page")
	}
	b.clock.Add(10 * time.Minute)
	if r := b.do("GET", p.NextRecordsURL, nil); r.status != 200 {
		t.Fatalf("cursor used within 15 minutes: %d %s", r.status, r.body)
	}
	p, _ = b.query("query", "SELECT Id FROM Task")
	b.clock.Add(16 * time.Minute)
	b.token = b.login()
	r := b.do("GET", p.NextRecordsURL, nil)
	if code, _ := r.errorCode(t); r.status != 400 || code != "INVALID_QUERY_LOCATOR" {
		t.Errorf("expired cursor: %d %s", r.status, r.body)
	}
}
