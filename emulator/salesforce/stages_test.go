package salesforce

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// stagesOf reads the org's OpportunityStage records as healthsync's
// connector does, as "ApiName/MasterLabel:closed/won" in sort order.
func (b *bundle) stagesOf() string {
	b.t.Helper()
	_, recs, _ := b.queryAllPages("query", "SELECT ApiName, MasterLabel, IsClosed, IsWon FROM OpportunityStage ORDER BY SortOrder")
	var out []string
	for _, s := range recs {
		out = append(out, fmt.Sprintf("%v/%v:%v/%v", s["ApiName"], s["MasterLabel"], s["IsClosed"], s["IsWon"]))
	}
	return strings.Join(out, " ")
}

// TestOpportunityStages: the org's stages are served as OpportunityStage
// records with the documented fields, the standard ones in a new org and
// the export's own after LoadExport (from OpportunityStage.csv, or as the
// import inferred them from Opportunity.csv), agreeing with the IsClosed
// and IsWon the opportunities read; Setup does not track IsClosed or
// IsWon, as Salesforce does not.
func TestOpportunityStages(t *testing.T) {
	t.Parallel()
	b := setup(t, 0, Options{})
	want := "Prospecting/Prospecting:false/false Qualification/Qualification:false/false Needs Analysis/Needs Analysis:false/false " +
		"Value Proposition/Value Proposition:false/false Id. Decision Makers/Id. Decision Makers:false/false " +
		"Perception Analysis/Perception Analysis:false/false Proposal/Price Quote/Proposal/Price Quote:false/false " +
		"Negotiation/Review/Negotiation/Review:false/false Closed Won/Closed Won:true/true Closed Lost/Closed Lost:true/false"
	if got := b.stagesOf(); got != want {
		t.Errorf("a new org's stages:\n got %s\nwant %s", got, want)
	}
	if r := b.do("POST", "sobjects/OpportunityStage", map[string]any{"ApiName": "Mine"}); r.status < 400 {
		t.Errorf("creating an OpportunityStage over the API: %d %s", r.status, r.body)
	}
	for _, f := range []string{"IsClosed", "IsWon"} {
		if err := b.s.SetFieldHistory("Opportunity", true, f); err == nil || !strings.Contains(err.Error(), "does not track "+f) {
			t.Errorf("tracking %s: %v", f, err)
		}
	}

	for _, withStages := range []bool{true, false} {
		t.Run(fmt.Sprintf("OpportunityStage.csv %v", withStages), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			files := exportFiles(withStages)
			if withStages {
				// A stage whose label differs from its API name.
				files["OpportunityStage.csv"] = strings.Replace(files["OpportunityStage.csv"], "Id,MasterLabel,", "Id,ApiName,MasterLabel,", 1)
				for _, n := range []string{"Discovery", "Signed", "Dead", "Negotiating"} {
					label := n
					if n == "Dead" {
						label = "Dead (lost)"
					}
					files["OpportunityStage.csv"] = strings.Replace(files["OpportunityStage.csv"], ","+n+",", ","+n+","+label+",", 1)
				}
			}
			for name, body := range files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			b := setup(t, 0, Options{})
			var out bytes.Buffer
			if err := b.s.LoadExport(dir, &out); err != nil {
				t.Fatal(err)
			}
			want := "Signed/Signed:true/true Discovery/Discovery:false/false Dead/Dead:true/false"
			if withStages {
				want = "Discovery/Discovery:false/false Negotiating/Negotiating:false/false Signed/Signed:true/true Dead/Dead (lost):true/false"
				_, recs, _ := b.queryAllPages("query", "SELECT Id FROM OpportunityStage WHERE ApiName = 'Signed'")
				if len(recs) != 1 || recs[0]["Id"] != sfid("01J", 2) {
					t.Errorf("the export's stage IDs are not kept: %v", recs)
				}
			}
			if got := b.stagesOf(); got != want {
				t.Errorf("stages:\n got %s\nwant %s", got, want)
			}
			// Every opportunity's IsClosed and IsWon are its stage's.
			_, stages, _ := b.queryAllPages("query", "SELECT ApiName, IsClosed, IsWon FROM OpportunityStage")
			byName := map[string]string{}
			for _, s := range stages {
				byName[s["ApiName"].(string)] = fmt.Sprint(s["IsClosed"], s["IsWon"])
			}
			_, opps, _ := b.queryAllPages("query", "SELECT StageName, IsClosed, IsWon FROM Opportunity")
			for _, o := range opps {
				if got := fmt.Sprint(o["IsClosed"], o["IsWon"]); byName[o["StageName"].(string)] != got {
					t.Errorf("opportunity at %v reads closed/won %s, its stage %s", o["StageName"], got, byName[o["StageName"].(string)])
				}
			}
		})
	}
}
