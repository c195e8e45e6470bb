package salesforce

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"healthsync/connector"
)

// Calculated (formula and roll-up summary) fields change without bumping
// SystemModstamp, so an incremental pull never sees their changes. The
// Client keeps, in memory, a fingerprint of the calculated values of every
// record it pulled; RefreshCalculated reads just Id + the calculated
// fields of every live record and re-fetches in full (and emits) only the
// records whose fingerprint changed or is unknown (the first refresh after
// a process start re-fetches everything once).
//
// The connector has no store, so the sync engine remembers when the last
// refresh ran (e.g. in its state table) and calls
//
//	if c.CalculatedDue(object, last) {
//	    err := c.RefreshCalculated(ctx, req, commit)
//	    if err == nil { last = now }
//	}
//
// after the object's incremental Pull.

// CalculatedDue reports whether the calculated fields are due to be read
// again: last (when the previous refresh finished; zero for never) is at
// least HEALTHSYNC_SALESFORCE_FORMULA_REFRESH ago.
func (c *Client) CalculatedDue(last time.Time) bool {
	return last.IsZero() || !c.clock.Now().Before(last.Add(c.cfg.FormulaRefresh))
}

// CalculatedFields returns the fields of fields that the org computes
// (formula, roll-up summary), which Pull cannot see change.
func (c *Client) CalculatedFields(ctx context.Context, object string, fields []string) ([]string, error) {
	d, _, err := c.describe(ctx, object)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range fields {
		if df, ok := d.field(f); ok && df.Calculated {
			out = append(out, df.Name)
		}
	}
	return out, nil
}

// refreshChunk is how many records one re-fetch names in its IN list.
const refreshChunk = 200

// RefreshCalculated reads Id + the calculated fields among req.Fields for
// every live record of req.Object and emits, through fn, the full records
// (same fields and shape as Pull) of those whose calculated values changed
// since this Client last saw them. Page.Cursor is req.Since: a refresh
// never moves the cursor. With no calculated field it makes no call.
func (c *Client) RefreshCalculated(ctx context.Context, req connector.PullRequest, fn func(context.Context, connector.Page) error) error {
	obj := req.Object
	d, _, err := c.describeFields(ctx, obj, req.Fields)
	if err != nil {
		return fmt.Errorf("refresh calculated fields of %s: %w", obj, err)
	}
	calc, err := c.CalculatedFields(ctx, obj, req.Fields)
	if err != nil || len(calc) == 0 {
		return err
	}
	fields := selectFields(d, req.Fields)
	var changed []string
	flush := func() error {
		for len(changed) > 0 {
			n := min(len(changed), refreshChunk)
			chunk := changed[:n]
			changed = changed[n:]
			quoted := make([]string, len(chunk))
			for i, id := range chunk {
				quoted[i] = soqlString(id)
			}
			soql := "SELECT " + strings.Join(fields, ", ") + " FROM " + obj + " WHERE Id IN (" + strings.Join(quoted, ", ") + ") ORDER BY SystemModstamp, Id"
			page := 0
			err := c.queryPages(ctx, "query", soql, func(recs []rawRecord, _ int) error {
				page++
				out := make([]connector.Record, 0, len(recs))
				var skipped []connector.Skipped
				for i, r := range recs {
					rec, problem, err := c.record(obj, r)
					if err != nil {
						return err
					}
					if problem != "" {
						// Not remembered: the next refresh reads it again.
						skipped = append(skipped, skippedRecord(obj, fmt.Sprintf("record %d of refresh page %d", i+1, page), r, problem))
						continue
					}
					c.remember(obj, d, r)
					out = append(out, rec)
				}
				if len(out) == 0 && len(skipped) == 0 {
					return nil
				}
				return fn(ctx, connector.Page{Records: out, Cursor: req.Since, Skipped: skipped})
			})
			if err != nil {
				return err
			}
		}
		return nil
	}
	soql := "SELECT Id, " + strings.Join(calc, ", ") + " FROM " + obj + " ORDER BY Id"
	err = c.queryPages(ctx, "query", soql, func(recs []rawRecord, _ int) error {
		c.mu.Lock()
		known := c.fingerprint[obj]
		for _, r := range recs {
			id := r.str("Id")
			if h, ok := known[id]; !ok || h != fingerprint(d, r) {
				changed = append(changed, id)
			}
		}
		c.mu.Unlock()
		return flush()
	})
	if err != nil {
		return fmt.Errorf("refresh calculated fields of %s: %w", obj, err)
	}
	return nil
}

// remember keeps the fingerprint of a pulled record's calculated values.
func (c *Client) remember(obj string, d *objectDescribe, r rawRecord) {
	hasCalc := false
	for k := range r {
		if f, ok := d.field(k); ok && f.Calculated {
			hasCalc = true
			break
		}
	}
	if !hasCalc {
		return
	}
	h := fingerprint(d, r)
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.fingerprint[obj]
	if m == nil {
		m = map[string]uint64{}
		c.fingerprint[obj] = m
	}
	m[strings.Clone(r.str("Id"))] = h // a copy: the Id points into the whole record
}

// fingerprint hashes the calculated fields of r (sorted by name).
func fingerprint(d *objectDescribe, r rawRecord) uint64 {
	calc := map[string]any{}
	for k, v := range r {
		if f, ok := d.field(k); ok && f.Calculated {
			calc[strings.ToLower(k)] = v
		}
	}
	b, _ := json.Marshal(calc) // map keys are sorted
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}
