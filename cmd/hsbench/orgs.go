package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"

	"healthsync/crm"
	"healthsync/emulator/gen"
	emuhubspot "healthsync/emulator/hubspot"
	emusalesforce "healthsync/emulator/salesforce"
	"healthsync/mapping"
)

// emulated is the emulated CRM one bench runs against: what the parent
// needs to serve it, count and capture its calls, change 1% of it and
// know the fewest calls each scenario could have used.
type emulated interface {
	http.Handler
	system() crm.System
	// classify tells whether a request is an API call (counted; token
	// requests are not) and whether it reads record pages.
	classify(req *http.Request) (api, data bool)
	// wantsResponse tells whether capture needs the answer's body (a
	// Bulk job's creation, which carries its id).
	wantsResponse(req *http.Request) bool
	// capture adds the replayable form of a data request the ceiling
	// client should repeat to log, if any, once it was answered. body is
	// the request body, resp the answer's (when wantsResponse).
	capture(log *captureLog, req *http.Request, body, resp []byte)
	// live is the number of live records of a mapped object.
	live(obj string) int
	// rows is how many records a full read of obj returns: the live ones
	// and, on Salesforce (queryAll), those in the recycle bin.
	rows(obj string) int
	// mutate changes 1% of every object's live records (every 100th,
	// shifted by round) and returns how many per object. The last record
	// of each object is changed after clk moved past the connectors'
	// look-back, so the sync that picks this round up moves its cursor
	// beyond the look-back of the others: the next round's sync reads
	// only its own changes.
	mutate(objects []string, round int, clk *offsetClock) (map[string]int, error)
	// credentials fill in what a child needs to connect.
	credentials(spec *childSpec)
	fullMinimum(objects []string, live map[string]int) (int, string)
	// backfillMinimum is the fewest calls that read the field history of
	// the mapped objects that keep one (the first sync's backfill).
	backfillMinimum(m *mapping.Mapping) (int, error)
	incrMinimum(changed map[string]int, objects []string) int
	applyMinimum(c childResult) (int, string)
}

// newEmulated starts an emulated org of the given CRM loaded with org.
func newEmulated(system crm.System, org *gen.Org, keyFile string, clk *offsetClock, bulkThreshold int) (emulated, error) {
	switch system {
	case crm.Salesforce:
		em := emusalesforce.New(emusalesforce.Options{KeyFile: keyFile, DailyLimit: 10_000_000, Clock: clk})
		if err := em.LoadOrg(org); err != nil {
			return nil, err
		}
		if err := em.WritePrivateKey(keyFile); err != nil {
			return nil, err
		}
		if bulkThreshold <= 0 {
			bulkThreshold = sfBulkThreshold
		}
		return &sfOrg{Server: em, keyFile: keyFile, bulkThreshold: bulkThreshold}, nil
	case crm.HubSpot:
		// No rate limits: the bench measures healthsync's own cost; the
		// time HubSpot's documented limits would impose is computed from
		// the call counts (row.LimitFloorSeconds).
		em := emuhubspot.New(emuhubspot.Options{RateLimits: emuhubspot.RateLimits{Disabled: true}, Clock: clk})
		if _, err := em.LoadOrg(org); err != nil {
			return nil, err
		}
		return &hsOrg{Server: em}, nil
	}
	return nil, fmt.Errorf("no emulator for %q", system)
}

// sfOrg is an emulated Salesforce org.
type sfOrg struct {
	*emusalesforce.Server
	keyFile       string
	bulkThreshold int // the connector's (sfBulkThreshold unless a test lowers it)
}

func (o *sfOrg) system() crm.System { return crm.Salesforce }

func (o *sfOrg) classify(req *http.Request) (api, data bool) {
	p := req.URL.Path
	if !strings.HasPrefix(p, "/services/data/") {
		return false, false
	}
	return true, isSOQLQuery(p) || strings.Contains(p, "/jobs/query")
}

func isSOQLQuery(p string) bool {
	return strings.HasSuffix(p, "/query") || strings.HasSuffix(p, "/queryAll") || strings.Contains(p, "/query/") || strings.Contains(p, "/queryAll/")
}

func (o *sfOrg) wantsResponse(req *http.Request) bool {
	return req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/jobs/query")
}

// capture keeps the SOQL of REST queries (the ceiling follows their
// nextRecordsUrl as the connector did) and of Bulk API 2.0 query jobs,
// with the maxRecords of their result requests (the ceiling runs the
// same job and reads the same result pages). Field-history reads (the
// backfill) are marked so their rows are counted apart.
func (o *sfOrg) capture(log *captureLog, req *http.Request, body, resp []byte) {
	p := req.URL.Path
	if q := req.URL.Query().Get("q"); q != "" && isSOQLQuery(p) {
		obj := fromObject(q)
		log.add(query{Object: obj, SOQL: q, All: strings.HasSuffix(p, "/queryAll"), History: isHistoryObject(obj)})
		return
	}
	if strings.HasSuffix(p, "/jobs/query") && req.Method == http.MethodPost {
		var job struct {
			Operation string `json:"operation"`
			Query     string `json:"query"`
		}
		var created struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(body, &job) != nil || job.Query == "" || json.Unmarshal(resp, &created) != nil {
			return
		}
		obj := fromObject(job.Query)
		log.add(query{Object: obj, SOQL: job.Query, All: job.Operation == "queryAll", Bulk: true, History: isHistoryObject(obj)})
		if log.jobs == nil {
			log.jobs = map[string]int{}
		}
		log.jobs[created.ID] = len(log.queries) - 1
		return
	}
	// GET …/jobs/query/{id}/results?maxRecords=N: the result page size.
	if rest, ok := strings.CutSuffix(p, "/results"); ok && req.Method == http.MethodGet {
		id := rest[strings.LastIndex(rest, "/")+1:]
		if i, ok := log.jobs[id]; ok && log.queries[i].MaxRecords == 0 {
			log.queries[i].MaxRecords, _ = strconv.Atoi(req.URL.Query().Get("maxRecords"))
		}
	}
}

// sfHistoryObjects names the field-history object of each object that
// keeps one.
var sfHistoryObjects = map[string]string{"Account": "AccountHistory", "Opportunity": "OpportunityFieldHistory"}

func isHistoryObject(obj string) bool {
	for _, h := range sfHistoryObjects {
		if strings.EqualFold(obj, h) {
			return true
		}
	}
	return false
}

func (o *sfOrg) live(obj string) int { return len(o.IDs(obj, false)) }

func (o *sfOrg) rows(obj string) int { return len(o.IDs(obj, true)) }

func (o *sfOrg) mutate(objects []string, round int, clk *offsetClock) (map[string]int, error) {
	changed := map[string]int{}
	value := fmt.Sprintf("hsbench round %d", round)
	type last struct{ obj, id, field string }
	var lasts []last
	for _, obj := range objects {
		if obj == mapping.SFUser {
			continue
		}
		ids := o.IDs(obj, false)
		field := ""
		for _, f := range []string{"Description", "Subject", "Title", "Name"} {
			if len(ids) > 0 && o.SetField(obj, ids[0], f, value) == nil {
				field = f
				break
			}
		}
		if field == "" {
			continue
		}
		changed[obj]++
		var pick []string
		for i := 1 + round%100; i < len(ids); i += 100 {
			pick = append(pick, ids[i])
		}
		for i, id := range pick {
			if i == len(pick)-1 {
				lasts = append(lasts, last{obj, id, field})
				break
			}
			if err := o.SetField(obj, id, field, value); err != nil {
				return nil, fmt.Errorf("change %s %s: %w", obj, id, err)
			}
		}
		changed[obj] += len(pick)
	}
	clk.advance(lookbackGap)
	for _, l := range lasts {
		if err := o.SetField(l.obj, l.id, l.field, value); err != nil {
			return nil, fmt.Errorf("change %s %s: %w", l.obj, l.id, err)
		}
	}
	return changed, nil
}

func (o *sfOrg) credentials(spec *childSpec) {
	c := o.Credentials()
	spec.ClientID, spec.ClientSecret, spec.Username, spec.Password, spec.KeyFile = c.ClientID, c.ClientSecret, c.Username, c.Password, o.keyFile
}

// sfBulkThreshold is the connector's default Bulk threshold
// (HEALTHSYNC_SALESFORCE_BULK_THRESHOLD): above it a query runs as a Bulk
// API 2.0 job.
const sfBulkThreshold = 10000

// fullMinimum is the fewest calls that can fetch every object: REST query
// pages of 2000 below the connector's Bulk threshold (10,000 records),
// else a Bulk API 2.0 job (create, one status poll, result pages of
// 50,000).
func (o *sfOrg) fullMinimum(objects []string, live map[string]int) (int, string) {
	total, bulk := 0, []string{}
	for _, obj := range objects {
		n := live[obj]
		if n > o.bulkThreshold {
			total += 2 + ceilDiv(n, 50000)
			bulk = append(bulk, obj)
			continue
		}
		total += max(1, ceilDiv(n, 2000))
	}
	if len(bulk) == 0 {
		return total, "REST"
	}
	return total, "REST+Bulk(" + strings.Join(bulk, ",") + ")"
}

// backfillMinimum: per history object, one describe (which fields it
// tracks) and the reads of its rows of the mapped fields: REST pages of
// 2000 (at least one), or above the Bulk threshold a Bulk job (create,
// one status poll, result pages of 50,000). The rows are counted in
// process, past the recorder.
func (o *sfOrg) backfillMinimum(m *mapping.Mapping) (int, error) {
	total := 0
	for _, obj := range []string{"Account", "Opportunity"} {
		fields := m.HistorySources(obj)
		if len(fields) == 0 {
			continue
		}
		quoted := make([]string, len(fields))
		for i, f := range fields {
			quoted[i] = "'" + f + "'"
		}
		n, err := o.soqlTotal("SELECT Id FROM " + sfHistoryObjects[obj] + " WHERE Field IN (" + strings.Join(quoted, ", ") + ")")
		if err != nil {
			return 0, fmt.Errorf("count %s rows: %w", sfHistoryObjects[obj], err)
		}
		total++ // the history object's describe
		if n > o.bulkThreshold {
			total += 2 + ceilDiv(n, 50000)
		} else {
			total += max(1, ceilDiv(n, 2000))
		}
	}
	return total, nil
}

// soqlTotal asks the emulator in process (not through the recorder, so
// the call is not counted) for a query's totalSize.
func (o *sfOrg) soqlTotal(soql string) (int, error) {
	c := o.Credentials()
	form := url.Values{"grant_type": {"password"}, "client_id": {c.ClientID}, "client_secret": {c.ClientSecret},
		"username": {c.Username}, "password": {c.Password}}
	req := httptest.NewRequest(http.MethodPost, "/services/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	o.ServeHTTP(w, req)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &tok) != nil {
		return 0, fmt.Errorf("token: HTTP %d %s", w.Code, w.Body.String())
	}
	req = httptest.NewRequest(http.MethodGet, "/services/data/v62.0/query?q="+url.QueryEscape(soql), nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("Sforce-Query-Options", "batchSize=200")
	w = httptest.NewRecorder()
	o.ServeHTTP(w, req)
	var page struct {
		TotalSize int `json:"totalSize"`
	}
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &page) != nil {
		return 0, fmt.Errorf("HTTP %d %s", w.Code, w.Body.String())
	}
	return page.TotalSize, nil
}

// incrMinimum: the full-sync formula over the changed records (REST pages
// of 2000, a Bulk job above 10,000), one query per object at least.
func (o *sfOrg) incrMinimum(changed map[string]int, objects []string) int {
	n, _ := o.fullMinimum(objects, changed)
	return n
}

// applyMinimum is the fewest write calls for what the apply wrote:
// composite collections of 200 records, or above 2000 updates one Bulk
// API 2.0 ingest job (create, upload, close). Closing a task rewrites its
// subject and description, which must be read first: a query and a
// composite call per 200 closes.
func (o *sfOrg) applyMinimum(c childResult) (int, string) {
	tasks := ceilDiv(c.TasksCreated, 200) + 2*ceilDiv(c.TasksClosed, 200)
	if c.Updated > 2000 {
		return 3 + tasks, "Bulk ingest"
	}
	return ceilDiv(c.Updated, 200) + tasks, "composite/200"
}

// hsOrg is an emulated HubSpot portal.
type hsOrg struct {
	*emuhubspot.Server
}

// HubSpot's documented limits the floor is computed from (Free/Starter
// private apps; the emulator's defaults).
const (
	hubspotTenSecondMax    = 100
	hubspotSearchPerSecond = 5
)

func (o *hsOrg) system() crm.System { return crm.HubSpot }

func (o *hsOrg) classify(req *http.Request) (api, data bool) {
	p := req.URL.Path
	if !strings.HasPrefix(p, "/crm/") {
		return false, false
	}
	if strings.HasPrefix(p, "/crm/v4/associations/") {
		return true, strings.HasSuffix(p, "/batch/read")
	}
	if strings.HasSuffix(p, "/search") {
		return true, true
	}
	if strings.HasPrefix(p, "/crm/v3/objects/") && strings.HasSuffix(p, "/batch/read") {
		return true, true // the history backfill's reads (and apply's task reads)
	}
	return true, req.Method == http.MethodGet && (strings.HasPrefix(p, "/crm/v3/objects/") || strings.HasPrefix(p, "/crm/v3/owners"))
}

func (o *hsOrg) wantsResponse(*http.Request) bool { return false }

// capture keeps every read request as it was sent (searches are keyset
// paged, so each body is its own page). Batch reads with
// propertiesWithHistory are the backfill's.
func (o *hsOrg) capture(log *captureLog, req *http.Request, body, _ []byte) {
	if _, data := o.classify(req); !data {
		return
	}
	p := req.URL.Path
	obj := strings.TrimPrefix(p, "/crm/v3/objects/")
	obj, _, _ = strings.Cut(obj, "/")
	if strings.HasPrefix(p, "/crm/v3/owners") {
		obj = mapping.HSOwners
	}
	history := strings.HasSuffix(p, "/batch/read") && bytes.Contains(body, []byte(`"propertiesWithHistory"`))
	log.add(query{Object: obj, Method: req.Method, Path: p, RawQuery: req.URL.RawQuery, Body: string(body),
		Records: !history && !strings.HasPrefix(p, "/crm/v4/associations/"), History: history})
}

func (o *hsOrg) live(obj string) int {
	if obj == mapping.HSOwners {
		return len(o.Owners())
	}
	return o.Count(obj)
}

func (o *hsOrg) rows(obj string) int { return o.live(obj) }

// hsTextProps is a writable text property per object, for mutate.
var hsTextProps = map[string]string{
	mapping.HSCompanies: "description", mapping.HSContacts: "jobtitle", mapping.HSDeals: "dealname",
	mapping.HSCalls: "hs_call_body", mapping.HSEmails: "hs_email_subject", mapping.HSMeetings: "hs_meeting_title",
	mapping.HSNotes: "hs_note_body", mapping.HSTasks: "hs_task_subject",
}

func (o *hsOrg) mutate(objects []string, round int, clk *offsetClock) (map[string]int, error) {
	changed := map[string]int{}
	value := fmt.Sprintf("hsbench round %d", round)
	type last struct{ obj, id, prop string }
	var lasts []last
	for _, obj := range objects {
		prop, ok := hsTextProps[obj]
		if !ok {
			continue
		}
		recs, err := o.Records(obj)
		if err != nil {
			return nil, err
		}
		for i := round % 100; i < len(recs); i += 100 {
			changed[obj]++
			if i+100 >= len(recs) {
				lasts = append(lasts, last{obj, recs[i].ID, prop})
				break
			}
			if err := o.Update(obj, recs[i].ID, map[string]string{prop: value}); err != nil {
				return nil, fmt.Errorf("change %s %s: %w", obj, recs[i].ID, err)
			}
		}
	}
	clk.advance(lookbackGap)
	for _, l := range lasts {
		if err := o.Update(l.obj, l.id, map[string]string{l.prop: value}); err != nil {
			return nil, fmt.Errorf("change %s %s: %w", l.obj, l.id, err)
		}
	}
	return changed, nil
}

func (o *hsOrg) credentials(spec *childSpec) { spec.Token = o.Credentials().PrivateAppToken }

// hsAssocTargets is how many target types the associations of an object
// are read for, in batch reads of up to 1,000 IDs: an activity's
// companies, contacts and deals; a deal's companies.
var hsAssocTargets = map[string]int{mapping.HSCalls: 3, mapping.HSEmails: 3, mapping.HSMeetings: 3, mapping.HSNotes: 3, mapping.HSTasks: 3,
	mapping.HSDeals: 1}

// fullMinimum: search pages of 200 per object, association batch reads of
// 1,000 per object and target type (three per activity object, one for
// deals), owner list pages of 500.
// Recycle-bin lists (the deletions) are fixed calls, not in the minimum,
// like Salesforce's deleted/.
func (o *hsOrg) fullMinimum(objects []string, live map[string]int) (int, string) {
	total := 0
	for _, obj := range objects {
		total += o.readMinimum(obj, live[obj])
	}
	return total, "search+assoc"
}

func (o *hsOrg) readMinimum(obj string, n int) int {
	if obj == mapping.HSOwners {
		return max(1, ceilDiv(n, 500))
	}
	calls := max(1, ceilDiv(n, 200))
	calls += hsAssocTargets[obj] * ceilDiv(n, 1000)
	return calls
}

// backfillMinimum: one batch read with propertiesWithHistory per 50
// live records of each object that keeps history (companies, deals);
// HubSpot says which properties keep history without a call.
func (o *hsOrg) backfillMinimum(m *mapping.Mapping) (int, error) {
	total := 0
	for _, obj := range m.Objects() {
		if _, ok := m.HistoryEntity(obj); ok && len(m.HistorySources(obj)) > 0 {
			total += ceilDiv(o.live(obj), 50)
		}
	}
	return total, nil
}

// incrMinimum: the changed records' search pages and association reads;
// owners have no incremental API, so their list is read whole.
func (o *hsOrg) incrMinimum(changed map[string]int, objects []string) int {
	n := 0
	for _, obj := range objects {
		if obj == mapping.HSOwners {
			n += o.readMinimum(obj, o.live(obj))
			continue
		}
		n += o.readMinimum(obj, changed[obj])
	}
	return n
}

// applyMinimum: batch update and create calls of 100 inputs; a close is
// a batch read (its subject and body, which it rewrites) and a batch
// update per 100 tasks.
func (o *hsOrg) applyMinimum(c childResult) (int, string) {
	return ceilDiv(c.Updated, 100) + ceilDiv(c.TasksCreated, 100) + 2*ceilDiv(c.TasksClosed, 100), "batch/100"
}

// limitFloor is the fewest seconds HubSpot's documented limits allow for
// calls API calls of which searches are searches.
func limitFloor(calls, searches int64) float64 {
	return max(float64(searches)/hubspotSearchPerSecond, float64(calls)/(hubspotTenSecondMax/10.0))
}
