package engine

import (
	"sync"
	"time"
)

// functionCacheTTL bounds how long a function configuration read from the
// store is reused. Changes made through this engine clear the cache at
// once; the TTL only delays changes made by other nodes sharing the store.
const functionCacheTTL = time.Second

// functionCache keeps resolved function configurations, so that starting
// or waking an execution does not read and decode the function's row.
type functionCache struct {
	mu      sync.Mutex
	entries map[string]functionCacheEntry
}

type functionCacheEntry struct {
	cfg     FunctionConfiguration
	expires time.Time
}

func functionCacheKey(name, qualifier string) string { return name + "\x00" + qualifier }

func (c *functionCache) get(name, qualifier string, now time.Time) (FunctionConfiguration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ent, ok := c.entries[functionCacheKey(name, qualifier)]
	if !ok || now.After(ent.expires) {
		return FunctionConfiguration{}, false
	}
	return ent.cfg, true
}

func (c *functionCache) put(name, qualifier string, cfg FunctionConfiguration, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) > 10000 {
		c.entries = map[string]functionCacheEntry{}
	}
	c.entries[functionCacheKey(name, qualifier)] = functionCacheEntry{cfg: cfg, expires: now.Add(functionCacheTTL)}
}

// clear forgets everything; called after every local function change.
func (c *functionCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = nil
}
