package sync

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"healthsync/connector"
	"healthsync/crm"
	"healthsync/store"
)

// ErrGuard means apply refused a plan that trips the mass-change guard.
var ErrGuard = errors.New("apply refused by the mass-change guard")

// RecordFailure is one record the CRM did not accept.
type RecordFailure struct {
	Object    string `json:"object"`
	RecordID  string `json:"record_id"`
	Error     string `json:"error"`
	Retryable bool   `json:"retryable"`
}

// ApplyReport is what an apply did.
type ApplyReport struct {
	RunID        int64 `json:"run_id"`
	Records      int   `json:"records"`     // records updated
	Fields       int   `json:"fields"`      // fields written
	WriteCalls   int   `json:"write_calls"` // API calls of the writes (retries and Bulk job steps included; lookups not)
	TasksCreated int   `json:"tasks_created"`
	TasksFound   int   `json:"tasks_found"` // created by an interrupted apply, confirmed now
	// TasksAdopted were already in the CRM under keys this store had not
	// recorded (written by another store or an older install): recorded,
	// not created again.
	TasksAdopted  int             `json:"tasks_adopted"`
	TasksClosed   int             `json:"tasks_closed"`
	EpisodesEnded int             `json:"episodes_ended"`
	Failures      []RecordFailure `json:"failures"`
	APICalls      int64           `json:"api_calls"`
	// Replanned says when the updates written differ from the plan's
	// counts: the scores changed between plan and apply (see
	// Writeback.PlanToApply). Empty otherwise.
	Replanned string `json:"replanned,omitempty"`
}

type apiCounter interface{ APICalls() int64 }

// countWrites runs one write call of the sink and adds the API calls it
// made (retries and Bulk job steps included) to rep.WriteCalls, or
// estimate when the sink does not count its calls.
func countWrites(sink Sink, rep *ApplyReport, estimate int, write func() error) error {
	counter, ok := sink.(apiCounter)
	if !ok {
		rep.WriteCalls += estimate
		return write()
	}
	before := counter.APICalls()
	err := write()
	rep.WriteCalls += int(counter.APICalls() - before)
	return err
}

// Apply executes a plan: task creations first (each marked pending in the
// store before the CRM call, and looked up by key before any re-creation,
// so a crash never duplicates a task), then field updates in the largest
// batches the CRM takes, each batch's confirmed writes entering the ledger
// before the next batch, then task closes. Per-record failures are
// reported and left out of the ledger, so the next run retries them.
func (w *Writeback) Apply(ctx context.Context, sink Sink, p *Plan, force bool) (*ApplyReport, error) {
	run, err := startRun(ctx, w.Store, w.Connection, "apply", w.Clock)
	if err != nil {
		return nil, err
	}
	rep := &ApplyReport{RunID: run.ID}
	var applyErr error
	if p.Guard != "" && !force {
		// Refused, and recorded as such: the status page, /readyz and the
		// metrics show it until an admin looks.
		applyErr = fmt.Errorf("%w: %s", ErrGuard, p.Guard)
	} else {
		var calls0 int64
		counter, counts := sink.(apiCounter)
		if counts {
			calls0 = counter.APICalls()
		}
		applyErr = w.apply(ctx, sink, p, rep)
		if counts {
			rep.APICalls = counter.APICalls() - calls0
		}
		if applyErr == nil && len(rep.Failures) > 0 {
			f := rep.Failures[0]
			applyErr = fmt.Errorf("%w: the CRM refused %d of the records and tasks written (first: %s %s: %s); they are not in the ledger and the next run retries them",
				ErrWriteFailed, len(rep.Failures), f.Object, f.RecordID, f.Error)
		}
	}
	problems := make([]store.Problem, 0, min(len(rep.Failures), maxExamples))
	for _, f := range rep.Failures[:min(len(rep.Failures), maxExamples)] {
		problems = append(problems, store.Problem{Object: f.Object, ID: f.RecordID, Error: f.Error})
	}
	counts := map[string]store.ObjectCounts{p.Object: {Changed: rep.Records, Problems: len(rep.Failures)}, "tasks": {New: rep.TasksCreated + rep.TasksFound + rep.TasksAdopted, Deleted: rep.TasksClosed}}
	_, applyErr = run.finish(ctx, store.Run{APICalls: rep.APICalls, Counts: counts, Problems: problems}, applyErr)
	return rep, applyErr
}

// recordRefused records an apply that refused to start (ErrOutputs: the
// fields it would write are not ready) as a failed apply run, so the
// status page, /readyz and the run history show it like a refused plan.
func (w *Writeback) recordRefused(ctx context.Context, refusal error) error {
	bg := context.WithoutCancel(ctx)
	at := w.now()
	id, err := w.Store.StartRun(bg, w.Connection, "apply", at)
	if err != nil {
		return err
	}
	return w.Store.FinishRun(bg, store.Run{ID: id, FinishedAt: &at, Status: store.RunFailed, StopReason: refusal.Error()})
}

func (w *Writeback) hook(kind string, call int) error {
	if w.Hooks.AfterWrite == nil {
		return nil
	}
	return w.Hooks.AfterWrite(kind, call)
}

func (w *Writeback) apply(ctx context.Context, sink Sink, p *Plan, rep *ApplyReport) error {
	if err := w.createTasks(ctx, sink, p, rep); err != nil {
		return err
	}
	if err := w.writeUpdates(ctx, sink, p, rep); err != nil {
		return err
	}
	return w.closeTasks(ctx, sink, p, rep)
}

func (w *Writeback) createTasks(ctx context.Context, sink Sink, p *Plan, rep *ApplyReport) error {
	if len(p.Creates) == 0 {
		return nil
	}
	now := w.now()
	// Mark every creation pending first: a crash after the CRM call leaves
	// a pending record that the next run confirms by key.
	err := w.Store.InTx(ctx, func(tx *store.Tx) error {
		var pending []store.TaskRecord
		for _, c := range p.Creates {
			if !c.Retry {
				pending = append(pending, taskRecord(c, "", store.TaskPending, now))
			}
		}
		return tx.PutTasks(ctx, w.Connection, pending)
	})
	if err != nil {
		return err
	}
	keys := make([]string, len(p.Creates))
	for i, c := range p.Creates {
		keys[i] = c.Key
	}
	existing, err := sink.FindTasks(ctx, keys)
	if err != nil {
		return fmt.Errorf("look for existing tasks: %w", err)
	}
	found := map[string]connector.TaskRef{}
	for _, r := range existing {
		found[r.Key] = r
	}
	var todo []TaskCreate
	err = w.Store.InTx(ctx, func(tx *store.Tx) error {
		var adopted []store.TaskRecord
		for _, c := range p.Creates {
			if r, ok := found[c.Key]; ok {
				if c.Retry {
					rep.TasksFound++
				} else {
					rep.TasksAdopted++
				}
				adopted = append(adopted, taskRecord(c, r.ID, store.TaskOpen, now))
				continue
			}
			todo = append(todo, c)
		}
		return tx.PutTasks(ctx, w.Connection, adopted)
	})
	if err != nil {
		return err
	}
	size := sink.WriteBatch().Records
	for start := 0; start < len(todo); start += size {
		chunk := todo[start:min(start+size, len(todo))]
		tasks := make([]crm.Task, len(chunk))
		for i, c := range chunk {
			tasks[i] = c.Task
		}
		var results []connector.Result
		err := countWrites(sink, rep, 1, func() (err error) {
			results, err = sink.CreateTasks(ctx, tasks)
			return err
		})
		if err != nil {
			return fmt.Errorf("create tasks: %w", err)
		}
		if len(results) != len(chunk) {
			return fmt.Errorf("create tasks: the CRM answered %d results for %d tasks; nothing recorded, the next run looks them up by key", len(results), len(chunk))
		}
		if err := w.hook("tasks", start/size+1); err != nil {
			return err
		}
		err = w.Store.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.TouchRun(ctx, rep.RunID, w.now()); err != nil {
				return err
			}
			var created []store.TaskRecord
			for i, c := range chunk {
				r := results[i]
				if !r.OK() {
					rep.Failures = append(rep.Failures, RecordFailure{Object: w.Mapping.TaskObject(), RecordID: c.Key, Error: r.Err.Error(), Retryable: r.Retryable})
					// Not created: forget the pending mark so the next run plans it afresh.
					if err := tx.DeleteTask(ctx, w.Connection, c.Key); err != nil {
						return err
					}
					continue
				}
				rep.TasksCreated++
				created = append(created, taskRecord(c, r.ID, store.TaskOpen, now))
			}
			return tx.PutTasks(ctx, w.Connection, created)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// taskRecord is the store's record of a planned task creation.
func taskRecord(c TaskCreate, taskID, status string, now time.Time) store.TaskRecord {
	return store.TaskRecord{Key: c.Key, TaskID: taskID, AccountID: string(c.Task.AccountID), OwnerID: string(c.Task.OwnerID),
		Flag: c.Flag, Status: status, CreatedAt: now}
}

func (w *Writeback) writeUpdates(ctx context.Context, sink Sink, p *Plan, rep *ApplyReport) error {
	// The connector says how many updates one call takes (the Salesforce
	// connector writes a large call as one Bulk API job); the ledger
	// follows every call.
	size := sink.WriteBatch().Updates
	if !p.partial() {
		for start := 0; start < len(p.Updates); start += size {
			if err := w.writeChunk(ctx, sink, p.Object, p.Updates[start:min(start+size, len(p.Updates))], start/size+1, rep); err != nil {
				return err
			}
		}
		return nil
	}
	// A plan that holds only a preview: plan the updates again, from the
	// same scores and ledger, and write them a batch at a time as they
	// come. Nothing but the batch in hand is held. The updates are what
	// a plan made now would write, so a score stored since the first
	// plan is written as it stands; the counts say whether that happened.
	chunk := make([]RecordUpdate, 0, min(size, p.Records))
	calls := 0
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		calls++
		err := w.writeChunk(ctx, sink, p.Object, chunk, calls, rep)
		chunk = chunk[:0]
		return err
	}
	again, err := w.plan(ctx, nil, 0, func(u RecordUpdate) error {
		chunk = append(chunk, u)
		if len(chunk) < size {
			return nil
		}
		return flush()
	})
	if err != nil {
		return err
	}
	if err := flush(); err != nil {
		return err
	}
	if again.Records != p.Records || again.FieldWrites != p.FieldWrites {
		rep.Replanned = fmt.Sprintf("the scores changed between plan and apply: the plan had %d records (%d fields), apply wrote the %d records (%d fields) a plan made at the time of writing held",
			p.Records, p.FieldWrites, again.Records, again.FieldWrites)
	}
	return nil
}

// writeChunk writes one call's record updates and records the confirmed
// ones in the ledger.
func (w *Writeback) writeChunk(ctx context.Context, sink Sink, object string, chunk []RecordUpdate, call int, rep *ApplyReport) error {
	batch := sink.WriteBatch()
	allowed := w.Mapping.AllowedOutputs(object)
	updates := make([]connector.Update, len(chunk))
	for i, u := range chunk {
		fields := make(map[string]any, len(u.Changes))
		for _, c := range u.Changes {
			if !allowed[c.Field] {
				return fmt.Errorf("writeback bug: refusing to write %s.%s, which the mapping does not name as an output", object, c.Field)
			}
			fields[c.Field] = c.value
		}
		updates[i] = connector.Update{ID: u.RecordID, Fields: fields}
	}
	var results []connector.Result
	err := countWrites(sink, rep, (len(chunk)+batch.Records-1)/batch.Records, func() (err error) {
		results, err = sink.Update(ctx, object, updates)
		return err
	})
	if err != nil {
		return fmt.Errorf("update %s: %w", object, err)
	}
	if len(results) != len(chunk) {
		return fmt.Errorf("update %s: the CRM answered %d results for %d records; nothing recorded, the next run writes them again", object, len(results), len(chunk))
	}
	if err := w.hook("updates", call); err != nil {
		return err
	}
	now := w.now()
	return w.Store.InTx(ctx, func(tx *store.Tx) error {
		// Only the ledger of this call and the run's heartbeat: losing
		// them to a database crash costs a repeated write, not a wrong one.
		if err := tx.AsyncCommit(ctx); err != nil {
			return err
		}
		if err := tx.TouchRun(ctx, rep.RunID, now); err != nil {
			return err
		}
		var written []store.LedgerEntry
		for i, u := range chunk {
			r := results[i]
			if !r.OK() {
				rep.Failures = append(rep.Failures, RecordFailure{Object: object, RecordID: u.RecordID, Error: r.Err.Error(), Retryable: r.Retryable})
				continue
			}
			rep.Records++
			for _, c := range u.Changes {
				rep.Fields++
				written = append(written, store.LedgerEntry{Object: object, RecordID: u.RecordID, Field: c.Field, Value: c.New, WrittenAt: now})
			}
		}
		return tx.RecordWrites(ctx, w.Connection, written)
	})
}

func (w *Writeback) closeTasks(ctx context.Context, sink Sink, p *Plan, rep *ApplyReport) error {
	if len(p.Closes) == 0 {
		return nil
	}
	// An episode whose creation was never confirmed may still have a task
	// in the CRM: look it up by key before ending the episode.
	closes := make([]TaskClose, len(p.Closes))
	copy(closes, p.Closes)
	var unconfirmed []string
	for _, c := range closes {
		if c.TaskID == "" {
			unconfirmed = append(unconfirmed, c.Key)
		}
	}
	if len(unconfirmed) > 0 {
		refs, err := sink.FindTasks(ctx, unconfirmed)
		if err != nil {
			return fmt.Errorf("look for unconfirmed tasks: %w", err)
		}
		found := map[string]string{}
		for _, r := range refs {
			found[r.Key] = r.ID
		}
		for i, c := range closes {
			if id := found[c.Key]; c.TaskID == "" && id != "" {
				spec, ok := w.Mapping.Task(c.Flag)
				closes[i].TaskID, closes[i].Close = id, !ok || spec.CloseWhenCleared
			}
		}
	}
	var todo []connector.TaskClose
	for _, c := range closes {
		if c.Close && c.TaskID != "" {
			todo = append(todo, connector.TaskClose{ID: c.TaskID, Note: c.Note})
		}
	}
	failed := map[string]bool{}
	size := sink.WriteBatch().Records
	for start := 0; start < len(todo); start += size {
		chunk := todo[start:min(start+size, len(todo))]
		var results []connector.Result
		err := countWrites(sink, rep, 2, func() (err error) {
			results, err = sink.CloseTasks(ctx, chunk)
			return err
		})
		if err != nil {
			return fmt.Errorf("close tasks: %w", err)
		}
		for i, r := range results {
			if i >= len(chunk) || r.OK() {
				continue
			}
			if r.Err != nil && r.Err.Status == http.StatusNotFound {
				// Deleted in the CRM (ENTITY_IS_DELETED, OBJECT_NOT_FOUND):
				// nothing left to close, the episode simply ends.
				continue
			}
			failed[chunk[i].ID] = true
			rep.Failures = append(rep.Failures, RecordFailure{Object: w.Mapping.TaskObject(), RecordID: chunk[i].ID, Error: r.Err.Error(), Retryable: r.Retryable})
		}
		if err := w.hook("closes", start/size+1); err != nil {
			return err
		}
	}
	now := w.now()
	return w.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.TouchRun(ctx, rep.RunID, now); err != nil {
			return err
		}
		var ended []store.TaskRecord
		for _, c := range closes {
			if failed[c.TaskID] {
				continue
			}
			if c.Close {
				rep.TasksClosed++
			}
			rep.EpisodesEnded++
			closed := now
			// created_at is kept by PutTasks on conflict.
			ended = append(ended, store.TaskRecord{Key: c.Key, TaskID: c.TaskID, AccountID: c.AccountID, Flag: c.Flag, Status: store.TaskClosed, CreatedAt: now, ClosedAt: &closed})
		}
		return tx.PutTasks(ctx, w.Connection, ended)
	})
}
