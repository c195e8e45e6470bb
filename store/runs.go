package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// Run status values.
const (
	RunRunning = "running"
	RunOK      = "ok"
	RunStopped = "stopped" // a controlled stop: budget, signal, daily limit
	RunFailed  = "failed"
	// RunInterrupted is a run whose process ended (killed, crashed, the
	// machine stopped) without recording its end, as the next run of the
	// connection found it; its FinishedAt is when it was last seen.
	RunInterrupted = "interrupted"
)

// ObjectCounts are one object's figures in a run.
type ObjectCounts struct {
	New      int `json:"new"`
	Changed  int `json:"changed"`
	Deleted  int `json:"deleted"`
	Problems int `json:"problems"`
	Pages    int `json:"pages"`
}

// Problem is one per-record issue recorded in a run.
type Problem struct {
	Object string `json:"object"`
	ID     string `json:"id"`
	Error  string `json:"error"`
}

// Run is the record of one sync, score or writeback run.
type Run struct {
	ID         int64
	Connection string
	Kind       string // sync, score, apply, run
	StartedAt  time.Time
	FinishedAt *time.Time
	// SeenAt is when the run was last known alive: its start, its last
	// committed page or apply step (TouchRun), its end.
	SeenAt     time.Time
	Status     string
	StopReason string
	APICalls   int64
	Counts     map[string]ObjectCounts
	Problems   []Problem // the first examples
}

// StartRun records the start of a run and returns its ID.
func (s *Store) StartRun(ctx context.Context, connection, kind string, at time.Time) (int64, error) {
	q := `INSERT INTO sync_runs (connection, kind, started_at, seen_at, status) VALUES (?, ?, ?, ?, ?)`
	if s.loc.Backend == Postgres {
		var id int64
		err := s.queryRow(ctx, q+` RETURNING id`, connection, kind, ms(at), ms(at), RunRunning).Scan(&id)
		if err != nil {
			return 0, fmt.Errorf("record run start: %w", err)
		}
		return id, nil
	}
	res, err := s.db.ExecContext(ctx, q, connection, kind, ms(at), ms(at), RunRunning)
	if err != nil {
		return 0, fmt.Errorf("record run start: %w", s.fault(err))
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("record run start: %w", err)
	}
	return id, nil
}

// FinishRun records a run's outcome.
func (s *Store) FinishRun(ctx context.Context, r Run) error {
	counts, err := json.Marshal(r.Counts)
	if err != nil {
		return fmt.Errorf("encode run counts: %w", err)
	}
	if r.Problems == nil {
		r.Problems = []Problem{}
	}
	problems, err := json.Marshal(r.Problems)
	if err != nil {
		return fmt.Errorf("encode run problems: %w", err)
	}
	err = s.exec(ctx, `UPDATE sync_runs SET finished_at = ?, seen_at = coalesce(?, seen_at), status = ?, stop_reason = ?, api_calls = ?, counts = ?, problems = ? WHERE id = ?`,
		nullMs(r.FinishedAt), nullMs(r.FinishedAt), r.Status, r.StopReason, r.APICalls, string(counts), string(problems), r.ID)
	if err != nil {
		return fmt.Errorf("record run end: %w", err)
	}
	return nil
}

// Runs returns a connection's latest runs, newest first.
func (s *Store) Runs(ctx context.Context, connection string, limit int) ([]Run, error) {
	rows, err := s.query(ctx, `SELECT id, connection, kind, started_at, finished_at, coalesce(seen_at, started_at), status, stop_reason, api_calls, counts, problems
		FROM sync_runs WHERE connection = ? ORDER BY started_at DESC, id DESC LIMIT ?`, connection, limit)
	if err != nil {
		return nil, fmt.Errorf("read runs: %w", err)
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		var (
			r                Run
			started, seen    int64
			finished         sql.NullInt64
			counts, problems string
		)
		if err := rows.Scan(&r.ID, &r.Connection, &r.Kind, &started, &finished, &seen, &r.Status, &r.StopReason, &r.APICalls, &counts, &problems); err != nil {
			return nil, fmt.Errorf("read runs: %w", err)
		}
		r.StartedAt, r.FinishedAt, r.SeenAt = fromMs(started), fromNullMs(finished), fromMs(seen)
		if err := json.Unmarshal([]byte(counts), &r.Counts); err != nil {
			return nil, fmt.Errorf("decode run %d counts: %w", r.ID, err)
		}
		if err := json.Unmarshal([]byte(problems), &r.Problems); err != nil {
			return nil, fmt.Errorf("decode run %d problems: %w", r.ID, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// TouchRun records that a run is alive at at, in the transaction of the
// work it did (a committed page, an apply step), so it costs no commit of
// its own. A run that is no longer running is left as it is.
func (t *Tx) TouchRun(ctx context.Context, runID int64, at time.Time) error {
	if err := t.exec(ctx, `UPDATE sync_runs SET seen_at = ? WHERE id = ? AND status = ?`, ms(at), runID, RunRunning); err != nil {
		return fmt.Errorf("record run %d alive: %w", runID, err)
	}
	return nil
}

// InterruptRuns marks the runs of connection still recorded as running as
// interrupted: their process ended (killed, crashed, the machine stopped)
// without recording an end. Each one's FinishedAt becomes the time it was
// last seen, its StopReason says so; at is when they were found. It
// returns the runs it marked.
//
// Only the holder of the connection may call it — of its lease on
// Postgres, of the single-process lock on SQLite — because only then is
// no live process running one of them. A SQLite store opened Shared holds
// no lock and is refused.
func (s *Store) InterruptRuns(ctx context.Context, connection string, at time.Time) ([]Run, error) {
	if s.loc.Backend == SQLite && s.lock == nil {
		return nil, fmt.Errorf("interrupt the dead runs of %s: the SQLite store was opened shared, without the single-process lock", connection)
	}
	var out []Run
	err := s.InTx(ctx, func(tx *Tx) error {
		out = nil
		rows, err := tx.tx.QueryContext(ctx, rebind(s.loc.Backend, `SELECT id, kind, started_at, coalesce(seen_at, started_at)
			FROM sync_runs WHERE connection = ? AND status = ? ORDER BY id`), connection, RunRunning)
		if err != nil {
			return err
		}
		for rows.Next() {
			var (
				r             Run
				started, seen int64
			)
			if err := rows.Scan(&r.ID, &r.Kind, &started, &seen); err != nil {
				rows.Close()
				return err
			}
			lastSeen := fromMs(seen)
			r.Connection, r.StartedAt, r.SeenAt, r.FinishedAt, r.Status = connection, fromMs(started), lastSeen, &lastSeen, RunInterrupted
			r.StopReason = fmt.Sprintf("its process ended without recording how the run ended (killed, crashed, the machine stopped, or the store could not be written); last seen %s, found by the next run at %s",
				r.SeenAt.Format(time.RFC3339), at.UTC().Format(time.RFC3339))
			out = append(out, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, r := range out {
			if err := tx.exec(ctx, `UPDATE sync_runs SET status = ?, finished_at = ?, stop_reason = ? WHERE id = ? AND status = ?`,
				RunInterrupted, ms(r.SeenAt), r.StopReason, r.ID, RunRunning); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("interrupt the dead runs of %s: %w", connection, err)
	}
	return out, nil
}
