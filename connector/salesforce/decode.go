package salesforce

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"

	"healthsync/connector"
)

// simpleforce decodes query pages and describes itself, and some answers
// it must never see: a null record makes its Query panic (it stores its
// back-reference in every record), and its Describe turns any decoding
// error into a bare nil. checkAnswer reads each successful answer the
// transport hands to simpleforce and refuses, as a typed
// MALFORMED_RESPONSE error naming the request, those that are not what
// the endpoint documents: not JSON, a query page without done or records,
// a record that is not an object, an unfinished page without a
// nextRecordsUrl (which would end the query early, silently), or a
// describe without named fields. The same holds for the deleted/ answer
// (deletedAnswer's UnmarshalJSON), which is decoded without simpleforce.

// queryAnswer is the shape of a REST query page that checkAnswer checks.
type queryAnswer struct {
	TotalSize      *int           `json:"totalSize"`
	Done           *bool          `json:"done"`
	NextRecordsURL *string        `json:"nextRecordsUrl"`
	Records        *[]objectProbe `json:"records"`
}

// objectProbe accepts a JSON object and nothing else, without keeping it.
type objectProbe struct{}

var errNotObject = errors.New("not a JSON object")

func (*objectProbe) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || b[0] != '{' {
		return errNotObject
	}
	return nil
}

// checkQueryPage reports what makes body not a REST query result page.
func checkQueryPage(body []byte) error {
	var q queryAnswer
	if err := json.Unmarshal(body, &q); err != nil {
		if errors.Is(err, errNotObject) {
			return errors.New("a record of the page is not a JSON object")
		}
		return err
	}
	switch {
	case q.Done == nil:
		return errors.New("the page has no done")
	case q.Records == nil:
		return errors.New("the page has no records array")
	case !*q.Done && (q.NextRecordsURL == nil || *q.NextRecordsURL == ""):
		return errors.New("the page is not the last (done is false) but has no nextRecordsUrl")
	case !*q.Done && !nextRecordsPath.MatchString(*q.NextRecordsURL):
		return fmt.Errorf("nextRecordsUrl %q is not a /services/data/vNN.N/query/<locator> path", *q.NextRecordsURL)
	}
	return nil
}

// nextRecordsPath is the shape of a nextRecordsUrl: the query locator of
// the rest of the result, on the REST or Tooling API.
var nextRecordsPath = regexp.MustCompile(`^/services/data/v[0-9]+\.[0-9]+/(?:tooling/)?(?:query|queryAll)/[A-Za-z0-9_.-]+$`)

// describeAnswer is the part of an sObject describe healthsync reads.
type describeAnswer struct {
	Name          string `json:"name"`
	Replicateable bool   `json:"replicateable"`
	Fields        []struct {
		Name       string `json:"name"`
		Label      string `json:"label"`
		Type       string `json:"type"`
		Updateable bool   `json:"updateable"`
		Calculated bool   `json:"calculated"`
		Custom     bool   `json:"custom"`
		// InlineHelpText is null for a field without help text.
		InlineHelpText *string `json:"inlineHelpText"`
	} `json:"fields"`
}

// checkDescribe reports what makes body not an sObject describe.
func checkDescribe(body []byte) error {
	var d describeAnswer
	if err := json.Unmarshal(body, &d); err != nil {
		return err
	}
	if len(d.Fields) == 0 {
		return errors.New("the describe has no fields")
	}
	for i, f := range d.Fields {
		if strings.TrimSpace(f.Name) == "" {
			return fmt.Errorf("field %d of the describe has no name", i)
		}
	}
	return nil
}

// checkAnswer reads the body of a successful answer to req and returns
// nil with resp's body restored, or the typed error that says why the
// body is not what req's endpoint answers.
func checkAnswer(req *http.Request, resp *http.Response) error {
	body, err := connector.ReadBody(resp.Body, maxBody)
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", req.Method, req.URL.Path, err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	path := strings.TrimSuffix(req.URL.Path, "/")
	switch {
	case strings.Contains(path, "/query"):
		err = checkQueryPage(body)
	case strings.HasSuffix(path, "/describe"):
		err = checkDescribe(body)
	case !json.Valid(body):
		err = errors.New("not JSON")
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, connector.MalformedError(resp.StatusCode, resp.Header, body, err))
	}
	return nil
}

// UnmarshalJSON reads a deleted/ answer: a deletedRecords array (empty
// when nothing was deleted) whose entries each name a record.
func (d *deletedAnswer) UnmarshalJSON(b []byte) error {
	type plain deletedAnswer
	var v plain
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if v.DeletedRecords == nil {
		return errors.New("the answer has no deletedRecords array")
	}
	for i, r := range v.DeletedRecords {
		if strings.TrimSpace(r.ID) == "" {
			return fmt.Errorf("deleted record %d has no id", i)
		}
	}
	*d = deletedAnswer(v)
	return nil
}
