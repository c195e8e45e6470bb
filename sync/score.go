package sync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"time"

	"healthsync/crm"
	"healthsync/mapping"
	"healthsync/scoring"
	"healthsync/store"
)

// scoreBatch is how many accounts' scores one transaction stores.
const scoreBatch = 500

// ScoreSummary is what a scoring pass did.
type ScoreSummary struct {
	At       time.Time
	Accounts int
	// Statuses counts the accounts by customer status; only live
	// customers are scored, flagged and given tasks.
	Statuses map[crm.CustomerStatus]int
	Scored   int // live customers with a score (the rest had too little data)
	// DataGaps counts live customers without the contacts or logged
	// activities their relationship measures need: findings for RevOps.
	DataGaps int
	Grades   map[scoring.Grade]int // live customers by grade ("" for no score)
	Flags    map[string]int
}

// Live is the number of live customers.
func (s ScoreSummary) Live() int { return s.Statuses[crm.StatusCustomer] }

func newSummary(at time.Time) ScoreSummary {
	return ScoreSummary{At: at, Statuses: map[crm.CustomerStatus]int{}, Grades: map[scoring.Grade]int{}, Flags: map[string]int{}}
}

// add counts one account's result.
func (s *ScoreSummary) add(r *scoring.Result) {
	s.Accounts++
	s.Statuses[r.Status.Status]++
	if r.Status.Live() {
		if r.Score != nil {
			s.Scored++
		}
		if len(r.DataGaps) > 0 {
			s.DataGaps++
		}
		s.Grades[r.Grade]++
	}
	for _, f := range r.Flags {
		s.Flags[f.Name]++
	}
}

// Outputs returns every output of a result by name (metrics, measures and
// scorecard outputs), the form in which scores are stored so the writeback
// can read any output the mapping names.
func Outputs(r *scoring.Result) map[string]scoring.Value {
	out := map[string]scoring.Value{}
	for _, name := range scoring.OutputNames() {
		if v, ok := r.Value(name); ok {
			out[name] = v
		}
	}
	return out
}

// Scorer runs scoring passes over the accounts of one connection: it
// feeds each stored account to the scoring package and stores the results.
// Build it with NewScorer.
type Scorer struct {
	store      *store.Store
	connection string
	mapping    *mapping.Mapping
	clock      crm.Clock
}

// ScorerOptions build a Scorer: Store, Connection and Mapping are
// required.
type ScorerOptions struct {
	Store      *store.Store
	Connection string
	Mapping    *mapping.Mapping // its scoring configuration is used
	Clock      crm.Clock        // the instant scored as "now"; default: the system clock
}

// NewScorer returns a Scorer of o.Connection's accounts.
func NewScorer(o ScorerOptions) *Scorer {
	s := &Scorer{store: o.Store, connection: o.Connection, mapping: o.Mapping, clock: o.Clock}
	if s.clock == nil {
		s.clock = crm.SystemClock{}
	}
	return s
}

// ScoreAll scores every account of the connection as of the clock's now
// and stores the results as score history (one row per account per day: a
// later score the same day replaces the earlier one). It streams accounts
// one at a time.
func (s *Scorer) ScoreAll(ctx context.Context) (ScoreSummary, error) {
	st, connection, m := s.store, s.connection, s.mapping
	now := crm.Normalize(s.clock.Now())
	sum := newSummary(now)
	scorer, err := scoring.NewScorer(m.Config().Scoring)
	if err != nil {
		return sum, fmt.Errorf("scoring configuration: %w", err)
	}
	users, err := st.Users(ctx, connection)
	if err != nil {
		return sum, err
	}
	// Replayed past scores read the fields backfilled from the CRM's field
	// history as they were; a field the CRM keeps no history of reads its
	// current value there (its history starts today), so a fresh install
	// gets a trend wherever the CRM's history reaches.
	starts, err := st.HistoryStarts(ctx, connection)
	if err != nil {
		return sum, err
	}
	crmFrom := crm.HistoryFrom{}
	for _, h := range starts {
		if h.Source == store.HistoryFromCRM {
			crmFrom[crm.HistoryKey(h.Entity, h.Field)] = h.From
		}
	}
	exactFrom := crmFrom.ExactFrom(crm.HistoryAccount, m.HistoryFieldNames(crm.HistoryAccount)...)
	history := newPointReader(ctx, st, connection)
	defer history.stop()

	var batch []store.Score
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := st.InTx(ctx, func(tx *store.Tx) error {
			for _, sc := range batch {
				if err := tx.PutDailyScore(ctx, connection, sc); err != nil {
					return err
				}
			}
			return nil
		})
		batch = batch[:0]
		return err
	}
	err = st.ForEachAccount(ctx, connection, func(b store.Bundle) error {
		points, err := history.take(string(b.Account.ID), now)
		if err != nil {
			return err
		}
		d := scoring.AccountData{Account: b.Account, Contacts: b.Contacts, Opportunities: b.Opportunities, Activities: b.Activities}
		if u, ok := users[b.Account.OwnerID]; ok {
			d.Owner = &u
		}
		if len(points) == 0 {
			// No stored score yet (a fresh install): replay a few past
			// scores from the field history, where it reaches, so the
			// trend and the status page's chart have a past on day one.
			past, err := replayPast(scorer, d, crm.History{Changes: b.History.Changes, From: crmFrom}, now, exactFrom)
			if err != nil {
				return err
			}
			for _, sc := range past {
				batch = append(batch, sc)
				points = append(points, scoring.ScorePoint{At: sc.ScoredAt, Score: *sc.Score})
			}
		}
		r := scorer.Score(d, now, points)
		sc, err := toStoredScore(&r)
		if err != nil {
			return err
		}
		batch = append(batch, sc)
		sum.add(&r)
		if len(batch) >= scoreBatch {
			return flush()
		}
		return nil
	})
	if err != nil {
		return sum, fmt.Errorf("score accounts: %w", err)
	}
	if err := flush(); err != nil {
		return sum, fmt.Errorf("store scores: %w", err)
	}
	return sum, nil
}

var errStopStream = errors.New("stop")

// replayDays are the days before now an account without stored scores is
// scored again from its field history: enough for the trend (30 days
// back) and a short chart, and bounded (four scores per account, once).
var replayDays = []int{30, 21, 14, 7}

// replayPast scores the account as it was on each replay day on or after
// exactFrom (when the field history of every mapped account field is
// known; zero: none is known yet, so nothing is replayed), each from the
// account as of that day, and returns the scores to store as history.
func replayPast(scorer *scoring.Scorer, d scoring.AccountData, h crm.History, now, exactFrom time.Time) ([]store.Score, error) {
	if exactFrom.IsZero() {
		return nil, nil
	}
	var out []store.Score
	var points []scoring.ScorePoint
	for _, days := range replayDays {
		at := now.AddDate(0, 0, -days)
		if at.Before(exactFrom) {
			continue
		}
		r := scorer.Score(scoring.AsOf(d, h, at), at, points)
		if r.Score == nil {
			continue
		}
		sc, err := toStoredScore(&r)
		if err != nil {
			return nil, err
		}
		out = append(out, sc)
		points = append(points, scoring.ScorePoint{At: at, Score: *r.Score})
	}
	return out, nil
}

// scoreStream yields the stored scores in account order; a read failure
// is yielded as an error, never taken for the end of the history (which
// would silently drop every account's trend).
func scoreStream(ctx context.Context, st *store.Store, connection string) iter.Seq2[store.Score, error] {
	return func(yield func(store.Score, error) bool) {
		err := st.ForEachScore(ctx, connection, func(sc store.Score) error {
			if !yield(sc, nil) {
				return errStopStream
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStopStream) {
			yield(store.Score{}, err)
		}
	}
}

func toStoredScore(r *scoring.Result) (store.Score, error) {
	reasons, err := json.Marshal(r.Reasons)
	if err != nil {
		return store.Score{}, fmt.Errorf("encode reasons: %w", err)
	}
	flags, err := json.Marshal(r.Flags)
	if err != nil {
		return store.Score{}, fmt.Errorf("encode flags: %w", err)
	}
	outputs, err := json.Marshal(Outputs(r))
	if err != nil {
		return store.Score{}, fmt.Errorf("encode outputs: %w", err)
	}
	return store.Score{AccountID: string(r.AccountID), ScoredAt: r.At, Score: r.Score, Grade: string(r.Grade),
		Trend: r.Trend, Reasons: reasons, Flags: flags, Outputs: outputs}, nil
}
