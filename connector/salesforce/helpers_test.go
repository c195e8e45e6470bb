package salesforce

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
	"healthsync/crm"
	"healthsync/emulator/gen"
	emu "healthsync/emulator/salesforce"
	"healthsync/internal/testkit"
)

type bundle struct {
	t     *testing.T
	srv   *emu.Server
	ts    *httptest.Server
	clock *testkit.Clock
	cfg   Config
	deps  Deps
	c     *Client
	m     *mappingDefaults
}

func fastHTTP() connector.HTTPConfig {
	h := connector.DefaultHTTPConfig()
	h.RetryWaitMin, h.RetryWaitMax, h.MaxRetries, h.Timeout = time.Millisecond, 5*time.Millisecond, 10, 20*time.Second
	return h
}

// setup starts an emulated org with a generated org of accounts accounts
// (0: none) and a Client logged in with JWT bearer.
func setup(t *testing.T, accounts int, opts emu.Options) *bundle {
	t.Helper()
	return setupBehind(t, accounts, opts, nil)
}

// setupBehind is setup with the emulator served through wrap (nil: as it
// is), e.g. a proxy that corrupts answers.
func setupBehind(t *testing.T, accounts int, opts emu.Options, wrap func(http.Handler) http.Handler) *bundle {
	t.Helper()
	clock := testkit.NewClock(gen.DefaultNow)
	opts.Clock = clock
	srv := emu.New(opts)
	if accounts > 0 {
		if err := srv.LoadGen(gen.Options{Seed: 7, Accounts: accounts, Now: gen.DefaultNow}); err != nil {
			t.Fatal(err)
		}
	}
	var h http.Handler = srv
	if wrap != nil {
		h = wrap(srv)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	creds := srv.Credentials()
	key := filepath.Join(t.TempDir(), "key.pem")
	if err := srv.WritePrivateKey(key); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.LoginURL, cfg.ClientID, cfg.ClientSecret, cfg.Username, cfg.JWTKeyFile = ts.URL, creds.ClientID, creds.ClientSecret, creds.Username, key
	m := loadDefaults(t)
	b := &bundle{t: t, srv: srv, ts: ts, clock: clock, cfg: cfg, m: m}
	b.deps = Deps{HTTP: fastHTTP(), Clock: clock, WriteRetryWait: time.Millisecond, BulkPollInterval: time.Millisecond, BulkResultPage: 50_000}
	b.c = b.open(cfg)
	return b
}

func (b *bundle) open(cfg Config) *Client {
	b.t.Helper()
	c, err := Open(context.Background(), cfg, b.deps)
	if err != nil {
		b.t.Fatal(err)
	}
	return c
}

// mirror is what a sync engine would hold: the latest raw record per ID,
// deletions applied, plus each object's cursor.
type mirror struct {
	recs    map[string]map[string]connector.Record
	cursors map[string]connector.Cursor
	emitted map[string]int // records emitted per object in the last pull
}

func newMirror() *mirror {
	return &mirror{recs: map[string]map[string]connector.Record{}, cursors: map[string]connector.Cursor{}, emitted: map[string]int{}}
}

// pull runs one incremental pull of every mapped object.
func (b *bundle) pull(c *Client, m *mirror) error {
	for _, obj := range b.m.Objects() {
		if err := b.pullObject(c, m, obj); err != nil {
			return err
		}
	}
	return nil
}

func (b *bundle) pullObject(c *Client, m *mirror, obj string) error {
	if m.recs[obj] == nil {
		m.recs[obj] = map[string]connector.Record{}
	}
	m.emitted[obj] = 0
	prev := m.cursors[obj]
	return c.Pull(context.Background(), connector.PullRequest{Object: obj, Fields: b.m.Fields(obj), Since: prev}, func(_ context.Context, p connector.Page) error {
		if p.Cursor.ModifiedAt.Before(m.cursors[obj].ModifiedAt) {
			b.t.Errorf("%s: cursor moved backwards: %v after %v", obj, p.Cursor, m.cursors[obj])
		}
		for _, r := range p.Records {
			m.emitted[obj]++
			if r.Deleted {
				delete(m.recs[obj], r.ID)
				continue
			}
			m.recs[obj][r.ID] = r
		}
		m.cursors[obj] = p.Cursor
		return nil
	})
}

// check compares the mirror with the emulator: the same live IDs, and for
// each the same SystemModstamp and mapped field values.
func (b *bundle) check(m *mirror) {
	b.t.Helper()
	for _, obj := range b.m.Objects() {
		live := b.srv.IDs(obj, false)
		if len(live) != len(m.recs[obj]) {
			b.t.Errorf("%s: emulator has %d live records, the mirror %d", obj, len(live), len(m.recs[obj]))
		}
		for _, id := range live {
			r, ok := m.recs[obj][id]
			if !ok {
				b.t.Errorf("%s %s missing from the mirror", obj, id)
				continue
			}
			want, _ := b.srv.Record(obj, id)
			if ts, _ := want["SystemModstamp"].(time.Time); !ts.Equal(r.ModifiedAt) {
				b.t.Errorf("%s %s: stamp %v, emulator %v", obj, id, r.ModifiedAt, ts)
			}
			var got map[string]any
			if err := json.Unmarshal(r.Raw, &got); err != nil {
				b.t.Fatal(err)
			}
			for _, f := range b.m.Fields(obj) {
				if !sameValue(want[f], got[f]) {
					b.t.Errorf("%s %s.%s: mirror %v, emulator %v", obj, id, f, got[f], want[f])
				}
			}
		}
	}
}

func sameValue(want, got any) bool {
	switch w := want.(type) {
	case nil:
		return got == nil
	case time.Time:
		s, _ := got.(string)
		t, err := crm.ParseTime(s)
		return err == nil && t.Equal(crm.Normalize(w))
	default:
		return want == got
	}
}

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
