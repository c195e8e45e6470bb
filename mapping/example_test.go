package mapping_test

import (
	"encoding/json"
	"fmt"
	"time"

	"healthsync/connector"
	"healthsync/crm"
	"healthsync/mapping"
)

func Example() {
	m, err := mapping.Parse("healthsync.yaml", []byte(`
crm: {system: salesforce}
fields:
  account:
    adoption: Adoption__c
    csm_sentiment: CSM_Sentiment__c
`), mapping.Options{Clock: crm.FixedClock(time.Date(2025, 1, 15, 0, 0, 0, 0, time.UTC))})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Objects())
	fmt.Println(m.Fields("Account"))

	e, err := m.Map(connector.Record{Object: "Account", ID: "001A", Raw: json.RawMessage(
		`{"attributes":{"type":"Account"},"Name":"Acme","Adoption__c":62.5,"CSM_Sentiment__c":"Yellow"}`)})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(e.Account.Name, *e.Account.Adoption, *e.Account.CSMSentiment)
	_, field, _ := m.OutputField(mapping.OutputScore)
	fmt.Println(field)
	// Output:
	// [Account Contact Opportunity Task Event User]
	// [Adoption__c AnnualRevenue CSM_Sentiment__c CreatedDate Industry Name NumberOfEmployees OwnerId Type]
	// Acme 62.5 50
	// Health_Score__c
}

func ExampleParse_errors() {
	_, err := mapping.Parse("healthsync.yaml", []byte("crm:\n  system: salesforce\nscoring:\n  wieghts: {adoption: 30}\n"), mapping.Options{})
	fmt.Println(err)
	// Output:
	// healthsync.yaml:4:3: unknown key "wieghts" in scoring (did you mean "weights"?)
}
