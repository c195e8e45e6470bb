package gen

import (
	"reflect"
	"testing"
	"time"
)

// oppValue is what the generated opportunity holds today for c's field.
func oppValue(org *Org, c Change) any {
	op := org.Opportunities[c.Opportunity]
	switch c.Field {
	case FieldStage:
		return op.Stage
	case FieldAmount:
		return op.Amount
	case FieldCloseDate:
		return op.CloseDate
	}
	return "?"
}

func accountValue(a Account, f Field) any {
	switch f {
	case FieldARR:
		return a.ARR
	case FieldAdoption:
		return a.Adoption()
	case FieldAdoptionPrev:
		return a.AdoptionPrev
	case FieldSentiment:
		if a.Sentiment == "" {
			return nil
		}
		return a.Sentiment
	case FieldNPS:
		if a.NPS < 0 {
			return nil
		}
		return float64(a.NPS)
	case FieldRenewalDate:
		return nilDate(a.RenewalDate)
	case FieldChurned:
		return a.Churned
	case FieldType:
		return a.Type
	}
	return "?"
}

// valueAt replays hist and returns the value of (opp, f) just after t
// (before any change: the oldest change's Old).
func valueAt(hist []Change, opp int32, f Field, t time.Time) (any, bool) {
	var v any
	found := false
	for _, c := range hist {
		if c.Opportunity != opp || c.Field != f {
			continue
		}
		if !found {
			v, found = c.Old, true
		}
		if c.At.After(t) {
			break
		}
		v = c.New
	}
	return v, found
}

// TestHistoryConsistent checks every generated history: changes are in
// time order within the window, each change starts from the value the
// previous one left, nothing "changes" to the same value, and the newest
// change of each field equals today's value of the record.
func TestHistoryConsistent(t *testing.T) {
	t.Parallel()
	org, err := Generate(Options{Seed: 5, Accounts: 1500})
	if err != nil {
		t.Fatal(err)
	}
	if !org.HistoryFrom.Equal(org.Now.AddDate(0, -18, 0)) {
		t.Fatalf("HistoryFrom %v, want 18 months before %v", org.HistoryFrom, org.Now)
	}
	type key struct {
		opp int32
		f   Field
	}
	var total, oppChanges int
	fields := map[Field]int{}
	for i, a := range org.Accounts {
		hist := org.History(i)
		total += len(hist)
		last := map[key]Change{}
		var prev time.Time
		for _, c := range hist {
			if c.At.Before(prev) || c.At.Before(org.HistoryFrom) || c.At.After(org.Now) {
				t.Fatalf("account %d: change %+v out of order or outside [%v, %v]", i, c, org.HistoryFrom, org.Now)
			}
			prev = c.At
			if equalValue(c.Old, c.New) {
				t.Fatalf("account %d: change %+v changes nothing", i, c)
			}
			k := key{c.Opportunity, c.Field}
			if l, ok := last[k]; ok && !equalValue(l.New, c.Old) {
				t.Fatalf("account %d: change %+v does not start from %v", i, c, l.New)
			}
			last[k] = c
			fields[c.Field]++
			if c.Opportunity >= 0 {
				oppChanges++
				if org.Opportunities[c.Opportunity].Account != a.Index {
					t.Fatalf("account %d: change of another account's opportunity %+v", i, c)
				}
			}
		}
		for k, c := range last {
			var want any
			if k.opp >= 0 {
				want = oppValue(org, c)
			} else {
				want = accountValue(a, k.f)
			}
			if !equalValue(c.New, want) {
				t.Fatalf("account %d: newest %v change %+v, today's value %v", i, k.f, c, want)
			}
		}
	}
	per := float64(total) / float64(len(org.Accounts))
	if per < 6 || per > 30 {
		t.Errorf("%.1f changes per account: want a history that moves but stays cheap", per)
	}
	for _, f := range []Field{FieldARR, FieldAdoption, FieldAdoptionPrev, FieldSentiment, FieldNPS, FieldRenewalDate, FieldChurned, FieldType, FieldStage, FieldAmount, FieldCloseDate} {
		if fields[f] == 0 {
			t.Errorf("no change of %v in 1,500 accounts", f)
		}
	}
	t.Logf("%.1f changes per account (%d of opportunities)", per, oppChanges)
}

// TestHistoryShowsTheDecline checks that the history tells the story a
// backtest needs: churned accounts' adoption falls and their sentiment
// turns red before the churn, and declining accounts' adoption was higher
// before the decline than now.
func TestHistoryShowsTheDecline(t *testing.T) {
	t.Parallel()
	org, err := Generate(Options{Seed: 9, Accounts: 3000})
	if err != nil {
		t.Fatal(err)
	}
	var churned, fell, red, declining, wasHigher int
	for i, a := range org.Accounts {
		hist := org.History(i)
		switch {
		case a.Churned && a.ChurnedAt.After(org.HistoryFrom.AddDate(0, 6, 0)):
			churned++
			before, _ := valueAt(hist, -1, FieldAdoption, a.ChurnedAt.AddDate(0, -5, 0))
			just, _ := valueAt(hist, -1, FieldAdoption, a.ChurnedAt.Add(-time.Hour))
			if b, ok := before.(float64); ok {
				if j, ok := just.(float64); ok && j < b {
					fell++
				}
			}
			if s, _ := valueAt(hist, -1, FieldSentiment, a.ChurnedAt.Add(-time.Hour)); s == SentimentRed {
				red++
			}
			if after, _ := valueAt(hist, -1, FieldChurned, a.ChurnedAt.Add(time.Hour*11)); after != true {
				t.Fatalf("account %d churned at %v but Churned is %v after", i, a.ChurnedAt, after)
			}
			if b, _ := valueAt(hist, -1, FieldChurned, a.ChurnedAt.Add(-time.Hour)); b != false {
				t.Fatalf("account %d: Churned %v before its churn", i, b)
			}
		case a.Declining && !a.Churned && a.DeclineStart.After(org.HistoryFrom.AddDate(0, 4, 0)):
			declining++
			before, _ := valueAt(hist, -1, FieldAdoption, a.DeclineStart.AddDate(0, 0, -1))
			if b, ok := before.(float64); ok && b > a.Adoption() {
				wasHigher++
			}
		}
	}
	if churned < 30 || declining < 30 {
		t.Fatalf("churned %d declining %d in the window: too few to judge", churned, declining)
	}
	if fell < churned*9/10 || red < churned*9/10 {
		t.Errorf("of %d churned accounts adoption fell before the churn in %d and sentiment was red in %d", churned, fell, red)
	}
	if wasHigher < declining*8/10 {
		t.Errorf("of %d declining accounts %d had higher adoption before the decline", declining, wasHigher)
	}
}

// TestHistoryStreamAndOff checks that Stream yields the history
// Org.History computes, and that NoHistory leaves everything else alone.
func TestHistoryStreamAndOff(t *testing.T) {
	t.Parallel()
	opts := Options{Seed: 3, Accounts: 200}
	org, err := Generate(opts)
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	err = Stream(opts, func(b *Bundle) error {
		if want := org.History(i); !reflect.DeepEqual(b.History, want) || !b.HistoryFrom.Equal(org.HistoryFrom) {
			t.Fatalf("account %d: stream history differs from Org.History", i)
		}
		i++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	opts.NoHistory = true
	off, err := Generate(opts)
	if err != nil {
		t.Fatal(err)
	}
	if off.History(0) != nil || !off.HistoryFrom.IsZero() {
		t.Fatal("NoHistory still gives history")
	}
	if !reflect.DeepEqual(off.Accounts, org.Accounts) || !reflect.DeepEqual(off.Activities, org.Activities) || !reflect.DeepEqual(off.Opportunities, org.Opportunities) {
		t.Fatal("NoHistory changed the org")
	}
	_ = Stream(opts, func(b *Bundle) error {
		if b.History != nil {
			t.Fatal("NoHistory stream gives history")
		}
		return nil
	})
}
