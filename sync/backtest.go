package sync

import (
	"context"
	"time"

	"healthsync/crm"
	"healthsync/mapping"
	"healthsync/scoring"
	"healthsync/store"
)

// BacktestWindow says which past dates a backtest scores: every Step from
// Start until each account's outcome, which is decided as of Now.
type BacktestWindow struct {
	Start, Now time.Time
	Step       time.Duration
}

// BacktestAccounts replays every account's score at past dates from the
// store, each from the account as it was on that date (its field history;
// activities and opportunities by their own dates), and pairs the scores
// with what happened by Now: churn (the churn field, else the lost-renewal
// rule by order of events) or not. Prospects are left out. Nothing a past
// score reads comes from after its date, so changing today's values
// changes no past score.
func BacktestAccounts(ctx context.Context, st *store.Store, connection string, scorer *scoring.Scorer, w BacktestWindow) ([]scoring.BacktestAccount, error) {
	var out []scoring.BacktestAccount
	err := st.ForEachAccount(ctx, connection, func(b store.Bundle) error {
		o, ok := scoring.OutcomeAt(b.Account, b.Opportunities, w.Now)
		if !ok {
			return nil
		}
		bt := scoring.BacktestAccount{AccountID: b.Account.ID, Churned: o.Churned, OutcomeAt: o.At, OutcomeBy: o.By}
		d := scoring.AccountData{Account: b.Account, Contacts: b.Contacts, Opportunities: b.Opportunities, Activities: b.Activities}
		for at := w.Start; at.Before(bt.OutcomeAt); at = at.Add(w.Step) {
			r := scorer.Score(scoring.AsOf(d, b.History, at), at, nil)
			v := r.Score
			if r.ComputedScore != nil {
				v = r.ComputedScore
			}
			if v != nil {
				bt.Scores = append(bt.Scores, scoring.ScorePoint{At: at, Score: *v})
			}
		}
		out = append(out, bt)
		return nil
	})
	return out, err
}

// HistoryExactFrom is the date from which every mapped history field of
// accounts has a known history (the latest of their history starts): past
// figures that read account fields are exact from then on. Zero before
// any sync.
func HistoryExactFrom(ctx context.Context, st *store.Store, connection string, m *mapping.Mapping) (time.Time, error) {
	from, err := st.HistoryFrom(ctx, connection)
	if err != nil {
		return time.Time{}, err
	}
	return from.ExactFrom(crm.HistoryAccount, m.HistoryFieldNames(crm.HistoryAccount)...), nil
}
