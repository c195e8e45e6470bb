package sync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"healthsync/connector"
	"healthsync/crm"
	"healthsync/mapping"
	"healthsync/scoring"
	"healthsync/store"
)

// WritebackConfig holds the writeback's safety settings.
type WritebackConfig struct {
	// MaxChangeShare is the largest share of written accounts whose score
	// may jump (grade change, a move of JumpPoints or more, or a status
	// change) in one apply without --force.
	MaxChangeShare float64 `env:"HEALTHSYNC_MAX_CHANGE_SHARE, default=0.3"`
	// MaxTasks is the most tasks one apply may create without --force.
	MaxTasks int `env:"HEALTHSYNC_MAX_TASKS_PER_RUN, default=500"`
}

// JumpPoints is how far a written score must move in one apply to count
// as a jump for the mass-change guard: days passing move scores a few
// points at a time; a broken mapping moves them by tens.
const JumpPoints = 15

// Validate checks the settings.
func (c WritebackConfig) Validate() error {
	if math.IsNaN(c.MaxChangeShare) || c.MaxChangeShare <= 0 || c.MaxChangeShare > 1 {
		return fmt.Errorf("HEALTHSYNC_MAX_CHANGE_SHARE=%v: must be above 0 and at most 1 (0.3 = 30%%)", c.MaxChangeShare)
	}
	if c.MaxTasks < 0 {
		return fmt.Errorf("HEALTHSYNC_MAX_TASKS_PER_RUN=%d: must not be negative", c.MaxTasks)
	}
	return nil
}

// FieldChange is one field of one CRM record that the plan writes.
type FieldChange struct {
	Output string  `json:"output"` // score, grade, ... or a metric name
	Field  string  `json:"field"`
	Old    *string `json:"old"` // what healthsync last wrote; nil if never
	New    string  `json:"new"` // canonical text; "" clears the field
	value  any
}

// RecordUpdate is the changes to one CRM record.
type RecordUpdate struct {
	Object   string        `json:"object"`
	RecordID string        `json:"record_id"`
	Name     string        `json:"name"`
	Changes  []FieldChange `json:"changes"`
}

// TaskCreate is a follow-up task to create for a new flag episode (or a
// creation to confirm after an interrupted apply).
type TaskCreate struct {
	Key         string   `json:"key"`
	Flag        string   `json:"flag"`
	AccountName string   `json:"account_name"`
	Task        crm.Task `json:"task"`
	// Urgency ranks the task within its owner's daily budget (see
	// scoring.Urgency).
	Urgency float64 `json:"urgency"`
	// Retry marks a creation an earlier apply started but did not confirm:
	// apply looks for the task by key before creating it again.
	Retry bool `json:"retry,omitempty"`
}

// TaskClose is a task whose flag cleared or whose account is no longer a
// live customer.
type TaskClose struct {
	Key       string `json:"key"`
	TaskID    string `json:"task_id"`
	AccountID string `json:"account_id"`
	Flag      string `json:"flag"`
	// Close is false when the mapping leaves cleared tasks open: the
	// episode ends in the store only.
	Close bool `json:"close"`
	// Note says why healthsync closes it; the task itself says so too, so
	// it never reads as work a CSM did.
	Note string `json:"note"`
}

// Waiting is how many warranted tasks of one owner wait for a later
// day's budget.
type Waiting struct {
	OwnerID   string `json:"owner_id"`
	OwnerName string `json:"owner_name,omitempty"`
	Tasks     int    `json:"tasks"`
}

// Plan is what an apply would write, computed without writing anything.
type Plan struct {
	At     time.Time `json:"at"`
	Object string    `json:"object"`
	// Updates are the record updates: all of them from Plan, the first
	// few from PlanToApply (Records and FieldWrites count all).
	Updates     []RecordUpdate `json:"updates"`
	Records     int            `json:"records"`
	FieldWrites int            `json:"field_writes"`
	Creates     []TaskCreate   `json:"task_creates"`
	Closes      []TaskClose    `json:"task_closes"`
	// Waiting are the warranted tasks held back by their owners' daily
	// budget (tasks.daily_budget_per_owner); Budget is that budget (0: no
	// limit).
	Waiting []Waiting `json:"waiting,omitempty"`
	Budget  int       `json:"budget"`
	// Accounts is how many accounts have a stored score; Live how many of
	// them are live customers; DataGaps how many live customers lack the
	// contacts or activities their relationship measures need (a finding
	// for RevOps). Written is how many accounts have a score or grade
	// written before; Changed how many of those the plan makes jump (grade
	// or status change, or a score move of JumpPoints or more).
	Accounts int `json:"accounts"`
	Live     int `json:"live"`
	DataGaps int `json:"data_gaps"`
	Written  int `json:"written"`
	Changed  int `json:"changed"`
	// Kept counts score and trend values left as written because they
	// moved less than the dead band (outputs.score_dead_band).
	Kept int `json:"kept"`
	// Guard explains why apply would refuse without --force; empty if not.
	Guard string `json:"guard,omitempty"`
	// Problems are values read from the CRM that the plan ignored (a
	// snooze field holding no date), each naming the record and the value.
	Problems []string `json:"problems,omitempty"`
}

// WaitingTasks is the number of tasks waiting for a later day's budget.
func (p *Plan) WaitingTasks() int {
	n := 0
	for _, w := range p.Waiting {
		n += w.Tasks
	}
	return n
}

// partial reports whether Updates holds only a preview (PlanToApply):
// Apply then plans the updates again from the store as it writes them.
func (p *Plan) partial() bool { return p.Records > len(p.Updates) }

// Fields is the number of field writes in the plan.
func (p *Plan) Fields() int { return p.FieldWrites }

// Empty reports whether applying the plan would write nothing.
func (p *Plan) Empty() bool {
	for _, c := range p.Closes {
		if c.Close {
			return false
		}
	}
	return p.Records == 0 && len(p.Creates) == 0
}

// TaskFinder is the part of a Sink the planner needs: finding the tasks
// created for earlier episodes (to see a CSM's snooze).
type TaskFinder interface {
	FindTasks(ctx context.Context, keys []string) ([]connector.TaskRef, error)
}

// Describer reports an object's fields as the CRM's describe or
// properties API does; the writeback checks every output against it.
type Describer interface {
	Describe(ctx context.Context, object string) ([]connector.Field, error)
}

// PlanCRM is what the planner asks the CRM: the fields it would write
// (are they there, and healthsync's own?) and the tasks a CSM snoozed.
type PlanCRM interface {
	TaskFinder
	Describer
}

// Writeback plans and applies the writeback of one connection. Build it
// with NewWriteback.
type Writeback struct {
	// The options are embedded under an unexported name: the planner and
	// the applier read them as w.Store, w.Mapping, ..., and only
	// NewWriteback sets them.
	writebackOptions
}

// WritebackOptions build a Writeback: Store, Connection and Mapping are
// required.
type WritebackOptions struct {
	Store      *store.Store
	Connection string
	Mapping    *mapping.Mapping // the outputs it writes, the tasks and their budget
	Config     WritebackConfig  // the mass-change guard
	Clock      crm.Clock        // default: the system clock
	Hooks      ApplyHooks
}

type writebackOptions = WritebackOptions

// NewWriteback returns the writeback of o.Connection.
func NewWriteback(o WritebackOptions) *Writeback {
	if o.Clock == nil {
		o.Clock = crm.SystemClock{}
	}
	return &Writeback{o}
}

// ApplyHooks let tests stop an apply at exact points, as a crash would.
type ApplyHooks struct {
	// AfterWrite runs after a CRM write call returned and before its
	// results reach the ledger; an error ends the apply there.
	AfterWrite func(kind string, call int) error
}

func (w *Writeback) now() time.Time { return w.Clock.Now() }

// CheckOutputs asks the CRM for the fields healthsync would write and
// refuses (ErrOutputs) when any is missing, not writable, of the wrong
// type or not healthsync's own (a standard field, another app's field).
// Nothing is written before it passes.
func (w *Writeback) CheckOutputs(ctx context.Context, d Describer) error {
	var problems []mapping.Problem
	for _, obj := range []string{w.Mapping.AccountObject(), w.Mapping.TaskObject()} {
		fields, err := d.Describe(ctx, obj)
		if err != nil {
			return fmt.Errorf("check the fields healthsync writes on %s: %w", obj, err)
		}
		problems = append(problems, w.Mapping.ValidateOutputs(obj, fields)...)
	}
	if len(problems) == 0 {
		return nil
	}
	lines := make([]string, len(problems))
	for i, p := range problems {
		lines[i] = "  " + p.String()
	}
	return fmt.Errorf("%w:\n%s\nNothing was written. Run `healthsync install` to create missing fields, or fix the mapping's outputs (`healthsync check` lists every problem)",
		ErrOutputs, strings.Join(lines, "\n"))
}

// accountPlan is what the planner knows of one account while it plans.
type accountPlan struct {
	score   store.Score
	header  store.AccountHeader
	values  map[string]json.RawMessage
	written map[string]string
	live    bool
}

// Plan computes the writeback from the latest stored scores and the
// ledger. c, when not nil, is asked first whether every output field is
// healthsync's own and writable (ErrOutputs otherwise), then which open
// tasks a CSM snoozed.
func (w *Writeback) Plan(ctx context.Context, c PlanCRM) (*Plan, error) {
	return w.plan(ctx, c, -1, nil)
}

// PreviewUpdates is how many record updates the plan of a worker's apply
// holds to show (the apply command prints them).
const PreviewUpdates = 5

// PlanToApply is Plan for an apply that follows at once: the plan holds
// only the first preview record updates (what a summary prints), so its
// memory does not grow with the org; Apply derives the updates from the
// store again, a batch at a time, as it writes them.
func (w *Writeback) PlanToApply(ctx context.Context, c PlanCRM, preview int) (*Plan, error) {
	return w.plan(ctx, c, max(preview, 0), nil)
}

// plan computes the plan. It holds the first keep record updates (all
// when keep is negative) and hands every update to emit, when not nil, as
// it is found, in account order.
func (w *Writeback) plan(ctx context.Context, c PlanCRM, keep int, emit func(RecordUpdate) error) (*Plan, error) {
	now := w.now()
	m := w.Mapping
	object := m.AccountObject()
	p := &Plan{At: now, Object: object}
	var finder TaskFinder
	if c != nil {
		if err := w.CheckOutputs(ctx, c); err != nil {
			return nil, err
		}
		finder = c
	}
	allowed := m.AllowedOutputs(object)
	outputs := accountOutputs(m)
	_, updatedField, hasUpdated := m.OutputField(mapping.OutputUpdatedAt)
	_, gradeField, hasGrade := m.OutputField(mapping.OutputGrade)
	band := m.ScoreDeadBand()
	grades := m.Config().Scoring.Grades

	tasks, err := w.Store.Tasks(ctx, w.Connection, "")
	if err != nil {
		return nil, err
	}
	episodes := latestEpisodes(tasks)
	snoozed, err := w.snoozed(ctx, finder, episodes, now, p)
	if err != nil {
		return nil, err
	}
	pool, err := w.newTaskPool(ctx, tasks, now)
	if err != nil {
		return nil, err
	}
	// Scores, account headers and the ledger are all streamed in account
	// order and merged: planning holds one account at a time.
	headers, stopHeaders := iter.Pull2(headerStream(ctx, w.Store, w.Connection))
	defer stopHeaders()
	header, headerErr, hasHeader := headers()
	ledger, stopLedger := iter.Pull2(ledgerStream(ctx, w.Store, w.Connection, object))
	defer stopLedger()
	entry, ledgerErr, hasEntry := ledger()
	// Only accounts with a task episode need remembering, to end it.
	withEpisode := map[string]bool{}
	for _, ep := range episodes {
		withEpisode[ep.AccountID] = true
	}
	seenFlags := map[string]bool{} // account|flag pairs with an episode raised now
	notLive := map[string]string{} // account with an episode → why it is not a live customer

	err = w.Store.ForEachLatestScore(ctx, w.Connection, func(sc store.Score) error {
		for hasHeader && headerErr == nil && string(header.ID) < sc.AccountID {
			header, headerErr, hasHeader = headers()
		}
		if headerErr != nil {
			return fmt.Errorf("read accounts: %w", headerErr)
		}
		if !hasHeader || string(header.ID) != sc.AccountID {
			return nil // the account was deleted since it was scored
		}
		hdr := header.AccountHeader
		p.Accounts++
		a := accountPlan{score: sc, header: hdr, written: map[string]string{}}
		for hasEntry && ledgerErr == nil && entry.RecordID < sc.AccountID {
			entry, ledgerErr, hasEntry = ledger()
		}
		for hasEntry && ledgerErr == nil && entry.RecordID == sc.AccountID {
			a.written[entry.Field] = entry.Value
			entry, ledgerErr, hasEntry = ledger()
		}
		if ledgerErr != nil {
			return fmt.Errorf("read what healthsync last wrote: %w", ledgerErr)
		}
		if err := json.Unmarshal(sc.Outputs, &a.values); err != nil {
			return fmt.Errorf("decode stored outputs of %s: %w", sc.AccountID, err)
		}
		status, _ := outputValue(a.values[scoring.MetricCustomerStatus])
		// A score stored before statuses existed has none: it was live.
		a.live = status == "" || status == string(crm.StatusCustomer)
		if a.live {
			p.Live++
			if gapped(a.values) {
				p.DataGaps++
			}
		} else {
			if withEpisode[sc.AccountID] {
				notLive[sc.AccountID] = notLiveNote(sc)
			}
		}

		up := RecordUpdate{Object: object, RecordID: sc.AccountID, Name: hdr.Name}
		oldScore, hadScore := "", false
		newScore, _ := outputValue(a.values[mapping.OutputScore])
		if _, scoreField, ok := m.OutputField(mapping.OutputScore); ok {
			oldScore, hadScore = a.written[scoreField]
		}
		gradeChanged := false
		if hasGrade {
			newGrade, _ := outputValue(a.values[mapping.OutputGrade])
			old, had := a.written[gradeField]
			gradeChanged = had && old != newGrade
		} else if hadScore {
			gradeChanged = bandOf(grades, oldScore) != bandOf(grades, newScore)
		}
		// A material change rewrites the reasons and trend too: the grade
		// or the flags changed, or the score moved beyond the dead band
		// (or appeared or went away).
		_, flagsField, hasFlags := m.OutputField(mapping.OutputFlags)
		newFlags, _ := outputValue(a.values[mapping.OutputFlags])
		oldFlags := a.written[flagsField]
		flagsChanged := hasFlags && oldFlags != newFlags // never written reads as ""
		material := gradeChanged || flagsChanged || (oldScore == "") != (newScore == "") ||
			(newScore != "" && !withinBand(oldScore, newScore, band))
		writtenBefore, jumped := false, false
		for _, o := range outputs {
			if !allowed[o.Field] {
				return fmt.Errorf("writeback bug: output %s targets %s.%s, which the mapping does not allow", o.Name, object, o.Field)
			}
			text, value := outputValue(a.values[o.Name])
			old, had := a.written[o.Field]
			if o.Name == mapping.OutputScore || o.Name == mapping.OutputGrade {
				if had {
					writtenBefore = true
				}
				if had && old != text && (o.Name == mapping.OutputGrade || scoreJump(old, text)) {
					jumped = true
				}
			}
			if (had && old == text) || (!had && text == "") {
				continue
			}
			// Reasons and trend alone are not worth a write: they are
			// refreshed with the score (whose move, grade or flags
			// decide), so time passing does not rewrite them daily. The
			// same reasons in another order never are.
			if (had && o.Name == mapping.OutputReasons || o.Name == mapping.OutputTrend) && !material {
				p.Kept++
				continue
			}
			if had && o.Name == mapping.OutputReasons && sameReasons(old, text) {
				continue
			}
			// A small score or trend movement is not worth a write: it
			// is the decay of days passing, not news.
			if had && (o.Name == mapping.OutputScore && !gradeChanged || o.Name == mapping.OutputTrend) && withinBand(old, text, band) {
				p.Kept++
				continue
			}
			fc := FieldChange{Output: o.Name, Field: o.Field, New: text, value: value}
			if had {
				fc.Old = &old
			}
			up.Changes = append(up.Changes, fc)
		}
		if writtenBefore {
			p.Written++
			if jumped {
				p.Changed++
			}
		}
		if len(up.Changes) > 0 {
			if hasUpdated && allowed[updatedField] {
				stamp := crm.FormatSOQL(now)
				fc := FieldChange{Output: mapping.OutputUpdatedAt, Field: updatedField, New: stamp, value: stamp}
				if old, had := a.written[updatedField]; had {
					fc.Old = &old
				}
				up.Changes = append(up.Changes, fc)
			}
			p.Records++
			p.FieldWrites += len(up.Changes)
			if keep < 0 || len(p.Updates) < keep {
				p.Updates = append(p.Updates, up)
			}
			if emit != nil {
				if err := emit(up); err != nil {
					return err
				}
			}
		}
		if !a.live {
			return nil // no flags, no tasks: its open tasks are closed below
		}
		var flags []scoring.Flag
		if err := json.Unmarshal(sc.Flags, &flags); err != nil {
			return fmt.Errorf("decode stored flags of %s: %w", sc.AccountID, err)
		}
		more, err := w.planTasks(&a, flags, episodes, seenFlags, now)
		for _, c := range more {
			pool.add(c)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if ledgerErr != nil {
		return nil, fmt.Errorf("read what healthsync last wrote: %w", ledgerErr)
	}
	pool.fill(p)
	// Episodes whose flag no longer holds end, unless snoozed; those of an
	// account that is no longer a live customer end and close in any case.
	for key, ep := range episodes {
		if ep.Status == store.TaskClosed || seenFlags[key] {
			continue
		}
		why, gone := notLive[ep.AccountID]
		if snoozed[ep.Key] && !gone {
			continue
		}
		spec, ok := m.Task(ep.Flag)
		tc := TaskClose{Key: ep.Key, TaskID: ep.TaskID, AccountID: ep.AccountID, Flag: ep.Flag,
			Close: ep.TaskID != "" && (gone || !ok || spec.CloseWhenCleared),
			Note:  fmt.Sprintf("the %s flag no longer holds", strings.ReplaceAll(ep.Flag, "_", " "))}
		if gone {
			tc.Note = why
		}
		p.Closes = append(p.Closes, tc)
	}
	slices.SortFunc(p.Closes, func(a, b TaskClose) int { return strings.Compare(a.Key, b.Key) })
	w.guard(p)
	return p, nil
}

// notLiveNote says why an account's tasks close: it is no longer a live
// customer.
func notLiveNote(sc store.Score) string {
	var reasons []string
	json.Unmarshal(sc.Reasons, &reasons) // the stored reason says what it is and why
	if len(reasons) > 0 {
		if why, _, ok := strings.Cut(reasons[0], ": only live customers"); ok {
			return "the account is a " + why
		}
	}
	return "the account is no longer a live customer"
}

// gapped reports whether a live customer lacks the contacts or logged
// activities its relationship measures and flags need.
func gapped(values map[string]json.RawMessage) bool {
	contacts, _ := outputValue(values[scoring.MetricContacts])
	activities, _ := outputValue(values[scoring.MetricActivities])
	return contacts == "0" || activities == "0"
}

// sameReasons reports whether two written reason lists hold the same
// reasons, in any order.
func sameReasons(a, b string) bool {
	x, y := strings.Split(a, "; "), strings.Split(b, "; ")
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

// bandOf is the grade band of a written score text ("" when none).
func bandOf(b scoring.GradeBands, score string) scoring.Grade {
	v, err := strconv.ParseFloat(score, 64)
	if err != nil {
		return ""
	}
	return b.Grade(v)
}

// withinBand reports whether two written numbers differ by less than band.
func withinBand(old, new string, band float64) bool {
	a, errA := strconv.ParseFloat(old, 64)
	b, errB := strconv.ParseFloat(new, 64)
	return errA == nil && errB == nil && math.Abs(a-b) < band
}

// scoreJump reports whether a written score moves by JumpPoints or more,
// appears or disappears.
func scoreJump(old, new string) bool {
	return old == "" || new == "" || !withinBand(old, new, JumpPoints)
}

func (w *Writeback) guard(p *Plan) {
	var why []string
	if p.Written >= 10 && float64(p.Changed) > w.Config.MaxChangeShare*float64(p.Written) {
		why = append(why, fmt.Sprintf("it would make the written score of %d of %d accounts jump (%.0f%%: a grade or customer-status change, or a move of %d points or more; limit %.0f%% set by HEALTHSYNC_MAX_CHANGE_SHARE)",
			p.Changed, p.Written, 100*float64(p.Changed)/float64(p.Written), JumpPoints, 100*w.Config.MaxChangeShare))
	}
	if n := len(p.Creates); n > w.Config.MaxTasks {
		why = append(why, fmt.Sprintf("it would create %d tasks (limit %d set by HEALTHSYNC_MAX_TASKS_PER_RUN)", n, w.Config.MaxTasks))
	}
	if len(why) > 0 {
		p.Guard = strings.Join(why, " and ") + ". A mapping or scoring change can do this; check `healthsync plan`, then run `healthsync apply --force` if it is intended"
	}
}

// taskPool keeps, of the warranted task creations, the most urgent within
// each owner's daily budget (tasks created since the start of today, UTC,
// count against it) and counts the rest as waiting, holding no more than
// the budget per owner however many accounts are flagged. A creation an
// earlier apply started is always kept: it may exist already.
type taskPool struct {
	budget  int
	used    map[crm.UserID]int // tasks created today, by owner
	kept    map[crm.UserID][]TaskCreate
	retries []TaskCreate
	all     []TaskCreate // with no budget, every creation
	waiting map[crm.UserID]int
}

func (w *Writeback) newTaskPool(ctx context.Context, tasks []store.TaskRecord, now time.Time) (*taskPool, error) {
	tp := &taskPool{budget: w.Mapping.DailyTaskBudget(), used: map[crm.UserID]int{}, kept: map[crm.UserID][]TaskCreate{}, waiting: map[crm.UserID]int{}}
	today := crm.Date(now)
	var headers map[crm.AccountID]store.AccountHeader // read only for task records without an owner (older ones)
	for _, t := range tasks {
		if t.CreatedAt.Before(today) || t.Status == store.TaskPending {
			continue
		}
		owner := crm.UserID(t.OwnerID)
		if owner == "" {
			if headers == nil {
				var err error
				if headers, err = w.Store.AccountHeaders(ctx, w.Connection); err != nil {
					return nil, err
				}
			}
			owner = headers[crm.AccountID(t.AccountID)].OwnerID
		}
		tp.used[owner]++
	}
	return tp, nil
}

// byUrgency orders creations: interrupted ones first, then the most
// urgent, then by key.
func byUrgency(a, b TaskCreate) int {
	switch {
	case a.Retry != b.Retry:
		if a.Retry {
			return -1
		}
		return 1
	case a.Urgency != b.Urgency:
		if a.Urgency > b.Urgency {
			return -1
		}
		return 1
	}
	return strings.Compare(a.Key, b.Key)
}

func (tp *taskPool) add(c TaskCreate) {
	switch {
	case tp.budget == 0:
		tp.all = append(tp.all, c)
		return
	case c.Retry:
		tp.retries = append(tp.retries, c)
		return
	}
	owner := c.Task.OwnerID
	room := tp.budget - tp.used[owner]
	if room <= 0 {
		tp.waiting[owner]++
		return
	}
	kept := tp.kept[owner]
	i, _ := slices.BinarySearchFunc(kept, c, byUrgency)
	kept = slices.Insert(kept, i, c)
	if len(kept) > room {
		kept = kept[:room]
		tp.waiting[owner]++
	}
	tp.kept[owner] = kept
}

// fill puts the kept creations, most urgent first, and the waiting counts
// into p.
func (tp *taskPool) fill(p *Plan) {
	p.Budget = tp.budget
	creates := append(tp.all, tp.retries...)
	for _, kept := range tp.kept {
		creates = append(creates, kept...)
	}
	slices.SortStableFunc(creates, byUrgency)
	p.Creates = creates
	for _, owner := range slices.Sorted(maps.Keys(tp.waiting)) {
		p.Waiting = append(p.Waiting, Waiting{OwnerID: string(owner), Tasks: tp.waiting[owner]})
	}
}

// accountOutputs are the outputs written to the account object, without
// the update stamp (written only with real changes).
func accountOutputs(m *mapping.Mapping) []mapping.Output {
	var out []mapping.Output
	for _, o := range m.Outputs() {
		if o.Object == m.AccountObject() && o.Name != mapping.OutputUpdatedAt {
			out = append(out, o)
		}
	}
	return out
}

// outputValue turns a stored output (a JSON number or string, or nothing)
// into its canonical text and the value to send.
func outputValue(raw json.RawMessage) (string, any) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err == nil {
		return strconv.FormatFloat(f, 'f', -1, 64), f
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, s
	}
	return string(raw), string(raw)
}

// episodeKey identifies the account|flag pair of an episode.
func episodeKey(account, flag string) string { return account + "|" + flag }

// latestEpisodes returns each account|flag pair's newest task record.
func latestEpisodes(all []store.TaskRecord) map[string]store.TaskRecord {
	out := map[string]store.TaskRecord{}
	for _, r := range all {
		k := episodeKey(r.AccountID, r.Flag)
		if cur, ok := out[k]; !ok || episodeNumber(r.Key) > episodeNumber(cur.Key) {
			out[k] = r
		}
	}
	return out
}

// TaskKey is the deterministic key of an account's n-th episode of a flag.
// It is stored on the CRM task, so a creation whose confirmation was lost
// is found again instead of duplicated.
func TaskKey(account, flag string, episode int) string {
	return fmt.Sprintf("hs:%s:%s:%d", account, flag, episode)
}

func episodeNumber(key string) int {
	i := strings.LastIndexByte(key, ':')
	n, _ := strconv.Atoi(key[i+1:])
	return n
}

// snoozed asks the CRM which open episodes' tasks a CSM snoozed; only when
// the mapping names a snooze field or status.
func (w *Writeback) snoozed(ctx context.Context, finder TaskFinder, episodes map[string]store.TaskRecord, now time.Time, p *Plan) (map[string]bool, error) {
	sn := w.Mapping.Snooze()
	out := map[string]bool{}
	if finder == nil || (sn.Field == "" && sn.Status == "") {
		return out, nil
	}
	var keys []string
	for _, ep := range episodes {
		if ep.Status == store.TaskOpen {
			keys = append(keys, ep.Key)
		}
	}
	if len(keys) == 0 {
		return out, nil
	}
	slices.Sort(keys)
	refs, err := finder.FindTasks(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("read snoozed tasks: %w", err)
	}
	for _, r := range refs {
		if sn.Status != "" && strings.EqualFold(r.Status, sn.Status) {
			out[r.Key] = true
		}
		if r.SnoozedUntil != nil && *r.SnoozedUntil != "" {
			until, err := crm.ParseTime(*r.SnoozedUntil)
			if err != nil {
				// A snooze field holding garbage snoozes nothing; the
				// open task stays as it is (no storm of new tasks either).
				p.Problems = append(p.Problems, fmt.Sprintf("task %s (%s): the snooze field %s holds %q, not a date; ignored, the task stays open",
					r.ID, r.Key, sn.Field, *r.SnoozedUntil))
				continue
			}
			if until.After(now) {
				out[r.Key] = true
			}
		}
	}
	return out, nil
}

// planTasks returns the task creations one live account's flags warrant:
// a new episode for each flag with a task that has none open.
func (w *Writeback) planTasks(a *accountPlan, flags []scoring.Flag, episodes map[string]store.TaskRecord, seen map[string]bool, now time.Time) ([]TaskCreate, error) {
	sc, hdr := a.score, a.header
	var out []TaskCreate
	for _, f := range flags {
		k := episodeKey(sc.AccountID, f.Name)
		ep, has := episodes[k]
		if has {
			seen[k] = true // keeps its episode from ending
		}
		spec, ok := w.Mapping.Task(f.Name)
		if !ok {
			continue
		}
		if !spec.Warranted(intValue(a.values[scoring.MetricDaysToRenewal])) && !(has && ep.Status == store.TaskPending) {
			// Shown as a flag, no task yet (e.g. single-threaded far from
			// the renewal). An open episode stays open.
			if has && ep.Status == store.TaskOpen {
				continue
			}
			delete(seen, k) // not an episode: nothing to end either
			continue
		}
		n := 1
		if has {
			switch ep.Status {
			case store.TaskOpen:
				continue // the episode's task exists
			case store.TaskPending:
				n = episodeNumber(ep.Key) // confirm or redo the interrupted creation
			default:
				n = episodeNumber(ep.Key) + 1 // the flag cleared and came back
			}
		}
		key := TaskKey(sc.AccountID, f.Name, n)
		data := mapping.TaskData{AccountID: crm.AccountID(sc.AccountID), AccountName: hdr.Name, Flag: f.Name, Why: f.Description, Action: f.Action,
			Grade: sc.Grade, Metrics: map[string]string{}}
		if sc.Score != nil {
			data.Score = strconv.FormatFloat(*sc.Score, 'f', -1, 64)
		}
		json.Unmarshal(sc.Reasons, &data.Reasons) // stored by ScoreAll; a broken one leaves the reasons out
		for name, raw := range a.values {
			data.Metrics[name], _ = outputValue(raw)
		}
		task, err := spec.Build(key, data, hdr.OwnerID, now)
		if err != nil {
			return out, fmt.Errorf("task for %s on %s: %w", f.Name, sc.AccountID, err)
		}
		urgency := scoring.Urgency(task.Priority, intValue(a.values[scoring.MetricDaysToRenewal]), floatValue(a.values[scoring.MetricARR]))
		out = append(out, TaskCreate{Key: key, Flag: f.Name, AccountName: hdr.Name, Task: task, Urgency: urgency, Retry: has && ep.Status == store.TaskPending})
	}
	return out, nil
}

func floatValue(raw json.RawMessage) *float64 {
	var f float64
	if len(raw) == 0 || json.Unmarshal(raw, &f) != nil {
		return nil
	}
	return &f
}

func intValue(raw json.RawMessage) *int {
	f := floatValue(raw)
	if f == nil {
		return nil
	}
	n := int(*f)
	return &n
}

// ledgerStream yields the ledger of object in record order; a read
// failure is yielded as an error, never taken for the end of the ledger
// (which would read as "nothing written yet" and rewrite every field).
// identifiedHeader is an account header with its ID, as headerStream
// yields them.
type identifiedHeader struct {
	ID crm.AccountID
	store.AccountHeader
}

// headerStream yields the connection's account headers in account order
// (store.Store.ForEachAccountHeader), for merging with the scores.
func headerStream(ctx context.Context, st *store.Store, connection string) iter.Seq2[identifiedHeader, error] {
	return func(yield func(identifiedHeader, error) bool) {
		err := st.ForEachAccountHeader(ctx, connection, func(id crm.AccountID, h store.AccountHeader) error {
			if !yield(identifiedHeader{id, h}, nil) {
				return errStopStream
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStopStream) {
			yield(identifiedHeader{}, err)
		}
	}
}

func ledgerStream(ctx context.Context, st *store.Store, connection, object string) iter.Seq2[store.LedgerEntry, error] {
	return func(yield func(store.LedgerEntry, error) bool) {
		err := st.ForEachLedger(ctx, connection, object, func(e store.LedgerEntry) error {
			if !yield(e, nil) {
				return errStopStream
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStopStream) {
			yield(store.LedgerEntry{}, err)
		}
	}
}
