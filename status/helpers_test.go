package status_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"healthsync/crm"
	"healthsync/emulator/gen"
	"healthsync/mapping"
	"healthsync/status"
	"healthsync/store"
	"healthsync/store/storetest"
	"healthsync/sync"
)

const conn = "sf"

// bundle is what a status test needs.
type bundle struct {
	store   *store.Store
	mapping *mapping.Mapping
	org     *gen.Org
	now     time.Time
	summary sync.ScoreSummary
}

func genID(prefix string, i int32) string { return fmt.Sprintf("%s%012d", prefix, i) }

func fptr(f float64) *float64 { return &f }

func tptr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// setup fills a fresh SQLite store with a generated org written as
// canonical rows, and scores it three times 30 days apart, so there is a
// score history and a trend.
func setup(t *testing.T, accounts int) *bundle {
	t.Helper()
	return setupWith(t, store.Config{DatabaseURL: "sqlite://" + filepath.Join(t.TempDir(), "hs.db"), EncryptionKey: storetest.Key}, accounts)
}

// former reports whether the generated account had churned by now.
func (b *bundle) former(id string) bool {
	for _, a := range b.org.Accounts {
		if genID("001", a.Index) == id {
			return a.Churned && !a.ChurnedAt.After(b.now)
		}
	}
	return false
}

func setupWith(t *testing.T, cfg store.Config, accounts int) *bundle {
	t.Helper()
	ctx := context.Background()
	org, err := gen.Generate(gen.Options{Seed: 7, Accounts: accounts, NoDeletes: true})
	if err != nil {
		t.Fatal(err)
	}
	st := storetest.Open(t, cfg, store.Options{})
	m, err := mapping.New(crm.Salesforce, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = st.InTx(ctx, func(tx *store.Tx) error {
		for _, u := range org.Users {
			if err := tx.UpsertUser(ctx, conn, crm.User{ID: crm.UserID(genID("005", u.Index)), Name: u.Name(), Email: u.Email, Active: u.Active, ModifiedAt: u.Modified}); err != nil {
				return err
			}
		}
		for _, a := range org.Accounts {
			ca := crm.Account{ID: crm.AccountID(genID("001", a.Index)), Name: a.Name, OwnerID: crm.UserID(genID("005", a.Owner)),
				Industry: a.Industry, Type: a.Type, Segment: a.Segment, ARR: fptr(a.ARR), AnnualRevenue: fptr(a.AnnualRevenue),
				RenewalDate: tptr(a.RenewalDate), CustomerSince: tptr(a.CustomerSince), Churned: a.Churned, ChurnedAt: tptr(a.ChurnedAt),
				ModifiedAt: a.Modified}
			emp := int(a.Employees)
			ca.Employees = &emp
			if a.Licenses > 0 {
				ca.Adoption, ca.AdoptionPrevious = fptr(a.Adoption()), fptr(a.AdoptionPrev)
			}
			switch a.Sentiment {
			case gen.SentimentGreen:
				ca.CSMSentiment = fptr(100)
			case gen.SentimentYellow:
				ca.CSMSentiment = fptr(50)
			case gen.SentimentRed:
				ca.CSMSentiment = fptr(0)
			}
			if a.NPS >= 0 {
				ca.NPS = fptr(float64(a.NPS))
			}
			if err := tx.UpsertAccount(ctx, conn, ca); err != nil {
				return err
			}
		}
		for _, c := range org.Contacts {
			if err := tx.UpsertContact(ctx, conn, crm.Contact{ID: crm.ContactID(genID("003", c.Index)), AccountID: crm.AccountID(genID("001", c.Account)),
				FirstName: c.FirstName, LastName: c.LastName, Title: c.Title, Email: c.Email, Department: c.Department,
				OwnerID: crm.UserID(genID("005", c.Owner)), ModifiedAt: c.Modified}); err != nil {
				return err
			}
		}
		for _, o := range org.Opportunities {
			kind := crm.OpportunityOther
			switch o.Type {
			case gen.TypeRenewal:
				kind = crm.OpportunityRenewal
			case gen.TypeUpsell, gen.TypeCrossSell:
				kind = crm.OpportunityExpansion
			case gen.TypeNewBusiness:
				kind = crm.OpportunityNew
			}
			if err := tx.UpsertOpportunity(ctx, conn, crm.Opportunity{ID: crm.OpportunityID(genID("006", o.Index)), AccountID: crm.AccountID(genID("001", o.Account)),
				Name: o.Name, Stage: o.Stage, Type: o.Type, Kind: kind, Amount: fptr(o.Amount), CloseDate: tptr(o.CloseDate),
				IsClosed: o.Closed, IsWon: o.Won, OwnerID: crm.UserID(genID("005", o.Owner)), CreatedAt: o.Created, ModifiedAt: o.Modified}); err != nil {
				return err
			}
		}
		for _, a := range org.Activities {
			ca := crm.Activity{ID: crm.ActivityID(genID("00T", a.Index)), Kind: crm.ActivityKind(a.Kind.String()), Completed: a.Completed,
				Subject: a.Subject, Status: a.Status, OccurredAt: a.At, AccountID: crm.AccountID(genID("001", a.Account)),
				OwnerID: crm.UserID(genID("005", a.Owner)), EBR: a.EBR, ModifiedAt: a.Modified}
			switch a.Direction {
			case gen.DirectionInbound:
				ca.Direction = crm.DirectionInbound
			case gen.DirectionOutbound:
				ca.Direction = crm.DirectionOutbound
			}
			if a.Contact >= 0 {
				ca.ContactIDs = []crm.ContactID{crm.ContactID(genID("003", a.Contact))}
			}
			if a.Opportunity >= 0 {
				ca.OpportunityID = crm.OpportunityID(genID("006", a.Opportunity))
			}
			if err := tx.UpsertActivity(ctx, conn, "Task", ca); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("fill store: %v", err)
	}
	b := &bundle{store: st, mapping: m, org: org, now: org.Now}
	for _, back := range []int{60, 30, 0} {
		sum, err := sync.NewScorer(sync.ScorerOptions{Store: st, Connection: conn, Mapping: m, Clock: crm.FixedClock(org.Now.AddDate(0, 0, -back))}).ScoreAll(ctx)
		if err != nil {
			t.Fatalf("score: %v", err)
		}
		b.summary = sum
	}
	return b
}

// newServer builds a status server over the bundle's store.
func (b *bundle) newServer(t *testing.T, opts status.Options) *status.Server {
	t.Helper()
	opts.Store, opts.Connection, opts.Mapping = b.store, conn, b.mapping
	if opts.Clock == nil {
		opts.Clock = crm.FixedClock(b.now)
	}
	s, err := status.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
