package gen

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"time"
)

// Field names a field whose changes the generator records: the account
// fields a health score reads and the opportunity fields a pipeline
// report reads. Each emulator maps them onto its own fields (Salesforce
// ARR__c, HubSpot arr, ...).
type Field uint8

// Fields with history. Values in [Change] have these Go types: float64
// (ARR, Adoption and AdoptionPrev as fractions 0..1, NPS 0..10, Amount),
// string (Sentiment, Type, Stage), time.Time at midnight UTC
// (RenewalDate, CloseDate) and bool (Churned); nil is "empty".
const (
	FieldARR Field = iota + 1
	FieldAdoption
	FieldAdoptionPrev
	FieldSentiment
	FieldNPS
	FieldRenewalDate
	FieldChurned
	FieldType
	FieldStage
	FieldAmount
	FieldCloseDate
)

// String returns the field's name as the model spells it.
func (f Field) String() string {
	switch f {
	case FieldARR:
		return "ARR"
	case FieldAdoption:
		return "Adoption"
	case FieldAdoptionPrev:
		return "AdoptionPrev"
	case FieldSentiment:
		return "Sentiment"
	case FieldNPS:
		return "NPS"
	case FieldRenewalDate:
		return "RenewalDate"
	case FieldChurned:
		return "Churned"
	case FieldType:
		return "Type"
	case FieldStage:
		return "Stage"
	case FieldAmount:
		return "Amount"
	case FieldCloseDate:
		return "CloseDate"
	}
	return "unknown"
}

// Change is one change of a field: at At the field went from Old to New.
// Opportunity is the opportunity's index for opportunity fields and -1
// for the account's own.
type Change struct {
	At          time.Time
	Opportunity int32
	Field       Field
	Old, New    any
}

// History returns the changes of account i and its opportunities since
// HistoryFrom, oldest first (ties in a fixed order). Replaying them over
// the values before the window gives every field as of any date; the
// newest change of a field equals the account's (or opportunity's)
// current value. It is computed from the seed on each call and not kept
// in the Org, so orgs of 100,000 accounts stay small; it is nil when the
// Org was generated with NoHistory or i is out of range.
func (o *Org) History(i int) []Change {
	if o.opts.NoHistory || i < 0 || i >= len(o.Accounts) {
		return nil
	}
	a := &o.Accounts[i]
	lo := sort.Search(len(o.Opportunities), func(k int) bool { return o.Opportunities[k].Account >= a.Index })
	hi := lo
	for hi < len(o.Opportunities) && o.Opportunities[hi].Account == a.Index {
		hi++
	}
	return history(o.opts, a, o.Opportunities[lo:hi])
}

// historyFrom is where the recorded history begins: Months before Now.
func historyFrom(o Options) time.Time { return o.Now.AddDate(0, -o.Months, 0) }

// historyGen draws one account's history from its own random stream, so
// the rest of the org is the same with history on or off. Values are
// collected as (time, field, value) events in any order; finish sorts
// them and keeps the changes.
type historyGen struct {
	r      *rand.Rand
	from   time.Time // the window's start
	now    time.Time
	opp    int32
	events []event
}

type event struct {
	at  time.Time
	opp int32
	f   Field
	v   value
}

// value is an event's value unboxed: boxing every event's value into an
// interface cost more than the rest of the history; only the changes kept
// are boxed.
type value struct {
	kind byte // 0 nil, 'n' number, 's' string, 't' time, 'b' bool
	n    float64
	s    string
	t    time.Time
}

func valueOf(v any) value {
	switch x := v.(type) {
	case float64:
		return value{kind: 'n', n: x}
	case string:
		return value{kind: 's', s: x}
	case time.Time:
		return value{kind: 't', t: x}
	case bool:
		if x {
			return value{kind: 'b', n: 1}
		}
		return value{kind: 'b'}
	}
	return value{}
}

func (v value) equal(w value) bool {
	return v.kind == w.kind && v.n == w.n && v.s == w.s && v.t.Equal(w.t)
}

func (v value) box() any {
	switch v.kind {
	case 'n':
		return v.n
	case 's':
		return v.s
	case 't':
		return v.t
	case 'b':
		return v.n == 1
	}
	return nil
}

// set records that f took value v at t. Times after now are moved to
// just before it.
func (h *historyGen) set(at time.Time, f Field, v any) {
	if at.After(h.now) {
		at = h.now.Add(-time.Minute)
	}
	h.events = append(h.events, event{at: at, opp: h.opp, f: f, v: valueOf(v)})
}

// finish turns the events into changes: in time order, a value equal to
// the field's previous one is no change, and changes before the window
// only give the values it starts with.
func (h *historyGen) finish() []Change {
	// Sort small keys, not the events: (time, position) orders them as a
	// stable sort by time would.
	type ord struct {
		at int64
		i  int32
	}
	order := make([]ord, len(h.events))
	for i, e := range h.events {
		order[i] = ord{e.at.UnixNano(), int32(i)}
	}
	slices.SortFunc(order, func(a, b ord) int {
		if a.at != b.at {
			return cmp.Compare(a.at, b.at)
		}
		return cmp.Compare(a.i, b.i)
	})
	type last struct {
		opp   int32
		f     Field
		v     value
		boxed any
	}
	var cur []last // per (opportunity, field): a few dozen at most
	out := make([]Change, 0, len(h.events)/2)
	for _, o := range order {
		e := &h.events[o.i]
		i := 0
		for i < len(cur) && (cur[i].opp != e.opp || cur[i].f != e.f) {
			i++
		}
		if i == len(cur) {
			cur = append(cur, last{opp: e.opp, f: e.f})
		} else if cur[i].v.equal(e.v) {
			continue
		}
		l := &cur[i]
		old, oldKind := l.boxed, l.v.kind
		if old == nil && oldKind != 0 {
			old = l.v.box()
		}
		l.v, l.boxed = e.v, nil
		if e.at.Before(h.from) || (oldKind == 0 && e.v.kind == 0) {
			continue
		}
		l.boxed = e.v.box()
		out = append(out, Change{At: e.at, Opportunity: e.opp, Field: e.f, Old: old, New: l.boxed})
	}
	return out
}

func equalValue(a, b any) bool { return valueOf(a).equal(valueOf(b)) }

func history(o Options, a *Account, opps []Opportunity) []Change {
	h := &historyGen{
		r:    rand.New(rand.NewPCG(uint64(o.Seed), uint64(a.Index)*0xA24BAED4963EE407+0x4157)),
		from: historyFrom(o), now: o.Now, opp: -1,
		events: make([]event, 0, 48+12*len(opps)),
	}
	h.account(a)
	for i := range opps {
		h.opportunity(&opps[i])
	}
	return h.finish()
}

// account replays the account's customer life: becoming a customer,
// quarterly adoption snapshots, renewals that move the ARR and the
// renewal date, CSM sentiment and NPS surveys, and the churn.
func (h *historyGen) account(a *Account) {
	since := a.CustomerSince
	end := h.now
	if a.Churned {
		end = a.ChurnedAt
	}
	if !since.Before(end) {
		return
	}
	// Renewals up to the end: the ARR grows about 5% a year, so it was
	// lower before each renewal; the renewal date moves a year on.
	var renewals []time.Time
	for k := 1; ; k++ {
		rd := since.AddDate(k, 0, 0)
		if rd.After(end) || (!a.Churned && !rd.Before(h.now)) {
			break
		}
		renewals = append(renewals, rd)
	}
	arr := func(k int) float64 { // ARR in force after renewal k (0: the first contract)
		steps := len(renewals) - k
		if a.Churned {
			steps-- // the lost renewal did not move the ARR
		}
		if steps <= 0 {
			return a.ARR
		}
		return math.Round(a.ARR/math.Pow(1.05, float64(steps))/100) * 100
	}
	h.set(since, FieldType, "Customer")
	h.set(since, FieldARR, arr(0))
	h.set(since, FieldRenewalDate, since.AddDate(1, 0, 0))
	h.set(since, FieldChurned, false)
	for k, rd := range renewals {
		if a.Churned && k == len(renewals)-1 {
			break // the lost renewal: handled with the churn below
		}
		h.set(rd.Add(9*time.Hour), FieldARR, arr(k+1))
		h.set(rd.Add(9*time.Hour), FieldRenewalDate, rd.AddDate(1, 0, 0))
	}

	h.adoption(a, since, end)
	h.sentiment(a, since, end)
	h.nps(a, since, end)

	if a.Churned {
		at := a.ChurnedAt.Add(10 * time.Hour)
		h.set(at, FieldAdoption, a.Adoption())
		h.set(at, FieldChurned, true)
		h.set(at, FieldType, a.Type)
		h.set(at, FieldRenewalDate, nilDate(a.RenewalDate))
	}
	// The paths above end at today's values; this keeps it so should one
	// of them not (a change this late would show in a test).
	last := h.now.Add(-time.Minute)
	h.set(last, FieldARR, a.ARR)
	h.set(last, FieldRenewalDate, nilDate(a.RenewalDate))
	h.set(last, FieldAdoption, a.Adoption())
	h.set(last, FieldAdoptionPrev, a.AdoptionPrev)
	if a.Sentiment != "" {
		h.set(last, FieldSentiment, a.Sentiment)
	}
	if a.NPS >= 0 {
		h.set(last, FieldNPS, float64(a.NPS))
	}
	h.set(last, FieldChurned, a.Churned)
	h.set(last, FieldType, a.Type)
}

func nilDate(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// quarterStarts lists the first days of the calendar quarters in (from, to).
func quarterStarts(from, to time.Time) []time.Time {
	q := time.Date(from.Year(), time.Month((int(from.Month())-1)/3*3+1), 1, 0, 0, 0, 0, time.UTC)
	var out []time.Time
	for q = q.AddDate(0, 3, 0); q.Before(to); q = q.AddDate(0, 3, 0) {
		out = append(out, q)
	}
	return out
}

// adoption takes a snapshot at the start of every quarter: the previous
// quarter's figure moves to AdoptionPrev and the new one to Adoption. The
// last snapshot before now shows today's values; a declining account's
// earlier figures were higher, a churned account's fall before the churn.
func (h *historyGen) adoption(a *Account, since, end time.Time) {
	r := h.r
	// Only the snapshots a reader can see matter: the ones in the window,
	// plus the one before it for the values the window starts with.
	at := maxTime(since, h.from.AddDate(0, -3, 0))
	qs := quarterStarts(at, end)
	n := len(qs)
	if n == 0 { // a customer of less than a quarter: its first figures
		h.set(at, FieldAdoptionPrev, a.AdoptionPrev)
		h.set(at, FieldAdoption, a.Adoption())
		if a.Churned {
			h.set(at, FieldAdoption, a.AdoptionPrev)
		}
		return
	}
	// vals[k] is the adoption shown from snapshot k on; vals[n-1] is the
	// last, vals[n-2] the one AdoptionPrev holds today.
	vals := make([]float64, n+1) // vals[0]: before the first snapshot
	last := a.Adoption()
	if a.Churned {
		last = round4(a.AdoptionPrev * (0.4 + r.Float64()*0.35)) // falling before the churn
	}
	vals[n] = last
	vals[n-1] = a.AdoptionPrev
	for k := n - 2; k >= 0; k-- {
		v := vals[k+1]
		declined := (a.Declining && !qs[k+1].Before(a.DeclineStart)) || (a.Churned && k+1 >= n-2)
		if declined {
			v += 0.04 + r.Float64()*0.08 // it was higher before the decline
		} else {
			v += (r.Float64() - 0.5) * 0.08
		}
		vals[k] = round4(math.Min(1, math.Max(0.05, v)))
	}
	// The first snapshot's "previous quarter" figure.
	prev := round4(math.Min(1, math.Max(0.05, vals[0]+(r.Float64()-0.5)*0.08)))
	h.set(at, FieldAdoption, vals[0])
	h.set(at, FieldAdoptionPrev, prev)
	for k, q := range qs {
		t := q.Add(7*time.Hour + time.Duration(r.IntN(3600))*time.Second)
		h.set(t, FieldAdoptionPrev, vals[k])
		h.set(t, FieldAdoption, vals[k+1])
	}
}

// sentiment: green while healthy, yellow then red as a decline sets in or
// a churn nears; healthy accounts sometimes go yellow for a while.
func (h *historyGen) sentiment(a *Account, since, end time.Time) {
	if a.Sentiment == "" {
		return
	}
	r := h.r
	first := since.Add(time.Duration(14+r.IntN(30)) * day).Add(11 * time.Hour)
	h.set(first, FieldSentiment, SentimentGreen)
	switch {
	case a.Churned:
		h.set(a.ChurnedAt.Add(-time.Duration(50+r.IntN(30))*day+11*time.Hour), FieldSentiment, SentimentYellow)
		h.set(a.ChurnedAt.Add(-time.Duration(10+r.IntN(20))*day+11*time.Hour), FieldSentiment, SentimentRed)
	case a.Declining:
		yellow := a.DeclineStart.Add(time.Duration(20+r.IntN(25)) * day)
		if a.Sentiment != SentimentGreen {
			h.set(yellow, FieldSentiment, SentimentYellow)
		}
		if a.Sentiment == SentimentRed {
			red := yellow.Add(time.Duration(20+r.IntN(40)) * day)
			if red.After(end) {
				red = end.Add(-time.Hour)
			}
			h.set(red, FieldSentiment, SentimentRed)
		}
	default:
		span := end.Sub(first)
		if span <= 0 {
			return
		}
		mid := first.Add(time.Duration(r.Int64N(int64(span))))
		switch a.Sentiment {
		case SentimentGreen:
			if r.Float64() < 0.2 && span > 120*day {
				h.set(mid, FieldSentiment, SentimentYellow)
				h.set(mid.Add(time.Duration(30+r.IntN(60))*day), FieldSentiment, SentimentGreen)
			}
		case SentimentYellow:
			h.set(mid, FieldSentiment, SentimentYellow)
		case SentimentRed:
			h.set(mid, FieldSentiment, SentimentYellow)
			h.set(mid.Add((end.Sub(mid))/2), FieldSentiment, SentimentRed)
		}
	}
}

// nps: a survey every six months; declining accounts answer lower after
// the decline starts. The last answer is today's NPS.
func (h *historyGen) nps(a *Account, since, end time.Time) {
	if a.NPS < 0 {
		return
	}
	r := h.r
	start := maxTime(since.Add(60*day), h.from.AddDate(0, -6, 0))
	var surveys []time.Time
	for t := start.Add(time.Duration(r.IntN(150)) * day); t.Before(end); t = t.Add(182 * day) {
		surveys = append(surveys, dateOf(t).Add(15*time.Hour))
	}
	for k, t := range surveys {
		if k == len(surveys)-1 {
			break // the last survey is today's value, set by account()
		}
		v := 6 + r.IntN(5)
		if (a.Declining && !t.Before(a.DeclineStart)) || (a.Churned && a.ChurnedAt.Sub(t) < 200*day) {
			v = 2 + r.IntN(6)
		}
		h.set(t, FieldNPS, float64(v))
	}
	if n := len(surveys); n > 0 {
		h.set(surveys[n-1], FieldNPS, float64(a.NPS))
	} else {
		h.set(minTime(since.Add(60*day), end.Add(-day)), FieldNPS, float64(a.NPS))
	}
}

// opportunity walks a deal through its stages from creation to today's
// stage (closing at the close), sometimes correcting the amount or
// pushing the close date on the way.
func (h *historyGen) opportunity(op *Opportunity) {
	r := h.r
	h.opp = op.Index
	defer func() { h.opp = -1 }()
	path := []string{"Qualification", "Proposal/Price Quote", "Negotiation/Review"}
	var steps []string
	switch {
	case op.Closed:
		steps = append([]string{pickStr(r, "Prospecting", "Qualification")}, path[1+r.IntN(2)], op.Stage)
	default:
		for _, s := range path {
			steps = append(steps, s)
			if s == op.Stage {
				break
			}
		}
	}
	span := op.Modified.Sub(op.Created)
	amount := op.Amount
	if r.Float64() < 0.3 {
		amount = math.Round(op.Amount*(0.9+r.Float64()*0.2)/100) * 100
	}
	closeDate := op.CloseDate
	if r.Float64() < 0.25 {
		closeDate = op.CloseDate.AddDate(0, 0, -(7 + r.IntN(24)))
	}
	// Values at creation: before the window they are only remembered.
	h.set(op.Created, FieldStage, steps[0])
	h.set(op.Created, FieldAmount, amount)
	h.set(op.Created, FieldCloseDate, closeDate)
	for k := 1; k < len(steps); k++ {
		at := op.Created.Add(span * time.Duration(k) / time.Duration(len(steps)-1))
		if k < len(steps)-1 {
			at = at.Add(-time.Duration(r.IntN(3600)) * time.Second)
		}
		h.set(at, FieldStage, steps[k])
	}
	mid := op.Created.Add(span / 2)
	h.set(mid, FieldAmount, op.Amount)
	h.set(mid, FieldCloseDate, op.CloseDate)
	h.set(op.Modified, FieldStage, op.Stage)
}

func round4(x float64) float64 { return math.Round(x*10000) / 10000 }
