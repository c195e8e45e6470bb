package hubspot_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"healthsync/connector"
	"healthsync/connector/hubspot"
	"healthsync/crm"
	emu "healthsync/emulator/hubspot"
	"healthsync/internal/testkit"
)

type bundle struct {
	t     *testing.T
	srv   *emu.Server
	ts    *httptest.Server
	clock *testkit.Clock
}

// setup starts an emulated portal (limits off unless opts set them) at
// the gen default now.
func setup(t *testing.T, opts emu.Options) *bundle {
	t.Helper()
	return setupBehind(t, opts, nil)
}

// setupBehind is setup with the portal served through wrap (nil: as it
// is), e.g. a proxy that corrupts answers.
func setupBehind(t *testing.T, opts emu.Options, wrap func(http.Handler) http.Handler) *bundle {
	t.Helper()
	c := testkit.NewClock(time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC))
	if opts.Clock == nil {
		opts.Clock = c
	}
	srv := emu.New(opts)
	var h http.Handler = srv
	if wrap != nil {
		h = wrap(srv)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return &bundle{t: t, srv: srv, ts: ts, clock: c}
}

func noLimits() emu.Options { return emu.Options{RateLimits: emu.RateLimits{Disabled: true}} }

func fastHTTP() connector.HTTPConfig {
	h := connector.DefaultHTTPConfig()
	h.RetryWaitMin = 5 * time.Millisecond
	h.RetryWaitMax = 200 * time.Millisecond
	h.MaxRetries = 12
	return h
}

// config is a private-app configuration for the bundle's portal.
func (b *bundle) config() hubspot.Config {
	cfg := hubspot.DefaultConfig()
	cfg.BaseURL = b.ts.URL
	cfg.Token = b.srv.Credentials().PrivateAppToken
	cfg.SearchRate = 1000
	return cfg
}

func (b *bundle) open(cfg hubspot.Config, deps hubspot.Deps) *hubspot.Client {
	b.t.Helper()
	if deps.Clock == nil {
		deps.Clock = b.clock
	}
	if deps.HTTP == (connector.HTTPConfig{}) {
		deps.HTTP = fastHTTP()
	}
	c, err := hubspot.Open(context.Background(), cfg, deps)
	if err != nil {
		b.t.Fatalf("open: %v", err)
	}
	return c
}

// replica applies pulled pages like the store does.
type replica struct {
	live    map[string]map[string]connector.Record
	deleted map[string]map[string]bool
	cursor  map[string]connector.Cursor
	pages   int
	onPage  func()         // called after each page (to expire tokens mid-pull)
	emitted map[string]int // live records received per object in the last pull (deletions not counted)
}

func newReplica() *replica {
	return &replica{live: map[string]map[string]connector.Record{}, deleted: map[string]map[string]bool{},
		cursor: map[string]connector.Cursor{}, emitted: map[string]int{}}
}

func (r *replica) pull(t *testing.T, c *hubspot.Client, object string, fields []string) error {
	t.Helper()
	if r.live[object] == nil {
		r.live[object], r.deleted[object] = map[string]connector.Record{}, map[string]bool{}
	}
	r.emitted[object] = 0
	return c.Pull(context.Background(), connector.PullRequest{Object: object, Fields: fields, Since: r.cursor[object], Stored: r.stored(object)}, r.apply(t, object))
}

// sweep runs an association sweep of object against the replica.
func (r *replica) sweep(t *testing.T, c *hubspot.Client, object string, fields []string) error {
	t.Helper()
	r.emitted[object] = 0
	return c.SweepAssociations(context.Background(), connector.PullRequest{Object: object, Fields: fields, Since: r.cursor[object], Stored: r.stored(object)}, r.apply(t, object))
}

// stored is what the replica holds of object, as the store would answer.
func (r *replica) stored(object string) connector.Stored { return replicaStored{r: r, object: object} }

type replicaStored struct {
	r      *replica
	object string
}

func (s replicaStored) LiveCount(context.Context) (int, error) { return len(s.r.live[s.object]), nil }

func (s replicaStored) Raw(_ context.Context, ids []string) (map[string]json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	for _, id := range ids {
		if rec, ok := s.r.live[s.object][id]; ok {
			out[id] = rec.Raw
		}
	}
	return out, nil
}

// apply returns the page callback that applies pages of object.
func (r *replica) apply(t *testing.T, object string) func(context.Context, connector.Page) error {
	t.Helper()
	if r.live[object] == nil {
		r.live[object], r.deleted[object] = map[string]connector.Record{}, map[string]bool{}
	}
	return func(_ context.Context, p connector.Page) error {
		r.pages++
		for _, rec := range p.Records {
			if rec.Object != object {
				t.Errorf("record of %s in a pull of %s", rec.Object, object)
			}
			if rec.Deleted {
				delete(r.live[object], rec.ID)
				r.deleted[object][rec.ID] = true
				continue
			}
			delete(r.deleted[object], rec.ID)
			r.emitted[object]++
			r.live[object][rec.ID] = rec
		}
		if p.Cursor.ModifiedAt.Before(r.cursor[object].ModifiedAt) {
			t.Errorf("%s cursor went backwards: %v after %v", object, p.Cursor, r.cursor[object])
		}
		r.cursor[object] = p.Cursor
		if r.onPage != nil {
			r.onPage()
		}
		return nil
	}
}

// props returns a raw record's properties.
func props(t *testing.T, rec connector.Record) map[string]*string {
	t.Helper()
	var w struct {
		Properties map[string]*string `json:"properties"`
	}
	if err := json.Unmarshal(rec.Raw, &w); err != nil {
		t.Fatalf("raw %s %s: %v", rec.Object, rec.ID, err)
	}
	return w.Properties
}

// assocIDs returns the IDs a raw record is associated with, per type.
func assocIDs(t *testing.T, rec connector.Record, to string) []string {
	t.Helper()
	var w struct {
		Associations map[string]struct {
			Results []struct {
				ID string `json:"id"`
			} `json:"results"`
		} `json:"associations"`
	}
	if err := json.Unmarshal(rec.Raw, &w); err != nil {
		t.Fatalf("raw %s %s: %v", rec.Object, rec.ID, err)
	}
	var out []string
	for _, r := range w.Associations[to].Results {
		out = append(out, r.ID)
	}
	return out
}

var _ = crm.HubSpot

// mappingDefaults is what the default mapping asks of the connector: the
// objects in sync order, the fields read from each and the custom fields
// written. It comes from testdata/mapping-defaults.json, which sync's
// tests keep equal to the mapping package's defaults: a connector's tests
// import nothing above connector.
type mappingDefaults struct {
	ObjectList []string              `json:"objects"`
	FieldLists map[string][]string   `json:"fields"`
	Specs      []connector.FieldSpec `json:"field_specs"`
}

// loadDefaults reads testdata/mapping-defaults.json.
func loadDefaults(t testing.TB) *mappingDefaults {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "mapping-defaults.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d mappingDefaults
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("testdata/mapping-defaults.json: %v", err)
	}
	return &d
}

// Objects returns the objects to sync, in sync order.
func (d *mappingDefaults) Objects() []string { return slices.Clone(d.ObjectList) }

// Fields returns the fields the mapping reads from object, sorted.
func (d *mappingDefaults) Fields(object string) []string { return slices.Clone(d.FieldLists[object]) }

// FieldSpecs returns the custom fields the mapping writes.
func (d *mappingDefaults) FieldSpecs() []connector.FieldSpec { return slices.Clone(d.Specs) }

// blobOf is the token blob tokens holds for connection.
func blobOf(tokens *testkit.Tokens, connection string) []byte {
	b, _ := tokens.LoadToken(context.Background(), connection)
	return b
}
