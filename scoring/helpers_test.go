package scoring

import (
	"sync/atomic"
	"testing"
	"time"

	"healthsync/crm"
)

// now is the scoring instant of the tests: the day after a leap day.
var now = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

func ago(days float64) time.Time { return now.Add(-time.Duration(days * 24 * float64(time.Hour))) }

func fp(v float64) *float64 { return &v }
func ip(v int) *int         { return &v }
func tp(t time.Time) *time.Time {
	return &t
}

func person(id, title string) crm.Contact {
	return crm.Contact{ID: crm.ContactID(id), AccountID: "A1", FirstName: "Pat", LastName: id, Title: title}
}

// actSeq numbers test activities; tests run in parallel, so it is atomic.
var actSeq atomic.Int64

func act(kind crm.ActivityKind, dir crm.Direction, at time.Time, contacts ...string) crm.Activity {
	a := crm.Activity{ID: crm.ActivityID("T" + time.Duration(actSeq.Add(1)).String()), Kind: kind, Direction: dir, OccurredAt: at, AccountID: "A1", Completed: kind != crm.ActivityTask}
	for _, c := range contacts {
		a.ContactIDs = append(a.ContactIDs, crm.ContactID(c))
	}
	return a
}

func meeting(at time.Time, contacts ...string) crm.Activity {
	return act(crm.ActivityMeeting, crm.DirectionUnknown, at, contacts...)
}

func emailIn(at time.Time, contacts ...string) crm.Activity {
	return act(crm.ActivityEmail, crm.DirectionInbound, at, contacts...)
}

func emailOut(at time.Time, contacts ...string) crm.Activity {
	return act(crm.ActivityEmail, crm.DirectionOutbound, at, contacts...)
}

func task(done bool, at time.Time, contacts ...string) crm.Activity {
	a := act(crm.ActivityTask, crm.DirectionUnknown, at, contacts...)
	a.Completed = done
	return a
}

func renewal(id string, close time.Time, amount float64) crm.Opportunity {
	c := crm.Date(close)
	return crm.Opportunity{ID: crm.OpportunityID(id), AccountID: "A1", Kind: crm.OpportunityRenewal, Type: "Renewal", CloseDate: &c, Amount: &amount, CreatedAt: ago(200)}
}

func newScorer(t testing.TB, cfg Config) *Scorer {
	t.Helper()
	s, err := NewScorer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func baseAccount() crm.Account {
	return crm.Account{ID: "A1", Name: "Acme Health", OwnerID: "U1", ARR: fp(50000), Employees: ip(300)}
}
