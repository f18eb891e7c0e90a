package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/duro-run/duro/internal/engine"
)

// errClosed fails invocations that arrive while the host shuts down.
var errClosed = errors.New("runtime host is shutting down")

// host runs functions as local worker processes.
type host struct {
	cfg        Config
	runtimeDir string // where Duro's bootstraps live
	log        *slog.Logger
	logs       *logWriter

	mu    sync.Mutex
	pools map[poolKey]*pool  // the current pool of each key
	all   map[*pool]struct{} // every pool that may still have workers
	// closed is atomic because pools read it under their own locks, which
	// are taken after h.mu, never before.
	closed atomic.Bool

	workers sync.WaitGroup // live worker processes
}

func newHost(cfg Config) (*host, error) {
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.MaxConcurrency <= 0 {
		cfg.MaxConcurrency = DefaultMaxConcurrency
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.NodeCommand == "" {
		cfg.NodeCommand = "node"
	}
	if cfg.PythonCommand == "" {
		cfg.PythonCommand = "python3"
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dir, err := installBootstraps(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	return &host{
		cfg: cfg, runtimeDir: dir, log: log, logs: newLogWriter(cfg.Logs, log),
		pools: map[poolKey]*pool{}, all: map[*pool]struct{}{},
	}, nil
}

func (h *host) isClosed() bool { return h.closed.Load() }

// invoke runs one invocation on a worker of the function's pool.
func (h *host) invoke(ctx context.Context, inv engine.Invocation) (engine.InvocationResponse, error) {
	p, err := h.pool(inv.Function)
	if err != nil {
		return engine.InvocationResponse{}, err
	}
	w, err := p.acquire(ctx)
	if err != nil {
		if ctx.Err() != nil {
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return engine.InvocationResponse{}, &engine.InvocationError{Type: "Sandbox.Timedout", Message: fmt.Sprintf(
					"RequestId: %s Error: Task timed out waiting for a worker (%v)", inv.RequestID, err)}
			}
			return engine.InvocationResponse{}, err
		}
		return engine.InvocationResponse{}, &engine.InvocationError{Type: "Runtime.InvalidEntrypoint",
			Message: fmt.Sprintf("RequestId: %s Error: %v", inv.RequestID, err)}
	}
	resp, err, healthy := w.invoke(ctx, inv)
	p.release(w, healthy)
	return resp, err
}

// pool returns the pool of a function configuration, creating it (and
// retiring the pools of older code or configuration of the same version)
// on first use.
func (h *host) pool(fn engine.FunctionConfiguration) (*pool, error) {
	key := keyOf(fn)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed.Load() {
		return nil, errClosed
	}
	if p := h.pools[key]; p != nil {
		return p, nil
	}
	spec, err := h.launchSpec(fn)
	if err != nil {
		return nil, err
	}
	for k, old := range h.pools {
		if k.name == key.name && k.version == key.version {
			old.retire(false)
			delete(h.pools, k)
			if old.empty() {
				delete(h.all, old)
			}
		}
	}
	p := newPool(h, fn, spec)
	h.pools[key] = p
	h.all[p] = struct{}{}
	return p, nil
}

// dropPool forgets a retired pool whose last worker is gone.
func (h *host) dropPool(p *pool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.pools[p.key] == p {
		delete(h.pools, p.key)
	}
	delete(h.all, p)
}

// recycle retires every pool of a function.
func (h *host) recycle(function string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, p := range h.pools {
		if k.name == function {
			p.retire(false)
			delete(h.pools, k)
			if p.empty() {
				delete(h.all, p)
			}
		}
	}
}

// close stops every worker and flushes the logs.
func (h *host) close(ctx context.Context) error {
	h.mu.Lock()
	h.closed.Store(true)
	pools := make([]*pool, 0, len(h.all))
	for p := range h.all {
		pools = append(pools, p)
	}
	h.mu.Unlock()
	for _, p := range pools {
		p.retire(true)
	}
	done := make(chan struct{})
	go func() { h.workers.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("runtime host: workers still running at shutdown: %w", ctx.Err())
	}
	h.logs.close()
	return err
}
