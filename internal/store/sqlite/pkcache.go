package sqlite

import "github.com/duro-run/duro/internal/store"

// pkCacheSize bounds the committer's pk cache: enough for the executions
// that are checkpointing at once, at about 100 bytes an entry.
const pkCacheSize = 1 << 16

// pkCache maps execution IDs to the pk of their row, so that a checkpoint
// updates its execution by pk instead of first finding it by ID. Only the
// committer goroutine uses it, so it has no lock. An entry can go stale
// (the execution deleted, then created again under the same ID); every
// update matches the ID as well as the pk, so a stale entry costs a
// look-up, never a wrong row.
type pkCache struct {
	m map[string]int64
}

func newPKCache() *pkCache {
	return &pkCache{m: make(map[string]int64)}
}

func (c *pkCache) get(id string) (int64, bool) {
	pk, ok := c.m[id]
	return pk, ok
}

// put records e's pk after a write, or forgets it once e has finished:
// a finished execution is rarely written again.
func (c *pkCache) put(e *store.ExecutionRow, pk int64) {
	if !e.EndTime.IsZero() {
		delete(c.m, e.ID)
		return
	}
	if _, ok := c.m[e.ID]; !ok && len(c.m) >= pkCacheSize {
		for id := range c.m { // evict an arbitrary entry
			delete(c.m, id)
			break
		}
	}
	c.m[e.ID] = pk
}

func (c *pkCache) drop(id string) {
	delete(c.m, id)
}
