package engine

import (
	"container/list"
	"sync"
)

// Bounds of the idle cache. Entries are estimated as the execution's
// encoded data plus opSize of each operation, so a few executions with
// large payloads cannot hold much memory: a server with a million
// suspended executions keeps at most this many of them in memory.
const (
	idleCacheEntries = 4096
	idleCacheBytes   = 32 << 20
)

// idleCache keeps the state of recently suspended executions (running, no
// invocation in flight), least recently used first out. A wait, retry or
// callback usually wakes an execution within seconds of it suspending;
// without the cache, each wake-up read the execution and all its
// operations back from the store and decoded them.
//
// An entry may be stale if another node has changed the execution since;
// only Engine.update takes entries (Engine.cached with idle), and its commit's revision check turns
// a stale entry into a conflict and a reload. Readers that do not commit
// (GetState, AwaitExecution) never look here.
type idleCache struct {
	mu       sync.Mutex
	maxItems int
	maxBytes int64
	bytes    int64
	lru      *list.List // of *idleEntry, most recently put first
	items    map[string]*list.Element
}

type idleEntry struct {
	s    *execState
	cost int64
}

func newIdleCache(maxItems int, maxBytes int64) *idleCache {
	return &idleCache{maxItems: maxItems, maxBytes: maxBytes, lru: list.New(), items: map[string]*list.Element{}}
}

// take removes and returns an execution's cached state, or nil.
func (c *idleCache) take(id string) *execState {
	c.mu.Lock()
	defer c.mu.Unlock()
	el := c.items[id]
	if el == nil {
		return nil
	}
	c.remove(el)
	return el.Value.(*idleEntry).s
}

// put caches s, evicting the least recently used entries beyond the
// bounds. A state bigger than the whole budget is not kept.
func (c *idleCache) put(s *execState) {
	cost := stateCost(s)
	c.mu.Lock()
	defer c.mu.Unlock()
	if el := c.items[s.row.ID]; el != nil {
		c.remove(el)
	}
	if cost > c.maxBytes || c.maxItems <= 0 {
		return
	}
	c.items[s.row.ID] = c.lru.PushFront(&idleEntry{s: s, cost: cost})
	c.bytes += cost
	for c.lru.Len() > c.maxItems || c.bytes > c.maxBytes {
		c.remove(c.lru.Back())
	}
}

// drop forgets an execution.
func (c *idleCache) drop(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el := c.items[id]; el != nil {
		c.remove(el)
	}
}

func (c *idleCache) remove(el *list.Element) {
	e := el.Value.(*idleEntry)
	c.lru.Remove(el)
	delete(c.items, e.s.row.ID)
	c.bytes -= e.cost
}

// stateCost estimates the memory an execution's decoded state holds.
func stateCost(s *execState) int64 {
	n := int64(len(s.row.Data)) + 512
	for _, op := range s.ops {
		n += int64(opSize(&op.Operation))
	}
	return n
}
