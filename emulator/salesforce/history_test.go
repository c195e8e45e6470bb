package salesforce

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

const historyCols = "Id, AccountId, Field, DataType, OldValue, NewValue, CreatedDate, CreatedById, IsDeleted"

// accountHistory queries an account's history rows over REST, oldest first.
func (b *bundle) accountHistory(endpoint, id string) []map[string]any {
	b.t.Helper()
	_, recs, _ := b.queryAllPages(endpoint, "SELECT "+historyCols+" FROM AccountHistory WHERE AccountId = '"+id+"' ORDER BY CreatedDate, Id")
	return recs
}

func (b *bundle) createAccount(fields map[string]any) string {
	b.t.Helper()
	r := b.do("POST", "sobjects/Account", fields)
	var res saveResult
	r.json(b.t, &res)
	if r.status != 201 {
		b.t.Fatalf("create account: %d %s", r.status, r.body)
	}
	return res.ID
}

// TestHistoryWrittenByAPIWrites checks that every write path records the
// changes of tracked fields, typed as Salesforce types them, and no
// change of an untracked field.
func TestHistoryWrittenByAPIWrites(t *testing.T) {
	t.Parallel()
	b := setup(t, 0, Options{})
	id := b.createAccount(map[string]any{"Name": "Acme", "ARR__c": 1000, "Type": "Prospect"})
	created := b.accountHistory("query", id)
	if len(created) != 1 || created[0]["Field"] != "created" || created[0]["OldValue"] != nil || created[0]["NewValue"] != nil ||
		created[0]["CreatedById"] != b.s.UserID() || created[0]["IsDeleted"] != false || created[0]["AccountId"] != id {
		t.Fatalf("after create: %v", created)
	}
	if !strings.HasPrefix(created[0]["Id"].(string), "017") || created[0]["CreatedDate"] != "2026-01-15T12:00:00.000+0000" {
		t.Fatalf("created row %v", created[0])
	}

	steps := []struct {
		name  string
		write func()
		want  [][3]any // Field, OldValue, NewValue of the new rows
		types []string // their DataType
	}{
		{"REST PATCH", func() {
			if r := b.do("PATCH", "sobjects/Account/"+id, map[string]any{"ARR__c": 1500.5, "Name": "Acme Corp", "Churned__c": true, "Renewal_Date__c": "2026-06-30"}); r.status != 204 {
				t.Fatalf("patch: %d %s", r.status, r.body)
			}
		}, [][3]any{{"ARR__c", 1000.0, 1500.5}, {"Renewal_Date__c", nil, "2026-06-30"}, {"Churned__c", false, true}}, []string{"Currency", "DateOnly", "Boolean"}},
		{"unchanged values", func() {
			b.do("PATCH", "sobjects/Account/"+id, map[string]any{"ARR__c": 1500.5, "Type": "Prospect"})
		}, nil, nil},
		{"composite collection", func() {
			r := b.do("PATCH", "composite/sobjects", map[string]any{"allOrNone": false, "records": []any{
				map[string]any{"attributes": map[string]any{"type": "Account"}, "id": id, "Type": "Customer", "Adoption__c": 42.5, "CSM_Sentiment__c": "Green"}}})
			if r.status != 200 || !strings.Contains(string(r.body), `"success":true`) {
				t.Fatalf("composite: %d %s", r.status, r.body)
			}
		}, [][3]any{{"Type", "Prospect", "Customer"}, {"Adoption__c", nil, 42.5}, {"CSM_Sentiment__c", nil, "Green"}}, []string{"DynamicEnum", "Percent", "DynamicEnum"}},
		{"Bulk API ingest", func() {
			b.bulkUpdate("Account", "Id,NPS__c,CSM_Sentiment__c\n"+id+",7,Red\n")
		}, [][3]any{{"CSM_Sentiment__c", "Green", "Red"}, {"NPS__c", nil, 7.0}}, []string{"DynamicEnum", "Double"}},
	}
	seen := len(created)
	for _, st := range steps {
		b.clock.Add(time.Minute)
		st.write()
		rows := b.accountHistory("query", id)
		got := rows[seen:]
		seen = len(rows)
		if len(got) != len(st.want) {
			t.Fatalf("%s: %d new rows %v, want %v", st.name, len(got), got, st.want)
		}
		for i, w := range st.want {
			row := got[i]
			if row["Field"] != w[0] || row["OldValue"] != w[1] || row["NewValue"] != w[2] || row["DataType"] != st.types[i] {
				t.Errorf("%s: row %d = %v %v→%v (%v), want %v (%s)", st.name, i, row["Field"], row["OldValue"], row["NewValue"], row["DataType"], w, st.types[i])
			}
			if want := b.clock.Now().Format("2006-01-02T15:04:05.000+0000"); row["CreatedDate"] != want {
				t.Errorf("%s: CreatedDate %v, want %s", st.name, row["CreatedDate"], want)
			}
		}
	}
	// A JSON number stays a number: 1500.5, and a whole currency 1000.0.
	r := b.do("GET", "query?q="+url.QueryEscape("SELECT OldValue, NewValue FROM AccountHistory WHERE Field = 'ARR__c' AND AccountId = '"+id+"'"), nil)
	if !strings.Contains(string(r.body), `"OldValue":1000.0,"NewValue":1500.5`) {
		t.Errorf("ARR__c change renders as %s", r.body)
	}
}

func (b *bundle) bulkUpdate(object, body string) {
	b.t.Helper()
	var job map[string]any
	b.do("POST", "jobs/ingest", map[string]any{"object": object, "operation": "update", "contentType": "CSV", "lineEnding": "LF"}).json(b.t, &job)
	jid, _ := job["id"].(string)
	if r := b.doCSV("PUT", "jobs/ingest/"+jid+"/batches", body); r.status != 201 {
		b.t.Fatalf("upload: %d %s", r.status, r.body)
	}
	if r := b.do("PATCH", "jobs/ingest/"+jid, map[string]any{"state": "UploadComplete"}); r.status != 200 {
		b.t.Fatalf("close job: %d %s", r.status, r.body)
	}
	for i := 0; i < 5 && job["state"] != "JobComplete"; i++ {
		b.do("GET", "jobs/ingest/"+jid, nil).json(b.t, &job)
	}
	if job["state"] != "JobComplete" || job["numberRecordsFailed"] != nil && job["numberRecordsFailed"] != 0.0 {
		b.t.Fatalf("ingest job %v", job)
	}
}

// TestOpportunityFieldHistory checks the opportunity's history object.
func TestOpportunityFieldHistory(t *testing.T) {
	t.Parallel()
	b := setup(t, 0, Options{})
	acct := b.createAccount(map[string]any{"Name": "Acme"})
	r := b.do("POST", "sobjects/Opportunity", map[string]any{"Name": "Renewal", "AccountId": acct, "StageName": "Qualification", "CloseDate": "2026-03-31", "Amount": 5000})
	var res saveResult
	r.json(t, &res)
	b.clock.Add(time.Hour)
	b.do("PATCH", "sobjects/Opportunity/"+res.ID, map[string]any{"StageName": "Closed Won", "CloseDate": "2026-02-28", "Description": "won"})
	_, rows, _ := b.queryAllPages("query", "SELECT OpportunityId, Field, DataType, OldValue, NewValue, Opportunity.Name FROM OpportunityFieldHistory WHERE OpportunityId = '"+res.ID+"' ORDER BY CreatedDate, Field")
	got := []string{}
	for _, row := range rows {
		got = append(got, fmt.Sprintf("%v:%v:%v>%v", row["Field"], row["DataType"], row["OldValue"], row["NewValue"]))
	}
	want := "created:<nil>:<nil>><nil> CloseDate:DateOnly:2026-03-31>2026-02-28 StageName:DynamicEnum:Qualification>Closed Won"
	if strings.Join(got, " ") != want {
		t.Errorf("rows %v\nwant %s", got, want)
	}
	if opp, _ := rows[0]["Opportunity"].(map[string]any); opp["Name"] != "Renewal" {
		t.Errorf("Opportunity.Name: %v", rows[0]["Opportunity"])
	}
}

// TestHistoryTrackingConfig checks that only tracked fields are recorded
// and that an org tracking nothing serves no history objects, answering
// as Salesforce does for an object it does not know.
func TestHistoryTrackingConfig(t *testing.T) {
	t.Parallel()
	b := setup(t, 0, Options{FieldHistory: map[string][]string{"Account": {"NPS__c"}}})
	id := b.createAccount(map[string]any{"Name": "Acme"})
	b.do("PATCH", "sobjects/Account/"+id, map[string]any{"ARR__c": 5, "NPS__c": 9})
	rows := b.accountHistory("query", id)
	if len(rows) != 2 || rows[1]["Field"] != "NPS__c" {
		t.Fatalf("rows %v: want created and NPS__c only", rows)
	}
	// Opportunity tracks nothing here: no OpportunityFieldHistory.
	if _, r := b.query("query", "SELECT Id FROM OpportunityFieldHistory"); r.status != 400 {
		t.Fatalf("untracked object: %d %s", r.status, r.body)
	} else if code, msg := r.errorCode(t); code != "INVALID_TYPE" || !strings.Contains(msg, "sObject type 'OpportunityFieldHistory' is not supported") {
		t.Errorf("untracked object: %s %s", code, msg)
	}

	off := setup(t, 0, Options{FieldHistory: map[string][]string{}})
	for _, q := range []string{"SELECT Id FROM AccountHistory", "SELECT Field FROM OpportunityFieldHistory"} {
		_, r := off.query("query", q)
		if code, _ := r.errorCode(t); r.status != 400 || code != "INVALID_TYPE" {
			t.Errorf("%s with no tracking: %d %s", q, r.status, r.body)
		}
	}
	if r := off.do("GET", "sobjects/AccountHistory/describe", nil); r.status != 404 {
		t.Errorf("describe with no tracking: %d", r.status)
	}
	if r := off.do("GET", "sobjects", nil); strings.Contains(string(r.body), "AccountHistory") {
		t.Error("describeGlobal lists AccountHistory with no tracking")
	}
	if r := b.do("GET", "sobjects", nil); !strings.Contains(string(r.body), `"name":"AccountHistory"`) || strings.Contains(string(r.body), "OpportunityFieldHistory") {
		t.Error("describeGlobal: want AccountHistory listed, OpportunityFieldHistory not")
	}
	// Turning tracking on in Setup makes it appear.
	if err := off.s.SetFieldHistory("Opportunity", true, "StageName"); err != nil {
		t.Fatal(err)
	}
	if _, r := off.query("query", "SELECT Field FROM OpportunityFieldHistory"); r.status != 200 {
		t.Errorf("after SetFieldHistory: %d %s", r.status, r.body)
	}
}

// TestHistoryDescribeAndQueryRules checks the history object's describe
// and what SOQL allows on it.
func TestHistoryDescribeAndQueryRules(t *testing.T) {
	t.Parallel()
	b := setup(t, 0, Options{})
	var d struct {
		Name, KeyPrefix                              string
		Createable, Updateable, Deletable, Queryable bool
		Fields                                       []fieldDescribe
	}
	b.do("GET", "sobjects/AccountHistory/describe", nil).json(t, &d)
	if d.Name != "AccountHistory" || d.KeyPrefix != "017" || d.Createable || d.Updateable || d.Deletable || !d.Queryable {
		t.Fatalf("describe %+v", d)
	}
	var names []string
	byName := map[string]fieldDescribe{}
	for _, f := range d.Fields {
		names = append(names, f.Name)
		byName[f.Name] = f
	}
	if strings.Join(names, ",") != "Id,IsDeleted,AccountId,CreatedById,CreatedDate,Field,DataType,OldValue,NewValue" {
		t.Errorf("fields %v", names)
	}
	if f := byName["OldValue"]; f.Type != "anyType" || f.SoapType != "xsd:anyType" || f.Filterable || !f.Sortable || !f.Nillable {
		t.Errorf("OldValue %+v", f)
	}
	var picks []string
	for _, p := range byName["Field"].PicklistValues {
		picks = append(picks, p.Value)
	}
	if got := strings.Join(picks, ","); got != "created,ARR__c,Adoption_Previous__c,Adoption__c,CSM_Sentiment__c,Churned__c,NPS__c,Renewal_Date__c,Type" || !byName["Field"].RestrictedPicklist {
		t.Errorf("Field picklist %s", got)
	}
	var acct struct {
		ChildRelationships []childRelationship
	}
	b.do("GET", "sobjects/Account/describe", nil).json(t, &acct)
	found := false
	for _, c := range acct.ChildRelationships {
		found = found || (c.ChildSObject == "AccountHistory" && c.Field == "AccountId" && *c.RelationshipName == "Histories")
	}
	if !found {
		t.Error("Account describe lacks the Histories child relationship")
	}
	for _, tc := range []struct{ q, code string }{
		{"SELECT Id FROM AccountHistory WHERE OldValue = 'x'", "INVALID_FIELD"},
		{"SELECT Id FROM AccountHistory WHERE SystemModstamp > 2020-01-01T00:00:00Z", "INVALID_FIELD"},
		{"SELECT Id FROM AccountHistory ORDER BY NewValue", ""},
		{"SELECT Id, CreatedBy.Name, Account.Name FROM AccountHistory WHERE CreatedDate > 2020-01-01T00:00:00Z AND Field IN ('ARR__c', 'created')", ""},
	} {
		_, r := b.query("query", tc.q)
		code := ""
		if r.status != 200 {
			code, _ = r.errorCode(t)
		}
		if code != tc.code {
			t.Errorf("%s: %d %s, want %q", tc.q, r.status, r.body, tc.code)
		}
	}
	id := b.createAccount(map[string]any{"Name": "Acme"})
	hid := b.accountHistory("query", id)[0]["Id"].(string)
	if r := b.do("GET", "sobjects/AccountHistory/"+hid, nil); r.status != 200 || !strings.Contains(string(r.body), `"Field":"created"`) {
		t.Errorf("retrieve: %d %s", r.status, r.body)
	}
	for _, m := range []struct{ method, path string }{{"PATCH", "sobjects/AccountHistory/" + hid}, {"POST", "sobjects/AccountHistory"}} {
		if r := b.do(m.method, m.path, map[string]any{"Field": "Name"}); r.status != 400 {
			t.Errorf("%s %s: %d %s", m.method, m.path, r.status, r.body)
		} else if code, _ := r.errorCode(t); code != "INVALID_TYPE_FOR_OPERATION" {
			t.Errorf("%s %s: %s", m.method, m.path, r.body)
		}
	}
}

// TestHistoryOfGeneratedOrg checks the generated org's history: it ends
// at each record's current values, SystemModstamp is not older than the
// newest change, a Bulk query reads the same rows as REST, and a deleted
// account takes its history to the recycle bin.
func TestHistoryOfGeneratedOrg(t *testing.T) {
	t.Parallel()
	b := setup(t, 40, Options{})
	_, accts, _ := b.queryAllPages("query", "SELECT Id, ARR__c, Adoption__c, Adoption_Previous__c, CSM_Sentiment__c, NPS__c, Renewal_Date__c, Churned__c, Type, SystemModstamp FROM Account")
	total, rows, _ := b.queryAllPages("query", "SELECT "+historyCols+" FROM AccountHistory ORDER BY CreatedDate, Id")
	if total < 40*5 {
		t.Fatalf("%d history rows for 40 accounts", total)
	}
	newest := map[string]map[string]any{}
	newestAt := map[string]string{}
	for _, r := range rows {
		id := r["AccountId"].(string)
		if newest[id] == nil {
			newest[id] = map[string]any{}
		}
		newest[id][r["Field"].(string)] = r["NewValue"]
		newestAt[id] = r["CreatedDate"].(string)
	}
	checked := 0
	for _, a := range accts {
		id := a["Id"].(string)
		for f, v := range newest[id] {
			if f == "created" {
				continue
			}
			checked++
			if fmt.Sprint(v) != fmt.Sprint(a[f]) {
				t.Errorf("account %s: newest %s change %v, field holds %v", id, f, v, a[f])
			}
		}
		if at := newestAt[id]; at > a["SystemModstamp"].(string) {
			t.Errorf("account %s: SystemModstamp %v before its newest change %s", id, a["SystemModstamp"], at)
		}
	}
	if checked < 40 {
		t.Fatalf("only %d newest values checked", checked)
	}
	_, opps, _ := b.queryAllPages("query", "SELECT Field FROM OpportunityFieldHistory WHERE Field = 'StageName'")
	if len(opps) == 0 {
		t.Error("no stage changes in the generated org")
	}

	// Bulk API 2.0 reads the same rows, values as text.
	var job map[string]any
	b.do("POST", "jobs/query", map[string]any{"operation": "query", "query": "SELECT Id, Field, NewValue FROM AccountHistory ORDER BY CreatedDate, Id"}).json(t, &job)
	jid := job["id"].(string)
	for i := 0; i < 3; i++ {
		b.do("GET", "jobs/query/"+jid, nil)
	}
	res := b.do("GET", "jobs/query/"+jid+"/results", nil)
	csvRows := readCSV(t, res.body)
	if len(csvRows)-1 != len(rows) {
		t.Fatalf("bulk %d rows, REST %d", len(csvRows)-1, len(rows))
	}
	for i, cr := range csvRows[1:] {
		if cr[0] != rows[i]["Id"] || cr[1] != rows[i]["Field"] {
			t.Fatalf("bulk row %d %v, REST %v", i, cr, rows[i])
		}
		if v := rows[i]["NewValue"]; v != nil && cr[2] != fmt.Sprint(v) {
			t.Fatalf("bulk row %d NewValue %q, REST %v", i, cr[2], v)
		}
	}

	// Deleting an account moves its history to the recycle bin.
	victim := accts[0]["Id"].(string)
	before := len(b.accountHistory("query", victim))
	if r := b.do("DELETE", "sobjects/Account/"+victim, nil); r.status != 204 {
		t.Fatalf("delete: %d", r.status)
	}
	if n := len(b.accountHistory("query", victim)); n != 0 {
		t.Errorf("query after delete: %d rows", n)
	}
	all := b.accountHistory("queryAll", victim)
	if len(all) != before || before == 0 || all[0]["IsDeleted"] != true {
		t.Errorf("queryAll after delete: %d rows (had %d) %v", len(all), before, all)
	}
}

// TestHistoryRetention: rows older than the retention are not served.
func TestHistoryRetention(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		months int
		want   int
	}{{0, 3}, {2, 2}, {-1, 3}} {
		b := setup(t, 0, Options{HistoryRetentionMonths: tc.months})
		b.clock.Add(-365 * 24 * time.Hour)
		id := b.createAccount(map[string]any{"Name": "Acme"}) // a year ago
		b.clock.Add(360 * 24 * time.Hour)
		b.token = b.login()                                                // the session idled out
		b.do("PATCH", "sobjects/Account/"+id, map[string]any{"NPS__c": 3}) // 5 days ago
		b.clock.Add(5 * 24 * time.Hour)
		b.token = b.login()
		b.do("PATCH", "sobjects/Account/"+id, map[string]any{"NPS__c": 4})
		if got := len(b.accountHistory("query", id)); got != tc.want {
			t.Errorf("retention %d months: %d rows, want %d", tc.months, got, tc.want)
		}
	}
}
