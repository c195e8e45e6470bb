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
			for _, mode := range []string{"batch", "row"} {
				b.Run(mode, func(b *testing.B) {
					s := storetest.Open(b, be.fresh(b), store.Options{})
					page := 0
					for b.Loop() {
						page++
						if err := s.InTx(context.Background(), func(tx *store.Tx) error { return writePage(tx, page, mode == "batch") }); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(b.N*benchPage)/b.Elapsed().Seconds(), "rec/s")
				})
			}
		})
	}
}

// writePage writes page number n of new Task records as a sync does, in
// one batch or (for comparison) one statement per row.
func writePage(tx *store.Tx, n int, batched bool) error {
	ctx := context.Background()
	pad := strings.Repeat("x", 400) // raw JSON near the size of a real Task
	t0 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	batch := tx.Batch("bench")
	var last string
	for i := 0; i < benchPage; i++ {
		id := fmt.Sprintf("00T%06d%05d", n, i)
		mod := t0.Add(time.Duration(n*benchPage+i) * time.Second)
		r := store.RawRecord{Object: "Task", ID: id, ModifiedAt: mod,
			Raw: []byte(`{"Id":"` + id + `","Subject":"Call","WhatId":"` + fmt.Sprintf("001%05d", i%500) + `","Description":"` + pad + `"}`)}
		a := crm.Activity{ID: crm.ActivityID(id), AccountID: crm.AccountID(fmt.Sprintf("001%05d", i%500)), Subject: "Call", OccurredAt: mod, ModifiedAt: mod}
		if batched {
			batch.UpsertRaw(r)
			batch.UpsertActivity("Task", a)
		} else {
			if err := tx.UpsertRaw(ctx, "bench", r); err != nil {
				return err
			}
			if err := tx.UpsertActivity(ctx, "bench", "Task", a); err != nil {
				return err
			}
		}
		last = id
	}
	if err := batch.Flush(ctx); err != nil {
		return err
	}
	return tx.SetCursor(ctx, "bench", "Task", store.Cursor{ModifiedAt: t0, LastID: last})
}
