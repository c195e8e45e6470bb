package scoring

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"healthsync/crm"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (rerun with -update if intended):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestRenderExplainGolden(t *testing.T) {
	s := newScorer(t, withNoEBRRule(DefaultConfig()))
	d := renewalGapAccount()
	d.Contacts[0].FirstName, d.Contacts[0].LastName = "Maria", "Lopez"
	d.Contacts[1].FirstName, d.Contacts[1].LastName = "Sam", "Okafor"
	d.Contacts[2].FirstName, d.Contacts[2].LastName = "Lee", "Chen"
	r := s.Score(d, now, []ScorePoint{{At: ago(30), Score: 71.5}})
	var buf bytes.Buffer
	if err := RenderExplain(&buf, r); err != nil {
		t.Fatal(err)
	}
	golden(t, "explain_renewal_gap.txt", buf.Bytes())

	// A live customer the CRM knows little about: no score, data gaps.
	buf.Reset()
	r = s.Score(AccountData{Account: crm.Account{ID: "A2", Name: "Quiet Clinic", Status: crm.StatusCustomer, StatusValue: "Customer"}}, now, nil)
	if err := RenderExplain(&buf, r); err != nil {
		t.Fatal(err)
	}
	golden(t, "explain_no_data.txt", buf.Bytes())

	// A former customer: says so, no score, no flags, no measures.
	buf.Reset()
	d = renewalGapAccount()
	d.Account.Churned, d.Account.ChurnedAt = true, tp(day(2023, 11, 2))
	r = s.Score(d, now, nil)
	if err := RenderExplain(&buf, r); err != nil {
		t.Fatal(err)
	}
	golden(t, "explain_former_customer.txt", buf.Bytes())
}

func withNoEBRRule(cfg Config) Config {
	cfg.CustomFlags = append(cfg.CustomFlags, FlagRule{
		Name:        "no_ebr",
		Description: "no executive business review in six months",
		When:        []Condition{{Metric: MetricDaysSinceLastEBR, Op: ">", Value: 180, IfMissing: true}},
		Task:        TaskSpec{Subject: "Schedule an EBR", DueInDays: 14, Priority: crm.PriorityNormal},
	})
	return cfg
}

func TestRenderReportGolden(t *testing.T) {
	k := reportExample(t)
	var buf bytes.Buffer
	if err := RenderReport(&buf, k); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.txt", buf.Bytes())
	buf.Reset()
	if err := RenderReportJSON(&buf, k); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.json", buf.Bytes())
	buf.Reset()
	if err := RenderReportCSV(&buf, k); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.csv", buf.Bytes())
}

func TestRenderBacktestGolden(t *testing.T) {
	res, err := Backtest(backtestExample(), BacktestOptions{Grades: DefaultConfig().Grades})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := RenderBacktest(&buf, res); err != nil {
		t.Fatal(err)
	}
	golden(t, "backtest.txt", buf.Bytes())
	buf.Reset()
	if err := RenderBacktestCSV(&buf, res); err != nil {
		t.Fatal(err)
	}
	golden(t, "backtest.csv", buf.Bytes())
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

func TestRenderReportsWriteErrors(t *testing.T) {
	t.Parallel()
	r := newScorer(t, DefaultConfig()).Score(renewalGapAccount(), now, nil)
	if err := RenderExplain(failWriter{}, r); err == nil {
		t.Error("RenderExplain: want the write error")
	}
	if err := RenderReport(failWriter{}, KPIs{AsOf: time.Now()}); err == nil {
		t.Error("RenderReport: want the write error")
	}
}
