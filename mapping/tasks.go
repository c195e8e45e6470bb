package mapping

import (
	"fmt"
	"io"
	"strings"
	"text/template"
	"time"

	"healthsync/crm"
	"healthsync/scoring"
)

// OwnerAccountOwner is the owner rule that assigns a task to the owner of
// its account (the default).
const OwnerAccountOwner = "account_owner"

// maxTemplateOut bounds what a task template may produce.
const maxTemplateOut = 32 << 10

// builtinFlags are the risk flags scoring raises by default (docs/scoring.md).
var builtinFlags = []string{scoring.FlagRenewalExecGap, scoring.FlagSingleThreaded, scoring.FlagChampionOpportunity, scoring.FlagAdoptionEmergency}

// TaskData is what a task's subject and description templates see.
type TaskData struct {
	AccountID   crm.AccountID
	AccountName string
	Flag        string
	Why         string // the flag's description from scoring: why it is up
	Action      string // what to do, worded for the account ("Build an executive relationship")
	Score       string // formatted; "" when the account has no score
	Grade       string
	Reasons     []string
	// Metrics holds formatted metric values by metric name.
	Metrics map[string]string
}

// Metric returns the formatted value of a metric, or "unknown" when the
// account has none. Templates call it as {{.Metric "days_to_renewal"}}.
func (d TaskData) Metric(name string) string {
	if v, ok := d.Metrics[name]; ok && v != "" {
		return v
	}
	return "unknown"
}

// TaskSpec is the compiled task template of one flag.
type TaskSpec struct {
	Flag             string
	Priority         crm.Priority
	DueInDays        int
	Owner            string // OwnerAccountOwner or a fixed user id
	CloseWhenCleared bool
	// RenewalWithinDays, when above 0, limits the task to accounts whose
	// renewal is at most that many days away.
	RenewalWithinDays int
	subject           *template.Template
	description       *template.Template
}

// Task returns the compiled task template for flag; ok is false when
// tasks are disabled, the flag's task is disabled or no template exists.
func (m *Mapping) Task(flag string) (spec TaskSpec, ok bool) {
	spec, ok = m.tasks[flag]
	return spec, ok
}

// TaskFlags returns the flags that create tasks, sorted.
func (m *Mapping) TaskFlags() []string { return sortedKeys(m.tasks) }

// Snooze returns how snoozed tasks are recognised (empty when not configured).
func (m *Mapping) Snooze() SnoozeConfig { return m.cfg.Tasks.Snooze }

// DailyTaskBudget is how many new healthsync tasks one owner gets per day
// (tasks.daily_budget_per_owner); 0 means no limit.
func (m *Mapping) DailyTaskBudget() int {
	if b := m.cfg.Tasks.DailyBudgetPerOwner; b != nil {
		return *b
	}
	return DefaultDailyTaskBudget
}

// ClosedStatus is the status healthsync sets on a task it closes; empty
// means the connector's default (Completed, COMPLETED).
func (m *Mapping) ClosedStatus() string { return m.cfg.Tasks.ClosedStatus }

// ScoreDeadBand is how many points a score (or trend) must move to be
// rewritten when its grade stays (outputs.score_dead_band).
func (m *Mapping) ScoreDeadBand() float64 {
	if b := m.cfg.Outputs.ScoreDeadBand; b != nil {
		return *b
	}
	return DefaultScoreDeadBand
}

// TaskKeyField returns the field on the task object that holds the task
// key (Healthsync_Key__c, healthsync_key).
func (m *Mapping) TaskKeyField() string { return m.cfg.Outputs.TaskKey }

// Warranted reports whether the flag warrants its task now, given the
// account's days to its renewal (nil: no renewal known).
func (s TaskSpec) Warranted(daysToRenewal *int) bool {
	return s.RenewalWithinDays <= 0 || (daysToRenewal != nil && *daysToRenewal <= s.RenewalWithinDays)
}

// Build renders the task for one flag episode: subject and description
// from the templates, the owner from the owner rule (accountOwner for
// account_owner), the due date DueInDays after now's calendar day.
func (s TaskSpec) Build(key string, data TaskData, accountOwner crm.UserID, now time.Time) (crm.Task, error) {
	data.Flag = s.Flag
	subject, err := render(s.subject, data)
	if err != nil {
		return crm.Task{}, fmt.Errorf("task %s subject: %w", s.Flag, err)
	}
	desc, err := render(s.description, data)
	if err != nil {
		return crm.Task{}, fmt.Errorf("task %s description: %w", s.Flag, err)
	}
	owner := accountOwner
	if s.Owner != "" && s.Owner != OwnerAccountOwner {
		owner = crm.UserID(s.Owner)
	}
	return crm.Task{
		Key:         key,
		Flag:        s.Flag,
		AccountID:   data.AccountID,
		OwnerID:     owner,
		Subject:     subjectOr(strings.TrimSpace(subject), data),
		Description: strings.TrimSpace(desc),
		Priority:    s.Priority,
		Due:         crm.Date(now).AddDate(0, 0, s.DueInDays),
	}, nil
}

// limitedWriter stops a template that would produce an absurd amount of text.
type limitedWriter struct {
	b strings.Builder
}

func (w *limitedWriter) Write(p []byte) (int, error) {
	if w.b.Len()+len(p) > maxTemplateOut {
		return 0, fmt.Errorf("output longer than %d bytes", maxTemplateOut)
	}
	return w.b.Write(p)
}

var _ io.Writer = (*limitedWriter)(nil)

func render(t *template.Template, data TaskData) (string, error) {
	if t == nil {
		return "", nil
	}
	var w limitedWriter
	if err := t.Execute(&w, data); err != nil {
		return "", err
	}
	return w.b.String(), nil
}

// parseTaskTemplate parses a template and runs it once on sample data, so
// a misspelt field ({{.AcountName}}) is an error when the file loads, not
// when a task is due.
func parseTaskTemplate(name, text string) (*template.Template, error) {
	t, err := template.New(name).Option("missingkey=zero").Funcs(templateFuncs).Parse(text)
	if err != nil {
		return nil, fmt.Errorf("invalid template: %s", trimTemplateErr(err, name))
	}
	if err := checkTemplateTree(t); err != nil {
		return nil, fmt.Errorf("invalid template: %v", err)
	}
	sample := TaskData{AccountID: "001000000000001", AccountName: "Acme", Flag: name, Why: "renewal on 29 Mar 2024", Action: "Reach an executive before the renewal", Score: "55", Grade: "yellow",
		Reasons: []string{"no executive contact for 41 days"}, Metrics: map[string]string{"days_to_renewal": "28"}}
	if _, err := render(t, sample); err != nil {
		return nil, fmt.Errorf("invalid template: %s (fields: .AccountName .AccountID .Flag .Why .Action .Score .Grade .Reasons .Metrics, {{.Metric \"name\"}})", trimTemplateErr(err, name))
	}
	return t, nil
}

func trimTemplateErr(err error, name string) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "template: ")
	s = strings.TrimPrefix(s, name+":")
	return s
}

func compileTasks(f *File) (map[string]TaskSpec, error) {
	out := map[string]TaskSpec{}
	if f.Tasks.Disabled {
		return out, nil
	}
	for _, flag := range knownFlags(f) {
		task, _, enabled := flagTask(f, flag)
		tt := f.Tasks.Flags[flag]
		if !enabled || tt.Disabled {
			continue
		}
		subj, err := parseTaskTemplate(flag+".subject", task.Subject)
		if err != nil {
			return nil, err
		}
		desc, err := parseTaskTemplate(flag+".description", tt.Description)
		if err != nil {
			return nil, err
		}
		spec := TaskSpec{
			Flag: flag, Priority: task.Priority, DueInDays: task.DueInDays,
			Owner: OwnerAccountOwner, CloseWhenCleared: true, subject: subj, description: desc,
		}
		if spec.Priority == "" {
			spec.Priority = crm.PriorityNormal
		}
		if tt.Owner != "" {
			spec.Owner = tt.Owner
		}
		if tt.CloseWhenCleared != nil {
			spec.CloseWhenCleared = *tt.CloseWhenCleared
		}
		if tt.RenewalWithinDays != nil {
			spec.RenewalWithinDays = *tt.RenewalWithinDays
		}
		out[flag] = spec
	}
	return out, nil
}

// subjectOr keeps a task from going out without a subject: a template
// that renders empty ({{.Action}} for a custom flag, which has none)
// falls back to why the flag is up.
func subjectOr(subject string, data TaskData) string {
	if subject != "" {
		return subject
	}
	if data.Why != "" {
		return data.Why
	}
	return "healthsync: " + data.Flag
}
