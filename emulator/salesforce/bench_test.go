package salesforce

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"healthsync/emulator/gen"
	"healthsync/internal/testkit"
)

// BenchmarkServeAccountPage serves one full page of 2,000 Accounts with
// parent fields over loopback HTTP, as an incremental sync asks for it.
func BenchmarkServeAccountPage(b *testing.B) {
	s := New(Options{Clock: testkit.NewClock(testNow)})
	org, err := gen.Generate(gen.Options{Seed: 1, Accounts: 3000, Now: testNow})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.LoadOrg(org); err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()
	tok := s.newSession(s.userID, "")
	q := url.QueryEscape("SELECT Id, Name, Type, Industry, AnnualRevenue, NumberOfEmployees, OwnerId, Owner.Email, Segment__c, ARR__c, Adoption__c, CSM_Sentiment__c, SystemModstamp, IsDeleted FROM Account WHERE SystemModstamp >= 2020-01-01T00:00:00Z ORDER BY SystemModstamp, Id")
	req, _ := http.NewRequest("GET", ts.URL+"/services/data/v60.0/queryAll?q="+q, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	client := ts.Client()
	var n int64
	b.ResetTimer()
	for b.Loop() {
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	b.SetBytes(n)
}
