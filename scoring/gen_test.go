package scoring

import (
	"fmt"
	"math/rand/v2"
	"time"

	"healthsync/crm"
)

var genTitles = []string{
	"Nurse", "Scheduler", "Billing Specialist", "Practice Manager", "IT Analyst",
	"Director of Operations", "VP Clinical", "CFO", "Chief Medical Officer", "Head of IT",
}

var genKinds = []crm.ActivityKind{crm.ActivityEmail, crm.ActivityEmail, crm.ActivityEmail, crm.ActivityCall, crm.ActivityMeeting, crm.ActivityTask, crm.ActivityNote}

// genAccount builds a deterministic random account: nContacts contacts
// and nActs activities spread over the last two years (a few in the future).
func genAccount(rng *rand.Rand, i, nContacts, nActs int, at time.Time) AccountData {
	id := crm.AccountID(fmt.Sprintf("A%06d", i))
	a := crm.Account{ID: id, Name: fmt.Sprintf("Account %d", i), OwnerID: "U1"}
	emp := 5 + rng.IntN(5000)
	a.Employees = &emp
	if rng.IntN(10) > 0 {
		a.ARR = fp(float64(1000 * (5 + rng.IntN(300))))
	}
	if rng.IntN(4) > 0 {
		a.Adoption = fp(rng.Float64())
		a.AdoptionPrevious = fp(rng.Float64())
	}
	if rng.IntN(3) > 0 {
		a.CSMSentiment = fp(float64(50 * rng.IntN(3)))
	}
	if rng.IntN(3) == 0 {
		a.NPS = fp(float64(rng.IntN(201) - 100))
	}
	if rng.IntN(4) == 0 {
		a.CSAT = fp(float64(rng.IntN(101)))
	}
	since := at.AddDate(0, 0, -rng.IntN(1500))
	a.CustomerSince = &since
	d := AccountData{Account: a}
	d.Contacts = make([]crm.Contact, nContacts)
	for c := range d.Contacts {
		d.Contacts[c] = crm.Contact{
			ID: crm.ContactID(fmt.Sprintf("%s-C%d", id, c)), AccountID: id,
			FirstName: "Pat", LastName: fmt.Sprint(c), Title: genTitles[rng.IntN(len(genTitles))],
		}
	}
	if rng.IntN(3) > 0 {
		close := crm.Date(at.AddDate(0, 0, rng.IntN(400)-30))
		d.Opportunities = append(d.Opportunities, crm.Opportunity{
			ID: crm.OpportunityID(string(id) + "-R"), AccountID: id, Kind: crm.OpportunityRenewal,
			CloseDate: &close, Amount: a.ARR, CreatedAt: at.AddDate(0, -6, 0),
		})
	}
	if rng.IntN(4) == 0 {
		d.Opportunities = append(d.Opportunities, crm.Opportunity{
			ID: crm.OpportunityID(string(id) + "-X"), AccountID: id, Kind: crm.OpportunityExpansion,
			Amount: fp(float64(1000 * rng.IntN(50))), CreatedAt: at.AddDate(0, -1, 0),
		})
	}
	d.Activities = make([]crm.Activity, nActs)
	for k := range d.Activities {
		kind := genKinds[rng.IntN(len(genKinds))]
		dir := crm.DirectionUnknown
		switch kind {
		case crm.ActivityEmail, crm.ActivityCall:
			dir = crm.DirectionOutbound
			if rng.IntN(3) == 0 {
				dir = crm.DirectionInbound
			}
		}
		act := crm.Activity{
			ID: crm.ActivityID(fmt.Sprintf("%s-T%d", id, k)), Kind: kind, Direction: dir,
			Completed:  kind != crm.ActivityTask || rng.IntN(4) > 0,
			OccurredAt: at.Add(-time.Duration(rng.Int64N(int64(730 * 24 * time.Hour)))).Add(time.Duration(rng.IntN(10)) * 24 * time.Hour),
			AccountID:  id,
			EBR:        kind == crm.ActivityMeeting && rng.IntN(10) == 0,
		}
		if nContacts > 0 && rng.IntN(10) > 0 {
			act.ContactIDs = []crm.ContactID{d.Contacts[rng.IntN(nContacts)].ID}
			if rng.IntN(5) == 0 {
				act.ContactIDs = append(act.ContactIDs, d.Contacts[rng.IntN(nContacts)].ID)
			}
		}
		d.Activities[k] = act
	}
	return d
}
