package sync

import (
	"context"
	"fmt"
	"iter"
	"time"

	"healthsync/crm"
	"healthsync/mapping"
	"healthsync/scoring"
	"healthsync/store"
)

// pointReader hands out each account's stored scores from one stream of
// the score history in account order, as ForEachAccount visits the
// accounts in the same order.
type pointReader struct {
	next    func() (store.Score, error, bool)
	stop    func()
	pending store.Score
	err     error
	ok      bool
}

func newPointReader(ctx context.Context, st *store.Store, connection string) *pointReader {
	next, stop := iter.Pull2(scoreStream(ctx, st, connection))
	p := &pointReader{next: next, stop: stop}
	p.pending, p.err, p.ok = next()
	return p
}

// take returns the scores stored for account id at or before t (those of
// accounts before id, which have vanished, are skipped).
func (p *pointReader) take(id string, t time.Time) ([]scoring.ScorePoint, error) {
	var points []scoring.ScorePoint
	for p.ok && p.err == nil && p.pending.AccountID < id {
		p.pending, p.err, p.ok = p.next()
	}
	for p.ok && p.err == nil && p.pending.AccountID == id {
		if p.pending.Score != nil && !p.pending.ScoredAt.After(t) {
			points = append(points, scoring.ScorePoint{At: p.pending.ScoredAt, Score: *p.pending.Score})
		}
		p.pending, p.err, p.ok = p.next()
	}
	if p.err != nil {
		return nil, fmt.Errorf("read score history: %w", p.err)
	}
	return points, nil
}

// PastResult is one account scored as it was at a past instant.
type PastResult struct {
	scoring.Result
	// Unknown names the account fields whose history starts after the
	// instant, so they were left out ("arr (known from 2026-11-02)").
	Unknown []string
}

// UnknownAsOf names the mapped account fields whose history starts after
// t, with the date it starts: their value at t is unknown and scoring
// leaves them out. Dates that say when something happened are never
// unknown (crm.SelfDating).
func UnknownAsOf(m *mapping.Mapping, h crm.History, t time.Time) []string {
	var out []string
	for _, f := range m.HistoryFieldNames(crm.HistoryAccount) {
		if from, ok := h.From.Since(crm.HistoryAccount, f); ok && t.Before(from) && !crm.SelfDating(f) {
			out = append(out, fmt.Sprintf("%s (known from %s)", f, from.Format(time.DateOnly)))
		}
	}
	return out
}

// ScoreAsOf scores every account as it was at t: its fields as the stored
// field history says they were then, its activities and opportunities by
// their own dates, and the trend from the scores stored at or before t.
// It stores nothing; fn gets each account's result in account order.
func (s *Scorer) ScoreAsOf(ctx context.Context, t time.Time, fn func(PastResult) error) (ScoreSummary, error) {
	st, connection, m := s.store, s.connection, s.mapping
	t = crm.Normalize(t)
	sum := newSummary(t)
	scorer, err := scoring.NewScorer(m.Config().Scoring)
	if err != nil {
		return sum, fmt.Errorf("scoring configuration: %w", err)
	}
	users, err := st.Users(ctx, connection)
	if err != nil {
		return sum, err
	}
	history := newPointReader(ctx, st, connection)
	defer history.stop()
	err = st.ForEachAccount(ctx, connection, func(b store.Bundle) error {
		points, err := history.take(string(b.Account.ID), t)
		if err != nil {
			return err
		}
		d := scoring.AccountData{Account: b.Account, Contacts: b.Contacts, Opportunities: b.Opportunities, Activities: b.Activities}
		if u, ok := users[b.Account.OwnerID]; ok {
			d.Owner = &u
		}
		r := scorer.Score(scoring.AsOf(d, b.History, t), t, points)
		sum.add(&r)
		return fn(PastResult{Result: r, Unknown: UnknownAsOf(m, b.History, t)})
	})
	if err != nil {
		return sum, fmt.Errorf("score accounts as of %s: %w", t.Format(time.DateOnly), err)
	}
	return sum, nil
}
