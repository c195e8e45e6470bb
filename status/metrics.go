package status

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"healthsync/connector"
	"healthsync/crm"
	"healthsync/scoring"
	"healthsync/store"
	"healthsync/sync"
)

// Metric names, for dashboards and alerts (docs and tests refer to them).
const (
	MetricRecordsSynced   = "healthsync_records_synced_total"
	MetricRecordProblems  = "healthsync_record_failures_total"
	MetricSyncLag         = "healthsync_sync_lag_seconds"
	MetricRunDuration     = "healthsync_run_duration_seconds"
	MetricRuns            = "healthsync_runs_total"
	MetricLastRunSuccess  = "healthsync_last_run_success_timestamp_seconds"
	MetricRunAPICalls     = "healthsync_run_api_calls"
	MetricAPICalls        = "healthsync_api_calls"
	MetricAPIDailyUsed    = "healthsync_api_daily_used"
	MetricAPIDailyLimit   = "healthsync_api_daily_limit"
	MetricAPIBudgetLeft   = "healthsync_api_budget_remaining"
	MetricWriteCalls      = "healthsync_write_calls_total"
	MetricRecordsWritten  = "healthsync_records_written_total"
	MetricScores          = "healthsync_accounts_by_grade"
	MetricStatuses        = "healthsync_accounts_by_status"
	MetricFlags           = "healthsync_flags_raised"
	MetricLastScored      = "healthsync_last_scored_timestamp_seconds"
	MetricTasksCreated    = "healthsync_tasks_created_total"
	MetricTasksClosed     = "healthsync_tasks_closed_total"
	MetricErrors          = "healthsync_errors_total"
	gradeNone             = "none"
	failureStageSync      = "sync"
	failureStageWriteback = "writeback"
)

// Metrics holds healthsync's Prometheus metrics on a private registry (so
// two workers in one test process never clash). Every Observe method is
// safe for concurrent use; a nil report is ignored.
type Metrics struct {
	reg     *prometheus.Registry
	handler http.Handler

	recordsSynced  *prometheus.CounterVec
	recordFailures *prometheus.CounterVec
	syncLag        *prometheus.GaugeVec
	runDuration    *prometheus.HistogramVec
	runs           *prometheus.CounterVec
	lastSuccess    *prometheus.GaugeVec
	runAPICalls    *prometheus.GaugeVec
	apiCalls       *prometheus.GaugeVec
	dailyUsed      *prometheus.GaugeVec
	dailyLimit     *prometheus.GaugeVec
	budgetLeft     *prometheus.GaugeVec
	writeCalls     *prometheus.CounterVec
	recordsWritten *prometheus.CounterVec
	grades         *prometheus.GaugeVec
	statuses       *prometheus.GaugeVec
	flags          *prometheus.GaugeVec
	lastScored     *prometheus.GaugeVec
	tasksCreated   *prometheus.CounterVec
	tasksClosed    *prometheus.CounterVec
	errors         *prometheus.CounterVec
}

// NewMetrics creates the metrics and registers them, with the Go runtime
// and process collectors, on a new private registry.
func NewMetrics() *Metrics {
	conn := []string{"connection"}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		recordsSynced: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricRecordsSynced,
			Help: "Records pulled from the CRM, by object and change (new, changed, deleted)."}, []string{"connection", "object", "change"}),
		recordFailures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricRecordProblems,
			Help: "Per-record failures: records a sync could not map or store, records a writeback could not write."}, []string{"connection", "stage"}),
		syncLag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: MetricSyncLag,
			Help: "Seconds since the object's last complete pull started: the store holds every change made in the CRM before then. It grows between syncs and when pulls fail, not when nobody edits the object."}, []string{"connection", "object"}),
		runDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: MetricRunDuration,
			Help:    "Duration of sync, score and writeback runs.",
			Buckets: []float64{0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600}}, []string{"connection", "kind"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricRuns,
			Help: "Runs by kind and outcome (ok, stopped, failed)."}, []string{"connection", "kind", "status"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: MetricLastRunSuccess,
			Help: "Unix time of the last run of each kind that did not fail."}, []string{"connection", "kind"}),
		runAPICalls: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: MetricRunAPICalls,
			Help: "CRM API calls the last run of each kind used."}, []string{"connection", "kind"}),
		apiCalls: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: MetricAPICalls,
			Help: "CRM API calls made on the connection since the process started, retries included."}, conn),
		dailyUsed: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: MetricAPIDailyUsed,
			Help: "The org's daily API usage as the CRM last reported it."}, conn),
		dailyLimit: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: MetricAPIDailyLimit,
			Help: "The org's daily API limit as the CRM last reported it."}, conn),
		budgetLeft: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: MetricAPIBudgetLeft,
			Help: "Daily API calls left (limit minus usage) as the CRM last reported them."}, conn),
		writeCalls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricWriteCalls,
			Help: "Batched write calls the writeback made to the CRM."}, conn),
		recordsWritten: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricRecordsWritten,
			Help: "CRM records the writeback updated."}, conn),
		grades: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: MetricScores,
			Help: "Live customers per health grade at the last scoring pass (none: too little data)."}, []string{"connection", "grade"}),
		statuses: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: MetricStatuses,
			Help: "Accounts per customer status at the last scoring pass (customer, former_customer, prospect); only live customers are scored."}, []string{"connection", "status"}),
		flags: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: MetricFlags,
			Help: "Accounts with each risk flag raised at the last scoring pass."}, []string{"connection", "flag"}),
		lastScored: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: MetricLastScored,
			Help: "Unix time of the last scoring pass."}, conn),
		tasksCreated: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricTasksCreated,
			Help: "Follow-up tasks created in the CRM."}, conn),
		tasksClosed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricTasksClosed,
			Help: "Follow-up tasks closed in the CRM because their flag cleared."}, conn),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricErrors,
			Help: "Errors by kind (sync, score, plan, apply, auth, store, ...)."}, []string{"kind"}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.recordsSynced, m.recordFailures, m.syncLag, m.runDuration, m.runs, m.lastSuccess, m.runAPICalls,
		m.apiCalls, m.dailyUsed, m.dailyLimit, m.budgetLeft, m.writeCalls, m.recordsWritten,
		m.grades, m.statuses, m.flags, m.lastScored, m.tasksCreated, m.tasksClosed, m.errors,
	)
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
	return m
}

// Registry returns the private registry, for callers that add their own
// collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler { return m.handler }

// ObserveSync records a sync run: records per object and change, per-record
// problems, the run's duration, outcome and API calls.
func (m *Metrics) ObserveSync(connection string, rep *sync.Report) {
	if rep == nil {
		return
	}
	for _, o := range rep.Objects {
		if o == nil {
			continue
		}
		m.recordsSynced.WithLabelValues(connection, o.Object, "new").Add(float64(o.Counts.New))
		m.recordsSynced.WithLabelValues(connection, o.Object, "changed").Add(float64(o.Counts.Changed))
		m.recordsSynced.WithLabelValues(connection, o.Object, "deleted").Add(float64(o.Counts.Deleted))
	}
	m.recordFailures.WithLabelValues(connection, failureStageSync).Add(float64(rep.Problem))
	m.runAPICalls.WithLabelValues(connection, "sync").Set(float64(rep.APICalls))
	m.ObserveRun(connection, "sync", rep.Status, rep.Duration, time.Now())
}

// ObserveRun records one run's duration and outcome. status is one of
// store.RunOK, RunStopped or RunFailed; at is when it ended.
func (m *Metrics) ObserveRun(connection, kind, status string, d time.Duration, at time.Time) {
	if status == "" {
		status = store.RunOK
	}
	m.runDuration.WithLabelValues(connection, kind).Observe(d.Seconds())
	m.runs.WithLabelValues(connection, kind, status).Inc()
	if status != store.RunFailed {
		m.lastSuccess.WithLabelValues(connection, kind).Set(float64(at.UnixMilli()) / 1000)
	}
}

// ObserveScore records a scoring pass: live customers per grade and
// accounts per customer status (replacing the previous pass's figures),
// and live customers per raised flag.
func (m *Metrics) ObserveScore(connection string, sum sync.ScoreSummary) {
	for _, g := range []scoring.Grade{scoring.GradeGreen, scoring.GradeYellow, scoring.GradeRed, ""} {
		m.grades.WithLabelValues(connection, gradeLabel(g)).Set(float64(sum.Grades[g]))
	}
	for _, st := range []crm.CustomerStatus{crm.StatusCustomer, crm.StatusFormer, crm.StatusProspect} {
		m.statuses.WithLabelValues(connection, string(st)).Set(float64(sum.Statuses[st]))
	}
	m.flags.DeletePartialMatch(prometheus.Labels{"connection": connection})
	for name, n := range sum.Flags {
		m.flags.WithLabelValues(connection, name).Set(float64(n))
	}
	if !sum.At.IsZero() {
		m.lastScored.WithLabelValues(connection).Set(float64(sum.At.UnixMilli()) / 1000)
	}
}

func gradeLabel(g scoring.Grade) string {
	if g == "" {
		return gradeNone
	}
	return string(g)
}

// ObserveApply records a writeback: write calls, records written, tasks
// created and closed, per-record failures and the API calls it used.
func (m *Metrics) ObserveApply(connection string, rep *sync.ApplyReport) {
	if rep == nil {
		return
	}
	m.writeCalls.WithLabelValues(connection).Add(float64(rep.WriteCalls))
	m.recordsWritten.WithLabelValues(connection).Add(float64(rep.Records))
	m.tasksCreated.WithLabelValues(connection).Add(float64(rep.TasksCreated))
	m.tasksClosed.WithLabelValues(connection).Add(float64(rep.TasksClosed))
	m.recordFailures.WithLabelValues(connection, failureStageWriteback).Add(float64(len(rep.Failures)))
	m.runAPICalls.WithLabelValues(connection, "apply").Set(float64(rep.APICalls))
}

// ObserveBudget records the connection's API usage and, when the CRM
// reported a daily limit, the calls left.
func (m *Metrics) ObserveBudget(connection string, u connector.Usage) {
	m.apiCalls.WithLabelValues(connection).Set(float64(u.Calls))
	if u.DailyLimit > 0 {
		m.dailyUsed.WithLabelValues(connection).Set(float64(u.DailyUsed))
		m.dailyLimit.WithLabelValues(connection).Set(float64(u.DailyLimit))
		m.budgetLeft.WithLabelValues(connection).Set(float64(max(0, u.DailyLimit-u.DailyUsed)))
	}
}

// ObserveError counts an error of a kind: a short, fixed word such as
// "sync", "score", "plan", "apply", "auth" or "store" (never an error text:
// labels must stay few).
func (m *Metrics) ObserveError(kind string) {
	if kind == "" {
		kind = "unknown"
	}
	m.errors.WithLabelValues(kind).Inc()
}

// ObserveLag sets the sync lag of every object as of now from the start of
// its last complete pull (store.LastPulls). An object never pulled
// completely has no lag series.
func (m *Metrics) ObserveLag(connection string, pulls map[string]time.Time, now time.Time) {
	for obj, at := range pulls {
		if at.IsZero() {
			continue
		}
		m.syncLag.WithLabelValues(connection, obj).Set(max(0, now.Sub(at).Seconds()))
	}
}

// RefreshLag reads the connection's last complete pulls from the store and
// sets the sync lag as of now; the server calls it at every scrape.
func (m *Metrics) RefreshLag(ctx context.Context, st *store.Store, connection string, now time.Time) error {
	pulls, err := st.LastPulls(ctx, connection)
	if err != nil {
		return err
	}
	m.ObserveLag(connection, pulls, now)
	return nil
}
