package status_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"healthsync/connector"
	"healthsync/scoring"
	"healthsync/status"
	"healthsync/store"
	"healthsync/sync"
)

// scrape GETs /metrics and parses it with the Prometheus text parser.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	code, body := get(t, h, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics = %d: %s", code, body)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// value finds the sample of family name whose labels include want.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		t.Fatalf("metric %s missing", name)
	}
	for _, m := range f.Metric {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range want {
			if labels[k] != v {
				match = false
			}
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	t.Fatalf("metric %s has no sample with labels %v", name, want)
	return 0
}

func TestMetricsScrape(t *testing.T) {
	t.Parallel()
	b := setup(t, 40)
	ctx := context.Background()
	m := status.NewMetrics()
	srv := b.newServer(t, status.Options{Metrics: m})

	// A sync report as the engine builds it, twice (counters add up).
	rep := &sync.Report{RunID: 1, APICalls: 12, Duration: 3 * time.Second, Status: store.RunOK, Problem: 2,
		Objects: []*sync.ObjectReport{
			{Object: "Account", Counts: store.ObjectCounts{New: 40, Changed: 3}},
			{Object: "Contact", Counts: store.ObjectCounts{New: 150, Deleted: 4, Problems: 2}},
		}}
	m.ObserveSync(conn, rep)
	m.ObserveSync(conn, &sync.Report{APICalls: 5, Duration: 2 * time.Minute, Status: store.RunFailed,
		Objects: []*sync.ObjectReport{{Object: "Account", Counts: store.ObjectCounts{Changed: 1}}}})
	m.ObserveSync(conn, nil)
	m.ObserveScore(conn, b.summary)
	m.ObserveApply(conn, &sync.ApplyReport{Records: 30, Fields: 90, WriteCalls: 2, TasksCreated: 5, TasksClosed: 1,
		Failures: []sync.RecordFailure{{}, {}, {}}, APICalls: 9})
	m.ObserveBudget(conn, connector.Usage{Calls: 26, RunCalls: 9, DailyUsed: 1200, DailyLimit: 15000})
	m.ObserveError("sync")
	m.ObserveError("sync")
	m.ObserveError("auth")

	// The last complete pull gives the sync lag at scrape time, not the
	// newest change stored: accounts nobody edited for a month, pulled 90
	// seconds ago, are 90 seconds behind.
	if err := b.store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.SetCursor(ctx, conn, "Account", store.Cursor{ModifiedAt: b.now.Add(-30 * 24 * time.Hour), LastID: "001x"}); err != nil {
			return err
		}
		return tx.MarkPulled(ctx, conn, "Account", b.now.Add(-90*time.Second))
	}); err != nil {
		t.Fatal(err)
	}

	fams := scrape(t, srv)
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{status.MetricRecordsSynced, map[string]string{"connection": conn, "object": "Account", "change": "new"}, 40},
		{status.MetricRecordsSynced, map[string]string{"object": "Account", "change": "changed"}, 4},
		{status.MetricRecordsSynced, map[string]string{"object": "Contact", "change": "deleted"}, 4},
		{status.MetricRecordProblems, map[string]string{"stage": "sync"}, 2},
		{status.MetricRecordProblems, map[string]string{"stage": "writeback"}, 3},
		{status.MetricSyncLag, map[string]string{"object": "Account"}, 90},
		{status.MetricRunDuration, map[string]string{"kind": "sync"}, 2}, // sample count
		{status.MetricRuns, map[string]string{"kind": "sync", "status": "ok"}, 1},
		{status.MetricRuns, map[string]string{"kind": "sync", "status": "failed"}, 1},
		{status.MetricRunAPICalls, map[string]string{"kind": "sync"}, 5},
		{status.MetricRunAPICalls, map[string]string{"kind": "apply"}, 9},
		{status.MetricAPICalls, map[string]string{"connection": conn}, 26},
		{status.MetricAPIBudgetLeft, map[string]string{"connection": conn}, 13800},
		{status.MetricAPIDailyLimit, map[string]string{"connection": conn}, 15000},
		{status.MetricWriteCalls, map[string]string{"connection": conn}, 2},
		{status.MetricRecordsWritten, map[string]string{"connection": conn}, 30},
		{status.MetricTasksCreated, map[string]string{"connection": conn}, 5},
		{status.MetricTasksClosed, map[string]string{"connection": conn}, 1},
		{status.MetricErrors, map[string]string{"kind": "sync"}, 2},
		{status.MetricErrors, map[string]string{"kind": "auth"}, 1},
		{status.MetricScores, map[string]string{"grade": "green"}, float64(b.summary.Grades[scoring.GradeGreen])},
		{status.MetricScores, map[string]string{"grade": "yellow"}, float64(b.summary.Grades[scoring.GradeYellow])},
		{status.MetricScores, map[string]string{"grade": "red"}, float64(b.summary.Grades[scoring.GradeRed])},
		{status.MetricScores, map[string]string{"grade": "none"}, float64(b.summary.Grades[""])},
	}
	for _, c := range checks {
		if got := value(t, fams, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	total := 0.0
	for _, g := range []string{"green", "yellow", "red", "none"} {
		total += value(t, fams, status.MetricScores, map[string]string{"grade": g})
	}
	if int(total) != b.summary.Live() || b.summary.Accounts != 40 || b.summary.Live() == 0 {
		t.Errorf("live customers by grade sum to %v, live %d of %d accounts", total, b.summary.Live(), b.summary.Accounts)
	}
	statuses := 0.0
	for _, st := range []string{"customer", "former_customer", "prospect"} {
		statuses += value(t, fams, status.MetricStatuses, map[string]string{"status": st})
	}
	if int(statuses) != b.summary.Accounts {
		t.Errorf("accounts by status sum to %v, want %d", statuses, b.summary.Accounts)
	}
	for name, n := range b.summary.Flags {
		if got := value(t, fams, status.MetricFlags, map[string]string{"flag": name}); got != float64(n) {
			t.Errorf("flag %s = %v, want %d", name, got, n)
		}
	}
	// The last success of sync is the ok run, not the failed one.
	if value(t, fams, status.MetricLastRunSuccess, map[string]string{"kind": "sync"}) <= 0 {
		t.Error("last success timestamp not set")
	}
	if _, ok := fams["go_goroutines"]; !ok {
		t.Error("Go runtime metrics missing")
	}
	// Histogram buckets cover a 3 s and a 2 min run.
	h := fams[status.MetricRunDuration].Metric[0].Histogram
	if h.GetSampleSum() != 123 {
		t.Errorf("run duration sum = %v, want 123", h.GetSampleSum())
	}
}

func TestMetricsWithoutStore(t *testing.T) {
	t.Parallel()
	if _, err := status.NewServer(status.Options{Connection: conn}); err == nil {
		t.Fatal("NewServer without a store: no error")
	}
	b := setup(t, 5)
	if _, err := status.NewServer(status.Options{Store: b.store}); err == nil || !strings.Contains(err.Error(), "HEALTHSYNC_CONNECTION") {
		t.Fatalf("NewServer without a connection: %v", err)
	}
	// A scrape still answers when the store is closed: the lag is stale,
	// the rest is served.
	m := status.NewMetrics()
	m.ObserveError("store")
	srv := b.newServer(t, status.Options{Metrics: m})
	b.store.Close()
	fams := scrape(t, srv)
	if value(t, fams, status.MetricErrors, map[string]string{"kind": "store"}) != 1 {
		t.Error("errors_total lost")
	}
}
