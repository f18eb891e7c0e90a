package engine

import (
	"fmt"
	"strings"
	"testing"

	"github.com/duro-run/duro/internal/store"
)

func idleState(id string, payload int) *execState {
	s := &execState{row: store.ExecutionRow{ID: id, Data: []byte("{}")}, ops: map[string]*opRecord{}}
	if payload > 0 {
		r := strings.Repeat("x", payload)
		s.ops["op"] = &opRecord{Operation: Operation{Id: "op", StepDetails: &StepDetails{Result: &r}}}
	}
	return s
}

func TestIdleCacheBounds(t *testing.T) {
	tests := []struct {
		name      string
		maxItems  int
		maxBytes  int64
		payload   int // per execution
		put       int // executions e0..e(put-1), in order
		wantKept  []string
		wantGone  []string
		wantItems int
	}{
		{name: "within bounds", maxItems: 4, maxBytes: 1 << 20, put: 3,
			wantKept: []string{"e0", "e1", "e2"}, wantItems: 3},
		{name: "count bound drops least recent", maxItems: 2, maxBytes: 1 << 20, put: 4,
			wantKept: []string{"e2", "e3"}, wantGone: []string{"e0", "e1"}, wantItems: 2},
		// Each costs about 8,800 bytes: three fit in 30,000.
		{name: "byte bound drops least recent", maxItems: 100, maxBytes: 30_000, payload: 8_000, put: 5,
			wantKept: []string{"e2", "e3", "e4"}, wantGone: []string{"e0", "e1"}, wantItems: 3},
		{name: "state above the budget is not kept", maxItems: 100, maxBytes: 1_000, payload: 5_000, put: 1,
			wantGone: []string{"e0"}, wantItems: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newIdleCache(tc.maxItems, tc.maxBytes)
			for i := range tc.put {
				c.put(idleState(fmt.Sprintf("e%d", i), tc.payload))
			}
			n, bytes := c.len()
			if n != tc.wantItems {
				t.Errorf("len = %d, want %d", n, tc.wantItems)
			}
			if bytes > tc.maxBytes {
				t.Errorf("bytes = %d, above the bound %d", bytes, tc.maxBytes)
			}
			for _, id := range tc.wantGone {
				if s := c.take(id); s != nil {
					t.Errorf("take(%s) found an entry that should have been dropped", id)
				}
			}
			for _, id := range tc.wantKept {
				s := c.take(id)
				if s == nil || s.row.ID != id {
					t.Fatalf("take(%s) = %v, want the cached state", id, s)
				}
				if again := c.take(id); again != nil {
					t.Errorf("take(%s) twice returned the state twice", id)
				}
			}
		})
	}
}

func TestIdleCacheDropAndReplace(t *testing.T) {
	c := newIdleCache(10, 1<<20)
	c.put(idleState("a", 0))
	c.put(idleState("a", 100)) // replaces, does not double-count
	if n, _ := c.len(); n != 1 {
		t.Fatalf("len after replacing = %d, want 1", n)
	}
	c.drop("a")
	if n, bytes := c.len(); n != 0 || bytes != 0 {
		t.Fatalf("after drop: len %d, bytes %d; want 0, 0", n, bytes)
	}
	if c.take("a") != nil {
		t.Fatal("take after drop found the state")
	}
}

// len reports the number of cached executions and their estimated bytes.
func (c *idleCache) len() (int, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len(), c.bytes
}
