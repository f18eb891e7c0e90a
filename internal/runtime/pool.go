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
//
// A worker serves up to spec.slots invocations at once (more than one only
// for functions on managed instances, whose runtimes take concurrent
// /next requests). A new invocation goes to the busiest worker that still
// has a free slot, so that load gathers on few warm processes, then to an
// idle worker, then to a new one.
type pool struct {
	host *host
	key  poolKey
	fn   engine.FunctionConfiguration
	spec launchSpec

	mu      sync.Mutex
	idle    []*worker       // serving nothing, most recently used last
	busy    map[*worker]int // invocations in progress, per worker serving any
	total   int             // workers started and not yet reaped, plus reserved slots
	waiters []chan *worker
	retired bool // a newer pool replaced this one, or the host is closing
	all     map[*worker]struct{}
	timers  map[*worker]*time.Timer
}

func newPool(h *host, fn engine.FunctionConfiguration, spec launchSpec) *pool {
	if spec.slots < 1 {
		spec.slots = 1
	}
	return &pool{host: h, key: keyOf(fn), fn: fn, spec: spec, busy: map[*worker]int{},
		all: map[*worker]struct{}{}, timers: map[*worker]*time.Timer{}}
}

// acquire returns a worker for one invocation: a busy one with a free
// slot, an idle one, a new one, or the first one released while the
// caller waits.
func (p *pool) acquire(ctx context.Context) (*worker, error) {
	p.mu.Lock()
	if w := p.openLocked(); w != nil {
		p.busy[w]++
		p.mu.Unlock()
		return w, nil
	}
	for len(p.idle) > 0 {
		w := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if t := p.timers[w]; t != nil {
			t.Stop()
			delete(p.timers, w)
		}
		if w.alive() {
			p.busy[w] = 1
			p.mu.Unlock()
			return w, nil
		}
	}
	if p.total < p.host.cfg.MaxConcurrency {
		p.total++ // reserve the slot before starting outside the lock
		if p.spec.slots > 1 && !p.host.isClosed() {
			// A worker with several slots starts under the lock (a fork
			// and exec): invocations arriving meanwhile then take its free
			// slots instead of starting workers of their own.
			w, err := p.registerLocked(startWorker(p))
			p.mu.Unlock()
			return w, err
		}
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

// openLocked returns the busiest live worker that has a free slot, if any.
// A single-slot worker in busy has none, so those pools skip the scan.
func (p *pool) openLocked() *worker {
	if p.spec.slots == 1 {
		return nil
	}
	var best *worker
	for w, n := range p.busy {
		if n < p.spec.slots && (best == nil || n > p.busy[best]) && w.alive() {
			best = w
		}
	}
	return best
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
	return p.registerLocked(w, err)
}

// registerLocked counts a worker that was just started (or gives its slot
// up when it failed to start) and returns it for one invocation.
func (p *pool) registerLocked(w *worker, err error) (*worker, error) {
	if err != nil {
		p.freeSlotLocked()
		return nil, err
	}
	p.all[w] = struct{}{}
	p.busy[w] = 1
	p.host.workers.Add(1)
	go w.reap()
	if p.host.isClosed() {
		w.stop() // the host closed while it started
	}
	return w, nil
}

// release returns a worker after an invocation. An unhealthy worker is
// stopped, and so is any worker of a retired pool once it serves nothing;
// its slot frees when it is reaped.
func (p *pool) release(w *worker, healthy bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.busy[w] - 1
	if n > 0 {
		p.busy[w] = n
	} else {
		delete(p.busy, w)
	}
	if !healthy || !w.alive() || (p.retired && n == 0) {
		w.stop()
		return
	}
	if p.retired {
		return
	}
	if len(p.waiters) > 0 {
		ch := p.waiters[0]
		p.waiters = p.waiters[1:]
		p.busy[w] = n + 1
		ch <- w
		return
	}
	if n > 0 {
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
	delete(p.busy, w)
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
