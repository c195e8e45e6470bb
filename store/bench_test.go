package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"healthsync/crm"
	"healthsync/store"
	"healthsync/store/storetest"
)

// benchPage is the size of one Salesforce query page, the most a sync
// commits in one transaction.
const benchPage = 2000

// BenchmarkUpsertPage writes full pages of new activities (raw record,
// canonical row and cursor in one transaction, as a sync commits a page)
// and reports records per second on each backend.
func BenchmarkUpsertPage(b *testing.B) {
	backends := []struct {
		name  string
		fresh func(testing.TB) store.Config
	}{
		{"sqlite", func(tb testing.TB) store.Config {
			return store.Config{DatabaseURL: filepath.Join(tb.TempDir(), "hs.db"), EncryptionKey: storetest.Key}
		}},
		{"postgres", storetest.PostgresConfig},
	}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			s := storetest.Open(b, be.fresh(b), store.Options{})
			ctx := context.Background()
			pad := strings.Repeat("x", 400) // raw JSON near the size of a real Task
			t0 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
			page := 0
			b.ResetTimer()
			for b.Loop() {
				page++
				err := s.InTx(ctx, func(tx *store.Tx) error {
					var last string
					for i := 0; i < benchPage; i++ {
						id := fmt.Sprintf("00T%06d%05d", page, i)
						mod := t0.Add(time.Duration(page*benchPage+i) * time.Second)
						raw := fmt.Sprintf(`{"Id":%q,"Subject":"Call","WhatId":"001%05d","Description":%q}`, id, i%500, pad)
						if err := tx.UpsertRaw(ctx, "bench", store.RawRecord{Object: "Task", ID: id, ModifiedAt: mod, Raw: []byte(raw)}); err != nil {
							return err
						}
						a := crm.Activity{ID: crm.ActivityID(id), AccountID: crm.AccountID(fmt.Sprintf("001%05d", i%500)), Subject: "Call", OccurredAt: mod, ModifiedAt: mod}
						if err := tx.UpsertActivity(ctx, "bench", "Task", a); err != nil {
							return err
						}
						last = id
					}
					return tx.SetCursor(ctx, "bench", "Task", store.Cursor{ModifiedAt: t0, LastID: last})
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*benchPage)/b.Elapsed().Seconds(), "rec/s")
		})
	}
}
