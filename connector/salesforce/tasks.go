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
				ref := connector.TaskRef{Key: r.str(c.taskKey), ID: r.str("Id"), Open: !closed, Status: r.str("Status")}
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

// CloseTasks implements sync.Sink: sets Status "Completed" on the tasks.
func (c *Client) CloseTasks(ctx context.Context, ids []string) ([]connector.Result, error) {
	ups := make([]connector.Update, len(ids))
	for i, id := range ids {
		ups[i] = connector.Update{ID: id, Fields: map[string]any{"Status": "Completed"}}
	}
	res, err := c.Update(ctx, "Task", ups)
	if err != nil {
		return res, fmt.Errorf("close tasks: %w", err)
	}
	return res, nil
}
