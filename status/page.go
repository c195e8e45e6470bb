package status

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"healthsync/crm"
	"healthsync/scoring"
	"healthsync/store"
)

// maxAtRisk is how many at-risk accounts the overview lists.
const maxAtRisk = 25

// maxRuns is how many recent runs the overview lists.
const maxRuns = 12

// stageOrder is the lifecycle of docs/scoring.md; other stages follow by name.
var stageOrder = []string{"Onboarding", "Adoption", "Growth", "Renewal", "Advocacy"}

// gradeOrder is the display order of grades; "" is no score.
var gradeOrder = []scoring.Grade{scoring.GradeGreen, scoring.GradeYellow, scoring.GradeRed, ""}

// gradeCount is one bar of the grade chart.
type gradeCount struct {
	Grade string
	Label string
	Count int
	Share float64 // of all accounts, 0..100
}

// stageRow is one lifecycle stage of the pipeline.
type stageRow struct {
	Stage                   string
	Green, Yellow, Red, Non int
	Total                   int
}

// renewalWindow counts renewals due within Days.
type renewalWindow struct {
	Days     int
	Accounts int
	ARR      float64
}

// riskRow is one at-risk account.
type riskRow struct {
	ID            string
	Name          string
	Score         *float64
	Grade         string
	Trend         *float64
	ARR           *float64
	DaysToRenewal *float64
	Reasons       []string
	Flags         []flagView
}

// flagView is a raised flag as shown.
type flagView struct {
	Name        string
	Description string
}

// runRow is one recent run.
type runRow struct {
	ID         int64
	Kind       string
	Started    time.Time
	Duration   string
	Status     string
	StopReason string
	New        int
	Changed    int
	Deleted    int
	Problems   int
	APICalls   int64
}

// lagRow is one object's sync lag: the time since its last complete pull
// started, and the newest change stored (which an object nobody edits
// leaves old).
type lagRow struct {
	Object string
	Pulled time.Time
	Lag    string
	Cursor time.Time
}

// overviewData is what the status page shows.
type overviewData struct {
	Connection    string
	Now           time.Time
	ScoredAt      time.Time
	Accounts      int // active accounts: former customers are left out
	Former        int
	Prospects     int
	DataGaps      int
	Scored        int
	Grades        []gradeCount
	GradeChart    any
	Pipeline      []stageRow
	PipelineChart any
	Renewals      []renewalWindow
	Overdue       renewalWindow
	AtRisk        []riskRow
	AtRiskTotal   int
	AtRiskARR     float64
	Runs          []runRow
	Lag           []lagRow
	Bands         scoring.GradeBands
	TokenQuery    string
}

// storedOutputs is a stored score's metrics object: numbers as float64,
// text and dates as strings.
type storedOutputs map[string]any

func (o storedOutputs) number(name string) *float64 {
	if v, ok := o[name].(float64); ok {
		return &v
	}
	return nil
}

func (o storedOutputs) text(name string) string {
	s, _ := o[name].(string)
	return s
}

// decodeScore reads a stored score's JSON documents; a malformed document
// reads as empty rather than failing the page.
func decodeScore(sc store.Score) (storedOutputs, []string, []flagView) {
	var outs storedOutputs
	_ = json.Unmarshal(sc.Outputs, &outs)
	var reasons []string
	_ = json.Unmarshal(sc.Reasons, &reasons)
	var flags []scoring.Flag
	_ = json.Unmarshal(sc.Flags, &flags)
	fv := make([]flagView, 0, len(flags))
	for _, f := range flags {
		fv = append(fv, flagView{Name: f.Name, Description: f.Description})
	}
	return outs, reasons, fv
}

// loadOverview gathers the status page from the store: the latest stored
// score of every account (what the worker last computed and wrote back),
// the recent runs and the cursors.
func (s *Server) loadOverview(ctx context.Context) (*overviewData, error) {
	st, conn := s.opts.Store, s.opts.Connection
	now := s.opts.Clock.Now()
	d := &overviewData{Connection: conn, Now: now, Bands: s.bands,
		Renewals: []renewalWindow{{Days: 30}, {Days: 60}, {Days: 90}}}
	headers, err := st.AccountHeaders(ctx, conn)
	if err != nil {
		return nil, err
	}
	grades := map[scoring.Grade]int{}
	stages := map[string]*stageRow{}
	var risks []riskRow
	err = st.ForEachLatestScore(ctx, conn, func(sc store.Score) error {
		hdr, ok := headers[crm.AccountID(sc.AccountID)]
		if !ok {
			return nil // deleted since it was scored
		}
		if sc.ScoredAt.After(d.ScoredAt) {
			d.ScoredAt = sc.ScoredAt
		}
		outs, reasons, flags := decodeScore(sc)
		// Only live customers are in the grades, pipeline and at-risk list,
		// as scoring decided (a score stored before statuses existed was
		// of a live customer).
		switch crm.CustomerStatus(outs.text(scoring.MetricCustomerStatus)) {
		case crm.StatusFormer:
			d.Former++
			return nil
		case crm.StatusProspect:
			d.Prospects++
			return nil
		}
		if c, a := outs.number(scoring.MetricContacts), outs.number(scoring.MetricActivities); (c != nil && *c == 0) || (a != nil && *a == 0) {
			d.DataGaps++ // no contacts or no logged activity: a finding for RevOps
		}
		g := scoring.Grade(sc.Grade)
		if sc.Score != nil {
			d.Scored++
		}
		grades[g]++
		stage := outs.text(scoring.MetricLifecycleStage)
		if stage == "" {
			stage = "(none)"
		}
		row := stages[stage]
		if row == nil {
			row = &stageRow{Stage: stage}
			stages[stage] = row
		}
		row.Total++
		switch g {
		case scoring.GradeGreen:
			row.Green++
		case scoring.GradeYellow:
			row.Yellow++
		case scoring.GradeRed:
			row.Red++
		default:
			row.Non++
		}
		arr := outs.number(scoring.MetricARR)
		days := outs.number(scoring.MetricDaysToRenewal)
		if days != nil {
			amount := 0.0
			if a := outs.number(scoring.MetricRenewalAmount); a != nil {
				amount = *a
			} else if arr != nil {
				amount = *arr
			}
			if *days < 0 {
				d.Overdue.Accounts++
				d.Overdue.ARR += amount
			}
			for i := range d.Renewals {
				if w := &d.Renewals[i]; *days >= 0 && *days <= float64(w.Days) {
					w.Accounts++
					w.ARR += amount
				}
			}
		}
		if g == scoring.GradeRed {
			if arr != nil {
				d.AtRiskARR += *arr
			}
			risks = append(risks, riskRow{ID: sc.AccountID, Name: hdr.Name, Score: sc.Score, Grade: string(g), Trend: sc.Trend,
				ARR: arr, DaysToRenewal: days, Reasons: reasons, Flags: flags})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	d.Accounts = len(headers) - d.Former - d.Prospects
	// Accounts never scored count as no score.
	seen := 0
	for _, n := range grades {
		seen += n
	}
	grades[""] += d.Accounts - seen
	for _, g := range gradeOrder {
		gc := gradeCount{Grade: gradeLabel(g), Label: gradeTitle(g), Count: grades[g]}
		if d.Accounts > 0 {
			gc.Share = 100 * float64(gc.Count) / float64(d.Accounts)
		}
		d.Grades = append(d.Grades, gc)
	}
	d.Pipeline = sortStages(stages)
	// The biggest ARR at stake first, then the lowest score.
	sort.SliceStable(risks, func(i, j int) bool {
		ai, aj := deref(risks[i].ARR), deref(risks[j].ARR)
		if ai != aj {
			return ai > aj
		}
		return deref(risks[i].Score) < deref(risks[j].Score)
	})
	d.AtRiskTotal = len(risks)
	d.AtRisk = risks[:min(len(risks), maxAtRisk)]

	runs, err := st.Runs(ctx, conn, maxRuns)
	if err != nil {
		return nil, err
	}
	for _, r := range runs {
		rr := runRow{ID: r.ID, Kind: r.Kind, Started: r.StartedAt, Status: r.Status, StopReason: r.StopReason, APICalls: r.APICalls}
		if r.FinishedAt != nil {
			rr.Duration = humanDuration(r.FinishedAt.Sub(r.StartedAt))
		}
		for _, c := range r.Counts {
			rr.New += c.New
			rr.Changed += c.Changed
			rr.Deleted += c.Deleted
			rr.Problems += c.Problems
		}
		d.Runs = append(d.Runs, rr)
	}
	cursors, err := st.Cursors(ctx, conn)
	if err != nil {
		return nil, err
	}
	pulls, err := st.LastPulls(ctx, conn)
	if err != nil {
		return nil, err
	}
	rows := map[string]*lagRow{}
	row := func(obj string) *lagRow {
		if rows[obj] == nil {
			rows[obj] = &lagRow{Object: obj}
		}
		return rows[obj]
	}
	for obj, c := range cursors {
		row(obj).Cursor = c.ModifiedAt
	}
	for obj, at := range pulls {
		lr := row(obj)
		lr.Pulled, lr.Lag = at, humanDuration(max(0, now.Sub(at)))
	}
	for _, lr := range rows {
		d.Lag = append(d.Lag, *lr)
	}
	slices.SortFunc(d.Lag, func(a, b lagRow) int { return strings.Compare(a.Object, b.Object) })
	return d, nil
}

func deref(f *float64) float64 {
	if f == nil {
		return 0
	}
	return *f
}

func gradeTitle(g scoring.Grade) string {
	switch g {
	case scoring.GradeGreen:
		return "Green"
	case scoring.GradeYellow:
		return "Yellow"
	case scoring.GradeRed:
		return "Red"
	}
	return "No score"
}

// sortStages orders the lifecycle stages of docs/scoring.md first, then any
// other stage by name, then "(none)".
func sortStages(m map[string]*stageRow) []stageRow {
	rank := func(s string) int {
		if i := slices.Index(stageOrder, s); i >= 0 {
			return i
		}
		if s == "(none)" {
			return len(stageOrder) + 1
		}
		return len(stageOrder)
	}
	out := make([]stageRow, 0, len(m))
	for _, r := range m {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b stageRow) int {
		if ra, rb := rank(a.Stage), rank(b.Stage); ra != rb {
			return ra - rb
		}
		return strings.Compare(a.Stage, b.Stage)
	})
	return out
}

// humanDuration prints a duration to the second for short spans, to the
// minute or hour for longer ones.
func humanDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	case d < time.Hour:
		return d.Round(time.Second).String()
	case d < 48*time.Hour:
		return d.Round(time.Minute).String()
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// accountData is what an account's page shows.
type accountData struct {
	Connection string
	ID         string
	Name       string
	Latest     *store.Score
	Grade      string
	Reasons    []string
	Flags      []flagView
	Metrics    []metricView
	History    []historyRow
	TrendChart any
	Bands      scoring.GradeBands
	TokenQuery string
}

// metricView is one stored output as shown.
type metricView struct {
	Name  string
	Value string
}

// historyRow is one stored score.
type historyRow struct {
	At    time.Time
	Score *float64
	Grade string
}

// errNoAccount is a 404 on an account page.
var errNoAccount = errors.New("no such account")

func (s *Server) loadAccount(ctx context.Context, id string) (*accountData, error) {
	st, conn := s.opts.Store, s.opts.Connection
	headers, err := st.AccountHeaders(ctx, conn)
	if err != nil {
		return nil, err
	}
	hist, err := st.ScoreHistory(ctx, conn, id)
	if err != nil {
		return nil, err
	}
	hdr, ok := headers[crm.AccountID(id)]
	if !ok && len(hist) == 0 {
		return nil, errNoAccount
	}
	d := &accountData{Connection: conn, ID: id, Name: hdr.Name, Bands: s.bands}
	if d.Name == "" {
		d.Name = id
	}
	for _, h := range hist {
		d.History = append(d.History, historyRow{At: h.ScoredAt, Score: h.Score, Grade: h.Grade})
	}
	if len(hist) > 0 {
		latest := hist[len(hist)-1]
		d.Latest = &latest
		d.Grade = latest.Grade
		outs, reasons, flags := decodeScore(latest)
		d.Reasons, d.Flags = reasons, flags
		names := make([]string, 0, len(outs))
		for k := range outs {
			names = append(names, k)
		}
		slices.Sort(names)
		for _, k := range names {
			d.Metrics = append(d.Metrics, metricView{Name: k, Value: formatOutput(outs[k])})
		}
	}
	slices.Reverse(d.History) // newest first in the table
	return d, nil
}

func formatOutput(v any) string {
	switch x := v.(type) {
	case float64:
		return scoring.NumberValue(x).String()
	case string:
		return x
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}
