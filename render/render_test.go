package render_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"healthsync/crm"
	"healthsync/render"
	"healthsync/scoring"
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

func TestExplainGolden(t *testing.T) {
	s := newScorer(t, withNoEBRRule(scoring.DefaultConfig()))
	d := renewalGapAccount()
	d.Contacts[0].FirstName, d.Contacts[0].LastName = "Maria", "Lopez"
	d.Contacts[1].FirstName, d.Contacts[1].LastName = "Sam", "Okafor"
	d.Contacts[2].FirstName, d.Contacts[2].LastName = "Lee", "Chen"
	r := s.Score(d, now, []scoring.ScorePoint{{At: ago(30), Score: 71.5}})
	var buf bytes.Buffer
	if err := render.Explain(&buf, r); err != nil {
		t.Fatal(err)
	}
	golden(t, "explain_renewal_gap.txt", buf.Bytes())

	// A live customer the CRM knows little about: no score, data gaps.
	buf.Reset()
	r = s.Score(scoring.AccountData{Account: crm.Account{ID: "A2", Name: "Quiet Clinic", Status: crm.StatusCustomer, StatusValue: "Customer"}}, now, nil)
	if err := render.Explain(&buf, r); err != nil {
		t.Fatal(err)
	}
	golden(t, "explain_no_data.txt", buf.Bytes())

	// A former customer: says so, no score, no flags, no measures.
	buf.Reset()
	d = renewalGapAccount()
	d.Account.Churned, d.Account.ChurnedAt = true, tp(day(2023, 11, 2))
	r = s.Score(d, now, nil)
	if err := render.Explain(&buf, r); err != nil {
		t.Fatal(err)
	}
	golden(t, "explain_former_customer.txt", buf.Bytes())
}

func TestReportGolden(t *testing.T) {
	k := reportExample(t)
	var buf bytes.Buffer
	if err := render.Report(&buf, k); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.txt", buf.Bytes())
	buf.Reset()
	if err := render.ReportJSON(&buf, k); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.json", buf.Bytes())
	buf.Reset()
	if err := render.ReportCSV(&buf, k); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.csv", buf.Bytes())
}

func TestBacktestGolden(t *testing.T) {
	res, err := scoring.Backtest(backtestExample(), scoring.BacktestOptions{Grades: scoring.DefaultConfig().Grades})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := render.Backtest(&buf, res); err != nil {
		t.Fatal(err)
	}
	golden(t, "backtest.txt", buf.Bytes())
	buf.Reset()
	if err := render.BacktestCSV(&buf, res); err != nil {
		t.Fatal(err)
	}
	golden(t, "backtest.csv", buf.Bytes())
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

func TestWriteErrors(t *testing.T) {
	t.Parallel()
	r := newScorer(t, scoring.DefaultConfig()).Score(renewalGapAccount(), now, nil)
	if err := render.Explain(failWriter{}, r); err == nil {
		t.Error("Explain: want the write error")
	}
	if err := render.Report(failWriter{}, scoring.KPIs{AsOf: time.Now()}); err == nil {
		t.Error("Report: want the write error")
	}
}
