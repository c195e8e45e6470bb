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
	History bool   `json:"history"` // orgs generated with field history
	Rows    []row  `json:"rows"`
}

// incrRun is one 1%-changed sync: what changed in the emulator, what the
// sync picked up, its calls and time.
type incrRun struct {
	Changed int     `json:"changed"`
	Synced  int     `json:"synced"`
	Calls   int64   `json:"calls"`
	Seconds float64 `json:"seconds"`
}

// row is one org size on one store backend.
type row struct {
	CRM      string `json:"crm"`
	Accounts int    `json:"accounts"`
	Backend  string `json:"backend"`
	Runs     int    `json:"runs"`    // runs behind each median
	Records  int    `json:"records"` // records of the full sync

	// Live are the org's live records per object before the first sync;
	// FullPerObject and CeilingPerObject what the full sync stored and
	// the ceiling fetched of each.
	Live             map[string]int `json:"live_records"`
	Rows             map[string]int `json:"full_read_rows"` // live + recycle bin (Salesforce queryAll)
	FullPerObject    map[string]int `json:"full_per_object"`
	CeilingPerObject map[string]int `json:"ceiling_per_object"`
	PeerPerObject    map[string]int `json:"peer_per_object,omitempty"`

	FullSeconds    float64    `json:"full_seconds"`
	FullSpread     [2]float64 `json:"full_seconds_min_max"`
	FullCPUSeconds float64    `json:"full_cpu_seconds"` // user+system CPU of the sync (median)
	FullRate       float64    `json:"full_records_per_s"`
	CeilingRecords int        `json:"ceiling_records"`
	// CeilingHistoryRows are the backfill's rows among the ceiling's
	// pages (Salesforce history rows; HubSpot records read with history).
	CeilingHistoryRows int        `json:"ceiling_history_rows"`
	CeilingCalls       int64      `json:"ceiling_calls"`
	CeilingSeconds     float64    `json:"ceiling_seconds"`
	CeilingSpread      [2]float64 `json:"ceiling_seconds_min_max"`
	CeilingRate        float64    `json:"ceiling_records_per_s"`
	Ratio              float64    `json:"ratio_to_ceiling"`

	// The jsforce peer (Salesforce): records/s of its pull, and ours ÷ its.
	PeerSkipped    string     `json:"peer_skipped,omitempty"`
	PeerJSforce    string     `json:"peer_jsforce_version,omitempty"`
	PeerRecords    int        `json:"peer_records,omitempty"`
	PeerCalls      int64      `json:"peer_calls,omitempty"`
	PeerSeconds    float64    `json:"peer_seconds,omitempty"`
	PeerSpread     [2]float64 `json:"peer_seconds_min_max"`
	PeerCPUSeconds float64    `json:"peer_cpu_seconds,omitempty"`
	PeerRate       float64    `json:"peer_records_per_s,omitempty"`
	PeerRatio      float64    `json:"ratio_to_peer,omitempty"`

	// The first sync's field-history backfill: its calls (as the sync's
	// report counts them, part of FullCalls), their minimum (part of
	// FullMin) and the history changes it stored.
	BackfillCalls  int64 `json:"backfill_calls"`
	BackfillMin    int   `json:"backfill_min_calls"`
	HistoryChanges int   `json:"history_changes"`

	// LimitFloorSeconds is the least time HubSpot's documented limits
	// (100 calls per 10 s, 5 searches per s) allow for the full sync's calls.
	LimitFloorSeconds float64 `json:"full_limit_floor_seconds,omitempty"`

	FullCalls     int64  `json:"full_calls"`
	FullDataCalls int64  `json:"full_query_calls"`
	FullMin       int    `json:"full_min_calls"`
	FullPath      string `json:"full_path"`

	Changed           int        `json:"changed_records"`
	IncrRecords       int        `json:"incremental_records"` // median over runs
	IncrRecordsSpread [2]float64 `json:"incremental_records_min_max"`
	IncrCalls         int64      `json:"incremental_calls"` // median over runs
	IncrMin           int        `json:"incremental_min_calls"`
	IncrSeconds       float64    `json:"incremental_seconds"`
	IncrSpread        [2]float64 `json:"incremental_seconds_min_max"`
	IncrTimeShare     float64    `json:"incremental_time_share"`
	IncrCallShare     float64    `json:"incremental_call_share"`
	IncrRuns          []incrRun  `json:"incremental_runs"`

	NoopCalls   int64 `json:"unchanged_calls"`
	NoopMin     int   `json:"unchanged_min_calls"`
	NoopRecords int   `json:"unchanged_records"`

	ScoreSeconds float64    `json:"score_seconds"`
	ScoreSpread  [2]float64 `json:"score_seconds_min_max"`
	ScoreRate    float64    `json:"score_accounts_per_s"`

	Updated      int     `json:"apply_updated"`
	TasksCreated int     `json:"apply_tasks_created"`
	TasksClosed  int     `json:"apply_tasks_closed"`
	ApplyWrites  int     `json:"apply_write_calls"`
	ApplyMin     int     `json:"apply_min_write_calls"`
	ApplyPath    string  `json:"apply_path"`
	ApplySeconds float64 `json:"apply_seconds"`

	RSSMiB map[string]int64 `json:"peak_rss_mib"`
}

// secs is a median time with its range over the runs when there were
// several: "31.53 (30.90–32.41)".
func secs(med float64, sp [2]float64, runs int) string {
	if runs > 1 {
		return fmt.Sprintf("%.2f (%.2f–%.2f)", med, sp[0], sp[1])
	}
	return fmt.Sprintf("%.2f", med)
}

func printTable(w io.Writer, res results) {
	hist := "without field history (-history=false)"
	if res.History {
		hist = "with field history (-history)"
	}
	fmt.Fprintf(w, "hsbench %s, %d cores (%s/%s), medians of %d runs (%d at 50,000 accounts and more), (min–max) over the runs; orgs %s; emulated CRMs over loopback\n\n",
		res.At, res.Cores, res.GOOS, res.GOARCH, res.Runs, res.BigRuns, hist)
	key := func(r row) string { return fmt.Sprintf("%-10s %-8d %-9s", r.CRM, r.Accounts, r.Backend) }
	head := fmt.Sprintf("%-10s %-8s %-9s", "crm", "accounts", "store")
	fmt.Fprintf(w, "Throughput (full sync vs. a client that only fetches and decodes the pages the sync kept)\n")
	fmt.Fprintf(w, "%s %9s %24s %11s %7s %24s %11s %6s %7s %13s\n", head, "records", "sync s", "sync rec/s", "cpu s", "ceil s", "ceil rec/s", "calls", "ratio", "limit floor s")
	for _, r := range res.Rows {
		floor := "-"
		if r.LimitFloorSeconds > 0 {
			floor = fmt.Sprintf("%.0f", r.LimitFloorSeconds)
		}
		fmt.Fprintf(w, "%s %9d %24s %11.0f %7.1f %24s %11.0f %6d %6.0f%% %13s\n", key(r), r.Records, secs(r.FullSeconds, r.FullSpread, r.Runs),
			r.FullRate, r.FullCPUSeconds, secs(r.CeilingSeconds, r.CeilingSpread, r.Runs), r.CeilingRate, r.CeilingCalls, 100*r.Ratio, floor)
	}
	var peers []row
	for _, r := range res.Rows {
		if r.CRM == "salesforce" {
			peers = append(peers, r)
		}
	}
	if len(peers) > 0 {
		fmt.Fprintf(w, "\nPeer: a jsforce script (describe + autoFetch of every field of Account, Contact, Opportunity, Task, Event to NDJSON), same org, same run\n")
		fmt.Fprintf(w, "%s %9s %24s %11s %7s %6s %8s %11s %7s %9s\n", head, "records", "peer s", "peer rec/s", "cpu s", "calls", "RSS MiB", "sync rec/s", "cpu s", "ours/peer")
		for _, r := range peers {
			if r.PeerSkipped != "" {
				fmt.Fprintf(w, "%s peer: skipped (%s)\n", key(r), r.PeerSkipped)
				continue
			}
			fmt.Fprintf(w, "%s %9d %24s %11.0f %7.1f %6d %8d %11.0f %7.1f %8.2fx\n", key(r), r.PeerRecords, secs(r.PeerSeconds, r.PeerSpread, r.Runs),
				r.PeerRate, r.PeerCPUSeconds, r.PeerCalls, r.RSSMiB["peer"], r.FullRate, r.FullCPUSeconds, r.PeerRatio)
		}
	}
	fmt.Fprintf(w, "\nAPI calls (actual / theoretical minimum of the path; full includes the backfill)\n")
	fmt.Fprintf(w, "%s %-44s %13s %9s %11s %13s %11s %s\n", head, "full path", "full", "(reads)", "backfill", "1% changed", "unchanged", "apply writes")
	for _, r := range res.Rows {
		fmt.Fprintf(w, "%s %-44s %13s %9d %11s %13s %11s %s\n", key(r), r.FullPath,
			fmt.Sprintf("%d / %d", r.FullCalls, r.FullMin), r.FullDataCalls, fmt.Sprintf("%d / %d", r.BackfillCalls, r.BackfillMin),
			fmt.Sprintf("%d / %d", r.IncrCalls, r.IncrMin), fmt.Sprintf("%d / %d", r.NoopCalls, r.NoopMin),
			fmt.Sprintf("%d / %d %s", r.ApplyWrites, r.ApplyMin, r.ApplyPath))
	}
	fmt.Fprintf(w, "\nIncremental cost (1%% of records changed, each run its own 1%%) and scoring\n")
	fmt.Fprintf(w, "%s %9s %15s %22s %11s %11s %22s\n", head, "changed", "synced", "incr s", "time share", "call share", "score acc/s")
	for _, r := range res.Rows {
		synced := fmt.Sprintf("%d", r.IncrRecords)
		if r.Runs > 1 {
			synced = fmt.Sprintf("%d (%.0f–%.0f)", r.IncrRecords, r.IncrRecordsSpread[0], r.IncrRecordsSpread[1])
		}
		score := fmt.Sprintf("%.0f", r.ScoreRate)
		if r.Runs > 1 && r.ScoreSpread[0] > 0 {
			acc := r.ScoreRate * r.ScoreSeconds
			score = fmt.Sprintf("%.0f (%.0f–%.0f)", r.ScoreRate, acc/r.ScoreSpread[1], acc/r.ScoreSpread[0])
		}
		fmt.Fprintf(w, "%s %9d %15s %22s %10.1f%% %10.1f%% %22s\n", key(r), r.Changed, synced, secs(r.IncrSeconds, r.IncrSpread, r.Runs),
			100*r.IncrTimeShare, 100*r.IncrCallShare, score)
	}
	fmt.Fprintf(w, "\nApply: records updated, tasks created/closed, seconds (one run)\n")
	for _, r := range res.Rows {
		fmt.Fprintf(w, "%s %6d updated, %5d tasks created, %4d closed, %.2f s\n", key(r), r.Updated, r.TasksCreated, r.TasksClosed, r.ApplySeconds)
	}
	fmt.Fprintf(w, "\nPeak RSS per run (MiB, maximum over the runs; each scenario in its own process)\n")
	names := []string{"full sync", "1% changed sync", "unchanged sync", "score", "apply", "ceiling", "peer"}
	fmt.Fprint(w, head)
	for _, n := range names {
		fmt.Fprintf(w, " %16s", n)
	}
	fmt.Fprintln(w)
	for _, r := range res.Rows {
		fmt.Fprint(w, key(r))
		for _, n := range names {
			if v, ok := r.RSSMiB[n]; ok {
				fmt.Fprintf(w, " %16d", v)
			} else {
				fmt.Fprintf(w, " %16s", "-")
			}
		}
		fmt.Fprintln(w)
	}
}
