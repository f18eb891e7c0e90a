package runtime

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/duro-run/duro/internal/engine"
)

// poolKey identifies the workers that may serve an invocation. Besides
// the function version it holds the code location and the configuration
// revision, so that new code or a new configuration (environment, handler,
// memory) is never served by a worker started from the old one.
type poolKey struct {
	name, version, code, revision string
}

func keyOf(fn engine.FunctionConfiguration) poolKey {
	return poolKey{name: fn.FunctionName, version: fn.Version, code: fn.CodeLocation, revision: fn.RevisionId}
}

// pool is the set of workers of one poolKey: warm workers are reused (most
// recently used first, so that surplus workers go idle and expire), new
// ones start on demand up to the concurrency limit, and invocations beyond
// it wait in FIFO order.
type pool struct {
	host *host
	key  poolKey
	fn   engine.FunctionConfiguration
	spec launchSpec

	mu      sync.Mutex
	idle    []*worker
	total   int // workers started and not yet reaped, plus reserved slots
	waiters []chan *worker
	retired bool // a newer pool replaced this one, or the host is closing
	all     map[*worker]struct{}
	timers  map[*worker]*time.Timer
}

func newPool(h *host, fn engine.FunctionConfiguration, spec launchSpec) *pool {
	return &pool{host: h, key: keyOf(fn), fn: fn, spec: spec, all: map[*worker]struct{}{}, timers: map[*worker]*time.Timer{}}
}

// acquire returns a worker for one invocation: an idle one, a new one, or
// the first one released while the caller waits.
func (p *pool) acquire(ctx context.Context) (*worker, error) {
	p.mu.Lock()
	for len(p.idle) > 0 {
		w := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if t := p.timers[w]; t != nil {
			t.Stop()
			delete(p.timers, w)
		}
		if w.alive() {
			p.mu.Unlock()
			return w, nil
		}
	}
	if p.total < p.host.cfg.MaxConcurrency {
		p.total++ // reserve the slot before starting outside the lock
		p.mu.Unlock()
		return p.spawn()
	}
	ch := make(chan *worker, 1)
	p.waiters = append(p.waiters, ch)
	busy := p.total
	p.mu.Unlock()

	select {
	case w := <-ch:
		if w == nil { // a slot, not a worker: start one
			return p.spawn()
		}
		return w, nil
	case <-ctx.Done():
		p.mu.Lock()
		for i, c := range p.waiters {
			if c == ch {
				p.waiters = append(p.waiters[:i], p.waiters[i+1:]...)
				break
			}
		}
		p.mu.Unlock()
		// A hand-over may have raced the cancellation: pass it on.
		select {
		case w := <-ch:
			if w == nil {
				p.mu.Lock()
				p.freeSlotLocked()
				p.mu.Unlock()
			} else {
				p.release(w, true)
			}
		default:
		}
		return nil, fmt.Errorf("all %d workers of %s busy: %w", busy, p.fn.FunctionName, ctx.Err())
	}
}

// spawn starts a worker in a slot the caller reserved.
func (p *pool) spawn() (*worker, error) {
	if p.host.isClosed() {
		p.mu.Lock()
		p.freeSlotLocked()
		p.mu.Unlock()
		return nil, errClosed
	}
	w, err := startWorker(p)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.freeSlotLocked()
		return nil, err
	}
	p.all[w] = struct{}{}
	p.host.workers.Add(1)
	go w.reap()
	if p.host.isClosed() {
		w.stop() // the host closed while it started
	}
	return w, nil
}

// release returns a worker after an invocation. An unhealthy worker, or
// any worker of a retired pool, is stopped; its slot frees when it is
// reaped.
func (p *pool) release(w *worker, healthy bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !healthy || p.retired || !w.alive() {
		w.stop()
		return
	}
	if len(p.waiters) > 0 {
		ch := p.waiters[0]
		p.waiters = p.waiters[1:]
		ch <- w
		return
	}
	p.idle = append(p.idle, w)
	p.timers[w] = time.AfterFunc(p.host.cfg.IdleTimeout, func() { p.expire(w) })
}

// expire stops a worker that stayed idle for the idle timeout.
func (p *pool) expire(w *worker) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, iw := range p.idle {
		if iw == w {
			p.idle = append(p.idle[:i], p.idle[i+1:]...)
			delete(p.timers, w)
			w.stop()
			return
		}
	}
}

// gone is called once a worker's process has been reaped.
func (p *pool) gone(w *worker) {
	p.mu.Lock()
	for i, iw := range p.idle {
		if iw == w {
			p.idle = append(p.idle[:i], p.idle[i+1:]...)
			break
		}
	}
	if t := p.timers[w]; t != nil {
		t.Stop()
		delete(p.timers, w)
	}
	delete(p.all, w)
	p.freeSlotLocked()
	empty := p.retired && p.total == 0
	p.mu.Unlock()
	p.host.workers.Done()
	if empty {
		p.host.dropPool(p)
	}
}

// freeSlotLocked gives up a worker slot: to the first waiter if any (who
// then starts a worker in it), otherwise back to the pool.
func (p *pool) freeSlotLocked() {
	if len(p.waiters) > 0 && !p.host.isClosed() {
		ch := p.waiters[0]
		p.waiters = p.waiters[1:]
		ch <- nil
		return
	}
	p.total--
}

// retire stops the idle workers and marks the pool so that busy workers
// stop when they finish. With kill, busy workers are stopped at once.
func (p *pool) retire(kill bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.retired = true
	for _, w := range p.idle {
		if t := p.timers[w]; t != nil {
			t.Stop()
			delete(p.timers, w)
		}
		w.stop()
	}
	p.idle = nil
	if kill {
		for w := range p.all {
			w.stop()
		}
		// Waiters get a slot, fail to start (the host is closed) and
		// report it.
		for _, ch := range p.waiters {
			ch <- nil
			p.total++
		}
		p.waiters = nil
	}
}

// empty reports whether the pool has no workers left.
func (p *pool) empty() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.total == 0
}
