package status_test

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"healthsync/scoring"
	"healthsync/status"
	"healthsync/store"
	"healthsync/store/storetest"
)

func get(t *testing.T, h http.Handler, target string, header ...string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(body)
}

func TestStatusPageShowsPortfolio(t *testing.T) {
	t.Parallel()
	testStatusPage(t, setup(t, 80))
}

func TestStatusPageShowsPortfolioPostgres(t *testing.T) {
	t.Parallel()
	testStatusPage(t, setupWith(t, storetest.FreshPostgres(t), 40))
}

func testStatusPage(t *testing.T, b *bundle) {
	ctx := context.Background()
	// A run, so the runs table has something.
	id, err := b.store.StartRun(ctx, conn, "sync", b.now.Add(-90*1e9))
	if err != nil {
		t.Fatal(err)
	}
	fin := b.now
	if err := b.store.FinishRun(ctx, store.Run{ID: id, FinishedAt: &fin, Status: store.RunOK, APICalls: 37,
		Counts: map[string]store.ObjectCounts{"Account": {New: 80}, "Contact": {New: 300, Changed: 4}}}); err != nil {
		t.Fatal(err)
	}
	// A sync whose process was killed, found by the next run.
	dead, err := b.store.StartRun(ctx, conn, "sync", b.now.Add(-2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.store.InTx(ctx, func(tx *store.Tx) error { return tx.TouchRun(ctx, dead, b.now.Add(-115*time.Minute)) }); err != nil {
		t.Fatal(err)
	}
	if _, err := b.store.InterruptRuns(ctx, conn, b.now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	// Accounts nobody edited for a month, pulled completely 90 s ago.
	if err := b.store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.SetCursor(ctx, conn, "Account", store.Cursor{ModifiedAt: b.now.Add(-30 * 24 * time.Hour), LastID: "001x"}); err != nil {
			return err
		}
		return tx.MarkPulled(ctx, conn, "Account", b.now.Add(-90*time.Second))
	}); err != nil {
		t.Fatal(err)
	}
	srv := b.newServer(t, status.Options{})
	code, body := get(t, srv, "/")
	if code != http.StatusOK {
		t.Fatalf("GET / = %d: %s", code, body)
	}
	text := html.UnescapeString(body)

	// Grades: the real scoring pass's counts over the active customers
	// (former customers are left out, as in `healthsync report`) appear as
	// bar titles.
	active := map[scoring.Grade]int{}
	former := 0
	b.store.ForEachLatestScore(ctx, conn, func(sc store.Score) error {
		if b.former(sc.AccountID) {
			former++
			if sc.Grade == "red" {
				if name := accountName(b, sc.AccountID); strings.Contains(text, ">"+name+"</a>") {
					t.Errorf("former customer %s is listed at risk", name)
				}
			}
			return nil
		}
		active[scoring.Grade(sc.Grade)]++
		return nil
	})
	if former == 0 {
		t.Fatal("the generated org has no former customer: the exclusion is untested")
	}
	if want := "(" + itoa(former) + " former customers and 0 prospects left out)"; !strings.Contains(text, want) {
		t.Errorf("header lacks %q", want)
	}
	for _, g := range []scoring.Grade{scoring.GradeGreen, scoring.GradeYellow, scoring.GradeRed} {
		n := active[g]
		label := strings.ToUpper(string(g[:1])) + string(g[1:])
		if want := label + ": " + itoa(n) + " accounts"; !strings.Contains(text, want) {
			t.Errorf("grade chart lacks %q", want)
		}
	}
	if b.summary.Grades[scoring.GradeRed] == 0 || b.summary.Grades[scoring.GradeGreen] == 0 {
		t.Fatalf("generated org has no spread of grades: %v", b.summary.Grades)
	}
	// Pipeline: lifecycle stages from the stored metrics.
	stages := 0
	for _, s := range []string{"Onboarding", "Adoption", "Growth", "Renewal", "Advocacy"} {
		if strings.Contains(text, "<td>"+s+"</td>") {
			stages++
		}
	}
	if stages < 2 {
		t.Errorf("pipeline shows %d lifecycle stages, want several", stages)
	}
	// Renewals: each window, with ARR computed from the stored scores.
	var due30 int
	var arr30 float64
	if err := b.store.ForEachLatestScore(ctx, conn, func(sc store.Score) error {
		if b.former(sc.AccountID) {
			return nil
		}
		var m map[string]any
		json.Unmarshal(sc.Outputs, &m)
		if d, ok := m["days_to_renewal"].(float64); ok && d >= 0 && d <= 30 {
			due30++
			if a, ok := m["renewal_amount"].(float64); ok {
				arr30 += a
			} else if a, ok := m["arr"].(float64); ok {
				arr30 += a
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"within 30 days", "within 60 days", "within 90 days"} {
		if !strings.Contains(text, w) {
			t.Errorf("renewals lack %q", w)
		}
	}
	if want := "within 30 days</span><b>" + itoa(due30) + "</b><span>ARR " + moneyStr(arr30); !strings.Contains(text, want) {
		t.Errorf("30-day renewals: want %q in the page", want)
	}
	// At risk: a red account's name and its stored reasons.
	var red store.Score
	b.store.ForEachLatestScore(ctx, conn, func(sc store.Score) error {
		if sc.Grade == "red" && red.AccountID == "" && !b.former(sc.AccountID) {
			red = sc
		}
		return nil
	})
	var reasons []string
	json.Unmarshal(red.Reasons, &reasons)
	if len(reasons) == 0 {
		t.Fatal("red account has no reasons")
	}
	if !strings.Contains(text, "<li>"+reasons[0]+"</li>") {
		t.Errorf("at-risk list lacks the reason %q", reasons[0])
	}
	if !strings.Contains(body, `href="/accounts/`) {
		t.Error("at-risk list has no account links")
	}
	// Lag: the time since the last complete pull, beside the newest change.
	lag := text[strings.Index(text, `<section id="lag">`):]
	lag = lag[:strings.Index(lag, "</section>")]
	if want := `<td>Account</td><td class="t">` + b.now.Add(-90*time.Second).UTC().Format("2006-01-02 15:04 UTC") + `</td><td class="n">1m30s</td>`; !strings.Contains(lag, want) {
		t.Errorf("lag table lacks %q:\n%s", want, lag)
	}
	// The killed run: interrupted, why, and how long it was seen running.
	if want := `<td class="n">5m0s</td>` + "\n      " + `<td class="status-interrupted">interrupted <span class="muted">(its process ended without recording how the run ended`; !strings.Contains(text, want) {
		t.Errorf("runs table lacks the interrupted run %q", want)
	}
	// Runs: counts and API calls.
	if !strings.Contains(text, `<td class="n">380</td>`) && !strings.Contains(text, `<td class="n">37</td>`) {
		t.Error("runs table lacks the run's counts")
	}
	// Self-contained: no script and no external resource.
	for _, bad := range []string{"<script", "http://", "https://"} {
		if strings.Contains(strings.ReplaceAll(body, `xmlns="http://www.w3.org/2000/svg"`, ""), bad) {
			t.Errorf("page contains %q: it must work offline without JavaScript", bad)
		}
	}

	// The account page: trend chart and history.
	code, body = get(t, srv, "/accounts/"+red.AccountID)
	if code != http.StatusOK {
		t.Fatalf("GET account = %d: %s", code, body)
	}
	if !strings.Contains(body, `aria-label="score trend"`) || strings.Count(body, "<circle") < 2 {
		t.Errorf("account page lacks a trend line with the score history")
	}
	if !strings.Contains(html.UnescapeString(body), reasons[0]) {
		t.Errorf("account page lacks the reason %q", reasons[0])
	}
	if code, _ := get(t, srv, "/accounts/nope"); code != http.StatusNotFound {
		t.Errorf("unknown account = %d, want 404", code)
	}
	if code, _ := get(t, srv, "/nothing-here"); code != http.StatusNotFound {
		t.Errorf("unknown path = %d, want 404", code)
	}
}

func accountName(b *bundle, id string) string {
	for _, a := range b.org.Accounts {
		if genID("001", a.Index) == id {
			return a.Name
		}
	}
	return ""
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// moneyStr formats like the page: thousands separators, no decimals.
func moneyStr(f float64) string {
	n := int64(f + 0.5)
	s := itoa(int(n))
	var out strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out.WriteByte(',')
		}
		out.WriteRune(c)
	}
	return out.String()
}
