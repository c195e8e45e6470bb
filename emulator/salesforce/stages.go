package salesforce

import (
	"strings"
	"time"
)

// forecastCategory is the ForecastCategory value of a
// ForecastCategoryName ("Best Case" is BestCase, "Commit" is Forecast).
func forecastCategory(name string) string {
	switch name {
	case "Best Case":
		return "BestCase"
	case "Commit":
		return "Forecast"
	}
	return name
}

// setStages makes stages the org's opportunity stages: the StageName
// picklist, the closed and won flags writes derive from it, and the
// OpportunityStage records the API serves (ApiName, MasterLabel,
// IsActive, IsClosed, IsWon, DefaultProbability, ForecastCategory,
// ForecastCategoryName, SortOrder), created at now by user by. The
// caller holds the lock.
func (s *Server) setStages(stages []stage, now time.Time, by string) {
	d := s.db
	d.stages = stages
	if f, _ := d.schema["opportunity"].field("StageName"); f != nil {
		f.picklist = nil
		for _, st := range stages {
			f.picklist = append(f.picklist, st.name)
		}
	}
	o := d.schema["opportunitystage"]
	if old := d.tables["opportunitystage"]; old != nil {
		for id, r := range old.byID {
			delete(d.byID, id)
			r.ver++
		}
	}
	t := newTable(o)
	d.tables["opportunitystage"] = t
	for i, st := range stages {
		label := st.label
		if label == "" {
			label = st.name
		}
		vals := s.vals("OpportunityStage", map[string]any{
			"ApiName": st.name, "MasterLabel": label, "IsActive": true, "IsClosed": st.closed, "IsWon": st.won,
			"DefaultProbability": st.prob, "ForecastCategoryName": st.forecast, "ForecastCategory": forecastCategory(st.forecast),
			"SortOrder": float64(i + 1), "LastModifiedById": by, "LastModifiedDate": now,
		})
		r := d.insert(t, vals, now, by)
		if st.id != "" && len(st.id) >= 15 && strings.HasPrefix(st.id, o.prefix) && d.lookup(st.id) == nil {
			// The export's own ID, so the records read as the org's.
			id := canonicalID(st.id)
			delete(t.byID, r.id)
			delete(d.byID, r.id)
			r.id = id
			r.set(t.idxID, id)
			t.byID[id] = r
			d.byID[id] = r
		}
	}
	t.rebuild()
}
