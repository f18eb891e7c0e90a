// Package metrics exposes Duro's Prometheus metrics: executions, invocations,
// checkpoints, store commits, timers and worker pools.
//
// A Metrics value owns its registry (nothing is registered globally). It
// implements engine.Observer, to be told about executions, invocations,
// checkpoints and timers, and sqlite.CommitObserver, to be told about the
// store's group-commit transactions; worker pools are read from the runtime
// at scrape time. Handler serves the registry in the Prometheus text format.
//
// Metric names (all prefixed duro_):
//
//	executions_started_total{function}              counter
//	executions_finished_total{function,status}      counter
//	executions_active                               gauge
//	invocations_total{function,outcome}             counter
//	invocation_duration_seconds{function}           histogram
//	checkpoints_total{outcome}                      counter (ok, error)
//	checkpoint_duration_seconds                     histogram
//	checkpoint_updates                              histogram (updates per checkpoint)
//	store_commit_duration_seconds                   histogram (one transaction)
//	store_commit_sync_seconds                       histogram (its COMMIT: WAL write + fsync)
//	store_commit_batch_size                         histogram (mutations per transaction)
//	store_commit_failures_total                     counter
//	store_committer_gate_wait_seconds_total         counter (waiting for answered callers to resume)
//	store_wal_restarts_total                        counter (the committer's own WAL checkpoints)
//	store_wal_restart_seconds_total                 counter (their time: no transaction commits meanwhile)
//	store_wal_catch_ups_total                       counter (the background checkpointer's catch-up passes)
//	timer_lag_seconds{kind}                         histogram (due time to fired)
//	worker_pool_workers{function,state}             gauge (busy, idle, starting)
//	worker_pool_waiting{function}                   gauge (invocations queued for a worker)
//
// plus the Go runtime's and the process's standard metrics (go_*, process_*).
//
// executions_active is this node's view: it starts from the store's count
// of RUNNING executions and then follows the starts and ends this node
// handles. The other metrics count what happened on this node since it
// started.
package metrics

import (
	"math"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/duro-run/duro/internal/engine"
	"github.com/duro-run/duro/internal/runtime"
	"github.com/duro-run/duro/internal/store/sqlite"
)

const namespace = "duro"

// Bucket layouts, in seconds (or counts).
var (
	// fastBuckets cover store commits and checkpoints: 0.25 ms to ~8 s.
	fastBuckets = prometheus.ExponentialBuckets(0.00025, 2, 16)
	// invocationBuckets cover function runs up to Lambda's 15 minutes.
	invocationBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900}
	// lagBuckets cover timer lag from a millisecond to ten minutes (a node
	// that was down fires its overdue timers late).
	lagBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 600}
	// sizeBuckets count updates per checkpoint and mutations per
	// transaction (the store batches at most 512).
	sizeBuckets = []float64{0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512}
	// pageBuckets are for pages written per transaction.
	pageBuckets = []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096}
)

// Metrics is Duro's metrics registry. Create it with New. Its methods are
// safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	executionsStarted  *prometheus.CounterVec
	executionsFinished *prometheus.CounterVec
	executionsActive   prometheus.GaugeFunc
	// The active executions are the store's running executions as of a
	// snapshot (activeBase, once activeKnown) plus the starts minus the
	// finishes reported since (activeDelta).
	activeBase         atomic.Int64
	activeKnown        atomic.Bool
	activeDelta        atomic.Int64
	invocations        *prometheus.CounterVec
	invocationDuration *prometheus.HistogramVec
	checkpoints        *prometheus.CounterVec
	checkpointDuration prometheus.Histogram
	checkpointUpdates  prometheus.Histogram
	commitDuration     prometheus.Histogram
	commitSync         prometheus.Histogram
	commitBatch        prometheus.Histogram
	commitWALPages     prometheus.Histogram
	commitFailures     prometheus.Counter
	mutationQueued     prometheus.Histogram
	mutationTxn        prometheus.Histogram
	mutationResumed    prometheus.Histogram
	timerLag           *prometheus.HistogramVec
}

var (
	_ engine.Observer         = (*Metrics)(nil)
	_ sqlite.CommitObserver   = (*Metrics)(nil)
	_ sqlite.MutationObserver = (*Metrics)(nil)
)

// New returns a Metrics with every metric registered on a registry of its
// own, together with the Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		executionsStarted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "executions_started_total",
			Help: "Durable executions started, by function.",
		}, []string{"function"}),
		executionsFinished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "executions_finished_total",
			Help: "Durable executions that ended, by function and terminal status (SUCCEEDED, FAILED, TIMED_OUT, STOPPED).",
		}, []string{"function", "status"}),
		invocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "invocations_total",
			Help: "Invocations of durable functions, by function and outcome (succeeded, failed, pending, timeout, error).",
		}, []string{"function", "outcome"}),
		invocationDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "invocation_duration_seconds",
			Help:    "Duration of invocations of durable functions, from dispatch to response, by function.",
			Buckets: invocationBuckets,
		}, []string{"function"}),
		checkpoints: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "checkpoints_total",
			Help: "CheckpointDurableExecution calls, by outcome (ok: applied or replayed; error: rejected).",
		}, []string{"outcome"}),
		checkpointDuration: histogram("checkpoint_duration_seconds",
			"Time the engine took to validate, apply and durably commit a checkpoint.",
			fastBuckets),
		checkpointUpdates: histogram("checkpoint_updates",
			"Operation updates per checkpoint (batch size).",
			sizeBuckets),
		commitDuration: histogram("store_commit_duration_seconds",
			"Duration of one store transaction of the group committer, fsync included.",
			fastBuckets),
		commitSync: histogram("store_commit_sync_seconds",
			"Time one store transaction of the group committer spent in COMMIT: writing its WAL frames and the fsync (the rest of store_commit_duration_seconds runs the mutations' statements).",
			fastBuckets),
		commitBatch: histogram("store_commit_batch_size",
			"Mutations per store transaction (group-commit batch size).",
			sizeBuckets),
		commitWALPages: histogram("store_commit_wal_pages",
			"Database pages one committed store transaction wrote to the WAL (each a whole page; the fsync's time grows with them).",
			pageBuckets),
		commitFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "store_commit_failures_total",
			Help: "Store transactions that failed as a whole (every mutation in them failed).",
		}),
		mutationQueued: histogram("store_mutation_queued_seconds",
			"Time a store mutation (a checkpoint, an invocation starting or ending, a timer firing, ...) waited for the group committer to begin its transaction.",
			fastBuckets),
		mutationTxn: histogram("store_mutation_transaction_seconds",
			"Duration of the transaction that committed a store mutation, fsync included, counted once per mutation it carried.",
			fastBuckets),
		mutationResumed: histogram("store_mutation_resumed_seconds",
			"Time from the commit of a store mutation's transaction until the goroutine waiting for it ran again: time spent waiting for a CPU, which grows when the process's CPUs are saturated.",
			fastBuckets),
		timerLag: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "timer_lag_seconds",
			Help:    "Delay from a timer's due time to the engine handling it, by kind (wait, retry, invoke, callback_timeout, ...).",
			Buckets: lagBuckets,
		}, []string{"kind"}),
	}
	m.executionsActive = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: namespace, Name: "executions_active",
		Help: "Durable executions running (started and not yet ended); NaN until the running executions in the store have been counted, a moment after start-up.",
	}, m.activeExecutions)
	m.reg.MustRegister(
		m.executionsStarted, m.executionsFinished, m.executionsActive,
		m.invocations, m.invocationDuration,
		m.checkpoints, m.checkpointDuration, m.checkpointUpdates,
		m.commitDuration, m.commitSync, m.commitBatch, m.commitWALPages, m.commitFailures,
		m.mutationQueued, m.mutationTxn, m.mutationResumed,
		m.timerLag,
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(collectors.MetricsScheduler)),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Registry returns the registry the metrics live in, to add collectors to
// or to gather from.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus exposition format (text, or
// OpenMetrics when the scraper asks for it).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, EnableOpenMetrics: true})
}

// histogram declares one histogram of the namespace.
func histogram(name, help string, buckets []float64) prometheus.Histogram {
	return prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Name: name, Help: help, Buckets: buckets})
}

// SetActiveExecutions gives the active-executions gauge the number of
// running executions in the store as of a snapshot taken before the first
// start or finish event this Metrics was told about (those events are
// added to it); until then the gauge is NaN.
func (m *Metrics) SetActiveExecutions(n int64) {
	m.activeBase.Store(n)
	m.activeKnown.Store(true)
}

func (m *Metrics) activeExecutions() float64 {
	if !m.activeKnown.Load() {
		return math.NaN()
	}
	return float64(m.activeBase.Load() + m.activeDelta.Load())
}

// PoolStatsFunc returns a snapshot of the worker pools;
// (*runtime.Router).PoolStats is one.
type PoolStatsFunc func() []runtime.PoolStats

// RegisterPools adds the worker-pool gauges, read from stats at every
// scrape.
func (m *Metrics) RegisterPools(stats PoolStatsFunc) error {
	return m.reg.Register(newPoolCollector(stats))
}

// RegisterMuxRequests adds duro_mux_requests_total, read from requests at
// scrape time: the requests Duro's own workers sent over the Unix socket's
// multiplexed protocol.
func (m *Metrics) RegisterMuxRequests(requests func() uint64) error {
	return m.reg.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Namespace: namespace, Name: "mux_requests_total",
		Help: "API requests received over the Unix socket's multiplexed protocol (Duro's own function workers).",
	}, func() float64 { return float64(requests()) }))
}

// RegisterStoreStats adds the committer's counters, read from stats
// ((*sqlite.Store).Stats) at every scrape: the time it waits for the callers it answered, and the
// WAL checkpoints that hold it.
func (m *Metrics) RegisterStoreStats(stats func() sqlite.Stats) error {
	counters := []struct {
		name, help string
		value      func(sqlite.Stats) float64
	}{
		{"store_committer_gate_wait_seconds_total", "Time the group committer waited, between transactions, for the callers it answered to resume.",
			func(s sqlite.Stats) float64 { return s.GateWait.Seconds() }},
		{"store_wal_restarts_total", "WAL checkpoints the group committer ran itself so that the WAL could restart; no transaction commits meanwhile.",
			func(s sqlite.Stats) float64 { return float64(s.WALRestarts) }},
		{"store_wal_restart_seconds_total", "Time the group committer spent in its own WAL checkpoints.",
			func(s sqlite.Stats) float64 { return s.WALRestart.Seconds() }},
		{"store_wal_catch_ups_total", "Catch-up passes the background WAL checkpointer ran before the group committer's own checkpoint.",
			func(s sqlite.Stats) float64 { return float64(s.WALCatchUps) }},
	}
	for _, c := range counters {
		if err := m.reg.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: namespace, Name: c.name, Help: c.help},
			func() float64 { return c.value(stats()) })); err != nil {
			return err
		}
	}
	return nil
}

// ExecutionStarted implements engine.Observer.
func (m *Metrics) ExecutionStarted(i engine.ExecutionInfo) {
	m.executionsStarted.WithLabelValues(i.Function).Inc()
	m.activeDelta.Add(1)
}

// ExecutionFinished implements engine.Observer.
func (m *Metrics) ExecutionFinished(i engine.ExecutionInfo) {
	m.executionsFinished.WithLabelValues(i.Function, i.Status).Inc()
	m.activeDelta.Add(-1)
}

// InvocationFinished implements engine.Observer.
func (m *Metrics) InvocationFinished(i engine.InvocationInfo) {
	m.invocations.WithLabelValues(i.Function, i.Outcome).Inc()
	m.invocationDuration.WithLabelValues(i.Function).Observe(seconds(i.End.Sub(i.Start)))
}

// Checkpointed implements engine.Observer.
func (m *Metrics) Checkpointed(i engine.CheckpointInfo) {
	outcome := "ok"
	if i.Err != nil {
		outcome = "error"
	}
	m.checkpoints.WithLabelValues(outcome).Inc()
	m.checkpointDuration.Observe(seconds(i.End.Sub(i.Start)))
	m.checkpointUpdates.Observe(float64(i.Updates))
}

// TimerFired implements engine.Observer.
func (m *Metrics) TimerFired(kind string, lag time.Duration) {
	m.timerLag.WithLabelValues(kind).Observe(seconds(lag))
}

// Committed implements sqlite.CommitObserver.
func (m *Metrics) Committed(d, commit time.Duration, mutations int, err error) {
	if err != nil {
		m.commitFailures.Inc()
		return
	}
	m.commitDuration.Observe(seconds(d))
	m.commitSync.Observe(seconds(commit))
	m.commitBatch.Observe(float64(mutations))
}

// WALPagesWritten implements sqlite.WALObserver.
func (m *Metrics) WALPagesWritten(pages int) {
	m.commitWALPages.Observe(float64(pages))
}

// MutationCommitted implements sqlite.MutationObserver.
func (m *Metrics) MutationCommitted(queued, transaction, resumed time.Duration) {
	m.mutationQueued.Observe(seconds(queued))
	m.mutationTxn.Observe(seconds(transaction))
	m.mutationResumed.Observe(seconds(resumed))
}

// seconds converts a duration, clamping the negative ones clock steps can
// produce (a timer handled "before" its due time has no lag).
func seconds(d time.Duration) float64 {
	if d < 0 {
		return 0
	}
	return d.Seconds()
}

// poolCollector reads the worker pools at scrape time.
type poolCollector struct {
	stats   PoolStatsFunc
	workers *prometheus.Desc
	waiting *prometheus.Desc
}

func newPoolCollector(stats PoolStatsFunc) *poolCollector {
	return &poolCollector{
		stats: stats,
		workers: prometheus.NewDesc(prometheus.BuildFQName(namespace, "worker_pool", "workers"),
			"Local worker processes of a function, by state (busy, idle, starting).",
			[]string{"function", "state"}, nil),
		waiting: prometheus.NewDesc(prometheus.BuildFQName(namespace, "worker_pool", "waiting"),
			"Invocations of a function waiting for a worker (the function is at its concurrency limit).",
			[]string{"function"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.workers
	ch <- c.waiting
}

// Collect implements prometheus.Collector.
func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.stats() {
		ch <- prometheus.MustNewConstMetric(c.workers, prometheus.GaugeValue, float64(s.Busy), s.Function, "busy")
		ch <- prometheus.MustNewConstMetric(c.workers, prometheus.GaugeValue, float64(s.Idle), s.Function, "idle")
		ch <- prometheus.MustNewConstMetric(c.workers, prometheus.GaugeValue, float64(s.Starting), s.Function, "starting")
		ch <- prometheus.MustNewConstMetric(c.waiting, prometheus.GaugeValue, float64(s.Waiting), s.Function)
	}
}
