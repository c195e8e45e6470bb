package scoring

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"healthsync/crm"
)

const propertyCases = 1500

func TestPropertyScoreWithinRange(t *testing.T) {
	t.Parallel()
	s := newScorer(t, DefaultConfig())
	rng := rand.New(rand.NewPCG(1, 2))
	scored := 0
	for i := range propertyCases {
		d := genAccount(rng, i, rng.IntN(8), rng.IntN(60), now)
		r := s.Score(d, now, nil)
		for _, me := range r.Measures {
			if me.HasData && (me.Value < 0 || me.Value > 100 || math.IsNaN(me.Value)) {
				t.Fatalf("account %d: measure %s = %v", i, me.Name, me.Value)
			}
		}
		if r.Score == nil {
			if r.NoScoreReason == "" {
				t.Fatalf("account %d: no score and no reason", i)
			}
			continue
		}
		scored++
		if *r.Score < 0 || *r.Score > 100 || math.IsNaN(*r.Score) {
			t.Fatalf("account %d: score %v", i, *r.Score)
		}
		if len(r.Reasons) == 0 || len(r.Reasons) > 3 {
			t.Fatalf("account %d: reasons %q", i, r.Reasons)
		}
	}
	if scored < propertyCases/2 {
		t.Errorf("only %d of %d accounts scored: the generator is too thin to test anything", scored, propertyCases)
	}
}

// Adding a positive signal (an inbound meeting with an executive, an
// inbound email from a user) never lowers the score of an account whose
// relationships have data. (The first activity ever logged can lower it:
// before it the relationship measures had no data and did not count.)
func TestPropertyPositiveSignalNeverLowersScore(t *testing.T) {
	t.Parallel()
	s := newScorer(t, DefaultConfig())
	rng := rand.New(rand.NewPCG(3, 4))
	raised, checked := 0, 0
	for i := range propertyCases {
		d := genAccount(rng, i, 1+rng.IntN(8), rng.IntN(60), now)
		before := s.Score(d, now, nil)
		if before.Score == nil || before.Metrics.Activities == 0 {
			continue
		}
		for _, role := range before.Contacts {
			at := now.Add(-time.Duration(rng.Int64N(int64(120 * 24 * time.Hour))))
			var extra crm.Activity
			if role.Role == RoleExecutive {
				extra = crm.Activity{ID: "NEW", Kind: crm.ActivityMeeting, Direction: crm.DirectionInbound, Completed: true, OccurredAt: at, ContactIDs: []crm.ContactID{role.ContactID}}
			} else {
				extra = crm.Activity{ID: "NEW", Kind: crm.ActivityEmail, Direction: crm.DirectionInbound, Completed: true, OccurredAt: at, ContactIDs: []crm.ContactID{role.ContactID}}
			}
			d2 := d
			d2.Activities = append(append([]crm.Activity(nil), d.Activities...), extra)
			after := s.Score(d2, now, nil)
			checked++
			if after.Score == nil || *after.Score < *before.Score {
				t.Fatalf("account %d: adding an inbound %s with %s (%s) moved the score %v → %v",
					i, extra.Kind, role.Name, role.Role, *before.Score, deref(after.Score))
			}
			if *after.Score > *before.Score {
				raised++
			}
		}
	}
	if checked == 0 || raised == 0 {
		t.Errorf("checked %d, raised %d: the property was never exercised", checked, raised)
	}
}

// Scaling every weight by the same constant leaves every score unchanged.
func TestPropertyWeightsScaleInvariant(t *testing.T) {
	t.Parallel()
	base := DefaultConfig()
	s := newScorer(t, base)
	rng := rand.New(rand.NewPCG(5, 6))
	for _, k := range []float64{0.001, 0.37, 3, 1000} {
		cfg := base
		w := &cfg.Weights
		w.RelationshipBreadth *= k
		w.RelationshipDepth *= k
		w.EngagementRecency *= k
		w.ExecutiveEngagement *= k
		w.Adoption *= k
		w.Sentiment *= k
		w.RenewalRisk *= k
		scaled := newScorer(t, cfg)
		for i := range propertyCases / 4 {
			d := genAccount(rng, i, rng.IntN(8), rng.IntN(60), now)
			a, b := s.Score(d, now, nil), scaled.Score(d, now, nil)
			if (a.Score == nil) != (b.Score == nil) {
				t.Fatalf("k=%v account %d: scored %v vs %v", k, i, deref(a.Score), deref(b.Score))
			}
			// Scores are whole numbers: the sums before rounding agree,
			// and a sum on a .5 boundary may round either way.
			if a.Score != nil && (math.Abs(rawScore(a)-rawScore(b)) > 1e-9 || math.Abs(*a.Score-*b.Score) > 1) {
				t.Fatalf("k=%v account %d: score %v (%v) vs %v (%v)", k, i, *a.Score, rawScore(a), *b.Score, rawScore(b))
			}
		}
	}
}

// rawScore is the score before rounding: the share-weighted mean of the
// measures with data.
func rawScore(r Result) float64 {
	sum := 0.0
	for _, me := range r.Measures {
		sum += me.Share * me.Value
	}
	return sum
}
