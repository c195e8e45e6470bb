package main

import (
	"fmt"
	"io"
	"strings"

	"healthsync/crm"
	hsync "healthsync/sync"
)

// printPlan writes a readable summary of a plan and its first limit
// changes, like `terraform plan`. names turns owner IDs into names.
func printPlan(w io.Writer, p *hsync.Plan, limit int, names map[crm.UserID]string) {
	for _, problem := range p.Problems[:min(len(p.Problems), 10)] {
		fmt.Fprintf(w, "Problem: %s\n", problem)
	}
	if p.Accounts == 0 {
		fmt.Fprintln(w, "No scores stored yet: run `healthsync sync` and `healthsync score` first.")
		return
	}
	if p.Empty() {
		fmt.Fprintf(w, "No changes. The CRM already holds what healthsync would write for %d accounts (%d live customers).\n", p.Accounts, p.Live)
		if n := len(p.Closes); n > 0 {
			fmt.Fprintf(w, "%d flag episodes ended (their tasks are left open as configured).\n", n)
		}
		printWaiting(w, p, names)
		return
	}
	closes := 0
	for _, c := range p.Closes {
		if c.Close {
			closes++
		}
	}
	fmt.Fprintf(w, "Plan: update %d %s records (%d fields), create %d tasks, close %d tasks.\n",
		p.Records, p.Object, p.Fields(), len(p.Creates), closes)
	if p.Written > 0 {
		fmt.Fprintf(w, "Score jumps (grade or status change, or %d+ points) on %d of %d accounts written before.\n", hsync.JumpPoints, p.Changed, p.Written)
	}
	if p.Kept > 0 {
		fmt.Fprintf(w, "%d score or trend values moved less than the dead band and keep their written value.\n", p.Kept)
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
		fmt.Fprintln(w, "\nTasks to create, most urgent first:")
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
		fmt.Fprintf(w, "  + %-40s %s, for %s, %s priority, due %s%s\n", quoteShort(c.Task.Subject), c.AccountName, ownerName(names, c.Task.OwnerID),
			c.Task.Priority, c.Task.Due.Format("2006-01-02"), retry)
	}
	printWaiting(w, p, names)
	if closes > 0 {
		fmt.Fprintln(w, "\nTasks to close (healthsync marks them as closed by healthsync, with why):")
		n := 0
		for _, c := range p.Closes {
			if c.Close && n < limit {
				fmt.Fprintf(w, "  - %s on account %s (task %s): %s\n", c.Flag, c.AccountID, c.TaskID, c.Note)
				n++
			}
		}
	}
	if p.Records > limit {
		fmt.Fprintf(w, "\n… %d more records; `healthsync plan --json` lists everything.\n", p.Records-limit)
	}
	if p.Guard != "" {
		fmt.Fprintf(w, "\nWARNING: apply will refuse this plan without --force: %s.\n", p.Guard)
	}
}

// printWaiting says how many warranted tasks wait for their owners' next
// daily budget.
func printWaiting(w io.Writer, p *hsync.Plan, names map[crm.UserID]string) {
	n := p.WaitingTasks()
	if n == 0 {
		return
	}
	parts := make([]string, len(p.Waiting))
	for i, wt := range p.Waiting {
		parts[i] = fmt.Sprintf("%s %d", ownerName(names, crm.UserID(wt.OwnerID)), wt.Tasks)
	}
	fmt.Fprintf(w, "%d more tasks are warranted but wait for their owners' next daily budget (%d new tasks per owner per day, tasks.daily_budget_per_owner): %s.\n",
		n, p.Budget, strings.Join(parts, ", "))
}

// ownerName is a user's name for people to read, or the ID when unknown.
func ownerName(names map[crm.UserID]string, id crm.UserID) string {
	if n := names[id]; n != "" {
		return n
	}
	if id == "" {
		return "(no owner)"
	}
	return string(id)
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
