package mapping

import (
	"slices"
	"testing"

	"healthsync/crm"
)

// TestExampleFiles loads the shipped, commented example files and checks
// that they say what their comments claim.
func TestExampleFiles(t *testing.T) {
	t.Parallel()
	sf, err := Load("examples/salesforce.example.yaml", Options{System: crm.Salesforce})
	if err != nil {
		t.Fatalf("salesforce example: %v", err)
	}
	if got := sf.Fields("Account"); !slices.Contains(got, "Adoption__c") || !slices.Contains(got, "CSM_Sentiment__c") || !slices.Contains(got, "Name") {
		t.Errorf("salesforce Fields(Account) = %v", got)
	}
	if obj, field, ok := sf.OutputField("next_renewal_date"); !ok || obj != "Account" || field != "Healthsync_Next_Renewal__c" {
		t.Errorf("OutputField(next_renewal_date) = %s %s %v", obj, field, ok)
	}
	if c := sf.Counters(); len(c) != 2 || c[1].Field != "Days_To_Renewal__c" || c[1].Formula() != "Healthsync_Next_Renewal__c - TODAY()" {
		t.Errorf("Counters = %+v", c)
	}
	if cfg := sf.Config(); cfg.Classify.Adoption.Unit != AdoptionPercent || cfg.Fields.Activity["Task"].Direction != "Direction__c" {
		t.Errorf("salesforce adoption unit %q, Task direction %q", cfg.Classify.Adoption.Unit, cfg.Fields.Activity["Task"].Direction)
	}
	if spec, ok := sf.Task("adoption_emergency"); !ok || spec.Owner != OwnerAccountOwner {
		t.Errorf("Task(adoption_emergency) = %+v", spec)
	}
	if cfg := sf.Config(); cfg.Scoring.Measures.AdoptionFull != 0.8 || cfg.Scoring.Weights.Adoption != 25 || cfg.Scoring.Weights.Sentiment == 0 {
		t.Errorf("salesforce scoring = %+v %+v", cfg.Scoring.Measures, cfg.Scoring.Weights)
	}
	if k := sf.OpportunityKind("", "", "Acme renewal FY26"); k != crm.OpportunityRenewal {
		t.Errorf("renewal by name = %s", k)
	}
	allowed := sf.AllowedOutputs("Account")
	if len(allowed) != 9 || !allowed["Health_Score__c"] || !allowed["Health_Flags__c"] || allowed["Name"] {
		t.Errorf("AllowedOutputs(Account) = %v", allowed)
	}

	hs, err := Load("examples/hubspot.example.yaml", Options{System: crm.HubSpot})
	if err != nil {
		t.Fatalf("hubspot example: %v", err)
	}
	if got := hs.Fields("deals"); !slices.Contains(got, "deal_category") {
		t.Errorf("hubspot Fields(deals) = %v", got)
	}
	if hs.Config().Fields.Account.LifecycleStage != "" {
		t.Error("lifecycle_stage was switched off")
	}
	if k := hs.OpportunityKind("existingbusiness", "renewal", "x"); k != crm.OpportunityRenewal {
		t.Errorf("deal category renewal = %s", k)
	}
	if _, ok := hs.Task("no_recent_contact"); !ok {
		t.Error("the custom flag has no task")
	}
	if spec, ok := hs.Task("champion_opportunity"); !ok || spec.CloseWhenCleared {
		t.Errorf("champion_opportunity: enabled %v, close_when_cleared %v: want enabled and false", ok, spec.CloseWhenCleared)
	}
	if _, ok := sf.Task("champion_opportunity"); ok {
		t.Error("salesforce champion_opportunity makes a task; by default it is a flag only")
	}
	specs := hs.FieldSpecs()
	if len(specs) != 10 {
		t.Errorf("FieldSpecs = %d: want 8 company outputs, the task key and the snooze field", len(specs))
	}
	if sf.Hash() == hs.Hash() {
		t.Error("two different mappings share a hash")
	}
}
