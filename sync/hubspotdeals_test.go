package sync_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"healthsync/crm"
	"healthsync/emulator/gen"
	emuhubspot "healthsync/emulator/hubspot"
	"healthsync/internal/testkit"
	"healthsync/mapping"
	"healthsync/scoring"
	"healthsync/store"
	"healthsync/store/storetest"
	hsync "healthsync/sync"
)

// TestHubSpotDealsBelongToTheirCompany: after a HubSpot sync every
// generated deal is stored as an opportunity of the generator's company
// (HubSpot's search returns no associations; the deal's company comes
// from the v4 association read), so the report's renewals over the past
// year are the generator's own: the accounts with a renewal closing in
// the year, and those whose latest one closed won.
func TestHubSpotDealsBelongToTheirCompany(t *testing.T) {
	t.Parallel()
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			now := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
			o, err := gen.Generate(gen.Options{Seed: 11, Accounts: 60, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			clock := testkit.NewClock(now)
			em := emuhubspot.New(emuhubspot.Options{Clock: clock, RateLimits: emuhubspot.RateLimits{Disabled: true}})
			ids, err := em.LoadOrg(o)
			if err != nil {
				t.Fatal(err)
			}
			hc := serveHubSpot(t, em)
			// The generated portal tells renewals by its deal_category
			// dropdown, as the demo's mapping says.
			m, err := mapping.Parse("deals.yaml", []byte("crm: {system: hubspot}\nfields:\n  opportunity:\n    record_type: deal_category\n"+
				"classify:\n  opportunities:\n    renewal: {record_types: [renewal]}\n"), mapping.Options{})
			if err != nil {
				t.Fatal(err)
			}
			st := storetest.Open(t, be.fresh(t), store.Options{})
			syncOnce := func() *hsync.Report { return syncHubSpot(t, ctx, hc, st, m, clock) }
			syncOnce()

			p := scoring.Period{From: now.AddDate(-1, 0, 0), To: now}
			b, err := scoring.NewPortfolioBuilder(m.Config().Scoring, p, now)
			if err != nil {
				t.Fatal(err)
			}
			accountOf := map[string]string{} // stored opportunity → account
			if err := st.ForEachAccount(ctx, "default", func(bd store.Bundle) error {
				for _, op := range bd.Opportunities {
					accountOf[string(op.ID)] = string(op.AccountID)
				}
				b.AddAsOf(bd.Account, bd.History, bd.Opportunities, scoring.Result{})
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			k := b.KPIs()

			// From the generator: every live deal of a live company belongs to
			// it; renewals due and won in the year.
			checked, due, won := 0, 0, 0
			latest := map[int32]gen.Opportunity{}
			dueAcc := map[int32]bool{}
			for i, op := range o.Opportunities {
				a := o.Accounts[op.Account]
				if op.Deleted || a.Deleted {
					continue
				}
				deal, company := strconv.FormatInt(ids.Deals[i], 10), strconv.FormatInt(ids.Companies[op.Account], 10)
				got, ok := accountOf[deal]
				switch {
				case !ok:
					t.Errorf("generated deal %s (%s) is not stored as an opportunity of any account", deal, op.Name)
				case got != company:
					t.Errorf("deal %s (%s) is stored under account %q, want the generator's company %s", deal, op.Name, got, company)
				}
				checked++
				if op.Type != gen.TypeRenewal || op.CloseDate.Before(p.From) || !op.CloseDate.Before(p.To) {
					continue
				}
				dueAcc[op.Account] = true
				if l, ok := latest[op.Account]; op.Closed && (!ok || op.CloseDate.After(l.CloseDate)) {
					latest[op.Account] = op
				}
			}
			due = len(dueAcc)
			for _, l := range latest {
				if l.Won {
					won++
				}
			}
			if checked == 0 || won == 0 {
				t.Fatalf("the generated portal has %d live deals and %d won renewals in the year: too few to tell", checked, won)
			}
			if k.RenewalsDue != due || k.RenewalsWon != won {
				t.Errorf("report: %d renewals due, %d won in the year; the generator says %d due, %d won", k.RenewalsDue, k.RenewalsWon, due, won)
			}

			// A deal moved to another company in HubSpot keeps its modified
			// date: the next day's association sweep stores that deal alone
			// under its new company.
			var deal, from string
			for i, op := range o.Opportunities {
				if !op.Deleted && !o.Accounts[op.Account].Deleted {
					deal, from = strconv.FormatInt(ids.Deals[i], 10), strconv.FormatInt(ids.Companies[op.Account], 10)
					break
				}
			}
			to := ""
			for i, a := range o.Accounts {
				if id := strconv.FormatInt(ids.Companies[i], 10); !a.Deleted && id != from {
					to = id
					break
				}
			}
			if err := em.Unassociate("deals", deal, "companies", from); err != nil {
				t.Fatal(err)
			}
			if err := em.Associate("deals", deal, "companies", to); err != nil {
				t.Fatal(err)
			}
			storedAccount := func() string {
				t.Helper()
				var at []string
				if err := st.ForEachAccount(ctx, "default", func(bd store.Bundle) error {
					for _, op := range bd.Opportunities {
						if op.ID == crm.OpportunityID(deal) {
							at = append(at, string(op.AccountID))
						}
					}
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				if len(at) != 1 {
					t.Fatalf("deal %s is stored under %d accounts %v, want one", deal, len(at), at)
				}
				return at[0]
			}
			clock.Add(time.Hour)
			syncOnce()
			if got := storedAccount(); got != from {
				t.Fatalf("deal %s is stored under %s before any sweep, want still %s: the test needs a move the pull cannot see", deal, got, from)
			}
			clock.Add(24 * time.Hour)
			rep := syncOnce()
			if got := storedAccount(); got != to {
				t.Errorf("after the sweep deal %s is stored under account %q, want %s", deal, got, to)
			}
			for _, or := range rep.Objects {
				if or.Object == "deals" && or.Counts.Changed+or.Counts.New != 1 {
					t.Errorf("the sweep stored %d deals, want only the moved one", or.Counts.Changed+or.Counts.New)
				}
			}

			// A store written before deals' companies were read has no sweep
			// of deals recorded: its next sync sweeps them at once, not a day
			// later, so the deals it holds without a company gain it.
			if err := em.Unassociate("deals", deal, "companies", to); err != nil {
				t.Fatal(err)
			}
			if err := em.Associate("deals", deal, "companies", from); err != nil {
				t.Fatal(err)
			}
			if err := st.InTx(ctx, func(tx *store.Tx) error {
				return tx.SetState(ctx, "default", "associations_swept_at:deals", "")
			}); err != nil {
				t.Fatal(err)
			}
			clock.Add(time.Hour)
			syncOnce()
			if got := storedAccount(); got != from {
				t.Errorf("a store with no sweep of deals recorded did not sweep them at its next sync: deal %s is stored under %q, want %s", deal, got, from)
			}
		})
	}
}
