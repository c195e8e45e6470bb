package salesforce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

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
	resp, err := c.stack.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
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
