package sync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"healthsync/connector"
	"healthsync/crm"
	"healthsync/mapping"
	"healthsync/store"
)

// SyncOptions choose what a sync run does beyond the incremental pull.
type SyncOptions struct {
	// Objects limits the run to these CRM objects (default: all the
	// mapping syncs).
	Objects []string
	// Remap maps every stored raw record again even if the mapping did
	// not change.
	Remap bool
	// Reconcile compares ID sets now instead of when due.
	Reconcile bool
}

// State keys.
const (
	stateMappingHash = "mapping_hash"
	stateFieldsOf    = "fields:"        // + object: JSON list of downloaded fields
	stateReconciled  = "reconciled_at:" // + object: epoch ms of the last reconciliation
	stateCalculated  = "calculated_at:" // + object: epoch ms of the last formula-field refresh
)

// calculatedRefresher is a Source whose formula and roll-up fields change
// without bumping the modification stamp (Salesforce): they are re-read on
// a schedule.
type calculatedRefresher interface {
	CalculatedDue(last time.Time) bool
	RefreshCalculated(ctx context.Context, req connector.PullRequest, fn func(context.Context, connector.Page) error) error
}

// Sync pulls every object's changes since its cursor, maps them and stores
// them with the advanced cursor one page per transaction. Stored raw
// records are mapped again when the mapping changed; objects whose stored
// records lack a field the mapping now needs are pulled again. The run is
// recorded in the store whatever its outcome. A controlled stop (signal,
// budget, daily limit) returns an error wrapping ErrStopped.
func (e *Engine) Sync(ctx context.Context, opts SyncOptions) (*Report, error) {
	calls0 := e.src.APICalls()
	run, err := startRun(ctx, e.store, e.cfg.Connection, "sync", e.clock)
	if err != nil {
		return nil, err
	}
	rep := &Report{RunID: run.ID}
	runErr := e.sync(ctx, opts, rep)
	rep.APICalls = e.src.APICalls() - calls0
	rep.Duration = e.clock.Now().Sub(run.StartedAt)
	counts := map[string]store.ObjectCounts{}
	for _, o := range rep.Objects {
		counts[o.Object] = o.Counts
	}
	recorded, runErr := run.finish(ctx, store.Run{APICalls: rep.APICalls, Counts: counts, Problems: rep.Problems}, runErr)
	rep.Status, rep.StopReason = recorded.Status, recorded.StopReason
	return rep, runErr
}

func (e *Engine) objects(opts SyncOptions) ([]string, error) {
	all := e.mapping.Objects()
	if len(opts.Objects) == 0 {
		return all, nil
	}
	for _, o := range opts.Objects {
		if !slices.Contains(all, o) {
			return nil, fmt.Errorf("object %q is not synced by the mapping (it syncs %v)", o, all)
		}
	}
	return opts.Objects, nil
}

func (e *Engine) sync(ctx context.Context, opts SyncOptions, rep *Report) error {
	objects, err := e.objects(opts)
	if err != nil {
		return err
	}
	storedHash, err := e.store.State(ctx, e.cfg.Connection, stateMappingHash)
	if err != nil {
		return err
	}
	remap := opts.Remap || (storedHash != "" && storedHash != e.mapping.Hash())
	for _, obj := range objects {
		or := rep.object(obj)
		missing, err := e.missingFields(ctx, obj)
		if err != nil {
			return err
		}
		if err := e.forgetStaleHistory(ctx, obj); err != nil {
			return fmt.Errorf("field history of %s: %w", obj, err)
		}
		if len(missing) > 0 {
			e.log.Info("the mapping needs fields the stored records lack; pulling the object again", "object", obj, "fields", missing)
			or.Repulled = missing
			if err := e.store.InTx(ctx, func(tx *store.Tx) error { return tx.ResetCursor(ctx, e.cfg.Connection, obj) }); err != nil {
				return err
			}
		} else if remap {
			if err := e.remapObject(ctx, obj, rep); err != nil {
				return fmt.Errorf("remap %s: %w", obj, err)
			}
			or.Remapped = true
		}
		if err := e.pullObject(ctx, obj, rep); err != nil {
			return fmt.Errorf("sync %s: %w", obj, err)
		}
		if err := e.backfillHistory(ctx, obj, rep); err != nil {
			return err
		}
		if err := e.maybeRefreshCalculated(ctx, obj, rep); err != nil {
			return fmt.Errorf("refresh calculated fields of %s: %w", obj, err)
		}
		if err := e.maybeSweepAssociations(ctx, obj, rep); err != nil {
			return err
		}
		if err := e.maybeReconcile(ctx, obj, opts.Reconcile, rep); err != nil {
			return fmt.Errorf("reconcile %s: %w", obj, err)
		}
	}
	if len(opts.Objects) == 0 && storedHash != e.mapping.Hash() {
		return e.store.InTx(ctx, func(tx *store.Tx) error {
			return tx.SetState(ctx, e.cfg.Connection, stateMappingHash, e.mapping.Hash())
		})
	}
	return nil
}

// missingFields returns the fields the mapping needs from obj that its
// stored records were not downloaded with. Nothing is missing before the
// first pull.
func (e *Engine) missingFields(ctx context.Context, obj string) ([]string, error) {
	raw, err := e.store.State(ctx, e.cfg.Connection, stateFieldsOf+obj)
	if err != nil || raw == "" {
		return nil, err
	}
	var downloaded []string
	if err := json.Unmarshal([]byte(raw), &downloaded); err != nil {
		return nil, fmt.Errorf("read downloaded fields of %s: %w", obj, err)
	}
	return e.mapping.MissingFields(obj, downloaded), nil
}

func (e *Engine) pullObject(ctx context.Context, obj string, rep *Report) (err error) {
	or := rep.object(obj)
	start := e.clock.Now()
	defer func() { or.Duration += e.clock.Now().Sub(start) }()
	cur, err := e.store.Cursor(ctx, e.cfg.Connection, obj)
	if err != nil {
		return err
	}
	fields := e.mapping.Fields(obj)
	fieldsJSON, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	full := cur.ModifiedAt.IsZero() && cur.LastID == ""
	req := connector.PullRequest{Object: obj, Fields: fields, Since: connector.Cursor{ModifiedAt: cur.ModifiedAt, LastID: cur.LastID}, Stored: e.stored(obj)}
	e.progress.Start(obj)
	defer func() {
		if err != nil {
			e.progress.Failed(obj)
			return
		}
		e.progress.Done(obj)
	}()
	err = e.pullOverlapped(ctx, obj, req, string(fieldsJSON), or, rep)
	if err != nil {
		return err
	}
	// Complete: the store holds every change made before the pull started,
	// and the sync lag counts from then. Recorded even if a stop was asked
	// for after the last page.
	bg := context.WithoutCancel(ctx)
	if err := e.store.InTx(bg, func(tx *store.Tx) error { return tx.MarkPulled(bg, e.cfg.Connection, obj, start) }); err != nil {
		return err
	}
	if full {
		// A complete full pull saw every live record: no reconciliation is
		// due until the interval passes.
		return e.store.InTx(ctx, func(tx *store.Tx) error {
			return tx.SetState(ctx, e.cfg.Connection, stateReconciled+obj, strconv.FormatInt(e.clock.Now().UnixMilli(), 10))
		})
	}
	return nil
}

// pipelineDepth is how many mapped pages may wait for the store while the
// source fetches the next: memory holds at most this many, plus the one
// being stored and the one being fetched.
const pipelineDepth = 1

// errStoreStopped ends a source's pull after the page committer stopped;
// the committer's own error is what the pull returns.
var errStoreStopped = errors.New("the store stopped taking pages")

// pullOverlapped pulls obj and stores its pages in order, one transaction
// each with its cursor. Fetching and mapping a page (this goroutine, in the
// source's callback) overlaps storing the page before (a committer
// goroutine), through a queue of pipelineDepth pages. The committer stores
// pages strictly in order, each with the cursor that follows it, so a
// cursor is never committed past a page that is not: a crash at any point
// loses at most the queued pages, which the next run reads again. Once a
// commit fails (or the AfterCommit hook ends the run, as a crash), no later
// page is stored. A page that arrived is stored even if a stop was asked
// for meanwhile: the stop takes effect before the next request.
func (e *Engine) pullOverlapped(ctx context.Context, obj string, req connector.PullRequest, fieldsJSON string, or *ObjectReport, rep *Report) error {
	queue := make(chan mappedPage, pipelineDepth)
	stopped := make(chan struct{}) // closed when the committer fails
	done := make(chan error, 1)
	bg := context.WithoutCancel(ctx)
	go func() {
		known := accountSet{}
		var err error
		for mp := range queue {
			if err != nil {
				continue // drop what is queued: nothing after a failure is stored
			}
			if err = e.storePage(bg, obj, mp, fieldsJSON, known, or, rep); err == nil {
				e.progress.Page(obj, len(mp.page.Records))
				if e.hooks.AfterCommit != nil {
					err = e.hooks.AfterCommit(obj, mp.no)
				}
			}
			if err != nil {
				close(stopped)
			}
		}
		done <- err
	}()
	page := 0
	pullErr := e.src.Pull(ctx, req, func(pctx context.Context, p connector.Page) error {
		page++
		mp := e.mapPage(obj, page, p)
		// A failed committer first: with room in the queue too, select
		// would pick at random and the source could go on fetching.
		select {
		case <-stopped:
			return errStoreStopped
		default:
		}
		select {
		case queue <- mp:
		case <-stopped:
			return errStoreStopped
		}
		if e.hooks.Queued != nil {
			e.hooks.Queued(obj, page)
		}
		return ctx.Err()
	})
	close(queue)
	if err := <-done; err != nil {
		return err
	}
	return pullErr
}

// maybeRefreshCalculated re-reads obj's calculated fields when the Source
// has them and they are due; changed records are stored like pulled ones,
// and the cursor stays where the pull left it.
func (e *Engine) maybeRefreshCalculated(ctx context.Context, obj string, rep *Report) error {
	cr, ok := e.src.(calculatedRefresher)
	if !ok {
		return nil
	}
	var last time.Time
	if v, err := e.store.State(ctx, e.cfg.Connection, stateCalculated+obj); err != nil {
		return err
	} else if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		last = time.UnixMilli(n).UTC()
	}
	if !cr.CalculatedDue(last) {
		return nil
	}
	err := e.reread(ctx, obj, rep, false, cr.RefreshCalculated)
	if err != nil {
		return err
	}
	return e.store.InTx(ctx, func(tx *store.Tx) error {
		return tx.SetState(ctx, e.cfg.Connection, stateCalculated+obj, strconv.FormatInt(e.clock.Now().UnixMilli(), 10))
	})
}

// reread stores what read hands back of obj (a refresh of calculated
// fields, an association sweep) like pulled pages, each page committed
// with the cursor where the pull left it, so a re-read never moves it.
// withStored lets the source compare with the stored records.
func (e *Engine) reread(ctx context.Context, obj string, rep *Report, withStored bool,
	read func(context.Context, connector.PullRequest, func(context.Context, connector.Page) error) error) error {
	cur, err := e.store.Cursor(ctx, e.cfg.Connection, obj)
	if err != nil {
		return err
	}
	fields := e.mapping.Fields(obj)
	fieldsJSON, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	or := rep.object(obj)
	since := connector.Cursor{ModifiedAt: cur.ModifiedAt, LastID: cur.LastID}
	req := connector.PullRequest{Object: obj, Fields: fields, Since: since}
	if withStored {
		req.Stored = e.stored(obj)
	}
	page := 0
	known := accountSet{}
	return read(ctx, req, func(pctx context.Context, p connector.Page) error {
		page++
		p.Cursor = since
		return e.commitPage(context.WithoutCancel(pctx), obj, page, p, string(fieldsJSON), known, or, rep)
	})
}

// mapped is one record of a page, mapped and encoded for the store.
type mapped struct {
	rec    connector.Record
	entity mapping.Entity
	ok     bool // entity usable
	// raw and row are the record's raw row and its entity's row, encoded
	// while the page before is being stored; hasRow is false when there is
	// no entity to write (a deletion, an unusable record). err is the
	// first encoding error, which fails the page.
	raw    store.Row
	row    store.Row
	hasRow bool
	err    error
}

// mappedPage is a page as received, mapped and ready to be stored.
type mappedPage struct {
	no       int
	page     connector.Page
	items    []mapped
	ids      []string
	problems []store.Problem // records the mapping could not (wholly) read
}

// mapPage maps every record of a page. It touches nothing shared, so it
// runs while the page before is being stored.
func (e *Engine) mapPage(obj string, pageNo int, p connector.Page) mappedPage {
	mp := mappedPage{no: pageNo, page: p, items: make([]mapped, 0, len(p.Records)), ids: make([]string, 0, len(p.Records))}
	for i, rec := range p.Records {
		if rec.Object == "" {
			rec.Object = obj
		}
		mp.ids = append(mp.ids, rec.ID)
		ent, err := e.mapping.Map(rec)
		// The decoded fields served the mapping; the page waits for the
		// store without them (they are larger than the raw JSON).
		rec.Fields, p.Records[i].Fields = nil, nil
		it := mapped{rec: rec}
		var recErr *mapping.RecordError
		switch {
		case err == nil:
			it.entity, it.ok = ent, true
		case errors.As(err, &recErr):
			// Bad values: keep the record with those fields empty, and say so.
			mp.problems = append(mp.problems, store.Problem{Object: obj, ID: rec.ID, Error: err.Error()})
			it.entity, it.ok = ent, true
		default:
			mp.problems = append(mp.problems, store.Problem{Object: obj, ID: rec.ID, Error: err.Error()})
		}
		raw := rec.Raw
		if len(raw) == 0 {
			raw = []byte("{}")
		}
		it.raw, it.err = store.EncodeRaw(store.RawRecord{Object: obj, ID: rec.ID, ModifiedAt: rec.ModifiedAt, Deleted: rec.Deleted, Raw: raw})
		if it.err == nil && it.ok && !rec.Deleted && !needsLink(ent) {
			it.row, it.hasRow, it.err = encodeEntity(ent)
		}
		mp.items = append(mp.items, it)
	}
	return mp
}

// commitPage maps a page and stores it with its cursor in one transaction.
// known caches which accounts are stored, across the pages of one pull of
// obj.
func (e *Engine) commitPage(ctx context.Context, obj string, pageNo int, p connector.Page, fieldsJSON string, known accountSet, or *ObjectReport, rep *Report) error {
	return e.storePage(ctx, obj, e.mapPage(obj, pageNo, p), fieldsJSON, known, or, rep)
}

// storePage stores a mapped page with its cursor in one transaction.
func (e *Engine) storePage(ctx context.Context, obj string, mp mappedPage, fieldsJSON string, known accountSet, or *ObjectReport, rep *Report) error {
	conn := e.cfg.Connection
	p, pageNo, items, ids := mp.page, mp.no, mp.items, mp.ids
	for _, pr := range mp.problems {
		rep.addProblem(pr)
		or.Counts.Problems++
	}
	var counts store.ObjectCounts
	var problems []store.Problem
	var alreadyDeleted int
	err := e.store.InTx(ctx, func(tx *store.Tx) error {
		counts, problems, alreadyDeleted = store.ObjectCounts{}, nil, 0
		existing, err := tx.ExistingRaw(ctx, conn, obj, ids)
		if err != nil {
			return err
		}
		if err := e.linkActivities(ctx, tx, items); err != nil {
			return err
		}
		unknown, err := e.unknownAccounts(ctx, tx, items, known)
		if err != nil {
			return err
		}
		// The page is written as a batch: a few statements per table, in
		// this transaction, with the later of two writes of one record
		// winning as if they ran in page order.
		kind, _ := e.mapping.Entity(obj)
		batch := tx.Batch(conn)
		for _, it := range items {
			if it.err != nil {
				return it.err
			}
			batch.Put(it.raw)
			switch {
			case it.rec.Deleted:
				if existing[it.rec.ID] {
					counts.Deleted++
				} else {
					// Deleted before healthsync stored it live (a first
					// sync reads the recycle bin / archive too), or a
					// deletion read again: nothing to store, but
					// received, so counted.
					alreadyDeleted++
				}
				batch.Delete(entityTable(kind), it.rec.ID)
				continue
			case existing[it.rec.ID]:
				counts.Changed++
			default:
				counts.New++
			}
			if !it.ok {
				continue
			}
			if acc := accountOf(it.entity); acc != "" && unknown[acc] {
				problems = append(problems, store.Problem{Object: obj, ID: it.rec.ID,
					Error: fmt.Sprintf("references account %s, which is not in the CRM data synced (deleted, or not visible to the integration user); kept without it counting for any account", acc)})
			}
			if !it.hasRow {
				// Not encoded with the page: an activity whose account
				// linkActivities set in this transaction.
				if it.row, it.hasRow, it.err = encodeEntity(it.entity); it.err != nil {
					return it.err
				}
			}
			if it.hasRow {
				batch.Put(it.row)
			}
		}
		if err := e.trackHistory(ctx, tx, items); err != nil {
			return err
		}
		if err := batch.Flush(ctx); err != nil {
			return err
		}
		if err := tx.SetCursor(ctx, conn, obj, store.Cursor{ModifiedAt: p.Cursor.ModifiedAt, LastID: p.Cursor.LastID, FieldsHash: e.mapping.FieldsHash(obj)}); err != nil {
			return err
		}
		if err := tx.SetState(ctx, conn, stateFieldsOf+obj, fieldsJSON); err != nil {
			return err
		}
		// The run is alive: a run whose process dies shows when.
		if err := tx.TouchRun(ctx, rep.RunID, e.clock.Now()); err != nil {
			return err
		}
		if e.hooks.BeforeCommit != nil {
			return e.hooks.BeforeCommit(obj, pageNo)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("commit page %d: %w", pageNo, err)
	}
	or.Counts.New += counts.New
	or.Counts.Changed += counts.Changed
	or.Counts.Deleted += counts.Deleted
	or.AlreadyDeleted += alreadyDeleted
	or.Counts.Pages++
	for _, p := range problems {
		rep.addProblem(p)
		or.Counts.Problems++
	}
	// Records the connector could not read: not stored, and the cursor
	// stops before them, so they are read (and reported) again next run.
	for _, s := range p.Skipped {
		rep.addProblem(store.Problem{Object: obj, ID: s.ID, Error: s.Reason + "; not stored, read again next run"})
		or.Counts.Problems++
	}
	return nil
}

// accountOf returns the account a non-account entity points at.
func accountOf(ent mapping.Entity) crm.AccountID {
	switch {
	case ent.Contact != nil:
		return ent.Contact.AccountID
	case ent.Opportunity != nil:
		return ent.Opportunity.AccountID
	case ent.Activity != nil:
		return ent.Activity.AccountID
	}
	return ""
}

// linkActivities fills the account of activities that name only contacts
// from the stored contacts.
func (e *Engine) linkActivities(ctx context.Context, tx *store.Tx, items []mapped) error {
	var need []crm.ContactID
	for _, it := range items {
		if it.ok && needsLink(it.entity) {
			need = append(need, it.entity.Activity.ContactIDs...)
		}
	}
	if len(need) == 0 {
		return nil
	}
	accs, err := tx.ContactAccounts(ctx, e.cfg.Connection, need)
	if err != nil {
		return err
	}
	for _, it := range items {
		if a := it.entity.Activity; it.ok && a != nil && a.AccountID == "" {
			for _, c := range a.ContactIDs {
				if acc := accs[c]; acc != "" {
					a.AccountID = acc
					break
				}
			}
		}
	}
	return nil
}

// accountSet remembers, during one pull of one object, whether each
// account a page pointed at is stored live. It is a cache of committed
// state and lives no longer than the pull: the accounts are another
// object, which this pull does not write, and the connection's lease keeps
// other writers out, so nothing can change them meanwhile; reconciliation
// and the next object's pull, which can, start with a new set. A crash
// loses nothing but the cache.
type accountSet map[string]bool

// unknownAccounts returns the accounts the page's entities point at that
// are not stored. Only accounts known not yet are looked up in the store,
// so a pull of activities asks once per account, not once per page.
func (e *Engine) unknownAccounts(ctx context.Context, tx *store.Tx, items []mapped, known accountSet) (map[crm.AccountID]bool, error) {
	var ids []string
	seen := map[string]bool{}
	for _, it := range items {
		acc := string(accountOf(it.entity))
		if !it.ok || acc == "" || seen[acc] {
			continue
		}
		seen[acc] = true
		if _, ok := known[acc]; !ok {
			ids = append(ids, acc)
		}
	}
	if len(seen) == 0 {
		return nil, nil
	}
	if len(ids) > 0 {
		found, err := tx.ExistingRaw(ctx, e.cfg.Connection, e.mapping.AccountObject(), ids)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			// A copy: id points into the record it was read from (a
			// Bulk CSV row, a JSON page), which the set would otherwise
			// keep whole for the rest of the pull (17 MiB of rows at
			// 100,000 accounts).
			known[strings.Clone(id)] = found[id] // false: never stored, or deleted
		}
	}
	out := map[crm.AccountID]bool{}
	for id := range seen {
		if !known[id] {
			out[crm.AccountID(id)] = true
		}
	}
	return out, nil
}

// upsertEntity stores one mapped entity.
func upsertEntity(ctx context.Context, tx *store.Tx, conn string, ent mapping.Entity) error {
	row, ok, err := encodeEntity(ent)
	if err != nil || !ok {
		return err
	}
	b := tx.Batch(conn)
	b.Put(row)
	return b.Flush(ctx)
}

// needsLink reports whether ent is an activity without an account whose
// account linkActivities looks up through its contacts.
func needsLink(ent mapping.Entity) bool {
	a := ent.Activity
	return a != nil && a.AccountID == "" && len(a.ContactIDs) > 0
}

// encodeEntity encodes a mapped entity for the store; ok is false when it
// holds none.
func encodeEntity(ent mapping.Entity) (row store.Row, ok bool, err error) {
	switch {
	case ent.Account != nil:
		row, err = store.EncodeAccount(*ent.Account)
	case ent.Contact != nil:
		row, err = store.EncodeContact(*ent.Contact)
	case ent.Opportunity != nil:
		row, err = store.EncodeOpportunity(*ent.Opportunity)
	case ent.Activity != nil:
		row, err = store.EncodeActivity(ent.Object, *ent.Activity)
	case ent.User != nil:
		row, err = store.EncodeUser(*ent.User)
	default:
		return store.Row{}, false, nil
	}
	return row, err == nil, err
}

// reconciledAt reads when obj was last reconciled.
func (e *Engine) reconciledAt(ctx context.Context, obj string) (time.Time, error) {
	v, err := e.store.State(ctx, e.cfg.Connection, stateReconciled+obj)
	if err != nil || v == "" {
		return time.Time{}, err
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("read last reconciliation of %s: %w", obj, err)
	}
	return time.UnixMilli(n).UTC(), nil
}

// trackHistory records, before a page's canonical rows replace the stored
// ones, the old value of every mapped history field that changed: field
// history from successive syncs, in the page's transaction. healthsync's
// own writes bump an account's modification stamp but change no field the
// mapping reads (outputs are never inputs), so they add nothing.
func (e *Engine) trackHistory(ctx context.Context, tx *store.Tx, items []mapped) error {
	var accs []crm.Account
	var opps []crm.Opportunity
	for _, it := range items {
		if !it.ok || it.rec.Deleted {
			continue
		}
		switch {
		case it.entity.Account != nil:
			accs = append(accs, *it.entity.Account)
		case it.entity.Opportunity != nil:
			opps = append(opps, *it.entity.Opportunity)
		}
	}
	if len(accs) == 0 && len(opps) == 0 {
		return nil
	}
	return tx.TrackChanges(ctx, e.cfg.Connection, accs, opps, e.historyFields(), e.clock.Now())
}

// historyFields names the mapped history fields per entity.
func (e *Engine) historyFields() map[crm.HistoryEntity][]string {
	return map[crm.HistoryEntity][]string{
		crm.HistoryAccount:     e.mapping.HistoryFieldNames(crm.HistoryAccount),
		crm.HistoryOpportunity: e.mapping.HistoryFieldNames(crm.HistoryOpportunity),
	}
}
