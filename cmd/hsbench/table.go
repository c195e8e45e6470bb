package main

import (
	"fmt"
	"io"
)

// results is everything one hsbench run measured.
type results struct {
	At      string `json:"at"`
	Command string `json:"command"`
	Cores   int    `json:"cores"`
	GOOS    string `json:"goos"`
	GOARCH  string `json:"goarch"`
	Runs    int    `json:"runs"`
	BigRuns int    `json:"big_runs"`
	Rows    []row  `json:"rows"`
}

// row is one org size on one store backend.
type row struct {
	CRM      string `json:"crm"`
	Accounts int    `json:"accounts"`
	Backend  string `json:"backend"`
	Runs     int    `json:"runs"`    // runs behind each median
	Records  int    `json:"records"` // records of the full sync

	FullSeconds    float64 `json:"full_seconds"`
	FullRate       float64 `json:"full_records_per_s"`
	CeilingRecords int     `json:"ceiling_records"`
	CeilingSeconds float64 `json:"ceiling_seconds"`
	CeilingRate    float64 `json:"ceiling_records_per_s"`
	Ratio          float64 `json:"ratio_to_ceiling"`

	// LimitFloorSeconds is the least time HubSpot's documented limits
	// (100 calls per 10 s, 5 searches per s) allow for the full sync's calls.
	LimitFloorSeconds float64 `json:"full_limit_floor_seconds,omitempty"`

	FullCalls     int64  `json:"full_calls"`
	FullDataCalls int64  `json:"full_query_calls"`
	FullMin       int    `json:"full_min_calls"`
	FullPath      string `json:"full_path"`

	Changed       int     `json:"changed_records"`
	IncrRecords   int     `json:"incremental_records"`
	IncrCalls     int64   `json:"incremental_calls"`
	IncrMin       int     `json:"incremental_min_calls"`
	IncrSeconds   float64 `json:"incremental_seconds"`
	IncrTimeShare float64 `json:"incremental_time_share"`
	IncrCallShare float64 `json:"incremental_call_share"`

	NoopCalls   int64 `json:"unchanged_calls"`
	NoopMin     int   `json:"unchanged_min_calls"`
	NoopRecords int   `json:"unchanged_records"`

	ScoreSeconds float64 `json:"score_seconds"`
	ScoreRate    float64 `json:"score_accounts_per_s"`

	Updated      int     `json:"apply_updated"`
	TasksCreated int     `json:"apply_tasks_created"`
	TasksClosed  int     `json:"apply_tasks_closed"`
	ApplyWrites  int     `json:"apply_write_calls"`
	ApplyMin     int     `json:"apply_min_write_calls"`
	ApplyPath    string  `json:"apply_path"`
	ApplySeconds float64 `json:"apply_seconds"`

	RSSMiB map[string]int64 `json:"peak_rss_mib"`
}

func printTable(w io.Writer, res results) {
	fmt.Fprintf(w, "hsbench %s, %d cores (%s/%s), medians of %d runs (%d at 50,000 accounts and more); emulated CRMs over loopback\n\n", res.At, res.Cores, res.GOOS, res.GOARCH, res.Runs, res.BigRuns)
	key := func(r row) string { return fmt.Sprintf("%-10s %-8d %-9s", r.CRM, r.Accounts, r.Backend) }
	head := fmt.Sprintf("%-10s %-8s %-9s", "crm", "accounts", "store")
	fmt.Fprintf(w, "Throughput (full sync vs. a client that only fetches and decodes the same pages)\n")
	fmt.Fprintf(w, "%s %9s %9s %11s %11s %7s %13s\n", head, "records", "sync s", "sync rec/s", "ceil rec/s", "ratio", "limit floor s")
	for _, r := range res.Rows {
		floor := "-"
		if r.LimitFloorSeconds > 0 {
			floor = fmt.Sprintf("%.0f", r.LimitFloorSeconds)
		}
		fmt.Fprintf(w, "%s %9d %9.2f %11.0f %11.0f %6.0f%% %13s\n", key(r), r.Records, r.FullSeconds, r.FullRate, r.CeilingRate, 100*r.Ratio, floor)
	}
	fmt.Fprintf(w, "\nAPI calls (actual / theoretical minimum of the path)\n")
	fmt.Fprintf(w, "%s %-44s %13s %9s %13s %11s %s\n", head, "full path", "full", "(reads)", "1% changed", "unchanged", "apply writes")
	for _, r := range res.Rows {
		fmt.Fprintf(w, "%s %-44s %13s %9d %13s %11s %s\n", key(r), r.FullPath,
			fmt.Sprintf("%d / %d", r.FullCalls, r.FullMin), r.FullDataCalls,
			fmt.Sprintf("%d / %d", r.IncrCalls, r.IncrMin), fmt.Sprintf("%d / %d", r.NoopCalls, r.NoopMin),
			fmt.Sprintf("%d / %d %s", r.ApplyWrites, r.ApplyMin, r.ApplyPath))
	}
	fmt.Fprintf(w, "\nIncremental cost (1%% of records changed) and scoring\n")
	fmt.Fprintf(w, "%s %9s %9s %9s %11s %11s %11s\n", head, "changed", "synced", "incr s", "time share", "call share", "score acc/s")
	for _, r := range res.Rows {
		fmt.Fprintf(w, "%s %9d %9d %9.2f %10.1f%% %10.1f%% %11.0f\n", key(r), r.Changed, r.IncrRecords, r.IncrSeconds, 100*r.IncrTimeShare, 100*r.IncrCallShare, r.ScoreRate)
	}
	fmt.Fprintf(w, "\nApply: records updated, tasks created/closed, seconds\n")
	for _, r := range res.Rows {
		fmt.Fprintf(w, "%s %6d updated, %5d tasks created, %4d closed, %.2f s\n", key(r), r.Updated, r.TasksCreated, r.TasksClosed, r.ApplySeconds)
	}
	fmt.Fprintf(w, "\nPeak RSS per run (MiB; each scenario in its own process)\n")
	names := []string{"full sync", "1% changed sync", "unchanged sync", "score", "apply", "ceiling"}
	fmt.Fprint(w, head)
	for _, n := range names {
		fmt.Fprintf(w, " %16s", n)
	}
	fmt.Fprintln(w)
	for _, r := range res.Rows {
		fmt.Fprint(w, key(r))
		for _, n := range names {
			fmt.Fprintf(w, " %16d", r.RSSMiB[n])
		}
		fmt.Fprintln(w)
	}
}
