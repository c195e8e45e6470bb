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
	Status     string
	StopReason string
	APICalls   int64
	Counts     map[string]ObjectCounts
	Problems   []Problem // the first examples
}

// StartRun records the start of a run and returns its ID.
func (s *Store) StartRun(ctx context.Context, connection, kind string, at time.Time) (int64, error) {
	q := `INSERT INTO sync_runs (connection, kind, started_at, status) VALUES (?, ?, ?, ?)`
	if s.loc.Backend == Postgres {
		var id int64
		err := s.queryRow(ctx, q+` RETURNING id`, connection, kind, ms(at), RunRunning).Scan(&id)
		if err != nil {
			return 0, fmt.Errorf("record run start: %w", err)
		}
		return id, nil
	}
	res, err := s.db.ExecContext(ctx, q, connection, kind, ms(at), RunRunning)
	if err != nil {
		return 0, fmt.Errorf("record run start: %w", err)
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
	err = s.exec(ctx, `UPDATE sync_runs SET finished_at = ?, status = ?, stop_reason = ?, api_calls = ?, counts = ?, problems = ? WHERE id = ?`,
		nullMs(r.FinishedAt), r.Status, r.StopReason, r.APICalls, string(counts), string(problems), r.ID)
	if err != nil {
		return fmt.Errorf("record run end: %w", err)
	}
	return nil
}

// Runs returns a connection's latest runs, newest first.
func (s *Store) Runs(ctx context.Context, connection string, limit int) ([]Run, error) {
	rows, err := s.query(ctx, `SELECT id, connection, kind, started_at, finished_at, status, stop_reason, api_calls, counts, problems
		FROM sync_runs WHERE connection = ? ORDER BY started_at DESC, id DESC LIMIT ?`, connection, limit)
	if err != nil {
		return nil, fmt.Errorf("read runs: %w", err)
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		var (
			r                Run
			started          int64
			finished         sql.NullInt64
			counts, problems string
		)
		if err := rows.Scan(&r.ID, &r.Connection, &r.Kind, &started, &finished, &r.Status, &r.StopReason, &r.APICalls, &counts, &problems); err != nil {
			return nil, fmt.Errorf("read runs: %w", err)
		}
		r.StartedAt, r.FinishedAt = fromMs(started), fromNullMs(finished)
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
