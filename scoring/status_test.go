package scoring

import (
	"strings"
	"testing"
	"time"

	"healthsync/crm"
)

func closedOppKind(id string, kind crm.OpportunityKind, close time.Time, won bool) crm.Opportunity {
	c := crm.Date(close)
	return crm.Opportunity{ID: crm.OpportunityID(id), Name: id, Kind: kind, CloseDate: &c, IsClosed: true, IsWon: won, CreatedAt: close.AddDate(0, -2, 0)}
}

func TestStatusAt(t *testing.T) {
	t.Parallel()
	at := day(2025, 12, 1)
	modified := day(2025, 6, 1)
	newWon := closedOppKind("N1", crm.OpportunityNew, day(2023, 1, 10), true)
	renewWonMar := closedOppKind("R1", crm.OpportunityRenewal, day(2025, 3, 1), true)
	renewLostNov := closedOppKind("R2", crm.OpportunityRenewal, day(2025, 11, 1), false)
	upsellAfter := closedOppKind("U1", crm.OpportunityExpansion, day(2025, 11, 20), true)
	openRenewal := renewal("R9", day(2026, 2, 1), 1000)
	tests := []struct {
		name string
		acct crm.Account
		opps []crm.Opportunity
		want crm.CustomerStatus
		why  string
	}{
		{"churn field with a date", crm.Account{Churned: true, ChurnedAt: tp(day(2025, 10, 3))}, []crm.Opportunity{newWon}, crm.StatusFormer, "churned on 3 Oct 2025"},
		{"churn date after t: still a customer then", crm.Account{Churned: true, ChurnedAt: tp(day(2026, 1, 3))}, []crm.Opportunity{newWon}, crm.StatusCustomer, "deal was won"},
		{"status field says former", crm.Account{Status: crm.StatusFormer, StatusValue: "Former Customer", ModifiedAt: modified}, []crm.Opportunity{newWon}, crm.StatusFormer, `"Former Customer"`},
		{"won after the field changed: a customer again", crm.Account{Status: crm.StatusFormer, StatusValue: "Former Customer", ModifiedAt: modified}, []crm.Opportunity{newWon, upsellAfter}, crm.StatusCustomer, "deal was won"},
		{"renewal won in March, lost in November: left", crm.Account{}, []crm.Opportunity{newWon, renewWonMar, renewLostNov}, crm.StatusFormer, "R2) was lost on 1 Nov 2025"},
		{"lost renewal, then a won deal: customer", crm.Account{}, []crm.Opportunity{newWon, renewLostNov, upsellAfter}, crm.StatusCustomer, "deal was won on 20 Nov 2025"},
		{"status field says customer", crm.Account{Status: crm.StatusCustomer, StatusValue: "Customer - Direct"}, nil, crm.StatusCustomer, `"Customer - Direct"`},
		{"an open renewal means a customer", crm.Account{}, []crm.Opportunity{openRenewal}, crm.StatusCustomer, "renewal is open"},
		{"customer since after t", crm.Account{CustomerSince: tp(day(2026, 1, 1))}, nil, crm.StatusProspect, "only from 1 Jan 2026"},
		{"status field says prospect", crm.Account{Status: crm.StatusProspect, StatusValue: "Prospect"}, nil, crm.StatusProspect, `"Prospect"`},
		{"ARR without a deal history", crm.Account{ARR: fp(12000)}, nil, crm.StatusCustomer, "ARR"},
		{"ARR but the first deal is won after t", crm.Account{ARR: fp(12000)}, []crm.Opportunity{closedOppKind("N2", crm.OpportunityNew, day(2026, 2, 1), true)}, crm.StatusProspect, "no won deal"},
		{"nothing known", crm.Account{}, nil, crm.StatusProspect, "no won deal"},
		{"created after t: did not exist", crm.Account{CreatedAt: day(2025, 12, 2), Status: crm.StatusCustomer, StatusValue: "Customer", ARR: fp(18000)}, nil, crm.StatusProspect, "created in the CRM on 2 Dec 2025"},
		{"created before t", crm.Account{CreatedAt: day(2025, 11, 30), Status: crm.StatusCustomer, StatusValue: "Customer"}, nil, crm.StatusCustomer, `"Customer"`},
		{"created after t but a deal closed before: migrated, existed", crm.Account{CreatedAt: day(2026, 1, 5), Status: crm.StatusCustomer, StatusValue: "Customer"}, []crm.Opportunity{newWon}, crm.StatusCustomer, `"Customer"`},
		{"created after t but a customer since before: migrated, existed", crm.Account{CreatedAt: day(2026, 1, 5), CustomerSince: tp(day(2024, 1, 1))}, nil, crm.StatusCustomer, "customer since 1 Jan 2024"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := StatusAt(&tt.acct, tt.opps, at)
			if got.Status != tt.want || !strings.Contains(got.Why, tt.why) {
				t.Errorf("StatusAt = %s (%s), want %s (…%s…)", got.Status, got.Why, tt.want, tt.why)
			}
		})
	}
	// The status field holds from the record's last modification: before
	// it, the order of events decides.
	a := crm.Account{Status: crm.StatusFormer, StatusValue: "Former Customer", ModifiedAt: modified}
	if got := StatusAt(&a, []crm.Opportunity{newWon}, day(2024, 1, 1)); got.Status != crm.StatusCustomer {
		t.Errorf("before the field's last change: %s (%s), want customer", got.Status, got.Why)
	}
}

// Only live customers are scored, flagged and given reasons about risk.
func TestScoreOnlyLiveCustomers(t *testing.T) {
	t.Parallel()
	s := newScorer(t, DefaultConfig())
	d := renewalGapAccount()
	if r := s.Score(d, now, nil); r.Score == nil || len(r.Flags) == 0 || !r.Status.Live() {
		t.Fatalf("live account: score %v flags %d status %+v", deref(r.Score), len(r.Flags), r.Status)
	}
	d.Account.Churned, d.Account.ChurnedAt = true, tp(day(2023, 11, 2))
	r := s.Score(d, now, nil)
	if r.Score != nil || r.Grade != "" || len(r.Flags) != 0 || len(r.Measures) != 0 || r.Status.Status != crm.StatusFormer {
		t.Fatalf("former customer scored: score %v grade %q flags %v measures %d", deref(r.Score), r.Grade, r.Flags, len(r.Measures))
	}
	if len(r.Reasons) != 1 || !strings.Contains(r.Reasons[0], "former customer (churned on 2 Nov 2023)") {
		t.Errorf("reasons = %q", r.Reasons)
	}
	if v, ok := r.Value(MetricCustomerStatus); !ok || v.Text != "former_customer" {
		t.Errorf("customer_status = %v %v", v, ok)
	}
}

// healthsync's own follow-up tasks are not contact with the customer: an
// auto-closed task must not reset "last contact".
func TestHealthsyncTasksAreNotContact(t *testing.T) {
	t.Parallel()
	s := newScorer(t, DefaultConfig())
	d := renewalGapAccount()
	before := s.Score(d, now, nil)
	own := task(true, ago(1), "E1")
	own.Healthsync = true
	d.Activities = append(d.Activities, own)
	after := s.Score(d, now, nil)
	if *after.Metrics.DaysSinceExecContact != *before.Metrics.DaysSinceExecContact || after.Metrics.Activities != before.Metrics.Activities {
		t.Errorf("a healthsync task counted as contact: exec contact %d → %d days, activities %d → %d",
			*before.Metrics.DaysSinceExecContact, *after.Metrics.DaysSinceExecContact, before.Metrics.Activities, after.Metrics.Activities)
	}
}

// Two relationship measures describe one fact: only one is named.
func TestReasonsNameOneRelationshipFact(t *testing.T) {
	t.Parallel()
	s := newScorer(t, DefaultConfig())
	d := renewalGapAccount()
	d.Opportunities = nil // no renewal: relationships lead
	d.Activities = []crm.Activity{emailOut(ago(50), "U1"), emailOut(ago(52), "U2")}
	r := s.Score(d, now, nil)
	rel := 0
	for _, reason := range r.Reasons {
		if strings.Contains(reason, "relationship") {
			rel++
		}
	}
	if rel > 1 {
		t.Errorf("reasons %q name the relationships twice", r.Reasons)
	}
}
