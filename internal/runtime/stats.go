package runtime

import (
	"cmp"
	"slices"
)

// PoolStats is a snapshot of one function's local worker processes, summed
// over its versions and over pools still draining after a code or
// configuration change.
type PoolStats struct {
	Function string
	// Busy workers are running an invocation (or being stopped).
	Busy int
	// Idle workers are warm and wait for an invocation.
	Idle int
	// Starting counts worker slots whose process is being launched.
	Starting int
	// Waiting counts invocations queued for a worker (the function is at
	// its concurrency limit).
	Waiting int
}

// PoolStats returns a snapshot of the local worker pools, one entry per
// function that has any, ordered by function name. In-process and remote
// functions have no pools. It is cheap enough to call on every metrics
// scrape.
func (r *Router) PoolStats() []PoolStats {
	if r.host == nil {
		return nil
	}
	return r.host.stats()
}

func (h *host) stats() []PoolStats {
	h.mu.Lock()
	pools := make([]*pool, 0, len(h.all))
	for p := range h.all {
		pools = append(pools, p)
	}
	h.mu.Unlock()
	byFn := map[string]*PoolStats{}
	for _, p := range pools {
		p.mu.Lock()
		live, idle := len(p.all), len(p.idle)
		starting, waiting := p.total-live, len(p.waiters)
		p.mu.Unlock()
		if live == 0 && starting <= 0 && waiting == 0 {
			continue
		}
		s := byFn[p.key.name]
		if s == nil {
			s = &PoolStats{Function: p.key.name}
			byFn[p.key.name] = s
		}
		s.Busy += live - idle
		s.Idle += idle
		s.Starting += max(starting, 0)
		s.Waiting += waiting
	}
	out := make([]PoolStats, 0, len(byFn))
	for _, s := range byFn {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b PoolStats) int { return cmp.Compare(a.Function, b.Function) })
	return out
}
