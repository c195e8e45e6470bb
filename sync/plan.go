package sync

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
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
	// MaxChangeShare is the largest share of accounts whose written score
	// or grade one apply may change without --force.
	MaxChangeShare float64 `env:"HEALTHSYNC_MAX_CHANGE_SHARE, default=0.3"`
	// MaxTasks is the most tasks one apply may create without --force.
	MaxTasks int `env:"HEALTHSYNC_MAX_TASKS_PER_RUN, default=500"`
}

// Validate checks the settings.
func (c WritebackConfig) Validate() error {
	if c.MaxChangeShare <= 0 || c.MaxChangeShare > 1 {
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
	// Retry marks a creation an earlier apply started but did not confirm:
	// apply looks for the task by key before creating it again.
	Retry bool `json:"retry,omitempty"`
}

// TaskClose is a task whose flag cleared.
type TaskClose struct {
	Key       string `json:"key"`
	TaskID    string `json:"task_id"`
	AccountID string `json:"account_id"`
	Flag      string `json:"flag"`
	// Close is false when the mapping leaves cleared tasks open: the
	// episode ends in the store only.
	Close bool `json:"close"`
}

// Plan is what an apply would write, computed without writing anything.
type Plan struct {
	At      time.Time      `json:"at"`
	Object  string         `json:"object"`
	Updates []RecordUpdate `json:"updates"`
	Creates []TaskCreate   `json:"task_creates"`
	Closes  []TaskClose    `json:"task_closes"`
	// Accounts is how many accounts have a score; Written how many of them
	// have a score or grade written before; Changed how many of those the
	// plan changes.
	Accounts int `json:"accounts"`
	Written  int `json:"written"`
	Changed  int `json:"changed"`
	// Guard explains why apply would refuse without --force; empty if not.
	Guard string `json:"guard,omitempty"`
}

// Fields is the number of field writes in the plan.
func (p *Plan) Fields() int {
	n := 0
	for _, u := range p.Updates {
		n += len(u.Changes)
	}
	return n
}

// Empty reports whether applying the plan would write nothing.
func (p *Plan) Empty() bool {
	for _, c := range p.Closes {
		if c.Close {
			return false
		}
	}
	return len(p.Updates) == 0 && len(p.Creates) == 0
}

// TaskFinder is the part of a Sink the planner needs: finding the tasks
// created for earlier episodes (to see a CSM's snooze).
type TaskFinder interface {
	FindTasks(ctx context.Context, keys []string) ([]connector.TaskRef, error)
}

// Writeback plans and applies the writeback of one connection.
type Writeback struct {
	Store      *store.Store
	Connection string
	Mapping    *mapping.Mapping
	Config     WritebackConfig
	Clock      crm.Clock
	Hooks      ApplyHooks
}

// ApplyHooks let tests stop an apply at exact points, as a crash would.
type ApplyHooks struct {
	// AfterWrite runs after a CRM write call returned and before its
	// results reach the ledger; an error ends the apply there.
	AfterWrite func(kind string, call int) error
}

func (w *Writeback) now() time.Time {
	if w.Clock == nil {
		return crm.SystemClock{}.Now()
	}
	return w.Clock.Now()
}

// Plan computes the writeback from the latest stored scores and the
// ledger. finder, when not nil, is asked which open tasks a CSM snoozed.
func (w *Writeback) Plan(ctx context.Context, finder TaskFinder) (*Plan, error) {
	now := w.now()
	m := w.Mapping
	object := m.AccountObject()
	p := &Plan{At: now, Object: object}
	allowed := m.AllowedOutputs(object)
	outputs := accountOutputs(m)
	_, updatedField, hasUpdated := m.OutputField(mapping.OutputUpdatedAt)

	headers, err := w.Store.AccountHeaders(ctx, w.Connection)
	if err != nil {
		return nil, err
	}
	episodes, err := w.latestEpisodes(ctx)
	if err != nil {
		return nil, err
	}
	snoozed, err := w.snoozed(ctx, finder, episodes, now)
	if err != nil {
		return nil, err
	}
	ledger, stopLedger := iter.Pull(ledgerStream(ctx, w.Store, w.Connection, object))
	defer stopLedger()
	entry, hasEntry := ledger()
	seenFlags := map[string]bool{} // account|flag pairs raised now

	err = w.Store.ForEachLatestScore(ctx, w.Connection, func(sc store.Score) error {
		hdr, known := headers[crm.AccountID(sc.AccountID)]
		if !known {
			return nil // the account was deleted since it was scored
		}
		p.Accounts++
		written := map[string]string{}
		for hasEntry && entry.RecordID < sc.AccountID {
			entry, hasEntry = ledger()
		}
		for hasEntry && entry.RecordID == sc.AccountID {
			written[entry.Field] = entry.Value
			entry, hasEntry = ledger()
		}
		values := map[string]json.RawMessage{}
		if err := json.Unmarshal(sc.Metrics, &values); err != nil {
			return fmt.Errorf("decode stored outputs of %s: %w", sc.AccountID, err)
		}
		up := RecordUpdate{Object: object, RecordID: sc.AccountID, Name: hdr.Name}
		scoreOrGradeWritten, scoreOrGradeChanged := false, false
		for _, o := range outputs {
			if !allowed[o.Field] {
				return fmt.Errorf("writeback bug: output %s targets %s.%s, which the mapping does not allow", o.Name, object, o.Field)
			}
			text, value := outputValue(values[o.Name])
			old, had := written[o.Field]
			if o.Name == mapping.OutputScore || o.Name == mapping.OutputGrade {
				if had {
					scoreOrGradeWritten = true
					if old != text {
						scoreOrGradeChanged = true
					}
				}
			}
			if (had && old == text) || (!had && text == "") {
				continue
			}
			fc := FieldChange{Output: o.Name, Field: o.Field, New: text, value: value}
			if had {
				fc.Old = &old
			}
			up.Changes = append(up.Changes, fc)
		}
		if scoreOrGradeWritten {
			p.Written++
			if scoreOrGradeChanged {
				p.Changed++
			}
		}
		if len(up.Changes) > 0 {
			if hasUpdated && allowed[updatedField] {
				stamp := crm.FormatSOQL(now)
				fc := FieldChange{Output: mapping.OutputUpdatedAt, Field: updatedField, New: stamp, value: stamp}
				if old, had := written[updatedField]; had {
					fc.Old = &old
				}
				up.Changes = append(up.Changes, fc)
			}
			p.Updates = append(p.Updates, up)
		}
		var flags []scoring.Flag
		if err := json.Unmarshal(sc.Flags, &flags); err != nil {
			return fmt.Errorf("decode stored flags of %s: %w", sc.AccountID, err)
		}
		return w.planTasks(p, sc, hdr, flags, values, episodes, snoozed, seenFlags, now)
	})
	if err != nil {
		return nil, err
	}
	// Episodes whose flag is no longer raised end, unless snoozed.
	for key, ep := range episodes {
		if ep.Status == store.TaskClosed || seenFlags[key] || snoozed[ep.Key] {
			continue
		}
		spec, ok := m.Task(ep.Flag)
		p.Closes = append(p.Closes, TaskClose{Key: ep.Key, TaskID: ep.TaskID, AccountID: ep.AccountID, Flag: ep.Flag,
			Close: ep.TaskID != "" && (!ok || spec.CloseWhenCleared)})
	}
	slices.SortFunc(p.Closes, func(a, b TaskClose) int { return strings.Compare(a.Key, b.Key) })
	w.guard(p)
	return p, nil
}

func (w *Writeback) guard(p *Plan) {
	var why []string
	if p.Written >= 10 && float64(p.Changed) > w.Config.MaxChangeShare*float64(p.Written) {
		why = append(why, fmt.Sprintf("it would change the written score or grade of %d of %d accounts (%.0f%%, limit %.0f%% set by HEALTHSYNC_MAX_CHANGE_SHARE)",
			p.Changed, p.Written, 100*float64(p.Changed)/float64(p.Written), 100*w.Config.MaxChangeShare))
	}
	if n := len(p.Creates); n > w.Config.MaxTasks {
		why = append(why, fmt.Sprintf("it would create %d tasks (limit %d set by HEALTHSYNC_MAX_TASKS_PER_RUN)", n, w.Config.MaxTasks))
	}
	if len(why) > 0 {
		p.Guard = strings.Join(why, " and ") + ". A mapping or scoring change can do this; check `healthsync plan`, then run `healthsync apply --force` if it is intended"
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
func (w *Writeback) latestEpisodes(ctx context.Context) (map[string]store.TaskRecord, error) {
	all, err := w.Store.Tasks(ctx, w.Connection, "")
	if err != nil {
		return nil, err
	}
	out := map[string]store.TaskRecord{}
	for _, r := range all {
		k := episodeKey(r.AccountID, r.Flag)
		if cur, ok := out[k]; !ok || episodeNumber(r.Key) > episodeNumber(cur.Key) {
			out[k] = r
		}
	}
	return out, nil
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
func (w *Writeback) snoozed(ctx context.Context, finder TaskFinder, episodes map[string]store.TaskRecord, now time.Time) (map[string]bool, error) {
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
			if until, err := crm.ParseTime(*r.SnoozedUntil); err == nil && until.After(now) {
				out[r.Key] = true
			}
		}
	}
	return out, nil
}

func (w *Writeback) planTasks(p *Plan, sc store.Score, hdr store.AccountHeader, flags []scoring.Flag, values map[string]json.RawMessage,
	episodes map[string]store.TaskRecord, snoozed map[string]bool, seen map[string]bool, now time.Time) error {
	for _, f := range flags {
		k := episodeKey(sc.AccountID, f.Name)
		seen[k] = true
		spec, ok := w.Mapping.Task(f.Name)
		if !ok {
			continue
		}
		ep, has := episodes[k]
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
		data := mapping.TaskData{AccountID: crm.AccountID(sc.AccountID), AccountName: hdr.Name, Flag: f.Name, Why: f.Description, Grade: sc.Grade,
			Metrics: map[string]string{}}
		if sc.Score != nil {
			data.Score = strconv.FormatFloat(*sc.Score, 'f', -1, 64)
		}
		json.Unmarshal(sc.Reasons, &data.Reasons)
		for name, raw := range values {
			data.Metrics[name], _ = outputValue(raw)
		}
		task, err := spec.Build(key, data, hdr.OwnerID, now)
		if err != nil {
			return fmt.Errorf("task for %s on %s: %w", f.Name, sc.AccountID, err)
		}
		p.Creates = append(p.Creates, TaskCreate{Key: key, Flag: f.Name, AccountName: hdr.Name, Task: task, Retry: has && ep.Status == store.TaskPending})
	}
	return nil
}

// ledgerStream yields the ledger of object in record order.
func ledgerStream(ctx context.Context, st *store.Store, connection, object string) iter.Seq[store.LedgerEntry] {
	return func(yield func(store.LedgerEntry) bool) {
		st.ForEachLedger(ctx, connection, object, func(e store.LedgerEntry) error {
			if !yield(e) {
				return errStopStream
			}
			return nil
		})
	}
}
