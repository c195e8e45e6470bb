package salesforce

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"

	"healthsync/connector"
)

// maxBody bounds a JSON answer read into memory.
const maxBody = 64 << 20

// newRequest builds a request with a JSON body (nil for none).
func newRequest(ctx context.Context, method, u string, body any) (*http.Request, error) {
	var rd io.Reader
	var data []byte
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encode %s body: %w", method, err)
		}
		data = b
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	if data != nil {
		req.Header.Set("Content-Type", "application/json")
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	}
	req.Header.Set("Accept", "application/json")
	return req, nil
}

// do sends req through the stack and decodes a JSON answer into out (nil
// to discard it). Non-2xx answers are *connector.APIError. When out is
// not nil, an answer that is empty (other than 204 No Content), null or
// not JSON is a MALFORMED_RESPONSE *connector.APIError naming the request:
// a cut-off answer must not read as an empty one.
func (c *Client) do(req *http.Request, out any) error {
	resp, err := c.send(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := connector.ReadBody(resp.Body, maxBody)
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", req.Method, req.URL.Path, err)
	}
	if out == nil {
		return nil
	}
	var cause error
	switch trimmed := bytes.TrimSpace(body); {
	case len(trimmed) == 0 && resp.StatusCode == http.StatusNoContent:
		return nil
	case len(trimmed) == 0:
		cause = errors.New("empty answer")
	case bytes.Equal(trimmed, []byte("null")):
		cause = errors.New("null answer")
	default:
		cause = json.Unmarshal(body, out)
	}
	if cause != nil {
		return fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, connector.MalformedError(resp.StatusCode, resp.Header, body, cause))
	}
	return nil
}

// getJSON GETs u and decodes the answer.
func (c *Client) getJSON(ctx context.Context, u string, out any) error {
	req, err := newRequest(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	return c.do(req, out)
}

// sendJSON sends body with method to u and decodes the answer.
func (c *Client) sendJSON(ctx context.Context, method, u string, body, out any) error {
	req, err := newRequest(ctx, method, u, body)
	if err != nil {
		return err
	}
	return c.do(req, out)
}

// send sends req through the stack (auth, retries, budget). A 404 answer
// is checked against the API versions the org offers, so that a version
// the org does not have is reported as such, not as a missing object.
func (c *Client) send(req *http.Request) (*http.Response, error) {
	resp, err := c.stack.Do(req)
	if err != nil {
		return nil, c.versionHint(req.Context(), err)
	}
	return resp, nil
}

// versionHint returns err wrapped with ErrAPIVersion when it is a 404 and
// the org does not offer HEALTHSYNC_SALESFORCE_API_VERSION; otherwise err.
func (c *Client) versionHint(ctx context.Context, err error) error {
	var apiErr *connector.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusNotFound {
		return err
	}
	offered, verr := c.versions(ctx)
	if verr != nil {
		c.log.Debug("cannot list the org's API versions", "error", verr)
		return err
	}
	if slices.Contains(offered, c.cfg.APIVersion) || len(offered) == 0 {
		return err
	}
	inst, _ := c.InstanceURL(ctx)
	suggest := offered[len(offered)-1]
	if def := DefaultConfig().APIVersion; slices.Contains(offered, def) {
		suggest = def
	}
	return fmt.Errorf("HEALTHSYNC_SALESFORCE_API_VERSION=%s: %w at %s, which offers %s to %s (GET /services/data/): set HEALTHSYNC_SALESFORCE_API_VERSION to one of those, e.g. %s: %w",
		c.cfg.APIVersion, ErrAPIVersion, inst, offered[0], offered[len(offered)-1], suggest, err)
}

// versions lists the API versions the org offers (GET /services/data/),
// oldest first; asked once per Client.
func (c *Client) versions(ctx context.Context) ([]string, error) {
	c.mu.Lock()
	known := c.offered
	c.mu.Unlock()
	if known != nil {
		return known, nil
	}
	inst, err := c.InstanceURL(ctx)
	if err != nil {
		return nil, err
	}
	req, err := newRequest(ctx, http.MethodGet, inst+"/services/data/", nil)
	if err != nil {
		return nil, err
	}
	// Not send: a 404 here must not ask for the versions again.
	resp, err := c.stack.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := connector.ReadBody(resp.Body, maxBody)
	if err != nil {
		return nil, err
	}
	var list []struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, connector.MalformedError(resp.StatusCode, resp.Header, body, err)
	}
	offered := make([]string, 0, len(list))
	for _, v := range list {
		if v.Version != "" {
			offered = append(offered, v.Version)
		}
	}
	slices.SortFunc(offered, func(a, b string) int { return cmpVersion(a, b) })
	c.mu.Lock()
	c.offered = offered
	c.mu.Unlock()
	return offered, nil
}

// cmpVersion orders API versions such as "9.0" and "62.0" by number.
func cmpVersion(a, b string) int {
	fa, _ := strconv.ParseFloat(a, 64)
	fb, _ := strconv.ParseFloat(b, 64)
	return cmp.Compare(fa, fb)
}
