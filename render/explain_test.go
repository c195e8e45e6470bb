package render

import (
	"slices"
	"testing"

	"healthsync/scoring"
)

// Explain lists the metrics in its own order, kept here, away from where
// scoring defines them: a metric scoring adds must not go missing from it.
func TestExplainListsEveryMetric(t *testing.T) {
	t.Parallel()
	for _, name := range scoring.MetricNames() {
		if !slices.Contains(metricOrder[:], name) {
			t.Errorf("metric %s is not in metricOrder, so explain would not show it", name)
		}
	}
	if len(metricOrder) != len(scoring.MetricNames()) {
		t.Errorf("metricOrder has %d entries for %d metrics: one is listed twice or is not a metric", len(metricOrder), len(scoring.MetricNames()))
	}
}
