package main

import (
	"fmt"
	"io"
	"strings"

	hsync "healthsync/sync"
)

// printPlan writes a readable summary of a plan and its first limit
// changes, like `terraform plan`.
func printPlan(w io.Writer, p *hsync.Plan, limit int) {
	if p.Empty() {
		fmt.Fprintf(w, "No changes. The CRM already holds what healthsync would write for %d scored accounts.\n", p.Accounts)
		if n := len(p.Closes); n > 0 {
			fmt.Fprintf(w, "%d flag episodes ended (their tasks are left open as configured).\n", n)
		}
		return
	}
	closes := 0
	for _, c := range p.Closes {
		if c.Close {
			closes++
		}
	}
	fmt.Fprintf(w, "Plan: update %d %s records (%d fields), create %d tasks, close %d tasks.\n",
		len(p.Updates), p.Object, p.Fields(), len(p.Creates), closes)
	if p.Written > 0 {
		fmt.Fprintf(w, "Score or grade changes on %d of %d accounts written before.\n", p.Changed, p.Written)
	}
	shown := 0
	if len(p.Updates) > 0 {
		fmt.Fprintln(w, "\nField changes:")
	}
	for _, u := range p.Updates {
		if shown >= limit {
			break
		}
		fmt.Fprintf(w, "  ~ %s %s (%s)\n", p.Object, u.RecordID, u.Name)
		for _, c := range u.Changes {
			old := "(never written)"
			if c.Old != nil {
				old = quoteShort(*c.Old)
			}
			fmt.Fprintf(w, "      %-28s %s -> %s\n", c.Field, old, quoteShort(c.New))
		}
		shown++
	}
	if len(p.Creates) > 0 {
		fmt.Fprintln(w, "\nTasks to create:")
	}
	for i, c := range p.Creates {
		if i >= limit {
			fmt.Fprintf(w, "  … and %d more\n", len(p.Creates)-limit)
			break
		}
		retry := ""
		if c.Retry {
			retry = " (confirming an interrupted creation)"
		}
		fmt.Fprintf(w, "  + %-40s %s, %s priority, due %s%s\n", quoteShort(c.Task.Subject), c.AccountName, c.Task.Priority, c.Task.Due.Format("2006-01-02"), retry)
	}
	if closes > 0 {
		fmt.Fprintln(w, "\nTasks to close (their flag cleared):")
		n := 0
		for _, c := range p.Closes {
			if c.Close && n < limit {
				fmt.Fprintf(w, "  - %s on account %s (task %s)\n", c.Flag, c.AccountID, c.TaskID)
				n++
			}
		}
	}
	if len(p.Updates) > limit {
		fmt.Fprintf(w, "\n… %d more records; `healthsync plan --json` lists everything.\n", len(p.Updates)-limit)
	}
	if p.Guard != "" {
		fmt.Fprintf(w, "\nWARNING: apply will refuse this plan without --force: %s.\n", p.Guard)
	}
}

func quoteShort(s string) string {
	if s == "" {
		return `""`
	}
	s = strings.ReplaceAll(s, "\n", " ")
	if r := []rune(s); len(r) > 60 {
		s = string(r[:57]) + "..."
	}
	return fmt.Sprintf("%q", s)
}
