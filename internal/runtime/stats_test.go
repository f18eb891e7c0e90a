//go:build unix

package runtime

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestPoolStats checks the snapshot while invocations queue on a full pool
// and after they finish.
func TestPoolStats(t *testing.T) {
	h := newFakeHost(t, Config{MaxConcurrency: 2}, nil)
	if got := h.r.PoolStats(); len(got) != 0 {
		t.Fatalf("PoolStats before any invocation = %+v, want none", got)
	}
	if got := NewRouter().PoolStats(); got != nil {
		t.Fatalf("PoolStats without local runtimes = %+v, want nil", got)
	}

	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, resp, err := h.invoke(context.Background(), "req-"+string(rune('a'+i)), fakeEvent{Action: "sleep", Millis: 500}); err != nil || resp.FunctionError != "" {
				t.Errorf("invoke: %v %s", err, resp.Payload)
			}
		}()
	}
	// Two run, two wait for a worker.
	want := PoolStats{Function: "fake", Busy: 2, Waiting: 2}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := h.r.PoolStats()
		if len(got) == 1 && got[0] == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("PoolStats under load = %+v, want [%+v]", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	wg.Wait()
	got := h.r.PoolStats()
	if want := (PoolStats{Function: "fake", Idle: 2}); len(got) != 1 || got[0] != want {
		t.Fatalf("PoolStats after the invocations = %+v, want [%+v]", got, want)
	}
}
