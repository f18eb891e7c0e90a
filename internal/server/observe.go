package server

import (
	"context"
	"fmt"
	"net/http"

	"github.com/duro-run/duro/internal/engine"
	"github.com/duro-run/duro/internal/metrics"
	"github.com/duro-run/duro/internal/runtime"
	"github.com/duro-run/duro/internal/store/sqlite"
	"github.com/duro-run/duro/internal/tracing"
)

// observability is a server's metrics registry and optional trace
// exporter.
type observability struct {
	metrics *metrics.Metrics
	tracer  *tracing.Tracer // nil: traces are not exported
	// stopCount ends the count of running executions if it is still going;
	// counted is closed when it has ended.
	stopCount context.CancelFunc
	counted   chan struct{}
}

// newObservability creates the metrics, hooks them to the store's group
// committer and the runtime's worker pools, starts the active-executions
// gauge from the store and, when cfg.OTLPEndpoint is set, starts the trace
// exporter. Call it before the engine starts: the running executions are
// counted in the background, in a snapshot of the store taken here, so
// that start and finish events added to the gauge meanwhile are not
// counted twice. (A count reads the whole RUNNING range of an index: 2.3–
// 2.8 s of a server's start with a million executions waiting and a cold
// page cache, before it was moved out of the way.)
func newObservability(ctx context.Context, cfg Config, st *sqlite.Store, rt *runtime.Router) (*observability, error) {
	m := metrics.New()
	if err := m.RegisterPools(rt.PoolStats); err != nil {
		return nil, fmt.Errorf("metrics: register worker pools: %w", err)
	}
	if err := m.RegisterStoreStats(st.Stats); err != nil {
		return nil, fmt.Errorf("metrics: register store counters: %w", err)
	}
	countCtx, stopCount := context.WithCancel(context.Background())
	count, err := st.CountExecutionsLater(countCtx, engine.StatusRunning)
	if err != nil {
		stopCount()
		return nil, fmt.Errorf("metrics: count running executions: %w", err)
	}
	o := &observability{metrics: m, stopCount: stopCount, counted: make(chan struct{})}
	go func() {
		defer close(o.counted)
		running, err := count()
		if err != nil {
			if countCtx.Err() == nil {
				cfg.Logger.Warn("metrics: count running executions; duro_executions_active stays unknown", "err", err)
			}
			return
		}
		m.SetActiveExecutions(running)
	}()
	if cfg.OTLPEndpoint != "" {
		o.tracer, err = tracing.New(ctx, tracing.Config{Endpoint: cfg.OTLPEndpoint})
		if err != nil {
			o.endCount()
			return nil, err
		}
		cfg.Logger.Info("exporting traces", "otlp_endpoint", cfg.OTLPEndpoint)
	}
	st.SetCommitObserver(m)
	return o, nil
}

// endCount stops the count of running executions and waits for it.
func (o *observability) endCount() {
	o.stopCount()
	<-o.counted
}

// observer is what the engine reports to: the metrics, the tracer if any,
// and the observer the caller configured, if any.
func (o *observability) observer(configured engine.Observer) engine.Observer {
	obs := []engine.Observer{configured, o.metrics}
	if o.tracer != nil {
		obs = append(obs, o.tracer)
	}
	return engine.Observers(obs...)
}

// handler routes GET /metrics to the metrics and everything else to next.
// It matches the path exactly rather than through an http.ServeMux, which
// would redirect the unclean paths the API answers itself.
func (o *observability) handler(next http.Handler) http.Handler {
	metrics := o.metrics.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			metrics.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// shutdown flushes the spans not yet exported.
func (o *observability) shutdown(ctx context.Context) error {
	o.endCount()
	if o.tracer == nil {
		return nil
	}
	return o.tracer.Shutdown(ctx)
}
