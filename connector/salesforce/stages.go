package salesforce

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"healthsync/connector"
)

// Salesforce derives an opportunity's IsClosed and IsWon from its
// StageName (each stage of the org's OpportunityStage records says
// whether it closes, and wins, the deal), and field history tracking
// cannot track them: they have no history rows. Their history is the
// StageName history read through the org's stages.

// derivedFromStage are the Opportunity fields Salesforce derives from
// StageName, lower case.
var derivedFromStage = map[string]bool{"isclosed": true, "iswon": true}

// HistoryDerivedFrom returns the field whose history stands for field's
// on object ("StageName" for Opportunity IsClosed and IsWon), or "" when
// field keeps (or lacks) a history of its own. check says so to an admin
// whose StageName is not tracked, rather than asking for tracking
// Salesforce does not offer.
func (c *Client) HistoryDerivedFrom(object, field string) string {
	if strings.EqualFold(object, "Opportunity") && derivedFromStage[strings.ToLower(field)] {
		return "StageName"
	}
	return ""
}

// stageFlags is whether a stage closes and wins the deal.
type stageFlags struct{ closed, won bool }

// stagesTTL is how long the stages read for a backfill (or a check)
// serve before they are read again.
const stagesTTL = 10 * time.Minute

// stageCache holds the org's stages between HistoryTracked and
// PullHistory, so a backfill reads them once.
type stageCache struct {
	mu sync.Mutex
	m  map[string]stageFlags
	at time.Time
}

// opportunityStages reads the org's stages (active or not: an old
// history row may name a retired one) by API name and by label, lower
// case: one query call, kept for stagesTTL.
func (c *Client) opportunityStages(ctx context.Context) (map[string]stageFlags, error) {
	c.stages.mu.Lock()
	defer c.stages.mu.Unlock()
	if c.stages.m != nil && c.clock.Now().Sub(c.stages.at) < stagesTTL {
		return c.stages.m, nil
	}
	out := map[string]stageFlags{}
	err := c.queryPages(ctx, "query", "SELECT ApiName, MasterLabel, IsClosed, IsWon FROM OpportunityStage", func(recs []rawRecord, _ int) error {
		for _, r := range recs {
			f := stageFlags{closed: r["IsClosed"] == true, won: r["IsWon"] == true}
			if f.won {
				f.closed = true
			}
			for _, k := range []string{"MasterLabel", "ApiName"} {
				if n := strings.ToLower(r.str(k)); n != "" {
					out[n] = f
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the opportunity stages: %w", err)
	}
	c.stages.m, c.stages.at = out, c.clock.Now()
	return out, nil
}

// stageDeriver turns StageName history rows into the IsClosed and IsWon
// values they imply.
type stageDeriver struct {
	stages map[string]stageFlags
	// closed and won are the spellings of IsClosed and IsWon asked for
	// ("" : not asked for); stage says whether StageName itself was.
	closed, won string
	stage       bool
}

// newStageDeriver splits the fields of an Opportunity history request
// into the ones to query (StageName in place of IsClosed and IsWon) and
// a deriver; nil when nothing is derived.
func newStageDeriver(object string, fields []string) ([]string, *stageDeriver) {
	if !strings.EqualFold(object, "Opportunity") {
		return fields, nil
	}
	d := &stageDeriver{}
	var query []string
	for _, f := range fields {
		switch strings.ToLower(f) {
		case "isclosed":
			d.closed = f
		case "iswon":
			d.won = f
		case "stagename":
			d.stage = true
			query = append(query, f)
		default:
			query = append(query, f)
		}
	}
	if d.closed == "" && d.won == "" {
		return fields, nil
	}
	if !d.stage {
		query = append(query, "StageName")
	}
	return query, d
}

// derive returns v's own value when it was asked for, and the IsClosed
// and IsWon values a StageName change implies. A stage the org does not
// know (renamed or deleted since) implies nothing: those values keep
// their neighbours'.
func (d *stageDeriver) derive(v connector.FieldValue) []connector.FieldValue {
	if !strings.EqualFold(v.Field, "StageName") {
		return []connector.FieldValue{v}
	}
	var out []connector.FieldValue
	if d.stage {
		out = append(out, v)
	}
	newF, okNew := d.flags(v.Value)
	oldF, okOld := d.flags(v.Old)
	if !okNew {
		return out
	}
	add := func(field string, get func(stageFlags) bool) {
		if field == "" {
			return
		}
		fv := connector.FieldValue{RecordID: v.RecordID, Field: field, At: v.At, Value: boolJSON(get(newF))}
		if okOld {
			fv.Old = boolJSON(get(oldF))
		}
		out = append(out, fv)
	}
	add(d.closed, func(f stageFlags) bool { return f.closed })
	add(d.won, func(f stageFlags) bool { return f.won })
	return out
}

// flags looks up a history value's stage.
func (d *stageDeriver) flags(v json.RawMessage) (stageFlags, bool) {
	var s string
	if len(v) == 0 || json.Unmarshal(v, &s) != nil || s == "" {
		return stageFlags{}, false
	}
	f, ok := d.stages[strings.ToLower(s)]
	return f, ok
}

func boolJSON(b bool) json.RawMessage {
	if b {
		return json.RawMessage("true")
	}
	return json.RawMessage("false")
}
