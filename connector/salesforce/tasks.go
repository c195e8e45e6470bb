package salesforce

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"healthsync/connector"
	"healthsync/crm"
)

// findChunk is how many keys one FindTasks query names in its IN list.
const findChunk = 100

// FindTasks implements sync.Sink: the tasks carrying any of keys in the
// task key field (SOQL IN lists of up to 100 keys per query).
func (c *Client) FindTasks(ctx context.Context, keys []string) ([]connector.TaskRef, error) {
	if err := soqlName(c.taskKey); err != nil {
		return nil, fmt.Errorf("find tasks: task key field: %w", err)
	}
	fields := []string{"Id", c.taskKey, "Status", "IsClosed", "ActivityDate"}
	if c.snooze.Field != "" {
		if err := soqlName(c.snooze.Field); err != nil {
			return nil, fmt.Errorf("find tasks: snooze field: %w", err)
		}
		fields = append(fields, c.snooze.Field)
	}
	var out []connector.TaskRef
	for start := 0; start < len(keys); start += findChunk {
		chunk := keys[start:min(start+findChunk, len(keys))]
		quoted := make([]string, len(chunk))
		for i, k := range chunk {
			quoted[i] = soqlString(k)
		}
		soql := "SELECT " + strings.Join(fields, ", ") + " FROM Task WHERE " + c.taskKey + " IN (" + strings.Join(quoted, ", ") + ") ORDER BY Id"
		err := c.queryPages(ctx, "query", soql, func(recs []rawRecord, _ int) error {
			for _, r := range recs {
				closed, _ := r["IsClosed"].(bool)
				// A task in the closed status healthsync sets is not open,
				// even when the org does not count that status as closed.
				ref := connector.TaskRef{Key: r.str(c.taskKey), ID: r.str("Id"), Status: r.str("Status")}
				ref.Open = !closed && !strings.EqualFold(ref.Status, c.closed)
				if c.snooze.Field != "" {
					if v := r.str(c.snooze.Field); v != "" {
						ref.SnoozedUntil = &v
					}
				}
				if ref.SnoozedUntil == nil && c.snooze.Status != "" && strings.EqualFold(ref.Status, c.snooze.Status) {
					// Snoozed by status: until the task's due date.
					v := r.str("ActivityDate")
					ref.SnoozedUntil = &v
				}
				out = append(out, ref)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("find tasks: %w", err)
		}
	}
	return out, nil
}

// priorities maps healthsync priorities to Task.Priority picklist values.
var priorities = map[crm.Priority]string{crm.PriorityLow: "Low", crm.PriorityNormal: "Normal", crm.PriorityHigh: "High"}

// CreateTasks implements sync.Sink: POST /composite/sobjects in batches of
// 200 (never retried after an ambiguous failure, so a task is not created
// twice), each Task with OwnerId, WhatId (the account), WhoId (the contact,
// when set), ActivityDate, Priority, Subject, Description, Status
// "Not Started" and the key field. Results are in order with the new IDs.
func (c *Client) CreateTasks(ctx context.Context, tasks []crm.Task) ([]connector.Result, error) {
	if err := soqlName(c.taskKey); err != nil {
		return nil, fmt.Errorf("create tasks: task key field: %w", err)
	}
	recs := make([]map[string]any, len(tasks))
	for i, t := range tasks {
		if t.Key == "" || t.AccountID == "" || t.OwnerID == "" {
			return nil, fmt.Errorf("create tasks: task %d (%q) needs a key, an account and an owner", i, t.Subject)
		}
		prio, ok := priorities[t.Priority]
		if !ok {
			prio = "Normal"
		}
		r := map[string]any{
			"attributes":  map[string]any{"type": "Task"},
			"OwnerId":     string(t.OwnerID),
			"WhatId":      string(t.AccountID),
			"Subject":     t.Subject,
			"Description": t.Description,
			"Priority":    prio,
			"Status":      "Not Started",
			c.taskKey:     t.Key,
		}
		if t.ContactID != "" {
			r["WhoId"] = string(t.ContactID)
		}
		if !t.Due.IsZero() {
			r["ActivityDate"] = crm.Date(t.Due).Format("2006-01-02")
		}
		recs[i] = r
	}
	res, err := c.writeCollections(ctx, http.MethodPost, recs)
	if err != nil {
		return res, fmt.Errorf("create tasks: %w", err)
	}
	return res, nil
}

// DefaultClosedStatus is the Task Status CloseTasks sets unless
// Deps.ClosedStatus names another.
const DefaultClosedStatus = "Completed"

// Task field lengths: a closed task's subject and description are cut to
// fit them.
const (
	taskSubjectLength     = 255
	taskDescriptionLength = 32000
)

// closeReadChunk is how many task IDs one CloseTasks query names.
const closeReadChunk = 200

// codeTaskGone is the result code of a close whose task no longer exists
// (deleted, or never visible to the integration user): the code
// Salesforce gives a write to a deleted record.
const codeTaskGone = "ENTITY_IS_DELETED"

// CloseTasks implements sync.Sink: it sets the closed status
// (Deps.ClosedStatus, default "Completed") on each task, prefixes its
// Subject with "Closed by healthsync: " (once) and its Description with
// "Closed by healthsync on YYYY-MM-DD, not by a CSM: <note>." and a blank
// line, so a closed task never reads as work a CSM did. It costs one SOQL
// query per 200 tasks (WHERE Id IN (...), for the current subject,
// description and status) and then the usual update path (composite
// collections of 200, or a Bulk ingest job above
// HEALTHSYNC_SALESFORCE_BULK_WRITE_THRESHOLD): 2 calls per 200 tasks. A
// task already marked and in the closed status is not written again (its
// result is a success); a task the query does not return (deleted) gets
// a non-retryable ENTITY_IS_DELETED result without a write.
func (c *Client) CloseTasks(ctx context.Context, closes []connector.TaskClose) ([]connector.Result, error) {
	results := make([]connector.Result, len(closes))
	for i, tc := range closes {
		if tc.ID == "" {
			return nil, fmt.Errorf("close tasks: close %d has no task ID", i)
		}
		results[i] = connector.Result{ID: tc.ID, Err: &connector.APIError{Code: connector.CodeNotAttempted, Message: "not sent: the run stopped first"}, Retryable: true}
	}
	type current struct{ subject, description, status string }
	found := make(map[string]current, len(closes))
	sent := map[string]string{} // 15-character ID → the 18-character one Salesforce answers with
	ids := make([]string, 0, len(closes))
	seen := map[string]bool{}
	for _, tc := range closes {
		if !seen[tc.ID] {
			seen[tc.ID] = true
			ids = append(ids, tc.ID)
		}
	}
	for start := 0; start < len(ids); start += closeReadChunk {
		chunk := ids[start:min(start+closeReadChunk, len(ids))]
		quoted := make([]string, len(chunk))
		for i, id := range chunk {
			quoted[i] = soqlString(id)
		}
		soql := "SELECT Id, Subject, Description, Status FROM Task WHERE Id IN (" + strings.Join(quoted, ", ") + ")"
		err := c.queryPages(ctx, "query", soql, func(recs []rawRecord, _ int) error {
			for _, r := range recs {
				id := r.str("Id")
				found[id] = current{subject: r.str("Subject"), description: r.str("Description"), status: r.str("Status")}
				if len(id) == 18 {
					found[id[:15]] = found[id] // the caller may name it by its 15-character form
					sent[id[:15]] = id
				}
			}
			return nil
		})
		if err != nil {
			return results, fmt.Errorf("close tasks: read the tasks: %w", err)
		}
	}
	day := c.clock.Now()
	var ups []connector.Update
	var upIdx []int
	planned := map[string]bool{}
	for i, tc := range closes {
		cur, ok := found[tc.ID]
		id := tc.ID
		if long, isShort := sent[tc.ID]; isShort {
			id = long
		}
		switch {
		case !ok:
			results[i] = connector.Result{ID: tc.ID, Err: &connector.APIError{Status: http.StatusNotFound, Code: codeTaskGone,
				Message: "task " + tc.ID + " no longer exists in Salesforce (deleted, or not visible to the integration user): nothing to close"}}
			continue
		case planned[id]:
			// The same task twice in one call: the first close writes it.
			results[i] = connector.Result{ID: tc.ID}
			continue
		}
		planned[id] = true
		subject := connector.ClosedSubject(cur.subject, taskSubjectLength)
		desc := connector.ClosedDescription(cur.description, tc.Note, day, taskDescriptionLength)
		if subject == cur.subject && desc == cur.description && cur.status == c.closed {
			results[i] = connector.Result{ID: tc.ID} // closed and marked already
			continue
		}
		// Sent with the 18-character ID Salesforce answers with.
		ups = append(ups, connector.Update{ID: id, Fields: map[string]any{"Status": c.closed, "Subject": subject, "Description": desc}})
		upIdx = append(upIdx, i)
	}
	if len(ups) == 0 {
		return results, nil
	}
	res, err := c.Update(ctx, "Task", ups)
	for j, r := range res {
		if j < len(upIdx) {
			r.ID = closes[upIdx[j]].ID
			results[upIdx[j]] = r
		}
	}
	if err != nil {
		return results, fmt.Errorf("close tasks: %w", err)
	}
	return results, nil
}
