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
}

// newObservability creates the metrics, hooks them to the store's group
// committer and the runtime's worker pools, starts the active-executions
// gauge from the store and, when cfg.OTLPEndpoint is set, starts the trace
// exporter. Call it before the engine starts.
func newObservability(ctx context.Context, cfg Config, st *sqlite.Store, rt *runtime.Router) (*observability, error) {
	m := metrics.New()
	running, err := st.CountExecutions(ctx, engine.StatusRunning)
	if err != nil {
		return nil, fmt.Errorf("metrics: count running executions: %w", err)
	}
	m.SetActiveExecutions(running)
	if err := m.RegisterPools(rt.PoolStats); err != nil {
		return nil, fmt.Errorf("metrics: register worker pools: %w", err)
	}
	o := &observability{metrics: m}
	if cfg.OTLPEndpoint != "" {
		o.tracer, err = tracing.New(ctx, tracing.Config{Endpoint: cfg.OTLPEndpoint})
		if err != nil {
			return nil, err
		}
		cfg.Logger.Info("exporting traces", "otlp_endpoint", cfg.OTLPEndpoint)
	}
	st.SetCommitObserver(m)
	return o, nil
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
	if o.tracer == nil {
		return nil
	}
	return o.tracer.Shutdown(ctx)
}
