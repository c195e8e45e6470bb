package hubspot

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// HubSpot computes a deal's hs_is_closed and hs_is_closed_won from its
// dealstage: each stage of a deal pipeline says in its metadata whether
// it closes the deal (isClosed) and, by a probability of 1, wins it. The
// property history of those calculated properties does not say what they
// were before HubSpot first calculated them (a portal older than the
// properties, or history imported by stage), so their history is read
// from dealstage's through the portal's pipelines: the same answer
// HubSpot's calculation gives, for every date the stage history covers.

// derivedDealProps are the deal properties HubSpot derives from dealstage.
var derivedDealProps = map[string]func(dealStageFlags) bool{
	"hs_is_closed":     func(f dealStageFlags) bool { return f.closed },
	"hs_is_closed_won": func(f dealStageFlags) bool { return f.won },
}

// dealStageFlags is whether a stage closes and wins the deal.
type dealStageFlags struct{ closed, won bool }

// stagesTTL is how long the pipelines read for a backfill serve its
// batch reads before they are read again.
const stagesTTL = 10 * time.Minute

// HistoryDerivedFrom returns the property whose history stands for
// field's on object ("dealstage" for the deal properties hs_is_closed and
// hs_is_closed_won), or "".
func (c *Client) HistoryDerivedFrom(object, field string) string {
	if o, err := lookup(object); err == nil && o.name == "deals" && derivedDealProps[field] != nil {
		return "dealstage"
	}
	return ""
}

// dealStages returns every deal stage of the portal's pipelines by ID:
// one call, kept for stagesTTL so a backfill's batch reads share it.
func (c *Client) dealStages(ctx context.Context) (map[string]dealStageFlags, error) {
	c.mu.Lock()
	if c.stages != nil && c.clock.Now().Sub(c.stagesAt) < stagesTTL {
		s := c.stages
		c.mu.Unlock()
		return s, nil
	}
	c.mu.Unlock()
	var res struct {
		Results []struct {
			Stages []struct {
				ID       string            `json:"id"`
				Metadata map[string]string `json:"metadata"`
			} `json:"stages"`
		} `json:"results"`
	}
	if _, err := c.call(ctx, http.MethodGet, "/crm/v3/pipelines/deals", nil, nil, &res); err != nil {
		return nil, fmt.Errorf("read the deal pipelines: %w", err)
	}
	out := map[string]dealStageFlags{}
	for _, p := range res.Results {
		for _, st := range p.Stages {
			closed, _ := strconv.ParseBool(st.Metadata["isClosed"])
			prob, err := strconv.ParseFloat(st.Metadata["probability"], 64)
			won := closed && err == nil && prob == 1
			out[st.ID] = dealStageFlags{closed: closed, won: won}
		}
	}
	c.mu.Lock()
	c.stages, c.stagesAt = out, c.clock.Now()
	c.mu.Unlock()
	return out, nil
}

// historyEntry is one value of a property's history.
type historyEntry struct {
	Value     *string `json:"value"`
	Timestamp string  `json:"timestamp"`
}

// deriveDealHistory adds to hist the history of each derived property in
// derive, from the dealstage history through stages, and drops
// dealstage's own unless keepStage. A stage the portal no longer has
// implies nothing: the derived values keep their neighbours'.
func deriveDealHistory(hist map[string][]historyEntry, derive []string, keepStage bool, stages map[string]dealStageFlags) {
	for _, prop := range derive {
		get := derivedDealProps[prop]
		var out []historyEntry
		for _, e := range hist["dealstage"] {
			if e.Value == nil {
				continue
			}
			f, ok := stages[*e.Value]
			if !ok {
				continue
			}
			v := strconv.FormatBool(get(f))
			out = append(out, historyEntry{Value: &v, Timestamp: e.Timestamp})
		}
		if len(out) > 0 {
			hist[prop] = out
		} else {
			delete(hist, prop)
		}
	}
	if !keepStage {
		delete(hist, "dealstage")
	}
}
