package connector_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"healthsync/connector"
)

func TestAttemptTimeoutIsRetried(t *testing.T) {
	t.Parallel()
	srv := newRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 0 {
			<-r.Context().Done() // hang until the client gives up on the attempt
			return
		}
		writeJSON(w, 200, `{}`)
	})
	cfg := testConfig()
	cfg.Timeout = 200 * time.Millisecond
	s, err := connector.NewStack(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := get(t, context.Background(), s, srv.URL+"/slow")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if srv.count() != 2 {
		t.Fatalf("attempts %d, want 2", srv.count())
	}
}

func TestRedirectToAnotherHostCarriesNoToken(t *testing.T) {
	t.Parallel()
	other := newRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, `{}`) })
	srv := newRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/elsewhere", http.StatusFound)
	})
	s := newStack(t, connector.WithAuth(connector.StaticToken("pat-na1-secret")))
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/start", nil)
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || other.count() != 0 {
		t.Fatalf("status %d, other host saw %d requests; want the 302 back and no request elsewhere", resp.StatusCode, other.count())
	}
	if srv.hit(0).auth != "Bearer pat-na1-secret" {
		t.Fatalf("first host got Authorization %q", srv.hit(0).auth)
	}
}
