package salesforce

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simpleforce/simpleforce"

	"healthsync/emulator/gen"
)

// TestSimpleforceWorksUnchanged points the simpleforce client library at
// the emulator for a query, a describe and its SOAP password login.
func TestSimpleforceWorksUnchanged(t *testing.T) {
	t.Parallel()
	b := setup(t, 20, Options{})
	c := simpleforce.NewClient(b.ts.URL, b.s.Credentials().ClientID, "60.0")
	c.SetHttpClient(b.ts.Client())
	c.SetSidLoc(b.token, b.ts.URL)
	res, err := c.Query("SELECT Id, Name, Owner.Email FROM Account ORDER BY Name LIMIT 5")
	if err != nil {
		t.Fatalf("query: %v", err)
	}
	if res.TotalSize != 5 || len(res.Records) != 5 || res.Records[0].StringField("Name") == "" || res.Records[0].Type() != "Account" {
		t.Fatalf("query result %+v", res)
	}
	meta := c.SObject("Account").Describe()
	if meta == nil || (*meta)["name"] != "Account" {
		t.Fatalf("describe: %v", meta)
	}
	// Field history reads as any object does.
	hist, err := c.Query("SELECT Id, AccountId, Field, OldValue, NewValue, CreatedDate FROM AccountHistory ORDER BY CreatedDate DESC LIMIT 10")
	if err != nil || len(hist.Records) != 10 || hist.Records[0].Type() != "AccountHistory" || hist.Records[0].StringField("Field") == "" {
		t.Fatalf("history query: %v %+v", err, hist)
	}
	if meta := c.SObject("AccountHistory").Describe(); meta == nil || (*meta)["name"] != "AccountHistory" {
		t.Fatalf("history describe: %v", meta)
	}
	if _, err := c.Query("SELECT Nope FROM Account"); err == nil || !strings.Contains(err.Error(), "INVALID_FIELD") {
		t.Errorf("bad query error: %v", err)
	}
	// Username/password login through the SOAP endpoint.
	c2 := simpleforce.NewClient(b.ts.URL, simpleforce.DefaultClientID, "60.0")
	if err := c2.LoginPassword(b.s.Credentials().Username, b.s.Credentials().Password, ""); err != nil {
		t.Fatalf("LoginPassword: %v", err)
	}
	if res, err := c2.Query("SELECT COUNT() FROM Contact"); err != nil || res.TotalSize != b.s.Count("Contact") {
		t.Fatalf("query after SOAP login: %v %+v", err, res)
	}
	if err := simpleforce.NewClient(b.ts.URL, "x", "60.0").LoginPassword("nobody", "bad", ""); err == nil {
		t.Error("bad SOAP login accepted")
	}
}

func TestLoadGenMatchesGenerator(t *testing.T) {
	t.Parallel()
	opts := gen.Options{Seed: 5, Accounts: 120, Now: testNow}
	org, err := gen.Generate(opts)
	if err != nil {
		t.Fatal(err)
	}
	s := New(Options{})
	if err := s.LoadGen(opts); err != nil {
		t.Fatal(err)
	}
	live := func(n int, deleted func(i int) bool) int {
		c := 0
		for i := 0; i < n; i++ {
			if !deleted(i) {
				c++
			}
		}
		return c
	}
	if got, want := s.Count("Account"), live(len(org.Accounts), func(i int) bool { return org.Accounts[i].Deleted }); got != want {
		t.Errorf("accounts %d, want %d", got, want)
	}
	if got, want := s.Count("Task")+s.Count("Event"), live(len(org.Activities), func(i int) bool { return org.Activities[i].Deleted }); got != want {
		t.Errorf("activities %d, want %d", got, want)
	}
	a := org.Accounts[3]
	rec, ok := s.Record("Account", s.GenID("Account", 3))
	if !ok || rec["Name"] != a.Name || rec["Segment__c"] != a.Segment || rec["Churned__c"] != a.Churned || rec["OwnerId"] != s.GenID("User", int(a.Owner)) {
		t.Errorf("account 3: %v", rec)
	}
	// The demo org's shapes healthsync's lifecycle and direction rules
	// read: Account Type says live or former customer, e-mail tasks carry
	// Direction__c and "Email: " subjects.
	types := map[string]int{}
	for i, a := range org.Accounts {
		if a.Deleted {
			continue
		}
		rec, _ := s.Record("Account", s.GenID("Account", i))
		types[rec["Type"].(string)]++
		if want := map[bool]string{false: "Customer", true: "Former Customer"}[a.Churned]; rec["Type"] != want {
			t.Errorf("account %d churned %v has Type %v", i, a.Churned, rec["Type"])
		}
	}
	if types["Customer"] == 0 || types["Former Customer"] == 0 {
		t.Errorf("account types %v: want live and former customers", types)
	}
	inbound := 0
	for i, x := range org.Activities {
		if x.Deleted || x.Kind != gen.KindEmail {
			continue
		}
		rec, _ := s.Record("Task", s.GenID("Activity", i))
		want := map[gen.Direction]string{gen.DirectionInbound: "Inbound", gen.DirectionOutbound: "Outbound"}[x.Direction]
		if rec["Direction__c"] != want || rec["TaskSubtype"] != "Email" || !strings.HasPrefix(rec["Subject"].(string), "Email: ") {
			t.Fatalf("e-mail task %d: direction %v subtype %v subject %q", i, rec["Direction__c"], rec["TaskSubtype"], rec["Subject"])
		}
		if want == "Inbound" {
			inbound++
		}
	}
	if inbound == 0 {
		t.Error("no inbound e-mail in the demo org")
	}
	x := org.Activities[0]
	obj := "Task"
	if x.Kind == gen.KindMeeting {
		obj = "Event"
	}
	act, _ := s.Record(obj, s.GenID("Activity", 0))
	if act["AccountId"] != s.GenID("Account", int(x.Account)) {
		t.Errorf("activity 0 AccountId %v, want %s", act["AccountId"], s.GenID("Account", int(x.Account)))
	}
}

func TestLoadCSV(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("Account.csv", "Id,Name,Industry,NumberOfEmployees,SystemModstamp\n0015g00000AbCdEAAV,Acme,Retail,120,2025-06-01T10:00:00.000Z\n,Globex,Energy,,\n")
	write("contact.csv", "FirstName,LastName,Title,AccountId\nAda,Lovelace,CTO,0015g00000AbCdE\n")
	write("Task.csv", "Subject,WhoId,Status\n\"Call, then email\",,Completed\n")
	s := New(Options{})
	if err := s.LoadCSV(dir); err != nil {
		t.Fatal(err)
	}
	if s.Count("Account") != 2 || s.Count("Contact") != 1 || s.Count("Task") != 1 {
		t.Fatalf("counts %d %d %d", s.Count("Account"), s.Count("Contact"), s.Count("Task"))
	}
	acme, ok := s.Record("Account", "0015g00000AbCdEAAV")
	if !ok || acme["NumberOfEmployees"] != 120.0 || acme["OwnerId"] != s.UserID() {
		t.Fatalf("acme %v", acme)
	}
	cid := s.IDs("Contact", false)[0]
	c, _ := s.Record("Contact", cid)
	if c["AccountId"] != "0015g00000AbCdEAAV" || c["Name"] != "Ada Lovelace" {
		t.Errorf("contact %v", c)
	}
	// A custom field the demo org lacks is added (it used to fail the
	// load; an export of a real org has many).
	custom := t.TempDir()
	if err := os.WriteFile(filepath.Join(custom, "Account.csv"), []byte("Name,Colour__c\nx,red\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sc := New(Options{})
	if err := sc.LoadCSV(custom); err != nil {
		t.Fatalf("custom column: %v", err)
	}
	if a, _ := sc.Record("Account", sc.IDs("Account", false)[0]); a["Colour__c"] != "red" {
		t.Errorf("custom column: %v", a)
	}
	// Errors name the file, line and column.
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "Account.csv"), []byte("Name,NumberOfEmployees\nx,many\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s2 := New(Options{})
	err := s2.LoadCSV(bad)
	if err == nil || !strings.Contains(err.Error(), "Account.csv:2: column NumberOfEmployees") || s2.Count("Account") != 0 {
		t.Errorf("bad value: %v (accounts %d)", err, s2.Count("Account"))
	}
}
