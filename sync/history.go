package sync

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"healthsync/connector"
	"healthsync/crm"
	"healthsync/store"
)

// historySource is a Source that can read the CRM's own field history
// (Salesforce field history tracking, HubSpot property history), so a
// fresh install knows how accounts and opportunities looked in the past.
type historySource interface {
	// HistoryTracked returns which of fields (CRM names) of object the
	// CRM keeps a history of. An org without field history on the object
	// (not enabled, or not visible to the integration user) tracks none:
	// an empty answer, not an error.
	HistoryTracked(ctx context.Context, object string, fields []string) ([]string, error)
	// HistoryByID is how many record IDs one history call reads when the
	// CRM serves history record by record (HubSpot), else 0: the
	// connector reads the object's whole history and ignores IDs.
	HistoryByID() int
	// PullHistory streams the field history of req.Object's records after
	// req.After (or of req.IDs), page by page, each page holding whole
	// records' histories.
	PullHistory(ctx context.Context, req connector.HistoryRequest, fn func(context.Context, connector.HistoryPage) error) error
}

// State keys of the history backfill.
const (
	// stateHistoryOf + object: JSON map of canonical field -> its CRM
	// sources, for the fields whose history is settled (backfilled, or
	// known to start at the first sync).
	stateHistoryOf = "history:"
	// stateHistoryCursor + object: the last record whose history a
	// running backfill committed.
	stateHistoryCursor = "history_cursor:"
)

// HistoryReport is what a sync did about an object's field history.
type HistoryReport struct {
	// Backfilled are the canonical fields whose history was read from the
	// CRM's field history in this run.
	Backfilled []string
	// Untracked are the mapped fields whose CRM fields keep no history:
	// their history starts at the first sync.
	Untracked []string
	// Records is how many records' histories were read, Changes how many
	// canonical changes they gave.
	Records, Changes int
	// APICalls is how many calls the backfill made.
	APICalls int64
}

// historyFieldsState reads the settled fields of obj.
func (e *Engine) historyFieldsState(ctx context.Context, obj string) (map[string]string, error) {
	raw, err := e.store.State(ctx, e.cfg.Connection, stateHistoryOf+obj)
	if err != nil || raw == "" {
		return map[string]string{}, err
	}
	out := map[string]string{}
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		return nil, fmt.Errorf("read history state of %s: %w", obj, err)
	}
	return out, nil
}

// historyTodo returns the mapped history fields of obj that are not
// settled, and those settled under other CRM sources than the mapping
// names now (their history no longer means what it says).
func (e *Engine) historyTodo(ctx context.Context, obj string) (todo, stale []string, err error) {
	ent, ok := e.mapping.HistoryEntity(obj)
	if !ok {
		return nil, nil, nil
	}
	done, err := e.historyFieldsState(ctx, obj)
	if err != nil {
		return nil, nil, err
	}
	for _, f := range e.mapping.HistoryFields(ent) {
		src, ok := done[f.Field]
		switch {
		case !ok:
			todo = append(todo, f.Field)
		case src != strings.Join(f.Sources, ","):
			todo = append(todo, f.Field)
			stale = append(stale, f.Field)
		}
	}
	return todo, stale, nil
}

// forgetStaleHistory drops the history of fields whose CRM source changed
// in the mapping, before a re-map would record the new source's values as
// changes: they start again (and are backfilled again).
func (e *Engine) forgetStaleHistory(ctx context.Context, obj string) error {
	ent, ok := e.mapping.HistoryEntity(obj)
	if !ok {
		return nil
	}
	_, stale, err := e.historyTodo(ctx, obj)
	if err != nil || len(stale) == 0 {
		return err
	}
	e.log.Info("the mapping reads these fields from other CRM fields now; their history starts again", "object", obj, "fields", stale)
	return e.store.InTx(ctx, func(tx *store.Tx) error {
		done, err := e.historyFieldsState(ctx, obj)
		if err != nil {
			return err
		}
		for _, f := range stale {
			delete(done, f)
		}
		if err := setJSONState(ctx, tx, e.cfg.Connection, stateHistoryOf+obj, done); err != nil {
			return err
		}
		return tx.ForgetHistory(ctx, e.cfg.Connection, ent, stale...)
	})
}

func setJSONState(ctx context.Context, tx *store.Tx, conn, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return tx.SetState(ctx, conn, key, string(b))
}

// backfillHistory reads the CRM's field history of obj's mapped history
// fields that are not settled yet: on the object's first sync, and when
// the mapping adds a field. Once settled, an object costs no call here.
// The read resumes after a crash from the last committed record, like a
// pull; bad history values are problems of the run, never its failure.
func (e *Engine) backfillHistory(ctx context.Context, obj string, rep *Report) error {
	ent, ok := e.mapping.HistoryEntity(obj)
	if !ok {
		return nil
	}
	todo, _, err := e.historyTodo(ctx, obj)
	if err != nil || len(todo) == 0 {
		return err
	}
	or := rep.object(obj)
	if or.History == nil {
		or.History = &HistoryReport{}
	}
	hr := or.History
	calls0 := e.src.APICalls()
	defer func() { hr.APICalls += e.src.APICalls() - calls0 }()
	sources := map[string]string{}
	for _, f := range e.mapping.HistoryFields(ent) {
		sources[f.Field] = strings.Join(f.Sources, ",")
	}
	hs, ok := e.src.(historySource)
	var tracked []string
	if ok {
		if tracked, err = hs.HistoryTracked(ctx, obj, e.mapping.HistorySources(obj)); err != nil {
			return fmt.Errorf("field history of %s: %w", obj, err)
		}
	}
	isTracked := func(f string) bool {
		return slices.ContainsFunc(tracked, func(t string) bool { return strings.EqualFold(t, f) })
	}
	yes, no := e.mapping.Backfillable(ent, isTracked)
	var backfill []string
	var crmFields []string
	for _, f := range yes {
		if slices.Contains(todo, f.Field) {
			backfill = append(backfill, f.Field)
			for _, s := range f.Sources {
				if !slices.Contains(crmFields, s) {
					crmFields = append(crmFields, s)
				}
			}
		}
	}
	for _, f := range no {
		if slices.Contains(todo, f.Field) {
			hr.Untracked = append(hr.Untracked, f.Field)
		}
	}
	sort.Strings(crmFields)
	settle := func(fields []string) error {
		return e.store.InTx(ctx, func(tx *store.Tx) error {
			done, err := e.historyFieldsState(ctx, obj)
			if err != nil {
				return err
			}
			for _, f := range fields {
				done[f] = sources[f]
			}
			if err := setJSONState(ctx, tx, e.cfg.Connection, stateHistoryOf+obj, done); err != nil {
				return err
			}
			return tx.SetState(ctx, e.cfg.Connection, stateHistoryCursor+obj, "")
		})
	}
	if len(backfill) == 0 {
		return settle(hr.Untracked)
	}
	after, err := e.store.State(ctx, e.cfg.Connection, stateHistoryCursor+obj)
	if err != nil {
		return err
	}
	e.log.Info("reading the CRM's field history", "object", obj, "fields", backfill, "resume_after", after)
	commit := func(pctx context.Context, p connector.HistoryPage) error {
		return e.commitHistory(context.WithoutCancel(pctx), obj, ent, backfill, p, rep)
	}
	req := connector.HistoryRequest{Object: obj, Fields: crmFields, After: after}
	if n := hs.HistoryByID(); n > 0 {
		err = e.historyByID(ctx, hs, req, n, commit)
	} else {
		err = hs.PullHistory(ctx, req, commit)
	}
	if err != nil {
		return fmt.Errorf("field history of %s: %w", obj, err)
	}
	hr.Backfilled = append(hr.Backfilled, backfill...)
	return settle(append(slices.Clone(backfill), hr.Untracked...))
}

// historyByID reads history record by record: the stored live records
// after req.After, n per call.
func (e *Engine) historyByID(ctx context.Context, hs historySource, req connector.HistoryRequest, n int, commit func(context.Context, connector.HistoryPage) error) error {
	var ids []string
	flush := func() error {
		if len(ids) == 0 {
			return nil
		}
		r := req
		r.IDs = ids
		err := hs.PullHistory(ctx, r, commit)
		ids = nil
		if err != nil {
			return err
		}
		return ctx.Err()
	}
	err := e.store.RawIDs(ctx, e.cfg.Connection, req.Object, func(id string) error {
		if req.After != "" && id <= req.After {
			return nil
		}
		ids = append(ids, id)
		if len(ids) == n {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// commitHistory converts one page of CRM history to canonical changes and
// stores them with the backfill's cursor and the fields' history start,
// in one transaction.
func (e *Engine) commitHistory(ctx context.Context, obj string, ent crm.HistoryEntity, fields []string, p connector.HistoryPage, rep *Report) error {
	conn := e.cfg.Connection
	hr := rep.object(obj).History
	byRecord := map[string][]connector.FieldValue{}
	var order []string
	var earliest time.Time
	for _, v := range p.Values {
		if _, ok := byRecord[v.RecordID]; !ok {
			order = append(order, v.RecordID)
		}
		byRecord[v.RecordID] = append(byRecord[v.RecordID], v)
		if !v.At.IsZero() && (earliest.IsZero() || v.At.Before(earliest)) {
			earliest = v.At
		}
	}
	var problems []store.Problem
	var nChanges int
	err := e.store.InTx(ctx, func(tx *store.Tx) error {
		problems, nChanges = nil, 0
		raws, err := tx.RawRecords(ctx, conn, obj, order)
		if err != nil {
			return err
		}
		var changes []store.HistoryChange
		for _, id := range order {
			raw, ok := raws[id]
			if !ok || raw.Deleted {
				problems = append(problems, store.Problem{Object: obj, ID: id,
					Error: "field history of a record healthsync does not hold (created in the CRM since this sync read it, deleted, or not visible to the integration user); left out: the next sync stores the record, and its history starts then"})
				continue
			}
			rec := connector.Record{Object: obj, ID: id, ModifiedAt: raw.ModifiedAt, Raw: raw.Raw}
			cs, probs := e.mapping.HistoryChanges(rec, byRecord[id], fields)
			for _, msg := range probs {
				problems = append(problems, store.Problem{Object: obj, ID: id, Error: msg})
			}
			account := crm.AccountID(id)
			if ent == crm.HistoryOpportunity {
				o, _ := e.mapping.MapOpportunity(rec)
				account = o.AccountID
			}
			for _, c := range cs {
				changes = append(changes, store.HistoryChange{FieldChange: c, AccountID: account})
			}
			nChanges += len(cs)
		}
		if err := tx.PutHistory(ctx, conn, changes); err != nil {
			return err
		}
		if !earliest.IsZero() {
			if err := tx.SetHistoryFrom(ctx, conn, ent, fields, earliest, store.HistoryFromCRM); err != nil {
				return err
			}
		}
		if p.After != "" {
			return tx.SetState(ctx, conn, stateHistoryCursor+obj, p.After)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("commit field history: %w", err)
	}
	hr.Records += len(p.Records)
	hr.Changes += nChanges
	for _, pr := range problems {
		rep.addProblem(pr)
		rep.object(obj).Counts.Problems++
	}
	return nil
}
