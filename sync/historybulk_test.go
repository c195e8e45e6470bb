package sync_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"healthsync/connector/salesforce"
	"healthsync/crm"
	emusalesforce "healthsync/emulator/salesforce"
	"healthsync/store"
	"healthsync/store/storetest"
	hsync "healthsync/sync"
)

// TestHistoryBackfillBulkEqualsREST: the Salesforce backfill reads
// AccountHistory and OpportunityFieldHistory with REST query pages, or
// with one Bulk API 2.0 query job each when the first page says more rows
// are pending than HEALTHSYNC_SALESFORCE_BULK_THRESHOLD. Both paths, over
// the same emulated org (a generated org whose history spans several REST
// pages of 2,000 rows), store the same field history: every change of
// every account and opportunity with its value and time, and the same
// history starts. Bulk CSV holds every value as text, so this checks that
// the Bulk path types numbers, dates and empty values as REST JSON does.
func TestHistoryBackfillBulkEqualsREST(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	em := emusalesforce.New(emusalesforce.Options{})
	if err := em.LoadOrg(org(t, 150)); err != nil {
		t.Fatal(err)
	}
	// Record the SOQL of every Bulk query job the connector creates.
	var mu stdsync.Mutex
	var jobs []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/jobs/query") {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			var job struct{ Query string }
			_ = json.Unmarshal(body, &job)
			mu.Lock()
			jobs = append(jobs, job.Query)
			mu.Unlock()
		}
		em.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	m := wbMapping(t, "")

	backfill := func(threshold int) (map[string][]crm.FieldChange, []store.HistoryStart, *hsync.Report) {
		sc := salesforceConfig(t, em, srv.URL)
		sc.BulkThreshold = threshold
		c, err := salesforce.Open(ctx, sc, salesforce.Deps{Connection: "default"})
		if err != nil {
			t.Fatal(err)
		}
		st := storetest.Open(t, store.Config{DatabaseURL: filepath.Join(t.TempDir(), "hs.db"), EncryptionKey: storetest.Key}, store.Options{})
		rep, err := hsync.NewEngine(hsync.EngineOptions{Store: st, Source: c, Mapping: m, Config: hsync.Config{Connection: "default", ReconcileEvery: time.Hour}}).Sync(ctx, hsync.SyncOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]crm.FieldChange{}
		if err := st.ForEachAccount(ctx, "default", func(b store.Bundle) error {
			out[string(b.Account.ID)] = b.History.Changes
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		starts, err := st.HistoryStarts(ctx, "default")
		if err != nil {
			t.Fatal(err)
		}
		return out, starts, rep
	}
	bulkJobs := func() (acct, opp int) {
		mu.Lock()
		defer mu.Unlock()
		for _, q := range jobs {
			switch {
			case strings.Contains(q, "FROM AccountHistory"):
				acct++
			case strings.Contains(q, "FROM OpportunityFieldHistory"):
				opp++
			}
		}
		return acct, opp
	}

	rest, restStarts, restRep := backfill(1 << 30)
	if a, o := bulkJobs(); a+o != 0 {
		t.Fatalf("the REST run made %d + %d Bulk history jobs", a, o)
	}
	bulk, bulkStarts, bulkRep := backfill(100)
	if a, o := bulkJobs(); a != 1 || o != 1 {
		t.Fatalf("the Bulk run made %d AccountHistory and %d OpportunityFieldHistory Bulk jobs; want one each", a, o)
	}

	var restChanges, rows int
	for id, want := range rest {
		restChanges += len(want)
		got := bulk[id]
		if len(got) != len(want) {
			t.Errorf("account %s: %d changes from Bulk, %d from REST", id, len(got), len(want))
			continue
		}
		for i := range want {
			w, g := want[i], got[i]
			if w.Entity != g.Entity || w.RecordID != g.RecordID || w.Field != g.Field || !w.Until.Equal(g.Until) || !crm.SameValue(w.Value, g.Value) {
				t.Errorf("account %s change %d: Bulk %s %s %s until %s = %s; REST %s %s %s until %s = %s", id, i,
					g.Entity, g.RecordID, g.Field, g.Until.Format(time.RFC3339Nano), g.Value, w.Entity, w.RecordID, w.Field, w.Until.Format(time.RFC3339Nano), w.Value)
				break
			}
		}
	}
	if len(bulk) != len(rest) {
		t.Errorf("%d accounts from Bulk, %d from REST", len(bulk), len(rest))
	}
	// The starts from the CRM's history are equal; fields the CRM keeps
	// no history of start at each run's own first sync.
	startsOf := func(hs []store.HistoryStart) string {
		var b strings.Builder
		for _, h := range hs {
			if h.Source == store.HistoryFromCRM {
				fmt.Fprintf(&b, "%s.%s from %s; ", h.Entity, h.Field, h.From.Format(time.RFC3339Nano))
			} else {
				fmt.Fprintf(&b, "%s.%s from the first sync; ", h.Entity, h.Field)
			}
		}
		return b.String()
	}
	if startsOf(bulkStarts) != startsOf(restStarts) || !strings.Contains(startsOf(restStarts), "account.arr from 20") {
		t.Errorf("history starts:\nBulk %s\nREST %s", startsOf(bulkStarts), startsOf(restStarts))
	}
	for _, r := range []*hsync.Report{restRep, bulkRep} {
		for _, o := range r.Objects {
			if o.History != nil {
				rows += o.History.Changes
			}
		}
	}
	if restChanges < 2000 {
		t.Fatalf("only %d changes: the org's history fits one REST page, too small to compare the paths", restChanges)
	}
	if restRep.Problem != 0 || bulkRep.Problem != 0 {
		t.Errorf("problems: Bulk %d, REST %d; the generated org's history is clean", bulkRep.Problem, restRep.Problem)
	}
	t.Logf("%d accounts, %d stored changes each way (%d reported over both runs); API calls REST %d, Bulk %d", len(rest), restChanges, rows, restRep.APICalls, bulkRep.APICalls)
}
