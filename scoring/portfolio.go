package scoring

import (
	"fmt"
	"maps"
	"sort"
	"strings"
	"time"

	"healthsync/crm"
)

// Period is the half-open interval [From, To) a report covers.
type Period struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// KPIs are the portfolio figures of docs/scoring.md for one period, plus the CSM
// pipeline as of AsOf. Ratios are nil when their denominator is zero.
type KPIs struct {
	Period Period    `json:"period"`
	AsOf   time.Time `json:"as_of"`

	// CustomersAtStart are the accounts that were customers at Period.From
	// (customer since then or earlier, not churned); the retention cohort.
	CustomersAtStart int `json:"customers_at_start"`
	CustomersAtEnd   int `json:"customers_at_end"`

	// RenewalsDue counts accounts with a renewal opportunity closing in the
	// period; RenewalsWon those where it was won. RenewalRate = won / due.
	RenewalsDue int      `json:"renewals_due"`
	RenewalsWon int      `json:"renewals_won"`
	RenewalRate *float64 `json:"renewal_rate"`

	// ChurnedLogos counts cohort accounts that churned in the period (churn
	// field dated in the period, or a lost renewal with none won); LogoChurn
	// = churned / customers at start.
	ChurnedLogos  int      `json:"churned_logos"`
	LogoChurnRate *float64 `json:"logo_churn_rate"`

	// StartARR is the cohort's ARR; ChurnedARR the ARR of churned accounts;
	// ContractionARR what won renewals gave up against ARR; ExpansionARR the
	// cohort's won expansion plus renewal uplift.
	// All are ARR movements between the period's start and end, each
	// account's ARR read as of those dates (its field history): churned is
	// the start ARR of cohort accounts that left, contraction and
	// expansion the fall or rise of the others' ARR between two known
	// values (an ARR empty at either date is unknown and moves nothing).
	// Nil (null, "not mapped") when the mapping reads no ARR.
	StartARR       *float64 `json:"start_arr"`
	ChurnedARR     *float64 `json:"churned_arr"`
	ContractionARR *float64 `json:"contraction_arr"`
	ExpansionARR   *float64 `json:"expansion_arr"`
	GRR            *float64 `json:"grr"` // (start − churn − contraction) / start
	NRR            *float64 `json:"nrr"` // (start − churn − contraction + expansion) / start

	// EndARR is the ARR of customers at the end, as of the end.
	EndARR *float64 `json:"end_arr"`
	// ARPA is the ARR of customers at the end over their number (an account
	// without an ARR value counts as zero revenue); nil when ARR is not
	// mapped.
	ARPA *float64 `json:"arpa"`
	// ExpansionRevenue is all won expansion and renewal uplift in the period.
	ExpansionRevenue float64 `json:"expansion_revenue"`
	// TimeToFirstValueDays is the median days from customer-since to the
	// first adoption milestone, over milestones reached in the period.
	TimeToFirstValueDays  *float64 `json:"time_to_first_value_days"`
	TimeToFirstValueCount int      `json:"time_to_first_value_count"`

	// NPS over customers at the end with an NPS: % promoters (9–10) minus %
	// detractors (0–6) when nps_scale is response; the mean account NPS when
	// it is score.
	NPS      *float64 `json:"nps"`
	NPSScale string   `json:"nps_scale"`
	// NPSAccounts is the base of NPS: customers at the end whose NPS field
	// holds a value as of the end (one value per account, not survey
	// responses).
	NPSAccounts int `json:"nps_accounts"`
	Promoters   int `json:"promoters"`
	Passives    int `json:"passives"`
	Detractors  int `json:"detractors"`

	// CSAT is the mean CSAT (0..100) as of the end over the customers at
	// the end with a value; CSATAccounts how many had one.
	CSAT         *float64 `json:"csat"`
	CSATAccounts int      `json:"csat_accounts"`

	// NotMapped names the inputs the mapping does not read ("arr", "nps",
	// "csat"): the figures made from them are null, never 0.
	NotMapped []string `json:"not_mapped,omitempty"`
	// ExactFrom is the date from which the accounts' field history is
	// complete: for a period that starts before it, account fields before
	// ExactFrom read as their earliest known value. Nil when every figure
	// is exact.
	ExactFrom *time.Time `json:"exact_from,omitempty"`

	// Pipeline counts active accounts per lifecycle stage and grade.
	Pipeline []StageRow `json:"pipeline"`
	// RenewalsDueIn are open renewals within 30, 60 and 90 days of AsOf
	// (cumulative windows); Overdue those past their date and still open.
	RenewalsDueIn []RenewalWindow `json:"renewals_due_in"`
	Overdue       RenewalWindow   `json:"overdue"`
	// AtRiskARR is the ARR of active accounts graded red.
	AtRiskARR      float64 `json:"at_risk_arr"`
	AtRiskAccounts int     `json:"at_risk_accounts"`
	// NoScore counts active accounts with too little data for a score.
	NoScore int `json:"no_score"`
	// Statuses counts every account by customer status as of AsOf: only
	// live customers are in the pipeline and the at-risk figures.
	Statuses map[crm.CustomerStatus]int `json:"statuses"`
	// DataGaps counts live customers whose CRM holds no contacts or no
	// logged activity (their relationships cannot be measured): a finding
	// for RevOps; DataGapExamples names the first few.
	DataGaps        int      `json:"data_gaps"`
	DataGapExamples []string `json:"data_gap_examples,omitempty"`
}

// StageRow is one lifecycle stage of the CSM pipeline.
type StageRow struct {
	Stage   string `json:"stage"`
	Green   int    `json:"green"`
	Yellow  int    `json:"yellow"`
	Red     int    `json:"red"`
	NoScore int    `json:"no_score"`
	Total   int    `json:"total"`
}

// RenewalWindow counts renewals due within Days and their amount.
type RenewalWindow struct {
	Days     int     `json:"days"`
	Accounts int     `json:"accounts"`
	ARR      float64 `json:"arr"`
}

// PortfolioBuilder aggregates accounts one at a time, so a report streams
// the store like scoring does. Build it with NewPortfolioBuilder.
type PortfolioBuilder struct {
	npsScale string
	k        KPIs
	stages   map[string]*StageRow
	ttfv     []float64
	npsSum   float64
	csatSum  float64
	// mapped says which inputs the mapping reads (nil: all).
	mapped map[string]bool
	// money sums, kept apart from the KPIs' optional fields.
	startARR, churnedARR, contractionARR, expansionARR, endARR float64
}

// Inputs of KPIs that a mapping may leave out.
const (
	InputARR  = "arr"
	InputNPS  = "nps"
	InputCSAT = "csat"
)

// Mapped tells the builder which inputs the mapping reads (InputARR,
// InputNPS, InputCSAT): a figure made from one it does not read is null
// ("not mapped"), never 0. Without a call every input counts as mapped.
func (b *PortfolioBuilder) Mapped(inputs ...string) {
	b.mapped = map[string]bool{}
	for _, in := range inputs {
		b.mapped[in] = true
	}
}

func (b *PortfolioBuilder) isMapped(in string) bool { return b.mapped == nil || b.mapped[in] }

// ExactFrom records from when the accounts' field history is complete; a
// period starting before it is flagged.
func (b *PortfolioBuilder) ExactFrom(t time.Time) {
	if !t.IsZero() && t.After(b.k.Period.From) {
		t = crm.Normalize(t)
		b.k.ExactFrom = &t
	}
}

// NewPortfolioBuilder starts a report for period, with the pipeline as of
// asOf (the instant the results were scored at).
func NewPortfolioBuilder(cfg Config, period Period, asOf time.Time) (*PortfolioBuilder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if period.From.IsZero() || !period.From.Before(period.To) {
		return nil, fmt.Errorf("portfolio period %s – %s: from must be set and before to",
			period.From.Format(time.DateOnly), period.To.Format(time.DateOnly))
	}
	b := &PortfolioBuilder{
		npsScale: cfg.Measures.NPSScale,
		stages:   map[string]*StageRow{},
	}
	b.k.Period = Period{From: crm.Normalize(period.From), To: crm.Normalize(period.To)}
	b.k.AsOf = crm.Normalize(asOf)
	b.k.NPSScale = cfg.Measures.NPSScale
	b.k.RenewalsDueIn = []RenewalWindow{{Days: 30}, {Days: 60}, {Days: 90}}
	b.k.Statuses = map[crm.CustomerStatus]int{}
	return b, nil
}

// in reports whether t falls in [from, to).
func (p Period) in(t time.Time) bool { return !t.Before(p.From) && t.Before(p.To) }

// customerAt reports whether the account was a live customer at t, by
// the one rule every command uses (StatusAt).
func customerAt(a *crm.Account, opps []crm.Opportunity, t time.Time) bool {
	return StatusAt(a, opps, t).Live()
}

// Add counts one account: its record, its opportunities and its result as
// of the builder's asOf, with no field history (today's values stand for
// every date).
func (b *PortfolioBuilder) Add(a crm.Account, opps []crm.Opportunity, r Result) {
	b.AddAsOf(a, crm.History{}, opps, r)
}

// AddAsOf counts one account with its field history: every account field
// a KPI reads is its value as of the period's start or end. A date before
// a field's history starts reads its earliest known value (see ExactFrom).
func (b *PortfolioBuilder) AddAsOf(a crm.Account, h crm.History, opps []crm.Opportunity, r Result) {
	k := &b.k
	p := k.Period
	endAt := p.To.Add(-time.Millisecond)
	// Lenient: before a field's history starts, its earliest known value.
	lenient := crm.History{Changes: h.Changes}
	aStart, aEnd := crm.AccountAsOf(a, lenient, p.From), crm.AccountAsOf(a, lenient, endAt)
	oStart, oEnd := make([]crm.Opportunity, len(opps)), make([]crm.Opportunity, len(opps))
	for i, o := range opps {
		oStart[i], oEnd[i] = crm.OpportunityAsOf(o, lenient, p.From), crm.OpportunityAsOf(o, lenient, endAt)
	}
	arrOf := func(x *crm.Account) float64 {
		if x.ARR != nil {
			return *x.ARR
		}
		return 0
	}

	// Renewals and expansion closing in the period, as the opportunities
	// stood at its end. An account's renewal outcome is its latest renewal
	// closed in the period (won in March and lost in November: lost).
	var due bool
	var latest *crm.Opportunity
	var expansion float64
	for i := range oEnd {
		o := &oEnd[i]
		if o.CloseDate == nil || !p.in(*o.CloseDate) {
			continue
		}
		switch o.Kind {
		case crm.OpportunityRenewal:
			due = true
			if o.IsClosed && (latest == nil || o.CloseDate.After(*latest.CloseDate)) {
				latest = o
			}
		case crm.OpportunityExpansion:
			if v := copyFloat(o.Amount); o.IsClosed && o.IsWon && v != nil {
				expansion += *v
			}
		}
	}
	won := latest != nil && latest.IsWon
	if due {
		k.RenewalsDue++
		if won {
			k.RenewalsWon++
		}
	}
	// The uplift over the ARR just before the renewal closed; an ARR
	// never entered is unknown, not 0, so it gives none.
	uplift := 0.0
	if won && latest.Amount != nil {
		before := crm.AccountAsOf(a, lenient, latest.CloseDate.Add(-time.Millisecond))
		if before.ARR != nil {
			uplift = max(0, *latest.Amount-*before.ARR)
		}
	}
	k.ExpansionRevenue += expansion + uplift

	if customerAt(&aStart, oStart, p.From) {
		k.CustomersAtStart++
		start := arrOf(&aStart)
		b.startARR += start
		// Churned: a customer at the start who is a former customer at the
		// end, by the order of events (a renewal won in March and lost in
		// November is a churn).
		if StatusAt(&aEnd, oEnd, endAt).Status == crm.StatusFormer {
			k.ChurnedLogos++
			b.churnedARR += start
		} else if aStart.ARR != nil && aEnd.ARR != nil {
			// A movement between two known values: an ARR empty at
			// either date (entered late, or cleared) is unknown, not 0.
			if end := *aEnd.ARR; end < start {
				b.contractionARR += start - end
			} else {
				b.expansionARR += end - start
			}
		}
	}

	if customerAt(&aEnd, oEnd, endAt) {
		k.CustomersAtEnd++
		b.endARR += arrOf(&aEnd)
		if nps := copyFloat(aEnd.NPS); nps != nil {
			k.NPSAccounts++
			v := *nps
			b.npsSum += v
			switch {
			case v >= 9:
				k.Promoters++
			case v > 6:
				k.Passives++
			default:
				k.Detractors++
			}
		}
		if csat := copyFloat(aEnd.CSAT); csat != nil {
			k.CSATAccounts++
			b.csatSum += *csat
		}
	}
	if a.FirstValueAt != nil && p.in(*a.FirstValueAt) {
		d := AccountData{Account: a, Opportunities: opps}
		if since := customerSince(&d, *a.FirstValueAt); since != nil {
			b.ttfv = append(b.ttfv, float64(crm.DaysBetween(*since, *a.FirstValueAt)))
		}
	}

	// The CSM pipeline, from the result as of asOf.
	status := StatusAt(&a, opps, k.AsOf).Status
	k.Statuses[status]++
	if status != crm.StatusCustomer {
		return
	}
	if len(r.DataGaps) > 0 {
		k.DataGaps++
		if len(k.DataGapExamples) < 5 {
			k.DataGapExamples = append(k.DataGapExamples, fmt.Sprintf("%s (%s)", a.Name, strings.Join(r.DataGaps, ", ")))
		}
	}
	stage := r.Metrics.LifecycleStage
	if stage == "" {
		stage = "(none)"
	}
	row := b.stages[stage]
	if row == nil {
		row = &StageRow{Stage: stage}
		b.stages[stage] = row
	}
	row.Total++
	switch r.Grade {
	case GradeGreen:
		row.Green++
	case GradeYellow:
		row.Yellow++
	case GradeRed:
		row.Red++
		k.AtRiskAccounts++
		k.AtRiskARR += arrOf(&a)
	default:
		row.NoScore++
		k.NoScore++
	}
	if d := r.Metrics.DaysToRenewal; d != nil {
		amount := arrOf(&a)
		if r.Metrics.RenewalAmount != nil {
			amount = *r.Metrics.RenewalAmount
		}
		if *d < 0 {
			k.Overdue.Accounts++
			k.Overdue.ARR += amount
		}
		for i := range k.RenewalsDueIn {
			w := &k.RenewalsDueIn[i]
			if *d >= 0 && *d <= w.Days {
				w.Accounts++
				w.ARR += amount
			}
		}
	}
}

// KPIs returns the figures of the accounts added so far.
func (b *PortfolioBuilder) KPIs() KPIs {
	k := b.k
	k.RenewalRate = ratio(float64(k.RenewalsWon), float64(k.RenewalsDue))
	k.LogoChurnRate = ratio(float64(k.ChurnedLogos), float64(k.CustomersAtStart))
	if b.isMapped(InputARR) {
		k.StartARR, k.ChurnedARR, k.ContractionARR = copyFloat(&b.startARR), copyFloat(&b.churnedARR), copyFloat(&b.contractionARR)
		k.ExpansionARR, k.EndARR = copyFloat(&b.expansionARR), copyFloat(&b.endARR)
		if b.startARR > 0 {
			k.GRR = ratio(b.startARR-b.churnedARR-b.contractionARR, b.startARR)
			k.NRR = ratio(b.startARR-b.churnedARR-b.contractionARR+b.expansionARR, b.startARR)
		}
		if k.CustomersAtEnd > 0 {
			k.ARPA = ratio(b.endARR, float64(k.CustomersAtEnd))
		}
	} else {
		k.NotMapped = append(k.NotMapped, InputARR)
	}
	if !b.isMapped(InputNPS) {
		k.NotMapped = append(k.NotMapped, InputNPS)
	}
	if b.isMapped(InputCSAT) {
		if k.CSATAccounts > 0 {
			v := round1(b.csatSum / float64(k.CSATAccounts))
			k.CSAT = &v
		}
	} else {
		k.NotMapped = append(k.NotMapped, InputCSAT)
	}
	if len(b.ttfv) > 0 {
		m := median(b.ttfv)
		k.TimeToFirstValueDays = &m
		k.TimeToFirstValueCount = len(b.ttfv)
	}
	if k.NPSAccounts > 0 && b.isMapped(InputNPS) {
		var v float64
		if b.npsScale == "response" {
			v = 100 * float64(k.Promoters-k.Detractors) / float64(k.NPSAccounts)
		} else {
			v = b.npsSum / float64(k.NPSAccounts)
			k.Promoters, k.Passives, k.Detractors = 0, 0, 0
		}
		v = round1(v)
		k.NPS = &v
	}
	k.Pipeline = make([]StageRow, 0, len(b.stages))
	for _, row := range b.stages {
		k.Pipeline = append(k.Pipeline, *row)
	}
	sort.Slice(k.Pipeline, func(i, j int) bool {
		oi, oj := stageOrder(k.Pipeline[i].Stage), stageOrder(k.Pipeline[j].Stage)
		if oi != oj {
			return oi < oj
		}
		return k.Pipeline[i].Stage < k.Pipeline[j].Stage
	})
	k.RenewalsDueIn = append([]RenewalWindow(nil), k.RenewalsDueIn...)
	k.Statuses = maps.Clone(k.Statuses)
	k.DataGapExamples = append([]string(nil), k.DataGapExamples...)
	k.NotMapped = append([]string(nil), k.NotMapped...)
	return k
}

// PortfolioAccount is one account's input to ComputeKPIs.
type PortfolioAccount struct {
	Account       crm.Account
	Opportunities []crm.Opportunity
	// History is the account's field history (none: today's values stand
	// for every date).
	History crm.History
	Result  Result
}

// ComputeKPIs is the one-shot form of PortfolioBuilder.
func ComputeKPIs(cfg Config, period Period, asOf time.Time, accounts []PortfolioAccount) (KPIs, error) {
	b, err := NewPortfolioBuilder(cfg, period, asOf)
	if err != nil {
		return KPIs{}, err
	}
	for i := range accounts {
		b.AddAsOf(accounts[i].Account, accounts[i].History, accounts[i].Opportunities, accounts[i].Result)
	}
	return b.KPIs(), nil
}

// stageOrder puts the journey's stages in their order, others after.
func stageOrder(s string) int {
	for i, st := range []string{"Onboarding", "Adoption", "Growth", "Renewal", "Advocacy"} {
		if s == st {
			return i
		}
	}
	return 100
}

func ratio(num, den float64) *float64 {
	if den == 0 {
		return nil
	}
	v := num / den
	return &v
}

// median of the values; it sorts them in place.
func median(v []float64) float64 {
	sort.Float64s(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}
