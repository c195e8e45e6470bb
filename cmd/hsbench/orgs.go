package main

import (
	"encoding/json"
	"fmt"
	"net/http"
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
	// capture returns the replayable form of a data request the ceiling
	// client should repeat, or nil. body is the request body.
	capture(req *http.Request, body []byte) *query
	// live is the number of live records of a mapped object.
	live(obj string) int
	// mutate changes 1% of every object's live records (every 100th,
	// shifted by round) and returns how many per object.
	mutate(objects []string, round int) (map[string]int, error)
	// credentials fill in what a child needs to connect.
	credentials(spec *childSpec)
	fullMinimum(objects []string, live map[string]int) (int, string)
	incrMinimum(changed map[string]int, objects []string) int
	applyMinimum(c childResult) (int, string)
}

// newEmulated starts an emulated org of the given CRM loaded with org.
func newEmulated(system crm.System, org *gen.Org, keyFile string) (emulated, error) {
	switch system {
	case crm.Salesforce:
		em := emusalesforce.New(emusalesforce.Options{KeyFile: keyFile, DailyLimit: 10_000_000})
		if err := em.LoadOrg(org); err != nil {
			return nil, err
		}
		if err := em.WritePrivateKey(keyFile); err != nil {
			return nil, err
		}
		return &sfOrg{Server: em, keyFile: keyFile}, nil
	case crm.HubSpot:
		// No rate limits: the bench measures healthsync's own cost; the
		// time HubSpot's documented limits would impose is computed from
		// the call counts (row.LimitFloorSeconds).
		em := emuhubspot.New(emuhubspot.Options{RateLimits: emuhubspot.RateLimits{Disabled: true}})
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
	keyFile string
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

// capture keeps the SOQL of REST queries and of Bulk API 2.0 query jobs;
// the ceiling runs all of them through the REST query endpoint.
func (o *sfOrg) capture(req *http.Request, body []byte) *query {
	p := req.URL.Path
	if q := req.URL.Query().Get("q"); q != "" && isSOQLQuery(p) {
		return &query{Object: fromObject(q), SOQL: q, All: strings.HasSuffix(p, "/queryAll")}
	}
	if strings.Contains(p, "/jobs/query") && req.Method == http.MethodPost {
		var job struct {
			Operation string `json:"operation"`
			Query     string `json:"query"`
		}
		if json.Unmarshal(body, &job) == nil && job.Query != "" {
			return &query{Object: fromObject(job.Query), SOQL: job.Query, All: job.Operation == "queryAll"}
		}
	}
	return nil
}

func (o *sfOrg) live(obj string) int { return len(o.IDs(obj, false)) }

func (o *sfOrg) mutate(objects []string, round int) (map[string]int, error) {
	changed := map[string]int{}
	value := fmt.Sprintf("hsbench round %d", round)
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
		for i := 1 + round%100; i < len(ids); i += 100 {
			if err := o.SetField(obj, ids[i], field, value); err != nil {
				return nil, fmt.Errorf("change %s %s: %w", obj, ids[i], err)
			}
			changed[obj]++
		}
	}
	return changed, nil
}

func (o *sfOrg) credentials(spec *childSpec) {
	c := o.Credentials()
	spec.ClientID, spec.ClientSecret, spec.Username, spec.Password, spec.KeyFile = c.ClientID, c.ClientSecret, c.Username, c.Password, o.keyFile
}

// fullMinimum is the fewest calls that can fetch every object: REST query
// pages of 2000 below the connector's Bulk threshold (10,000 records),
// else a Bulk API 2.0 job (create, one status poll, result pages of
// 50,000).
func (o *sfOrg) fullMinimum(objects []string, live map[string]int) (int, string) {
	total, bulk := 0, []string{}
	for _, obj := range objects {
		n := live[obj]
		if n > 10000 {
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
	return true, req.Method == http.MethodGet && (strings.HasPrefix(p, "/crm/v3/objects/") || strings.HasPrefix(p, "/crm/v3/owners"))
}

// capture keeps every read request as it was sent (searches are keyset
// paged, so each body is its own page).
func (o *hsOrg) capture(req *http.Request, body []byte) *query {
	if _, data := o.classify(req); !data {
		return nil
	}
	p := req.URL.Path
	obj := strings.TrimPrefix(p, "/crm/v3/objects/")
	obj, _, _ = strings.Cut(obj, "/")
	if strings.HasPrefix(p, "/crm/v3/owners") {
		obj = mapping.HSOwners
	}
	return &query{Object: obj, Method: req.Method, Path: p, RawQuery: req.URL.RawQuery, Body: string(body),
		Records: !strings.HasPrefix(p, "/crm/v4/associations/")}
}

func (o *hsOrg) live(obj string) int {
	if obj == mapping.HSOwners {
		return len(o.Owners())
	}
	return o.Count(obj)
}

// hsTextProps is a writable text property per object, for mutate.
var hsTextProps = map[string]string{
	mapping.HSCompanies: "description", mapping.HSContacts: "jobtitle", mapping.HSDeals: "dealname",
	mapping.HSCalls: "hs_call_body", mapping.HSEmails: "hs_email_subject", mapping.HSMeetings: "hs_meeting_title",
	mapping.HSNotes: "hs_note_body", mapping.HSTasks: "hs_task_subject",
}

func (o *hsOrg) mutate(objects []string, round int) (map[string]int, error) {
	changed := map[string]int{}
	value := fmt.Sprintf("hsbench round %d", round)
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
			if err := o.Update(obj, recs[i].ID, map[string]string{prop: value}); err != nil {
				return nil, fmt.Errorf("change %s %s: %w", obj, recs[i].ID, err)
			}
			changed[obj]++
		}
	}
	return changed, nil
}

func (o *hsOrg) credentials(spec *childSpec) { spec.Token = o.Credentials().PrivateAppToken }

// hsActivities are the objects whose associations are read: three batch
// reads (companies, contacts, deals) of up to 1,000 IDs.
var hsActivities = map[string]bool{mapping.HSCalls: true, mapping.HSEmails: true, mapping.HSMeetings: true, mapping.HSNotes: true, mapping.HSTasks: true}

// fullMinimum: search pages of 200 per object, association batch reads of
// 1,000 per activity object and target type, owner list pages of 500.
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
	if hsActivities[obj] {
		calls += 3 * ceilDiv(n, 1000)
	}
	return calls
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
