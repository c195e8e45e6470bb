package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"healthsync/crm"
	"healthsync/scoring"
	hsync "healthsync/sync"
)

// scoreCommand is `healthsync score`.
func scoreCommand() *command {
	return &command{
		name:    "score",
		summary: "compute and store health scores for every account from the store",
		help: `Scores every synced account as of now: metrics, measures, score, grade,
trend against the stored history, reasons and risk flags. Only live customers
are scored and flagged: prospects and former customers (a churn field, the
status field, or a latest renewal lost with no later win) are counted but get
no score (docs/scoring.md, "Who is scored"). Results are kept as score
history (one point per account per day). Nothing is written to the CRM: see
plan and apply.

With --as-of DATE every account is scored as it was at the end of that day,
from the stored field history (backfilled from the CRM's field history, or
recorded by every sync): the summary, then one line per live customer with
its score, grade and reasons. Fields whose history starts after DATE are
unknown then and left out, and the output names them. Nothing is stored.
For one account's full breakdown use explain ACCOUNT --as-of DATE.`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			asOf := fs.String("as-of", "", "score every account as it was at the end of this `DATE` (YYYY-MM-DD); stores nothing")
			asJSON := fs.Bool("json", false, "with --as-of: print one JSON object per account (score, grade, reasons, flags, unknown fields)")
			return func(ctx context.Context, e *env, args []string) error {
				if err := noArgs("score", args); err != nil {
					return err
				}
				if *asJSON && *asOf == "" {
					return usagef("score", "--json goes with --as-of DATE (a normal score run prints a summary and stores the scores)")
				}
				var day time.Time
				if *asOf != "" {
					var err error
					day, err = pastDay("score", *asOf)
					if err != nil {
						return err
					}
				}
				a, err := openApp(ctx, e, *asOf != "")
				if err != nil {
					return err
				}
				defer a.Close()
				scorer := hsync.NewScorer(hsync.ScorerOptions{Store: a.store, Connection: a.cfg.Sync.Connection, Mapping: a.mapping})
				if *asOf != "" {
					return scoreAsOf(ctx, e.stdout, scorer, day, *asJSON)
				}
				if err := a.warnMappingChanged(ctx, e.stdout); err != nil {
					return err
				}
				sum, err := scorer.ScoreAll(ctx)
				if err != nil {
					return err
				}
				printScoreSummary(e.stdout, sum)
				return nil
			}
		},
	}
}

// pastDay parses a --as-of DATE and returns the last instant of that
// day (UTC), refusing a date in the future.
func pastDay(cmd, v string) (time.Time, error) {
	day, err := time.Parse(time.DateOnly, v)
	if err != nil || day.After(crm.SystemClock{}.Now()) {
		return time.Time{}, usagef(cmd, "--as-of %q: give a past date as YYYY-MM-DD", v)
	}
	return day.Add(24*time.Hour - time.Millisecond), nil
}

// pastLine is one account of score --as-of --json.
type pastLine struct {
	AccountID   string    `json:"account_id"`
	AccountName string    `json:"account_name"`
	Status      string    `json:"status"`
	Score       *float64  `json:"score"`
	Grade       string    `json:"grade"`
	Reasons     []string  `json:"reasons"`
	Flags       []string  `json:"flags"`
	Unknown     []string  `json:"unknown_fields,omitempty"`
	At          time.Time `json:"as_of"`
}

// scoreAsOf prints every account scored as it was at t.
func scoreAsOf(ctx context.Context, w io.Writer, s *hsync.Scorer, t time.Time, asJSON bool) error {
	enc := json.NewEncoder(w)
	unknown := map[string]bool{}
	var lines []string
	sum, err := s.ScoreAsOf(ctx, t, func(r hsync.PastResult) error {
		for _, u := range r.Unknown {
			unknown[u] = true
		}
		if asJSON {
			l := pastLine{AccountID: string(r.AccountID), AccountName: r.AccountName, Status: string(r.Status.Status), Score: r.Score,
				Grade: string(r.Grade), Reasons: r.Reasons, Flags: []string{}, Unknown: r.Unknown, At: r.At}
			for _, f := range r.Flags {
				l.Flags = append(l.Flags, f.Name)
			}
			return enc.Encode(l)
		}
		if !r.Status.Live() || r.Score == nil {
			return nil
		}
		lines = append(lines, fmt.Sprintf("%-18s %-32s %3.0f %-6s  %s", r.AccountID, clip(r.AccountName, 32), *r.Score, r.Grade, strings.Join(r.Reasons, "; ")))
		return nil
	})
	if err != nil || asJSON {
		return err
	}
	fmt.Fprintf(w, "As of the end of %s, from the field history (nothing stored):\n", t.Format(time.DateOnly))
	printScoreSummary(w, sum)
	if len(unknown) > 0 {
		names := make([]string, 0, len(unknown))
		for u := range unknown {
			names = append(names, u)
		}
		slices.Sort(names)
		fmt.Fprintf(w, "Unknown then, so left out: %s.\n", strings.Join(names, ", "))
	}
	if len(lines) > 0 {
		fmt.Fprintf(w, "\n%-18s %-32s %3s %-6s  %s\n", "ACCOUNT", "NAME", "SCORE", "GRADE", "REASONS")
		for _, l := range lines {
			fmt.Fprintln(w, l)
		}
	}
	return nil
}

// clip shortens s to n runes, marking the cut.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func printScoreSummary(w io.Writer, sum hsync.ScoreSummary) {
	live := sum.Live()
	fmt.Fprintf(w, "Scored %d accounts as of %s: %d live customers (%d with a score; the rest have too little data), %d former customers and %d prospects not scored.\n",
		sum.Accounts, sum.At.Format("2006-01-02 15:04 MST"), live, sum.Scored, sum.Statuses[crm.StatusFormer], sum.Statuses[crm.StatusProspect])
	fmt.Fprintf(w, "Live customers by grade: green %d, yellow %d, red %d, no score %d\n",
		sum.Grades[scoring.GradeGreen], sum.Grades[scoring.GradeYellow], sum.Grades[scoring.GradeRed], live-sum.Scored)
	if len(sum.Flags) > 0 {
		names := make([]string, 0, len(sum.Flags))
		for n := range sum.Flags {
			names = append(names, n)
		}
		slices.Sort(names)
		fmt.Fprint(w, "Flags on live customers:")
		for _, n := range names {
			fmt.Fprintf(w, " %s %d", n, sum.Flags[n])
		}
		fmt.Fprintln(w)
	}
	if sum.DataGaps > 0 {
		fmt.Fprintf(w, "Data gaps (for RevOps): %d live customers have no contacts or no logged activity in the CRM, so their relationships are not measured and raise no flag or task.\n", sum.DataGaps)
	}
}

// warnMappingChanged says, before a command uses stored records, that
// the mapping reads the CRM differently from how they were mapped.
func (a *app) warnMappingChanged(ctx context.Context, w io.Writer) error {
	changed, err := hsync.MappingChanged(ctx, a.store, a.cfg.Sync.Connection, a.mapping)
	if err != nil || !changed {
		return err
	}
	fmt.Fprintln(w, "Note: the mapping changed since the last sync (fields or classification). Scores use the records as the old mapping read them until `healthsync sync` applies the new one (it re-maps stored records without a download).")
	return nil
}
