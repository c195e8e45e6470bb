package hubspot

import (
	"net/http"
	"strconv"
)

// dealStage is one stage of a deal pipeline.
type dealStage struct {
	id, label   string
	probability float64
	closed      bool
}

// dealPipeline is a deal pipeline with its ordered stages.
type dealPipeline struct {
	id, label string
	stages    []dealStage
}

// defaultPipelines are the deal pipelines of a new HubSpot portal, plus a
// renewals pipeline many customer-success teams add.
func defaultPipelines() []*dealPipeline {
	return []*dealPipeline{
		{id: "default", label: "Sales Pipeline", stages: []dealStage{
			{"appointmentscheduled", "Appointment Scheduled", 0.2, false},
			{"qualifiedtobuy", "Qualified To Buy", 0.4, false},
			{"presentationscheduled", "Presentation Scheduled", 0.6, false},
			{"decisionmakerboughtin", "Decision Maker Bought-In", 0.8, false},
			{"contractsent", "Contract Sent", 0.9, false},
			{"closedwon", "Closed Won", 1, true},
			{"closedlost", "Closed Lost", 0, true},
		}},
	}
}

func (s *Server) pipeline(id string) *dealPipeline {
	for _, p := range s.pipelines {
		if p.id == id {
			return p
		}
	}
	return nil
}

// stage finds a deal stage by id in any pipeline.
func (s *Server) stage(id string) (dealStage, *dealPipeline, bool) {
	for _, p := range s.pipelines {
		for _, st := range p.stages {
			if st.id == id {
				return st, p, true
			}
		}
	}
	return dealStage{}, nil, false
}

type wireStage struct {
	ID           string            `json:"id"`
	Label        string            `json:"label"`
	DisplayOrder int               `json:"displayOrder"`
	Metadata     map[string]string `json:"metadata"`
	CreatedAt    string            `json:"createdAt"`
	UpdatedAt    string            `json:"updatedAt"`
	Archived     bool              `json:"archived"`
}

type wirePipeline struct {
	ID           string      `json:"id"`
	Label        string      `json:"label"`
	DisplayOrder int         `json:"displayOrder"`
	Stages       []wireStage `json:"stages"`
	CreatedAt    string      `json:"createdAt"`
	UpdatedAt    string      `json:"updatedAt"`
	Archived     bool        `json:"archived"`
}

func (p *dealPipeline) wire(order int) wirePipeline {
	ts := formatTime(epoch)
	out := wirePipeline{ID: p.id, Label: p.label, DisplayOrder: order, CreatedAt: ts, UpdatedAt: ts}
	for i, st := range p.stages {
		out.Stages = append(out.Stages, wireStage{
			ID: st.id, Label: st.label, DisplayOrder: i, CreatedAt: ts, UpdatedAt: ts,
			Metadata: map[string]string{
				"isClosed":    strconv.FormatBool(st.closed),
				"probability": strconv.FormatFloat(st.probability, 'f', 1, 64),
			},
		})
	}
	return out
}

// handlePipelines serves /crm/v3/pipelines/{objectType}[/{id}[/stages]].
func (s *Server) handlePipelines(w http.ResponseWriter, r *http.Request, c *caller, parts []string) {
	if r.Method != http.MethodGet {
		s.writeError(w, newAPIError(http.StatusMethodNotAllowed, catValidation, "Method %s is not supported on pipelines in this emulator", r.Method))
		return
	}
	if parts[0] != "deals" && parts[0] != "0-3" {
		s.writeError(w, validationError("Pipelines are only emulated for deals, not %q", parts[0]))
		return
	}
	if !s.requireScopes(w, c, "crm.objects.deals.read") {
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(parts) == 1 {
		res := make([]wirePipeline, 0, len(s.pipelines))
		for i, p := range s.pipelines {
			res = append(res, p.wire(i))
		}
		writeJSON(w, http.StatusOK, map[string]any{"results": res})
		return
	}
	for i, p := range s.pipelines {
		if p.id != parts[1] {
			continue
		}
		wp := p.wire(i)
		if len(parts) == 3 && parts[2] == "stages" {
			writeJSON(w, http.StatusOK, map[string]any{"results": wp.Stages})
			return
		}
		writeJSON(w, http.StatusOK, wp)
		return
	}
	s.writeError(w, newAPIError(http.StatusNotFound, catNotFound, "Unable to find pipeline %s", parts[1]))
}
