package hubspot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"healthsync/connector"
	"healthsync/crm"
)

// HubSpot's default association types from a task.
const (
	assocTaskToCompany = 192
	assocTaskToContact = 204
)

type taskAssociation struct {
	To    map[string]string `json:"to"`
	Types []assocSpec       `json:"types"`
}

type assocSpec struct {
	Category string `json:"associationCategory"`
	TypeID   int    `json:"associationTypeId"`
}

// taskPriority maps healthsync priorities onto hs_task_priority.
func taskPriority(p crm.Priority) string {
	switch p {
	case crm.PriorityHigh:
		return "HIGH"
	case crm.PriorityLow:
		return "LOW"
	}
	return "MEDIUM"
}

// CreateTasks creates follow-up tasks with batch/create (at most 100 per
// call): subject, body, priority, due date (hs_timestamp), status
// NOT_STARTED, owner, the key property, and associations to the company
// (type 192) and contact (type 204) where set. Results come back in order
// with the new IDs, matched by key. A batch HubSpot rejects as a whole is
// split until the invalid tasks are isolated (nothing of a rejected batch is
// created). A task whose batch failed otherwise may have been created: its
// result is not retryable; look it up with FindTasks first.
func (c *Client) CreateTasks(ctx context.Context, tasks []crm.Task) ([]connector.Result, error) {
	if c.taskKey == "" {
		return nil, errors.New("create tasks: no task key property configured (outputs.task_key in the mapping)")
	}
	o := objects[Tasks]
	results := make([]connector.Result, len(tasks))
	var items []item
	seen := map[string]bool{}
	for i, t := range tasks {
		key := strings.TrimSpace(t.Key)
		var problem string
		switch {
		case key == "":
			problem = "task has no key"
		case seen[strings.ToLower(key)]:
			problem = "task key " + key + " appears twice in one call"
		case strings.TrimSpace(t.Subject) == "":
			problem = "task " + key + " has no subject"
		}
		if problem != "" {
			results[i].Err = &connector.APIError{Code: CodeInvalidInput, Message: problem}
			continue
		}
		seen[strings.ToLower(key)] = true
		due := t.Due
		if due.IsZero() {
			due = c.clock.Now()
		}
		props := map[string]string{
			"hs_task_subject":  t.Subject,
			"hs_task_body":     t.Description,
			"hs_task_priority": taskPriority(t.Priority),
			"hs_timestamp":     crm.FormatMillis(due),
			"hs_task_status":   "NOT_STARTED",
			"hs_task_type":     "TODO",
			c.taskKey:          key,
		}
		if t.OwnerID != "" {
			props["hubspot_owner_id"] = string(t.OwnerID)
		}
		in := batchInput{Properties: props}
		if t.AccountID != "" {
			in.Associations = append(in.Associations, taskAssociation{To: map[string]string{"id": string(t.AccountID)},
				Types: []assocSpec{{"HUBSPOT_DEFINED", assocTaskToCompany}}})
		}
		if t.ContactID != "" {
			in.Associations = append(in.Associations, taskAssociation{To: map[string]string{"id": string(t.ContactID)},
				Types: []assocSpec{{"HUBSPOT_DEFINED", assocTaskToContact}}})
		}
		items = append(items, item{idx: i, input: in, key: key})
	}
	return results, c.writeBatches(connector.NonIdempotent(ctx), o, items, results, c.createBatch)
}

// createBatch sends one batch/create and matches the new tasks by key.
func (c *Client) createBatch(ctx context.Context, o object, batch []item, results []connector.Result) error {
	inputs := make([]batchInput, len(batch))
	for i, it := range batch {
		inputs[i] = it.input
	}
	var res batchResponse
	_, err := c.call(ctx, http.MethodPost, "/crm/v3/objects/tasks/batch/create", nil, map[string]any{"inputs": inputs}, &res)
	if err != nil {
		if isStop(ctx, err) {
			return fmt.Errorf("create tasks: %w", err)
		}
		e, ok := apiError(err)
		if ok && e.Status == http.StatusBadRequest {
			if len(batch) > 1 {
				half := len(batch) / 2
				if err := c.createBatch(ctx, o, batch[:half], results); err != nil {
					return err
				}
				return c.createBatch(ctx, o, batch[half:], results)
			}
			results[batch[0].idx] = connector.Result{Err: e}
			return nil
		}
		if !ok {
			e = &connector.APIError{Code: "NETWORK", Message: err.Error()}
		}
		e = &connector.APIError{Status: e.Status, Code: e.Code, Fields: e.Fields,
			Message: e.Message + " (the task may have been created: find it by key before creating it again)"}
		for _, it := range batch {
			results[it.idx] = connector.Result{Err: e}
		}
		return nil
	}
	byKey := map[string]string{}
	for _, raw := range res.Results {
		var w wireRecord
		if json.Unmarshal(raw, &w) == nil && w.ID != "" {
			if v := w.Properties[c.taskKey]; v != nil {
				byKey[strings.ToLower(*v)] = w.ID
			}
		}
	}
	for _, it := range batch {
		if id, ok := byKey[strings.ToLower(it.key)]; ok {
			results[it.idx] = connector.Result{ID: id}
		} else {
			results[it.idx] = connector.Result{Err: &connector.APIError{Code: CodeUnconfirmed,
				Message: "HubSpot did not report task " + it.key + " as created: find it by key before creating it again"}}
		}
	}
	return nil
}

// DefaultClosedStatus is the hs_task_status CloseTasks sets unless
// another is configured (Deps.ClosedStatus, WithClosedStatus).
const DefaultClosedStatus = "COMPLETED"

// CloseTasks closes tasks: it sets the closed status (default COMPLETED),
// prefixes hs_task_subject with "Closed by healthsync: " (once) and
// hs_task_body with "Closed by healthsync on YYYY-MM-DD, not by a CSM:
// <note>." and a blank line, so a closed task never reads as work a CSM
// did. It reads the current subject, body and status with batch/read and
// writes with batch/update, 100 tasks per call each: 2 calls per 100
// tasks. A task already marked and in the closed status is not written
// again (its result is a success); a task batch/read does not find
// (deleted) gets a non-retryable OBJECT_NOT_FOUND result without a write.
func (c *Client) CloseTasks(ctx context.Context, closes []connector.TaskClose) ([]connector.Result, error) {
	results := make([]connector.Result, len(closes))
	var ids []string
	seen := map[string]bool{}
	for i, tc := range closes {
		results[i] = connector.Result{ID: tc.ID}
		if strings.TrimSpace(tc.ID) == "" {
			results[i].Err = &connector.APIError{Code: CodeInvalidInput, Message: "close has no task ID"}
			continue
		}
		results[i].Err = &connector.APIError{Code: connector.CodeNotAttempted, Message: "not sent: the run stopped first"}
		results[i].Retryable = true
		if !seen[tc.ID] {
			seen[tc.ID] = true
			ids = append(ids, tc.ID)
		}
	}
	type current struct{ subject, body, status string }
	found := make(map[string]current, len(ids))
	missing := map[string]*connector.APIError{}
	for start := 0; start < len(ids); start += writeBatchSize {
		chunk := ids[start:min(start+writeBatchSize, len(ids))]
		inputs := make([]map[string]string, len(chunk))
		for i, id := range chunk {
			inputs[i] = map[string]string{"id": id}
		}
		body := map[string]any{"inputs": inputs, "properties": []string{"hs_task_subject", "hs_task_body", "hs_task_status"}}
		var res batchResponse
		if _, err := c.call(ctx, http.MethodPost, "/crm/v3/objects/tasks/batch/read", nil, body, &res); err != nil {
			return results, fmt.Errorf("close tasks: read the tasks: %w", err)
		}
		for _, raw := range res.Results {
			var w wireRecord
			if err := json.Unmarshal(raw, &w); err != nil || w.ID == "" {
				return results, fmt.Errorf("close tasks: read the tasks: %w", connector.MalformedError(http.StatusOK, nil, raw, errors.New("a result without an id")))
			}
			prop := func(k string) string {
				if v := w.Properties[k]; v != nil {
					return *v
				}
				return ""
			}
			found[w.ID] = current{subject: prop("hs_task_subject"), body: prop("hs_task_body"), status: prop("hs_task_status")}
		}
		for _, be := range res.Errors {
			e := be.apiError()
			for _, id := range be.Context["ids"] {
				missing[id] = e
			}
		}
	}
	day := c.clock.Now()
	var items []item
	planned := map[string]bool{}
	for i, tc := range closes {
		if results[i].Err != nil && results[i].Err.Code == CodeInvalidInput {
			continue
		}
		cur, ok := found[tc.ID]
		switch {
		case !ok:
			e := missing[tc.ID]
			if e == nil {
				e = &connector.APIError{Code: "OBJECT_NOT_FOUND", Message: "HubSpot's batch read did not return the task"}
			}
			results[i] = connector.Result{ID: tc.ID, Err: &connector.APIError{Status: http.StatusNotFound, Code: e.Code,
				Message: "task " + tc.ID + " no longer exists in HubSpot (" + e.Message + "): nothing to close"}}
			continue
		case planned[tc.ID]:
			results[i] = connector.Result{ID: tc.ID} // the first close of the task writes it
			continue
		}
		planned[tc.ID] = true
		subject := connector.ClosedSubject(cur.subject, 0)
		desc := connector.ClosedDescription(cur.body, tc.Note, day, 0)
		if subject == cur.subject && desc == cur.body && cur.status == c.closed {
			results[i] = connector.Result{ID: tc.ID} // closed and marked already
			continue
		}
		items = append(items, item{idx: i, input: batchInput{ID: tc.ID, Properties: map[string]string{
			"hs_task_status": c.closed, "hs_task_subject": subject, "hs_task_body": desc}}})
	}
	if err := c.writeBatches(ctx, objects[Tasks], items, results, c.updateBatch); err != nil {
		return results, fmt.Errorf("close tasks: %w", err)
	}
	return results, nil
}

// FindTasks returns the tasks whose key property holds one of keys,
// searching with IN filters of at most 100 keys, paged by hs_object_id.
func (c *Client) FindTasks(ctx context.Context, keys []string) ([]connector.TaskRef, error) {
	if c.taskKey == "" {
		return nil, errors.New("find tasks: no task key property configured (outputs.task_key in the mapping)")
	}
	want := map[string]string{}
	var list []string
	for _, k := range keys {
		k = strings.TrimSpace(k)
		if k == "" || want[strings.ToLower(k)] != "" {
			continue
		}
		want[strings.ToLower(k)] = k
		list = append(list, k)
	}
	props := []string{c.taskKey, "hs_task_status", "hs_timestamp"}
	if c.snooze.Field != "" {
		props = append(props, c.snooze.Field)
	}
	o := objects[Tasks]
	var out []connector.TaskRef
	for start := 0; start < len(list); start += filterValuesSize {
		chunk := list[start:min(start+filterValuesSize, len(list))]
		lastID := "0"
		for page := 1; ; page++ {
			body := searchRequest{
				FilterGroups: []filterGroup{{Filters: []searchFilter{
					{PropertyName: c.taskKey, Operator: "IN", Values: chunk},
					{PropertyName: "hs_object_id", Operator: "GT", Value: lastID},
				}}},
				Sorts:      []searchSort{{PropertyName: "hs_object_id", Direction: "ASCENDING"}},
				Properties: props,
				Limit:      searchPageSize,
			}
			res, err := c.search(ctx, o, body)
			if err != nil {
				return nil, fmt.Errorf("find tasks: %w", err)
			}
			recs, err := decodeRecords(o, res.Results, "task search page")
			if err != nil {
				return nil, fmt.Errorf("find tasks: %w", err)
			}
			for _, r := range recs {
				if r.skip != nil {
					// A task that cannot be read might be one of ours:
					// going on could create it twice.
					return nil, fmt.Errorf("find tasks: %w", connector.MalformedError(http.StatusOK, nil, r.raw, errors.New(r.skip.Reason)))
				}
				key, ok := want[strings.ToLower(r.prop(c.taskKey))]
				if !ok {
					continue
				}
				status := r.prop("hs_task_status")
				// A task in the closed status healthsync sets is not open
				// either, whatever that status is.
				ref := connector.TaskRef{Key: key, ID: r.ID, Status: status, Open: status != "COMPLETED" && !strings.EqualFold(status, c.closed)}
				if c.snooze.Field != "" && r.prop(c.snooze.Field) != "" {
					v := r.prop(c.snooze.Field)
					ref.SnoozedUntil = &v
				} else if c.snooze.Status != "" && strings.EqualFold(status, c.snooze.Status) {
					v := "" // snoozed by status, without an end date
					ref.SnoozedUntil = &v
				}
				out = append(out, ref)
			}
			if len(recs) == 0 || res.next() == "" {
				break
			}
			if next := recs[len(recs)-1].ID; idLess(lastID, next) {
				lastID = next
			} else {
				return nil, fmt.Errorf("find tasks: %w", c.keyStalled(o, "task search page", page, "id "+next))
			}
		}
	}
	return out, nil
}
