package mapping

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"healthsync/connector"
	"healthsync/crm"
)

// TestHistoryChanges: a Salesforce account's history in CRM terms becomes
// canonical changes through the mapping's own conversions (a percent
// adoption to a fraction, the sentiment picklist to 0..100, the status
// classification), with bad values and values after the record's
// modification reported and left out.
func TestHistoryChanges(t *testing.T) {
	t.Parallel()
	m := mustParse(t, crm.Salesforce, `
crm: {system: salesforce}
fields:
  account:
    adoption: Adoption__c
    csm_sentiment: CSM_Sentiment__c
    arr: ARR__c
    status: Type
classify:
  adoption: {unit: percent}
`)
	mod := time.Date(2025, 1, 10, 0, 0, 0, 0, time.UTC)
	rec := connector.Record{Object: "Account", ID: "001A", ModifiedAt: mod,
		Raw: json.RawMessage(`{` + sfAttrs("Account", "001A") + `,"Id":"001A","Name":"Acme","Adoption__c":80,"CSM_Sentiment__c":"Green","ARR__c":1200,"Type":"Customer"}`)}
	at := func(d int) time.Time { return time.Date(2024, 1, d, 0, 0, 0, 0, time.UTC) }
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	vals := []connector.FieldValue{
		{RecordID: "001A", Field: "Adoption__c", At: at(5), Old: raw("20"), Value: raw("50")},
		{RecordID: "001A", Field: "Adoption__c", At: at(9), Old: raw("50"), Value: raw("80")},
		{RecordID: "001A", Field: "CSM_Sentiment__c", At: at(9), Old: raw(`"Red"`), Value: raw(`"Green"`)},
		{RecordID: "001A", Field: "Type", At: at(2), Old: raw(`"Prospect"`), Value: raw(`"Customer"`)},
		{RecordID: "001A", Field: "ARR__c", At: at(3), Old: raw(`"lots"`), Value: raw("1200")},
		{RecordID: "001A", Field: "ARR__c", At: mod.Add(time.Hour), Old: raw("1200"), Value: raw("9")},
	}
	fields := []string{crm.FieldAdoption, crm.FieldCSMSentiment, crm.FieldARR, crm.FieldStatus}
	changes, problems := m.HistoryChanges(rec, vals, fields)
	got := map[string][]string{}
	for _, c := range changes {
		got[c.Field] = append(got[c.Field], c.Until.Format("01-02")+"="+string(c.Value))
	}
	want := map[string][]string{
		crm.FieldAdoption:     {"01-05=0.2", "01-09=0.5"},
		crm.FieldCSMSentiment: {"01-09=0"},
		crm.FieldStatus:       {`01-02={"value":"Prospect","status":"prospect"}`},
		crm.FieldARR:          {"01-03=null"},
	}
	for f, w := range want {
		if strings.Join(got[f], " ") != strings.Join(w, " ") {
			t.Errorf("%s: %v, want %v", f, got[f], w)
		}
	}
	if len(problems) != 2 || !strings.Contains(strings.Join(problems, "\n"), `"lots"`) || !strings.Contains(strings.Join(problems, "\n"), "after the record's last modification") {
		t.Errorf("problems: %q, want the unparseable ARR and the change after the modification", problems)
	}
	// As of a date, the account reads as it was.
	a, _ := m.MapAccount(rec)
	h := crm.History{Changes: changes}
	was := crm.AccountAsOf(a, h, at(6))
	if *was.Adoption != 0.5 || *was.CSMSentiment != 0 || was.Status != crm.StatusCustomer {
		t.Errorf("as of 6 Jan: adoption %v sentiment %v status %v", *was.Adoption, *was.CSMSentiment, was.Status)
	}
}
