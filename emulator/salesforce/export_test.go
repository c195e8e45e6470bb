package salesforce

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"healthsync/crm"
)

// sfid makes an 18-character ID with a key prefix.
func sfid(prefix string, n int) string {
	id, err := crm.SalesforceID18(fmt.Sprintf("%s5g0%09d", prefix, n))
	if err != nil {
		panic(err)
	}
	return id
}

// exportFiles is a small Data Loader export of a real-looking org: upper-
// case headers, standard fields the emulator's schema lacks, custom
// fields, a parent account on a later row, a contact reporting to a later
// one, a task about a lead, a Lead.csv, the org's own stage names and
// field history.
func exportFiles(withStages bool) map[string]string {
	u1, prof := sfid("005", 7), sfid("00e", 3)
	a1, a2 := sfid("001", 1), sfid("001", 2)
	c1, c2 := sfid("003", 1), sfid("003", 2)
	o1, o2, o3 := sfid("006", 1), sfid("006", 2), sfid("006", 3)
	lead := sfid("00Q", 9)
	files := map[string]string{
		"User.csv": "ID,USERNAME,LASTNAME,FIRSTNAME,EMAIL,ALIAS,PROFILEID,ISACTIVE,TIMEZONESIDKEY\n" +
			u1 + ",ana@acme.example,Ng,Ana,ana@acme.example,ang," + prof + ",true,Europe/London\n",
		"Account.csv": "ID,ISDELETED,MASTERRECORDID,NAME,TYPE,PARENTID,BILLINGSTREET,BILLINGCITY,CURRENCYISOCODE,OWNERID,CSAT__C,ONBOARDED__C,GO_LIVE__C,HEALTH_NOTES__C,CREATEDDATE,SYSTEMMODSTAMP\n" +
			a1 + ",false,,Acme Retail,Customer," + a2 + ",\"1 Main St\nSuite 5\",Leeds,GBP," + u1 + ",4.5,true,2024-03-01,fine,2023-01-05T10:00:00.000Z,2025-11-01T09:00:00.000Z\n" +
			a2 + ",false,,Acme Group,Customer,,,London,GBP," + u1 + ",3,false,,,2023-01-04T10:00:00.000Z,2025-11-01T09:00:00.000Z\n",
		"Contact.csv": "Id,AccountId,FirstName,LastName,Email,ReportsToId,MailingCity,OwnerId\n" +
			c1 + "," + a1 + ",Bo,Lee,bo@acme.example," + c2 + ",Leeds," + sfid("005", 99) + "\n" +
			c2 + "," + a1 + ",Cy,Park,cy@acme.example,,Leeds,\n",
		"Opportunity.csv": "Id,AccountId,Name,StageName,IsClosed,IsWon,Amount,CloseDate,IsPrivate,Probability\n" +
			o1 + "," + a1 + ",Acme renewal 2025,Signed,true,true,12000,2025-03-01,false,100\n" +
			o2 + "," + a1 + ",Acme renewal 2026,Discovery,false,false,13000,2026-03-01,false,20\n" +
			o3 + "," + a2 + ",Group deal,Dead,true,false,5000,2025-06-01,true,0\n",
		"Task.csv": "Id,WhoId,WhatId,Subject,Status,ActivityDate\n" +
			sfid("00T", 1) + "," + lead + "," + a1 + ",Intro call,Completed,2025-10-01\n",
		"Lead.csv": "Id,LastName,Company\n" + lead + ",Doe,Prospect Ltd\n",
		"AccountHistory.csv": "Id,AccountId,Field,DataType,OldValue,NewValue,CreatedDate,CreatedById,IsDeleted\n" +
			sfid("017", 1) + "," + a1 + ",CSAT__c,Double,3.5,4.5,2025-06-01T10:00:00.000Z," + u1 + ",false\n" +
			sfid("017", 2) + "," + a1 + ",Type,DynamicEnum,Prospect,Customer,2024-03-05T10:00:00.000Z," + u1 + ",false\n" +
			sfid("017", 4) + "," + a1 + ",Type,DynamicEnum,,Prospect,2023-06-05T10:00:00.000Z," + u1 + ",false\n" + // beyond the API's 24 months
			sfid("017", 3) + "," + sfid("001", 50) + ",Type,DynamicEnum,Prospect,Customer,2024-01-05T10:00:00.000Z," + u1 + ",false\n",
	}
	if withStages {
		files["OpportunityStage.csv"] = "Id,MasterLabel,IsActive,SortOrder,IsClosed,IsWon,DefaultProbability,ForecastCategoryName\n" +
			sfid("01J", 1) + ",Discovery,true,1,false,false,10,Pipeline\n" +
			sfid("01J", 2) + ",Signed,true,3,true,true,100,Closed\n" +
			sfid("01J", 3) + ",Dead,true,4,true,false,0,Omitted\n" +
			sfid("01J", 4) + ",Negotiating,true,2,false,false,60,Pipeline\n"
	}
	return files
}

// TestLoadDataLoaderExport loads an export of a real org and reads it
// back over the API.
func TestLoadDataLoaderExport(t *testing.T) {
	t.Parallel()
	for _, withStages := range []bool{true, false} {
		t.Run(fmt.Sprintf("OpportunityStage.csv %v", withStages), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for name, body := range exportFiles(withStages) {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			b := setup(t, 0, Options{})
			var out bytes.Buffer
			if err := b.s.LoadExport(dir, &out); err != nil {
				t.Fatal(err)
			}
			report := out.String()
			for _, want := range []string{
				"skipped Lead.csv: the emulator does not serve Lead records\n",
				"loaded 1 User\nloaded 2 Account\nloaded 2 Contact\nloaded 3 Opportunity\nloaded 1 Task\nloaded 3 AccountHistory\n",
				"CSAT__c (custom double)", "ONBOARDED__c (custom boolean)", "GO_LIVE__c (custom date)", "BillingStreet (standard textarea)",
				"AccountHistory.csv: skipped 1 rows of Account records not in the export",
			} {
				if !strings.Contains(report, want) {
					t.Errorf("report lacks %q:\n%s", want, report)
				}
			}
			a1, a2 := sfid("001", 1), sfid("001", 2)
			_, accts, _ := b.queryAllPages("query", "SELECT Id, Name, Parent.Name, BillingStreet, CurrencyIsoCode, CSAT__c, ONBOARDED__c, Go_Live__c, Owner.Email, MasterRecordId FROM Account ORDER BY Name")
			if len(accts) != 2 {
				t.Fatalf("accounts %v", accts)
			}
			acme := accts[1]
			if acme["Id"] != a1 || acme["Parent"].(map[string]any)["Name"] != "Acme Group" || acme["BillingStreet"] != "1 Main St\nSuite 5" ||
				acme["CurrencyIsoCode"] != "GBP" || acme["CSAT__c"] != 4.5 || acme["ONBOARDED__c"] != true || acme["GO_LIVE__c"] != "2024-03-01" ||
				acme["Owner"].(map[string]any)["Email"] != "ana@acme.example" || acme["MasterRecordId"] != nil {
				t.Errorf("account %v", acme)
			}
			// The contact's owner is not in the export: the API user.
			_, contacts, _ := b.queryAllPages("query", "SELECT LastName, ReportsTo.LastName, OwnerId, MailingCity FROM Contact WHERE LastName = 'Lee'")
			if c := contacts[0]; c["ReportsTo"].(map[string]any)["LastName"] != "Park" || c["OwnerId"] != b.s.UserID() || c["MailingCity"] != "Leeds" {
				t.Errorf("contact %v", c)
			}
			// The User keeps its profile's ID though no Profile came with it.
			_, users, _ := b.queryAllPages("query", "SELECT ProfileId, Alias, TimeZoneSidKey FROM User WHERE Username = 'ana@acme.example'")
			if u := users[0]; u["ProfileId"] != sfid("00e", 3) || u["Alias"] != "ang" {
				t.Errorf("user %v", u)
			}
			// A task about a lead keeps the lead's ID; its account comes from WhatId.
			_, tasks, _ := b.queryAllPages("query", "SELECT WhoId, AccountId, IsClosed FROM Task")
			if tk := tasks[0]; tk["WhoId"] != sfid("00Q", 9) || tk["AccountId"] != a1 || tk["IsClosed"] != true {
				t.Errorf("task %v", tk)
			}
			// The org's stages: closed and won as the export says.
			_, opps, _ := b.queryAllPages("query", "SELECT Name, StageName, IsClosed, IsWon, ForecastCategory FROM Opportunity ORDER BY Name")
			got := []string{}
			for _, o := range opps {
				got = append(got, fmt.Sprintf("%v:%v/%v/%v", o["StageName"], o["IsClosed"], o["IsWon"], o["ForecastCategory"]))
			}
			if want := "Signed:true/true/Closed Discovery:false/false/Pipeline Dead:true/false/Omitted"; strings.Join(got, " ") != want {
				t.Errorf("opportunities %v, want %s", got, want)
			}
			var d struct{ Fields []fieldDescribe }
			b.do("GET", "sobjects/Opportunity/describe", nil).json(t, &d)
			var picks []string
			for _, f := range d.Fields {
				if f.Name == "StageName" {
					for _, p := range f.PicklistValues {
						picks = append(picks, p.Value)
					}
				}
			}
			want := "Signed,Discovery,Dead"
			if withStages {
				want = "Discovery,Negotiating,Signed,Dead"
			}
			if strings.Join(picks, ",") != want {
				t.Errorf("StageName picklist %v, want %s", picks, want)
			}
			// Field history, typed by DataType; the row older than 24
			// months is not served.
			rows := b.accountHistory("query", a1)
			if len(rows) != 2 || rows[1]["Field"] != "CSAT__c" || rows[1]["OldValue"] != 3.5 || rows[1]["NewValue"] != 4.5 || rows[0]["Id"] != sfid("017", 2) {
				t.Errorf("history %v", rows)
			}
			if len(b.accountHistory("query", a2)) != 0 {
				t.Error("history for the other account")
			}
		})
	}
}

// TestLoadExportRefusesBadValues: a value a known field cannot hold fails
// the load with its place, and nothing of the export stays.
func TestLoadExportRefusesBadValues(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, file, body, want string
	}{
		{"bad number", "Account.csv", "Name,NumberOfEmployees\nx,many\n", "Account.csv:2: column NumberOfEmployees"},
		{"bad reference", "Contact.csv", "LastName,AccountId\nLee,not-an-id\n", "Contact.csv:2: column AccountId: \"not-an-id\" is not a Salesforce ID"},
		{"duplicate Id", "Account.csv", "Id,Name\n" + sfid("001", 1) + ",a\n" + sfid("001", 1) + ",b\n", "Account.csv:3: duplicate Id"},
		{"event without a start", "Event.csv", "Subject\nlunch\n", "Event.csv:2: Required fields are missing: [StartDateTime]"},
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "User.csv"), []byte("Username,LastName,Email\nz@x.example,Z,z@x.example\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, tc.file), []byte(tc.body), 0o600); err != nil {
			t.Fatal(err)
		}
		s := New(Options{})
		users := s.Count("User")
		err := s.LoadCSV(dir)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
		if s.Count("Account") != 0 || s.Count("Contact") != 0 || s.Count("User") != users {
			t.Errorf("%s: records kept after the failed load", tc.name)
		}
	}
}
