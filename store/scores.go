package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// Score is one account's stored score at one instant. Reasons, Flags and
// Outputs are JSON documents owned by the scoring side; the store keeps
// them as they are.
type Score struct {
	AccountID string
	ScoredAt  time.Time
	Score     *float64 // nil: not enough data
	Grade     string
	Trend     *float64
	Reasons   json.RawMessage
	Flags     json.RawMessage
	// Outputs holds every output of scoring by name: metrics, measures,
	// score, grade, reasons, flags, customer_status… It is kept in the
	// column named metrics (the name it had when it held only metrics;
	// the BI views read that column).
	Outputs json.RawMessage
}

func orJSON(v json.RawMessage, empty string) string {
	if len(v) == 0 {
		return empty
	}
	return string(v)
}

// PutScore stores a score; storing the same account and instant again
// replaces it.
func (t *Tx) PutScore(ctx context.Context, connection string, sc Score) error {
	err := t.exec(ctx, `INSERT INTO scores (connection, account_id, scored_at, score, grade, trend, reasons, flags, metrics)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (connection, account_id, scored_at) DO UPDATE SET score = excluded.score, grade = excluded.grade,
			trend = excluded.trend, reasons = excluded.reasons, flags = excluded.flags, metrics = excluded.metrics`,
		connection, sc.AccountID, ms(sc.ScoredAt), nullFloat(sc.Score), sc.Grade, nullFloat(sc.Trend),
		orJSON(sc.Reasons, "[]"), orJSON(sc.Flags, "[]"), orJSON(sc.Outputs, "{}"))
	if err != nil {
		return fmt.Errorf("store score of %s: %w", sc.AccountID, err)
	}
	return nil
}

func nullFloat(f *float64) sql.NullFloat64 {
	if f == nil {
		return sql.NullFloat64{}
	}
	return sql.NullFloat64{Float64: *f, Valid: true}
}

func fromNullFloat(f sql.NullFloat64) *float64 {
	if !f.Valid {
		return nil
	}
	v := f.Float64
	return &v
}

const scoreColumns = `account_id, scored_at, score, grade, trend, reasons, flags, metrics`

func scanScore(sc interface{ Scan(...any) error }) (Score, error) {
	var (
		s                       Score
		at                      int64
		score, trend            sql.NullFloat64
		reasons, flags, metrics string
	)
	if err := sc.Scan(&s.AccountID, &at, &score, &s.Grade, &trend, &reasons, &flags, &metrics); err != nil {
		return Score{}, err
	}
	s.ScoredAt, s.Score, s.Trend = fromMs(at), fromNullFloat(score), fromNullFloat(trend)
	s.Reasons, s.Flags, s.Outputs = json.RawMessage(reasons), json.RawMessage(flags), json.RawMessage(metrics)
	return s, nil
}

// ScoreHistory returns an account's scores in time order, oldest first.
func (s *Store) ScoreHistory(ctx context.Context, connection, accountID string) ([]Score, error) {
	rows, err := s.query(ctx, `SELECT `+scoreColumns+` FROM scores WHERE connection = ? AND account_id = ? ORDER BY scored_at`, connection, accountID)
	if err != nil {
		return nil, fmt.Errorf("read score history of %s: %w", accountID, err)
	}
	defer rows.Close()
	var out []Score
	for rows.Next() {
		sc, err := scanScore(rows)
		if err != nil {
			return nil, fmt.Errorf("read score history of %s: %w", accountID, err)
		}
		out = append(out, sc)
	}
	return out, rows.Err()
}

// ForEachLatestScore streams the newest score of every account of a
// connection, in account ID order.
func (s *Store) ForEachLatestScore(ctx context.Context, connection string, fn func(Score) error) error {
	rows, err := s.query(ctx, `SELECT `+scoreColumns+` FROM scores s WHERE connection = ? AND scored_at =
		(SELECT max(scored_at) FROM scores m WHERE m.connection = s.connection AND m.account_id = s.account_id)
		ORDER BY `+s.byKey("account_id"), connection)
	if err != nil {
		return fmt.Errorf("read latest scores: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		sc, err := scanScore(rows)
		if err != nil {
			return fmt.Errorf("read latest scores: %w", err)
		}
		if err := fn(sc); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ForEachScore streams every stored score of a connection ordered by
// account and time, for backtests.
func (s *Store) ForEachScore(ctx context.Context, connection string, fn func(Score) error) error {
	rows, err := s.query(ctx, `SELECT `+scoreColumns+` FROM scores WHERE connection = ? ORDER BY `+s.byKey("account_id")+`, scored_at`, connection)
	if err != nil {
		return fmt.Errorf("read scores: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		sc, err := scanScore(rows)
		if err != nil {
			return fmt.Errorf("read scores: %w", err)
		}
		if err := fn(sc); err != nil {
			return err
		}
	}
	return rows.Err()
}

// PutDailyScore stores a score as the account's score of its UTC day,
// replacing any earlier score of the same day, so a worker scoring every
// few minutes keeps one history point per day.
func (t *Tx) PutDailyScore(ctx context.Context, connection string, sc Score) error {
	day := sc.ScoredAt.UTC().Truncate(24 * time.Hour)
	if err := t.exec(ctx, `DELETE FROM scores WHERE connection = ? AND account_id = ? AND scored_at >= ? AND scored_at < ?`,
		connection, sc.AccountID, ms(day), ms(day.Add(24*time.Hour))); err != nil {
		return fmt.Errorf("replace score of %s: %w", sc.AccountID, err)
	}
	return t.PutScore(ctx, connection, sc)
}
