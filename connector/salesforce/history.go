package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"healthsync/connector"
	"healthsync/crm"
)

// Field history tracking: Salesforce keeps the changes of the fields an
// admin tracks in a history object per tracked object (AccountHistory,
// OpportunityFieldHistory) with one row per change: Field, DataType,
// OldValue, NewValue, CreatedDate. Untracked fields have no rows; an
// object with no tracked field (or whose history the integration user
// cannot read) has no history object at all, and a query of it answers
// INVALID_TYPE.

// historyObjects names the history object of each object healthsync
// reads history of, and its reference to the parent record.
var historyObjects = map[string]struct{ name, parent string }{
	"account":     {"AccountHistory", "AccountId"},
	"opportunity": {"OpportunityFieldHistory", "OpportunityId"},
}

// HistoryByID implements sync's history source: Salesforce's history is
// read per object, not per record.
func (c *Client) HistoryByID() int { return 0 }

// HistoryTracked returns the fields of object that field history tracking
// keeps: the values of the history object's Field picklist, as the
// describe of the history object lists them (one call). An object without
// field history, or whose history the user cannot see, tracks none.
// Opportunity IsClosed and IsWon count as tracked when StageName is and
// the org's OpportunityStage records can be read (one more call):
// PullHistory derives their history from it.
func (c *Client) HistoryTracked(ctx context.Context, object string, fields []string) ([]string, error) {
	h, ok := historyObjects[strings.ToLower(object)]
	if !ok {
		return nil, nil
	}
	base, err := c.dataURL(ctx)
	if err != nil {
		return nil, err
	}
	var d struct {
		Fields []struct {
			Name           string `json:"name"`
			PicklistValues []struct {
				Value  string `json:"value"`
				Active bool   `json:"active"`
			} `json:"picklistValues"`
		} `json:"fields"`
	}
	if err := c.getJSON(ctx, base+"/sobjects/"+h.name+"/describe", &d); err != nil {
		if untracked(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("describe %s: %w", h.name, err)
	}
	tracked := map[string]bool{}
	for _, f := range d.Fields {
		if f.Name != "Field" {
			continue
		}
		for _, v := range f.PicklistValues {
			if v.Active {
				tracked[strings.ToLower(v.Value)] = true
			}
		}
	}
	// IsClosed and IsWon follow StageName: its history is theirs, read
	// through the org's stages (one query, kept for the backfill). A user
	// who cannot read the stages gets no history of them.
	if tracked["stagename"] && strings.EqualFold(object, "Opportunity") &&
		slices.ContainsFunc(fields, func(f string) bool { return derivedFromStage[strings.ToLower(f)] }) {
		if _, err := c.opportunityStages(ctx); err == nil {
			for f := range derivedFromStage {
				tracked[f] = true
			}
		} else if !untracked(err) {
			return nil, fmt.Errorf("field history of %s: %w", object, err)
		} else {
			c.log.Warn("the integration user cannot read OpportunityStage: IsClosed and IsWon history starts at the first sync", "error", err)
		}
	}
	var out []string
	for _, f := range fields {
		if tracked[strings.ToLower(f)] {
			out = append(out, f)
		}
	}
	return out, nil
}

// untracked reports an answer that means "no field history here": the
// history object does not exist for this org or user.
func untracked(err error) bool {
	var apiErr *connector.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	return apiErr.Code == "INVALID_TYPE" || apiErr.Code == "NOT_FOUND" || apiErr.Status == http.StatusNotFound ||
		apiErr.Code == "INSUFFICIENT_ACCESS" || apiErr.Code == "INSUFFICIENT_ACCESS_OR_READONLY"
}

// PullHistory implements sync's history source: the changes of
// req.Fields of every record of req.Object whose ID sorts after
// req.After, from
//
//	SELECT <parent>, Field, DataType, OldValue, NewValue, CreatedDate
//	FROM AccountHistory WHERE Field IN (...) [AND AccountId > :after]
//	ORDER BY AccountId, CreatedDate, Id
//
// in REST pages of 2,000, or as one Bulk API 2.0 job when the first page
// says more rows are pending than HEALTHSYNC_SALESFORCE_BULK_THRESHOLD.
// Opportunity IsClosed and IsWon have no history rows (Salesforce derives
// them from StageName and cannot track them): asked for, they are read
// as StageName's changes through the org's OpportunityStage records (one
// more query call).
// Each page handed to fn holds whole records: the rows of the last record
// of a query page wait for the next page. An object without field history
// (INVALID_TYPE) has nothing to read.
func (c *Client) PullHistory(ctx context.Context, req connector.HistoryRequest, fn func(context.Context, connector.HistoryPage) error) error {
	h, ok := historyObjects[strings.ToLower(req.Object)]
	if !ok || len(req.Fields) == 0 {
		return nil
	}
	queryFields, derive := newStageDeriver(req.Object, req.Fields)
	if derive != nil {
		stages, err := c.opportunityStages(ctx)
		if err != nil {
			return fmt.Errorf("field history of %s: %w", req.Object, err)
		}
		derive.stages = stages
	}
	quoted := make([]string, 0, len(queryFields))
	for _, f := range queryFields {
		if err := soqlName(f); err != nil {
			return fmt.Errorf("field history of %s: %w", req.Object, err)
		}
		quoted = append(quoted, "'"+f+"'")
	}
	where := " WHERE Field IN (" + strings.Join(quoted, ", ") + ")"
	if req.After != "" {
		if !isRecordID(req.After) {
			return fmt.Errorf("field history of %s: resume after %q: not a Salesforce record ID", req.Object, req.After)
		}
		where += " AND " + h.parent + " > '" + req.After + "'"
	}
	fields := []string{"Id", h.parent, "Field", "DataType", "OldValue", "NewValue", "CreatedDate"}
	soql := "SELECT " + strings.Join(fields, ", ") + " FROM " + h.name + where + " ORDER BY " + h.parent + ", CreatedDate, Id"
	hp := &historyPager{parent: h.parent, fn: fn, derive: derive}
	first, pending := true, 0
	err := c.queryPages(ctx, "query", soql, func(recs []rawRecord, total int) error {
		if first && total > c.cfg.BulkThreshold {
			pending = total
			return errUseBulk
		}
		first = false
		return hp.add(ctx, recs)
	})
	if errors.Is(err, errUseBulk) {
		c.log.Info("reading field history with a Bulk API 2.0 job", "object", h.name, "pending", pending)
		hp = &historyPager{parent: h.parent, fn: fn, csv: true, derive: derive}
		d := historyDescribe(h.name, h.parent)
		err = c.bulkQuery(ctx, h.name, soql, d, fields, func(ctx context.Context, recs []rawRecord) error { return hp.add(ctx, recs) })
	}
	if err != nil {
		if untracked(err) {
			return nil
		}
		return fmt.Errorf("field history of %s: %w", req.Object, err)
	}
	return hp.flush(ctx)
}

// historyDescribe is the describe of a history object's columns, for
// reading its Bulk CSV.
func historyDescribe(name, parent string) *objectDescribe {
	return newObjectDescribe(name, false, []connector.Field{
		{Name: "Id", Type: "id"}, {Name: parent, Type: "reference"}, {Name: "Field", Type: "picklist"},
		{Name: "DataType", Type: "picklist"}, {Name: "OldValue", Type: "anyType"}, {Name: "NewValue", Type: "anyType"},
		{Name: "CreatedDate", Type: "datetime"},
	}, time.Time{})
}

// historyPager groups history rows by record and emits whole records.
type historyPager struct {
	parent  string
	fn      func(context.Context, connector.HistoryPage) error
	csv     bool // values are CSV text: typed by DataType
	derive  *stageDeriver
	held    []connector.FieldValue
	heldID  string
	records []string
	values  []connector.FieldValue
}

func (p *historyPager) add(ctx context.Context, recs []rawRecord) error {
	for _, r := range recs {
		id := r.str(p.parent)
		at, err := crm.ParseTime(r.str("CreatedDate"))
		if id == "" || err != nil {
			continue // a row without its record or date says nothing usable
		}
		if id != p.heldID {
			if p.heldID != "" {
				p.records = append(p.records, p.heldID)
				p.values = append(p.values, p.held...)
			}
			p.heldID, p.held = id, nil
		}
		dt := r.str("DataType")
		v := connector.FieldValue{RecordID: id, Field: r.str("Field"), At: at,
			Value: historyJSON(r["NewValue"], dt, p.csv), Old: historyJSON(r["OldValue"], dt, p.csv)}
		if p.derive != nil {
			p.held = append(p.held, p.derive.derive(v)...)
		} else {
			p.held = append(p.held, v)
		}
	}
	if len(p.records) == 0 {
		return nil
	}
	page := connector.HistoryPage{Values: p.values, Records: p.records, After: p.records[len(p.records)-1]}
	p.records, p.values = nil, nil
	return p.fn(ctx, page)
}

func (p *historyPager) flush(ctx context.Context) error {
	if p.heldID != "" {
		p.records = append(p.records, p.heldID)
		p.values = append(p.values, p.held...)
		p.heldID, p.held = "", nil
	}
	if len(p.records) == 0 {
		return nil
	}
	page := connector.HistoryPage{Values: p.values, Records: p.records, After: p.records[len(p.records)-1]}
	p.records, p.values = nil, nil
	return p.fn(ctx, page)
}

// historyJSON is a history value as a record read would carry it: REST
// answers keep the JSON type; Bulk CSV text is typed from DataType
// (numbers, booleans), and an empty cell is null.
func historyJSON(v any, dataType string, csv bool) json.RawMessage {
	if v == nil {
		return json.RawMessage("null")
	}
	if s, ok := v.(string); ok && csv {
		if s == "" {
			return json.RawMessage("null")
		}
		switch dataType {
		case "Double", "Currency", "Percent":
			if _, err := strconv.ParseFloat(s, 64); err == nil {
				return json.RawMessage(s)
			}
		case "Boolean":
			if b, err := strconv.ParseBool(s); err == nil {
				return json.RawMessage(strconv.FormatBool(b))
			}
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage("null")
	}
	return b
}

// isRecordID reports a 15- or 18-character Salesforce record ID (letters
// and digits), safe to put in a SOQL literal.
func isRecordID(s string) bool {
	if len(s) != 15 && len(s) != 18 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
