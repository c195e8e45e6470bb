package gen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"
)

const day = 24 * time.Hour

// Generate builds a whole org in memory. For very large orgs use [Stream].
func Generate(opts Options) (*Org, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	org := &Org{Now: o.Now, Users: Users(o), opts: o}
	if !o.NoHistory {
		org.HistoryFrom = historyFrom(o)
	}
	// The history is not kept: Org.History computes it when asked.
	o.NoHistory = true
	err = stream(o, func(b *Bundle) error {
		org.Accounts = append(org.Accounts, b.Account)
		org.Contacts = append(org.Contacts, b.Contacts...)
		org.Opportunities = append(org.Opportunities, b.Opportunities...)
		org.Activities = append(org.Activities, b.Activities...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return org, nil
}

// Users returns the team of the org opts describe (the same slice
// [Generate] puts in Org.Users). Invalid options give no users.
func Users(opts Options) []User {
	o, err := opts.withDefaults()
	if err != nil {
		return nil
	}
	r := rand.New(rand.NewPCG(uint64(o.Seed), 0x5eed_05e5))
	users := make([]User, o.Users)
	for i := range users {
		fn, ln := pick(r, firstNames), pick(r, lastNames)
		created := o.Now.Add(-time.Duration(400+r.IntN(1500)) * day).Truncate(time.Second)
		users[i] = User{
			Index:     int32(i),
			FirstName: fn,
			LastName:  ln,
			Email:     fmt.Sprintf("%s.%s%d@example-vendor.com", ascii(fn), ascii(ln), i),
			Title:     pick(r, teamTitles),
			Active:    i < 5 || r.Float64() > 0.05,
			Created:   created,
			Modified:  created.Add(time.Duration(r.IntN(300)) * day),
		}
	}
	return users
}

// Stream generates the org opts describe one account at a time, calling fn
// with each account and its contacts, opportunities and activities, in
// account order. Index fields are positions in the whole org, exactly as
// [Generate] would give them. fn must not keep b's slices beyond the call
// if it wants memory to stay flat (they are not reused, so keeping them is
// safe). An error from fn stops Stream, which returns it.
func Stream(opts Options, fn func(b *Bundle) error) error {
	o, err := opts.withDefaults()
	if err != nil {
		return err
	}
	return stream(o, fn)
}

type counters struct{ contacts, opps, acts int32 }

func stream(o Options, fn func(b *Bundle) error) error {
	active := activeOwners(Users(o))
	var c counters
	for i := 0; i < o.Accounts; i++ {
		g := accountGen{
			o:      o,
			r:      rand.New(rand.NewPCG(uint64(o.Seed), uint64(i)*0x9E3779B97F4A7C15+1)),
			owners: active,
			c:      &c,
		}
		b := g.bundle(int32(i))
		if !o.NoHistory {
			b.HistoryFrom = historyFrom(o)
			b.History = history(o, &b.Account, b.Opportunities)
		}
		if err := fn(b); err != nil {
			return err
		}
	}
	return nil
}

func activeOwners(users []User) []int32 {
	var out []int32
	for _, u := range users {
		if u.Active {
			out = append(out, u.Index)
		}
	}
	return out
}

type accountGen struct {
	o      Options
	r      *rand.Rand
	owners []int32
	c      *counters
	b      *Bundle
	// bulkStamp is a moment many records share as their modification stamp
	// (a data load or a mass update), as real orgs have.
	bulkStamp time.Time
}

func (g *accountGen) bundle(idx int32) *Bundle {
	g.b = &Bundle{}
	g.bulkStamp = g.o.Now.Add(-3 * day).Truncate(time.Hour)
	g.account(idx)
	g.contacts()
	g.opportunities()
	g.activities()
	g.deletions()
	if a := &g.b.Account; a.Churned {
		a.Type = "Former Customer"
	}
	return g.b
}

func (g *accountGen) account(idx int32) {
	r, now := g.r, g.o.Now
	a := &g.b.Account
	a.Index = idx
	a.Owner = g.owners[r.IntN(len(g.owners))]
	first, second := pick(r, companyFirst), pick(r, companySecond)
	a.Name = fmt.Sprintf("%s %s %s", first, second, pick(r, companySuffix))
	a.Domain = fmt.Sprintf("%s-%s-%d.example.com", slug(first), slug(second), idx)
	a.Industry = pick(r, industries)
	a.Country = pick(r, countries)
	a.Type = "Customer"
	var empLo, empHi, arrLo, arrHi, licLo, licHi float64
	switch p := r.Float64(); {
	case p < 0.15:
		a.Segment = SegmentEnterprise
		empLo, empHi, arrLo, arrHi, licLo, licHi = 1000, 50000, 100_000, 1_000_000, 200, 2000
	case p < 0.5:
		a.Segment = SegmentMidMarket
		empLo, empHi, arrLo, arrHi, licLo, licHi = 200, 999, 25_000, 100_000, 50, 300
	default:
		a.Segment = SegmentSMB
		empLo, empHi, arrLo, arrHi, licLo, licHi = 10, 199, 3_000, 25_000, 5, 50
	}
	a.Employees = int32(logUniform(r, empLo, empHi))
	a.AnnualRevenue = math.Round(float64(a.Employees)*(150_000+r.Float64()*250_000)/1000) * 1000
	a.ARR = math.Round(logUniform(r, arrLo, arrHi)/100) * 100
	a.Licenses = int32(logUniform(r, licLo, licHi))

	a.CustomerSince = dateOf(now.Add(-time.Duration(30+r.IntN(5*365-30)) * day))
	a.Created = a.CustomerSince.Add(-time.Duration(30+r.IntN(90)) * day).Add(time.Duration(r.IntN(36000)) * time.Second)
	a.Modified = maxTime(a.Created, now.Add(-time.Duration(r.Int64N(int64(60*day)))).Truncate(time.Millisecond))
	if r.Float64() < 0.2 && a.Created.Before(g.bulkStamp) {
		a.Modified = g.bulkStamp
	}

	// Decline: starts within the history window, at least two months into
	// the customer relationship and a month before now.
	histStart := now.AddDate(0, -g.o.Months, 0)
	lo := maxTime(a.CustomerSince.Add(60*day), histStart)
	hi := now.Add(-30 * day)
	if r.Float64() < g.o.DeclineRate && lo.Before(hi) {
		a.Declining = true
		a.DeclineStart = lo.Add(time.Duration(r.Int64N(int64(hi.Sub(lo))))).Truncate(time.Hour)
	}

	// Adoption and sentiment.
	if a.Declining {
		a.AdoptionPrev = 0.5 + r.Float64()*0.35
		a.ActiveUsers = int32(float64(a.Licenses) * a.AdoptionPrev * (0.4 + r.Float64()*0.35))
	} else {
		a.AdoptionPrev = 0.55 + r.Float64()*0.4
		cur := math.Min(1, math.Max(0.05, a.AdoptionPrev+(r.Float64()-0.35)*0.1))
		a.ActiveUsers = int32(math.Round(float64(a.Licenses) * cur))
	}
	a.Sentiment = ""
	if r.Float64() < 0.75 {
		p := r.Float64()
		switch {
		case a.Declining && p < 0.4, !a.Declining && p < 0.05:
			a.Sentiment = SentimentRed
		case a.Declining && p < 0.85, !a.Declining && p < 0.25:
			a.Sentiment = SentimentYellow
		default:
			a.Sentiment = SentimentGreen
		}
	}
	a.NPS = -1
	if r.Float64() < 0.4 {
		if a.Declining {
			a.NPS = int8(1 + r.IntN(7)) // 1..7
		} else {
			a.NPS = int8(6 + r.IntN(5)) // 6..10
		}
	}
}

var execDepartments = []string{"Executive", "Finance", "IT", "Operations"}

func (g *accountGen) contacts() {
	r, a := g.r, &g.b.Account
	var n, execs int
	switch a.Segment {
	case SegmentEnterprise:
		n, execs = 8+r.IntN(7), 2+r.IntN(2)
	case SegmentMidMarket:
		n, execs = 4+r.IntN(5), 1+r.IntN(2)
	default:
		n, execs = 2+r.IntN(3), 1
	}
	for i := 0; i < n; i++ {
		fn, ln := pick(r, firstNames), pick(r, lastNames)
		c := Contact{
			Index:     g.c.contacts,
			Account:   a.Index,
			Owner:     a.Owner,
			FirstName: fn,
			LastName:  ln,
			Email:     fmt.Sprintf("%s.%s@%s", ascii(fn), ascii(ln), a.Domain),
			Phone:     fmt.Sprintf("+1 555 %03d %04d", r.IntN(1000), r.IntN(10000)),
			Executive: i < execs,
		}
		g.c.contacts++
		if c.Executive {
			c.Title = pick(r, execTitles)
			c.Department = pick(r, execDepartments)
		} else {
			c.Title = pick(r, userTitles)
			c.Department = pick(r, departments[1:])
		}
		c.Created = a.CustomerSince.Add(-time.Duration(r.IntN(60*24*60)) * time.Minute)
		c.Modified = maxTime(c.Created, g.o.Now.Add(-time.Duration(r.Int64N(int64(200*day)))).Truncate(time.Millisecond))
		if r.Float64() < 0.15 && c.Created.Before(g.bulkStamp) {
			c.Modified = g.bulkStamp
		}
		g.b.Contacts = append(g.b.Contacts, c)
	}
	// A declining account's main executive often leaves: the contact is
	// deleted some weeks into the decline.
	if a.Declining && r.Float64() < 0.6 {
		left := a.DeclineStart.Add(time.Duration(20+r.IntN(70)) * day)
		if left.Before(g.o.Now) {
			c := &g.b.Contacts[0]
			c.Deleted, c.DeletedAt, c.Modified = true, left, left
		}
	}
}

func (g *accountGen) newOpp(typ string, amount float64, closeDate time.Time) *Opportunity {
	a := &g.b.Account
	g.b.Opportunities = append(g.b.Opportunities, Opportunity{
		Index:     g.c.opps,
		Account:   a.Index,
		Owner:     a.Owner,
		Type:      typ,
		Amount:    math.Round(amount/100) * 100,
		CloseDate: closeDate,
		Name:      fmt.Sprintf("%s - %s %d", a.Name, typ, closeDate.Year()),
	})
	g.c.opps++
	return &g.b.Opportunities[len(g.b.Opportunities)-1]
}

func (g *accountGen) closeOpp(op *Opportunity, won bool) {
	r := g.r
	op.Closed, op.Won = true, won
	op.Stage = "Closed Won"
	if !won {
		op.Stage = "Closed Lost"
	}
	op.Created = op.CloseDate.Add(-time.Duration(45+r.IntN(75)) * day).Add(time.Duration(8*3600+r.IntN(36000)) * time.Second)
	op.Modified = op.CloseDate.Add(time.Duration(9*3600+r.IntN(30000)) * time.Second)
	if op.Modified.After(g.o.Now) {
		op.Modified = g.o.Now.Add(-time.Minute)
	}
}

func (g *accountGen) openOpp(op *Opportunity) {
	r, now := g.r, g.o.Now
	left := op.CloseDate.Sub(now)
	switch {
	case left > 60*day:
		op.Stage = "Qualification"
	case left > 30*day:
		op.Stage = "Proposal/Price Quote"
	default:
		op.Stage = "Negotiation/Review"
	}
	op.Created = maxTime(op.CloseDate.Add(-120*day), now.Add(-200*day)).Add(time.Duration(8*3600+r.IntN(36000)) * time.Second)
	if !op.Created.Before(now) {
		op.Created = now.Add(-time.Hour)
	}
	op.Modified = op.Created.Add(time.Duration(r.Int64N(int64(now.Sub(op.Created))))).Truncate(time.Millisecond)
}

func (g *accountGen) opportunities() {
	r, a, now := g.r, &g.b.Account, g.o.Now
	nb := g.newOpp(TypeNewBusiness, a.ARR*(0.85+r.Float64()*0.1), a.CustomerSince)
	g.closeOpp(nb, true)
	for k := 1; ; k++ {
		rd := a.CustomerSince.AddDate(k, 0, 0)
		yearsAgo := now.Sub(rd).Hours() / 24 / 365
		amount := a.ARR * math.Pow(0.95, math.Max(0, yearsAgo))
		if !rd.Before(now) {
			a.RenewalDate = rd
			if rd.Sub(now) <= 120*day {
				g.openOpp(g.newOpp(TypeRenewal, amount, rd))
			}
			break
		}
		// Expansion in the contract year that ends at rd, for accounts that
		// were healthy then.
		if r.Float64() < 0.35 {
			cd := dateOf(rd.Add(-time.Duration(30+r.IntN(300)) * day))
			if !a.Declining || cd.Before(a.DeclineStart) {
				typ := TypeUpsell
				if r.Float64() < 0.4 {
					typ = TypeCrossSell
				}
				g.closeOpp(g.newOpp(typ, a.ARR*(0.1+r.Float64()*0.2), cd), r.Float64() < 0.6)
			}
		}
		lossP := 0.04
		if a.Declining && rd.After(a.DeclineStart.Add(45*day)) {
			lossP = 0.7
		}
		lost := r.Float64() < lossP
		g.closeOpp(g.newOpp(TypeRenewal, amount, rd), !lost)
		if lost {
			a.Churned, a.ChurnedAt = true, rd
			a.ActiveUsers = 0
			a.Sentiment = SentimentRed
			break
		}
	}
	// An open expansion for some healthy accounts.
	if !a.Churned && !a.Declining && r.Float64() < 0.25 {
		g.openOpp(g.newOpp(pickStr(r, TypeUpsell, TypeCrossSell), a.ARR*(0.1+r.Float64()*0.3), dateOf(now.Add(time.Duration(20+r.IntN(100))*day))))
	}
}

func (g *accountGen) activities() {
	r, a, now := g.r, &g.b.Account, g.o.Now
	start := maxTime(now.AddDate(0, -g.o.Months, 0), a.CustomerSince)
	end := now
	if a.Churned {
		end = minTime(end, a.ChurnedAt.Add(7*day))
	}
	var perDay float64
	switch a.Segment {
	case SegmentEnterprise:
		perDay = 45.0 / 548
	case SegmentMidMarket:
		perDay = 20.0 / 548
	default:
		perDay = 10.0 / 548
	}
	perDay *= g.o.ActivityScale
	t := start
	for {
		rate := perDay
		declined := a.Declining && !t.Before(a.DeclineStart)
		if declined {
			rate *= 0.25
		}
		t = t.Add(time.Duration(r.ExpFloat64() / rate * float64(day)))
		if !t.Before(end) {
			break
		}
		if at := workHours(r, t); at.Before(now) {
			g.activity(at, declined)
		}
	}
	// Quarterly executive business reviews while healthy.
	ebrP := map[string]float64{SegmentEnterprise: 0.85, SegmentMidMarket: 0.5, SegmentSMB: 0.15}[a.Segment]
	for q := start.Add(time.Duration(r.IntN(80)) * day); q.Before(end); q = q.Add(91 * day) {
		if a.Declining && !q.Before(a.DeclineStart) {
			break
		}
		if at := workHours(r, q); r.Float64() < ebrP && at.Before(now) {
			act := g.newActivity(KindMeeting, at)
			act.Contact = g.execContact(q)
			act.EBR = true
			act.Duration = 60
			s := pick(r, ebrSubjects)
			if strings.Contains(s, "%d") {
				s = fmt.Sprintf(s, (int(act.At.Month())-1)/3+1)
			}
			act.Subject = s
		}
	}
	// Open follow-up tasks due soon.
	if !a.Churned {
		for n := r.IntN(3); n > 0; n-- {
			act := g.newActivity(KindTask, workHours(r, now.Add(time.Duration(1+r.IntN(14))*day)))
			act.Completed = false
			act.Status = pickStr(r, "Not Started", "In Progress")
			act.Subject = pick(r, taskSubjects)
			act.Created = now.Add(-time.Duration(1+r.IntN(10*24)) * time.Hour)
			act.Modified = act.Created
		}
	}
}

func (g *accountGen) newActivity(k Kind, at time.Time) *Activity {
	r, a := g.r, &g.b.Account
	owner := a.Owner
	if r.Float64() < 0.15 {
		owner = g.owners[r.IntN(len(g.owners))]
	}
	g.b.Activities = append(g.b.Activities, Activity{
		Index:       g.c.acts,
		Account:     a.Index,
		Contact:     -1,
		Opportunity: -1,
		Owner:       owner,
		Kind:        k,
		Completed:   true,
		Status:      "Completed",
		Priority:    "Normal",
		At:          at,
		Created:     at,
		Modified:    at,
	})
	g.c.acts++
	act := &g.b.Activities[len(g.b.Activities)-1]
	if p := r.Float64(); p < 0.1 {
		act.Priority = "High"
	} else if p < 0.2 {
		act.Priority = "Low"
	}
	// Most records are touched again shortly after; some share the stamp of
	// a mass update.
	act.Modified = minTime(g.o.Now, at.Add(time.Duration(r.IntN(48*60))*time.Minute))
	if r.Float64() < 0.1 && at.Before(g.bulkStamp) {
		act.Modified = g.bulkStamp
	}
	act.Modified = maxTime(act.Modified, act.Created)
	// Link to the renewal being negotiated.
	for i := range g.b.Opportunities {
		op := &g.b.Opportunities[i]
		if op.Type == TypeRenewal && at.Before(op.CloseDate) && op.CloseDate.Sub(at) < 90*day && r.Float64() < 0.5 {
			act.Opportunity = op.Index
			break
		}
	}
	return act
}

// execContact returns a live executive contact at t, or any live contact.
func (g *accountGen) execContact(t time.Time) int32 {
	for _, c := range g.b.Contacts {
		if c.Executive && (!c.Deleted || t.Before(c.DeletedAt)) {
			return c.Index
		}
	}
	return g.anyContact(t, false)
}

// anyContact picks a contact alive at t; usersOnly skips executives.
func (g *accountGen) anyContact(t time.Time, usersOnly bool) int32 {
	cs := g.b.Contacts
	for try := 0; try < 8; try++ {
		c := cs[g.r.IntN(len(cs))]
		if (usersOnly && c.Executive) || (c.Deleted && !t.Before(c.DeletedAt)) {
			continue
		}
		return c.Index
	}
	return -1
}

func (g *accountGen) activity(at time.Time, declined bool) {
	r, a := g.r, &g.b.Account
	w := [5]float64{40, 18, 14, 18, 10}
	if declined {
		w = [5]float64{55, 15, 5, 20, 5}
	}
	k := Kind(weighted(r, w[:]) + 1)
	act := g.newActivity(k, at)
	// Who: executives in healthy times; only users once the decline has
	// set in for a couple of weeks.
	quietExec := declined && at.After(a.DeclineStart.Add(15*day))
	if !quietExec && r.Float64() < 0.3 {
		act.Contact = g.execContact(at)
	} else {
		act.Contact = g.anyContact(at, quietExec)
	}
	inbound := 0.4
	if declined {
		inbound = 0.08
	}
	switch k {
	case KindEmail:
		act.Direction = DirectionOutbound
		act.Subject = pick(r, emailOutSubjects)
		if r.Float64() < inbound {
			act.Direction = DirectionInbound
			act.Subject = pick(r, emailInSubjects)
		}
	case KindCall:
		act.Direction = DirectionOutbound
		if r.Float64() < inbound/2 {
			act.Direction = DirectionInbound
		}
		act.Subject = pick(r, callSubjects)
		act.Duration = int16(3 + r.IntN(45))
	case KindMeeting:
		act.Subject = pick(r, meetingSubjects)
		act.Duration = int16(30 * (1 + r.IntN(2)))
	case KindTask:
		act.Subject = pick(r, taskSubjects)
		act.Created = at.Add(-time.Duration(1+r.IntN(7)) * day)
		if r.Float64() < 0.08 {
			act.Completed = false
			act.Status = "Not Started"
		}
	case KindNote:
		act.Subject = pick(r, noteSubjects)
		act.Contact = -1
		if r.Float64() < 0.5 {
			act.Contact = g.anyContact(at, false)
		}
	}
}

func (g *accountGen) deletions() {
	r, now, a := g.r, g.o.Now, &g.b.Account
	del := func(created time.Time) (bool, time.Time) {
		if g.o.DeleteRate == 0 || r.Float64() >= g.o.DeleteRate {
			return false, time.Time{}
		}
		at := maxTime(created.Add(time.Minute), now.Add(-time.Duration(r.Int64N(int64(20*day))))).Truncate(time.Millisecond)
		if at.After(now) {
			return false, time.Time{}
		}
		return true, at
	}
	// Rarely a whole account is deleted, and with it everything it owns.
	if ok, at := del(a.Created); ok && r.Float64() < 0.3 {
		a.Deleted, a.DeletedAt, a.Modified = true, at, at
		for i := range g.b.Contacts {
			c := &g.b.Contacts[i]
			if !c.Deleted {
				c.Deleted, c.DeletedAt, c.Modified = true, at, at
			}
		}
		for i := range g.b.Opportunities {
			o := &g.b.Opportunities[i]
			o.Deleted, o.DeletedAt, o.Modified = true, at, maxTime(o.Modified, at)
		}
		for i := range g.b.Activities {
			x := &g.b.Activities[i]
			x.Deleted, x.DeletedAt, x.Modified = true, at, maxTime(x.Modified, at)
		}
		return
	}
	for i := range g.b.Contacts {
		c := &g.b.Contacts[i]
		if c.Deleted || c.Executive {
			continue
		}
		if ok, at := del(c.Created); ok {
			c.Deleted, c.DeletedAt, c.Modified = true, at, at
		}
	}
	for i := range g.b.Opportunities {
		o := &g.b.Opportunities[i]
		if o.Type == TypeRenewal || o.Type == TypeNewBusiness {
			continue // keep the contract history that the ground truth rests on
		}
		if ok, at := del(o.Created); ok {
			o.Deleted, o.DeletedAt, o.Modified = true, at, at
		}
	}
	for i := range g.b.Activities {
		x := &g.b.Activities[i]
		if ok, at := del(x.Created); ok && !at.Before(x.Modified) {
			x.Deleted, x.DeletedAt, x.Modified = true, at, at
		}
	}
}

func pick(r *rand.Rand, s []string) string { return s[r.IntN(len(s))] }

func pickStr(r *rand.Rand, s ...string) string { return s[r.IntN(len(s))] }

func weighted(r *rand.Rand, w []float64) int {
	var sum float64
	for _, x := range w {
		sum += x
	}
	p := r.Float64() * sum
	for i, x := range w {
		if p < x {
			return i
		}
		p -= x
	}
	return len(w) - 1
}

func logUniform(r *rand.Rand, lo, hi float64) float64 {
	return math.Exp(math.Log(lo) + r.Float64()*(math.Log(hi)-math.Log(lo)))
}

func dateOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// workHours moves t to a business-hours moment (08:00–18:00 UTC) of its
// day, with whole seconds.
func workHours(r *rand.Rand, t time.Time) time.Time {
	return dateOf(t).Add(8*time.Hour + time.Duration(r.IntN(36000))*time.Second)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// ascii lower-cases s and keeps letters a–z, for e-mail local parts.
func ascii(s string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(s) {
		switch {
		case c >= 'a' && c <= 'z':
			b.WriteRune(c)
		case c == 'ü':
			b.WriteByte('u')
		}
	}
	return b.String()
}

func slug(s string) string { return ascii(strings.ReplaceAll(s, " ", "")) }
