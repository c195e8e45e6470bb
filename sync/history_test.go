package sync_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"healthsync/connector/salesforce"
	"healthsync/crm"
	emusalesforce "healthsync/emulator/salesforce"
	"healthsync/scoring"
	"healthsync/store"
	"healthsync/store/storetest"
	hsync "healthsync/sync"
)

// TestBacktestCannotSeeTheFuture: after a first sync (which backfills the
// org's field history), changing today's values of every input a score
// reads (adoption, sentiment, ARR, renewal date) and syncing again leaves
// every past score and the AUC exactly as they were; the changes are
// recorded as history, and an unchanged third sync costs no more calls
// than a sync of an org without history.
func TestBacktestCannotSeeTheFuture(t *testing.T) {
	t.Parallel()
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			em := emusalesforce.New(emusalesforce.Options{})
			if err := em.LoadOrg(org(t, 60)); err != nil {
				t.Fatal(err)
			}
			sc := serveSalesforce(t, em)
			c, err := salesforce.Open(ctx, sc, salesforce.Deps{Connection: "default"})
			if err != nil {
				t.Fatal(err)
			}
			m := wbMapping(t, "")
			st := storetest.Open(t, be.fresh(t), store.Options{})
			eng := hsync.NewEngine(hsync.EngineOptions{Store: st, Source: c, Mapping: m, Config: hsync.Config{Connection: "default", ReconcileEvery: time.Hour}})
			rep, err := eng.Sync(ctx, hsync.SyncOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var backfilled int
			for _, o := range rep.Objects {
				if o.History != nil {
					backfilled += o.History.Changes
				}
			}
			if backfilled == 0 {
				t.Fatalf("the first sync backfilled no history: %+v", rep.Objects)
			}
			scorer, err := scoring.NewScorer(m.Config().Scoring)
			if err != nil {
				t.Fatal(err)
			}
			now := crm.SystemClock{}.Now()
			w := hsync.BacktestWindow{Start: now.AddDate(0, -12, 0), Now: now, Step: 30 * 24 * time.Hour}
			run := func() (map[string]float64, *float64) {
				accs, err := hsync.BacktestAccounts(ctx, st, "default", scorer, w)
				if err != nil {
					t.Fatal(err)
				}
				scores := map[string]float64{}
				for _, a := range accs {
					for _, p := range a.Scores {
						scores[fmt.Sprintf("%s@%s", a.AccountID, p.At.Format(time.DateOnly))] = p.Score
					}
				}
				res, err := scoring.Backtest(accs, scoring.BacktestOptions{LeadDays: 30, Grades: m.Config().Scoring.Grades})
				if err != nil {
					t.Fatal(err)
				}
				return scores, res.AUC
			}
			before, aucBefore := run()
			if aucBefore == nil || len(before) < 100 {
				t.Fatalf("backtest before: AUC %v over %d scores; the org is too small to tell", aucBefore, len(before))
			}
			// score --as-of reproduces the backtest's past scores, with reasons.
			past := w.Start.Add(4 * w.Step)
			asOf := func() map[string]string {
				out := map[string]string{}
				_, err := hsync.NewScorer(hsync.ScorerOptions{Store: st, Connection: "default", Mapping: m}).ScoreAsOf(ctx, past, func(r hsync.PastResult) error {
					if r.Score != nil {
						out[string(r.AccountID)] = fmt.Sprintf("%v %s %q", *r.Score, r.Grade, r.Reasons)
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				return out
			}
			pastBefore := asOf()
			for id, line := range pastBefore {
				if v, ok := before[id+"@"+past.Format(time.DateOnly)]; !ok || !strings.HasPrefix(line, fmt.Sprint(v)+" ") {
					t.Errorf("score --as-of %s of %s is %s; the backtest scored it %v (found %v)", past.Format(time.DateOnly), id, line, v, ok)
				}
			}
			if len(pastBefore) < 10 {
				t.Fatalf("only %d accounts scored as of %s", len(pastBefore), past)
			}
			time.Sleep(5 * time.Millisecond) // the changes are stamped after every past date
			ids := em.IDs("Account", false)
			far := time.Now().AddDate(2, 0, 0).Format(time.DateOnly)
			for i, id := range ids {
				for f, v := range map[string]any{"Adoption__c": float64(i % 100), "CSM_Sentiment__c": []string{"Red", "Green", "Yellow"}[i%3],
					"ARR__c": float64(1000 * (i + 1)), "Renewal_Date__c": far} {
					if err := em.SetField("Account", id, f, v); err != nil {
						t.Fatalf("set %s of %s: %v", f, id, err)
					}
				}
			}
			if _, err := eng.Sync(ctx, hsync.SyncOptions{}); err != nil {
				t.Fatal(err)
			}
			after, aucAfter := run()
			if len(after) != len(before) {
				t.Errorf("%d past scores after the change, %d before", len(after), len(before))
			}
			for k, v := range before {
				if after[k] != v {
					t.Errorf("past score %s changed from %v to %v when today's values changed", k, v, after[k])
				}
			}
			if *aucAfter != *aucBefore {
				t.Errorf("AUC moved from %v to %v when today's values changed", *aucBefore, *aucAfter)
			}
			for id, line := range asOf() {
				if pastBefore[id] != line {
					t.Errorf("score --as-of %s of %s changed from %s to %s when today's values changed", past.Format(time.DateOnly), id, pastBefore[id], line)
				}
			}
			// The changes were recorded: as of a minute ago ARR is what it was.
			hist, err := st.RecordHistory(ctx, "default", crm.HistoryAccount, ids[0])
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, h := range hist {
				if h.Until.After(now) {
					seen[h.Field] = true
				}
			}
			for _, f := range []string{crm.FieldAdoption, crm.FieldARR, crm.FieldCSMSentiment, crm.FieldRenewalDate} {
				if !seen[f] {
					t.Errorf("the change of %s of %s is not in its history: %+v", f, ids[0], hist)
				}
			}
			// Settled: an unchanged sync makes no history call.
			rep3, err := eng.Sync(ctx, hsync.SyncOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range rep3.Objects {
				if o.History != nil {
					t.Errorf("an unchanged sync read history of %s: %+v", o.Object, o.History)
				}
			}
			t.Logf("%s: AUC %.3f over %d past scores; backfill gave %d changes", be.name, *aucBefore, len(before), backfilled)
		})
	}
}
