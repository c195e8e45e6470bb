package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"healthsync/connector"
)

// DescribeCache keeps object describes between runs. Every CLI run is a
// new process, so without it each Pull would begin with one describe call
// per object; the caller (cmd/healthsync) backs it with the store's state
// table. Values are opaque to the cache. A Get or Put error is logged and
// the describe is fetched from the org, so a broken cache costs calls,
// never a failed sync.
type DescribeCache interface {
	// Get returns the value stored under key; ok is false when there is none.
	Get(ctx context.Context, key string) (value []byte, ok bool, err error)
	// Put stores value under key, replacing any earlier value.
	Put(ctx context.Context, key string, value []byte) error
}

// describeCacheKey is the DescribeCache key of an object's describe.
func describeCacheKey(object string) string { return "salesforce.describe:" + object }

// objectDescribe is the part of an object's describe healthsync uses.
type objectDescribe struct {
	name          string
	replicateable bool
	fields        []connector.Field
	byName        map[string]connector.Field // lower-cased name
	types         map[string]string          // lower-cased name → Salesforce type
	fetchedAt     time.Time                  // when the org answered it
}

func newObjectDescribe(name string, replicateable bool, fields []connector.Field, fetchedAt time.Time) *objectDescribe {
	d := &objectDescribe{name: name, replicateable: replicateable, fetchedAt: fetchedAt,
		byName: make(map[string]connector.Field, len(fields)), types: make(map[string]string, len(fields))}
	for _, f := range fields {
		d.fields = append(d.fields, f)
		d.byName[strings.ToLower(f.Name)] = f
		d.types[strings.ToLower(f.Name)] = f.Type
	}
	return d
}

func (d *objectDescribe) field(name string) (connector.Field, bool) {
	f, ok := d.byName[strings.ToLower(name)]
	return f, ok
}

// Describe implements sync.Source: the fields of object as the org
// describes them to the integration user now. It always asks the org
// (`healthsync check` validates against the live org) and refreshes the
// cached describe Pull uses.
func (c *Client) Describe(ctx context.Context, object string) ([]connector.Field, error) {
	d, err := c.refreshDescribe(ctx, object)
	if err != nil {
		return nil, err
	}
	return append([]connector.Field(nil), d.fields...), nil
}

// describe returns the object's describe: the Client's own copy or the
// DescribeCache's while younger than HEALTHSYNC_SALESFORCE_DESCRIBE_TTL,
// else a new one from the org. fetched reports that the org was asked by
// this call, so a describe lacking something can be told apart from a
// stale one (see describeFields).
func (c *Client) describe(ctx context.Context, object string) (d *objectDescribe, fetched bool, err error) {
	now := c.clock.Now()
	c.mu.Lock()
	d = c.describes[object]
	skipCache := c.forgotten[object]
	c.mu.Unlock()
	if d != nil && c.describeFresh(d, now) {
		return d, false, nil
	}
	if d == nil && !skipCache && c.descCache != nil {
		if d = c.loadDescribe(ctx, object, now); d != nil {
			c.mu.Lock()
			c.describes[object] = d
			c.mu.Unlock()
			return d, false, nil
		}
	}
	d, err = c.refreshDescribe(ctx, object)
	return d, err == nil, err
}

// describeFields returns a describe of object that has every field of
// fields. A cached describe lacking one is fetched again before a field
// is reported missing, so a custom field created after the describe was
// cached is never reported missing because of the cache.
func (c *Client) describeFields(ctx context.Context, object string, fields []string) (d *objectDescribe, fetched bool, err error) {
	d, fetched, err = c.describe(ctx, object)
	if err != nil {
		return nil, false, err
	}
	if err := checkFields(object, d, fields); err == nil || fetched {
		return d, fetched, err
	}
	c.log.Debug("the cached describe lacks a mapped field; describing the object again", "object", object)
	if d, err = c.refreshDescribe(ctx, object); err != nil {
		return nil, false, err
	}
	return d, true, checkFields(object, d, fields)
}

// refreshDescribe asks the org for the object's describe and keeps it in
// the Client and in the DescribeCache.
func (c *Client) refreshDescribe(ctx context.Context, object string) (*objectDescribe, error) {
	d, err := c.fetchDescribe(ctx, object)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.describes[object] = d
	delete(c.forgotten, object)
	c.mu.Unlock()
	c.saveDescribe(ctx, object, d)
	return d, nil
}

// describeFresh reports whether d is younger than the TTL. A describe
// stamped in the future (another replica's clock running ahead by more
// than a little) counts as stale.
func (c *Client) describeFresh(d *objectDescribe, now time.Time) bool {
	return d.fetchedAt.Before(now.Add(time.Minute)) && now.Sub(d.fetchedAt) < c.cfg.DescribeTTL
}

// forgetDescribe drops a cached describe (after Install added fields):
// the next describe asks the org and overwrites the DescribeCache's copy.
func (c *Client) forgetDescribe(object string) {
	c.mu.Lock()
	delete(c.describes, object)
	c.forgotten[object] = true
	c.mu.Unlock()
}

// describeCacheFormat is the version of the cachedDescribe layout; a
// cached describe of another format (an older healthsync's, without the
// fields' help text) is fetched again.
const describeCacheFormat = 2

// cachedDescribe is a describe as the DescribeCache holds it. Format,
// Version and Instance must match the Client's: a describe of another
// layout, API version or org is not reused.
type cachedDescribe struct {
	Format        int           `json:"format"`
	Version       string        `json:"version"`
	Instance      string        `json:"instance"`
	FetchedAt     time.Time     `json:"fetched_at"`
	Name          string        `json:"name"`
	Replicateable bool          `json:"replicateable"`
	Fields        []cachedField `json:"fields"`
}

type cachedField struct {
	Name       string `json:"name"`
	Label      string `json:"label,omitempty"`
	Type       string `json:"type"`
	Updateable bool   `json:"updateable,omitempty"`
	Calculated bool   `json:"calculated,omitempty"`
	Custom     bool   `json:"custom,omitempty"`
	Help       string `json:"help,omitempty"`
}

// loadDescribe returns the DescribeCache's describe of object when it is
// usable (same API version and instance, younger than the TTL), else nil.
func (c *Client) loadDescribe(ctx context.Context, object string, now time.Time) *objectDescribe {
	inst, err := c.InstanceURL(ctx)
	if err != nil {
		return nil // the fetch that follows reports it
	}
	b, ok, err := c.descCache.Get(ctx, describeCacheKey(object))
	if err != nil {
		c.log.Warn("cannot read the cached describe; describing the object again", "object", object, "error", err)
		return nil
	}
	if !ok || len(b) == 0 {
		return nil
	}
	var cd cachedDescribe
	if err := json.Unmarshal(b, &cd); err != nil || cd.Format != describeCacheFormat || cd.Version != c.cfg.APIVersion || cd.Instance != inst || len(cd.Fields) == 0 {
		return nil
	}
	fields := make([]connector.Field, len(cd.Fields))
	for i, f := range cd.Fields {
		fields[i] = connector.Field{Name: f.Name, Label: f.Label, Type: f.Type, Updateable: f.Updateable, Calculated: f.Calculated, Custom: f.Custom, Help: f.Help}
	}
	d := newObjectDescribe(cd.Name, cd.Replicateable, fields, cd.FetchedAt)
	if !c.describeFresh(d, now) {
		return nil
	}
	return d
}

// saveDescribe puts d into the DescribeCache (when there is one).
func (c *Client) saveDescribe(ctx context.Context, object string, d *objectDescribe) {
	if c.descCache == nil {
		return
	}
	inst, err := c.InstanceURL(ctx)
	if err != nil {
		return
	}
	cd := cachedDescribe{Format: describeCacheFormat, Version: c.cfg.APIVersion, Instance: inst, FetchedAt: d.fetchedAt.UTC(), Name: d.name, Replicateable: d.replicateable,
		Fields: make([]cachedField, len(d.fields))}
	for i, f := range d.fields {
		cd.Fields[i] = cachedField{Name: f.Name, Label: f.Label, Type: f.Type, Updateable: f.Updateable, Calculated: f.Calculated, Custom: f.Custom, Help: f.Help}
	}
	b, err := json.Marshal(cd)
	if err == nil {
		err = c.descCache.Put(ctx, describeCacheKey(object), b)
	}
	if err != nil {
		c.log.Warn("cannot cache the describe; the next run describes the object again", "object", object, "error", err)
	}
}

func (c *Client) fetchDescribe(ctx context.Context, object string) (*objectDescribe, error) {
	if err := soqlName(object); err != nil {
		return nil, fmt.Errorf("describe: %w", err)
	}
	sc, t, err := c.simple(ctx)
	if err != nil {
		return nil, err
	}
	asked := c.clock.Now()
	meta := sc.SObject(object).Describe()
	if meta == nil {
		// simpleforce's Describe drops its error; the transport kept it.
		if t.err != nil {
			return nil, fmt.Errorf("describe %s: %w", object, describeHint(object, t.err))
		}
		return nil, fmt.Errorf("describe %s: the answer is not a describe result", object)
	}
	data, err := json.Marshal(map[string]any(*meta))
	if err != nil {
		return nil, fmt.Errorf("describe %s: %w", object, err)
	}
	var raw describeAnswer
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("describe %s: %w", object, err)
	}
	if len(raw.Fields) == 0 {
		return nil, fmt.Errorf("describe %s: no fields in the answer", object)
	}
	fields := make([]connector.Field, len(raw.Fields))
	for i, f := range raw.Fields {
		fields[i] = connector.Field{Name: f.Name, Label: f.Label, Type: f.Type, Updateable: f.Updateable, Calculated: f.Calculated, Custom: f.Custom}
		if f.InlineHelpText != nil {
			fields[i].Help = *f.InlineHelpText
		}
	}
	return newObjectDescribe(raw.Name, raw.Replicateable, fields, asked), nil
}

// describeHint adds the fix to the errors a describe commonly gets.
func describeHint(object string, err error) error {
	if errors.Is(err, ErrAPIVersion) {
		return err
	}
	var apiErr *connector.APIError
	if ok := asAPIError(err, &apiErr); ok && (apiErr.Status == 404 || apiErr.Code == "NOT_FOUND" || apiErr.Code == "INVALID_TYPE") {
		return fmt.Errorf("object %s does not exist in the org or the integration user cannot see it (check the mapping file's objects and the user's profile): %w", object, err)
	}
	return err
}

// checkFields verifies that every field exists in the org, naming the
// object, the field and the fix.
func checkFields(object string, d *objectDescribe, fields []string) error {
	var missing []string
	for _, f := range fields {
		if _, ok := d.field(f); !ok {
			missing = append(missing, f)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	names := make([]string, len(missing))
	for i, f := range missing {
		names[i] = object + "." + f
	}
	return fmt.Errorf("%w: %s not found in the org's describe of %s: create the field (and grant the integration user field-level security on it), or change the mapping file (healthsync.yaml fields section) to a field that exists: %w",
		ErrMissingField, strings.Join(names, ", "), object, &connector.APIError{Code: "INVALID_FIELD", Message: "No such column " + strings.Join(missing, ", ") + " on entity " + object, Fields: missing})
}
