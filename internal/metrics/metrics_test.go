package metrics_test

import (
	"errors"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/duro-run/duro/internal/engine"
	"github.com/duro-run/duro/internal/metrics"
	"github.com/duro-run/duro/internal/runtime"
	"github.com/duro-run/duro/internal/store/sqlite"
)

// TestMetricsUnit drives a Metrics directly and checks the scrape.
func TestMetricsUnit(t *testing.T) {
	// Each Metrics has a registry of its own: two do not collide.
	_ = metrics.New()
	m := metrics.New()

	var mu sync.Mutex
	pools := []runtime.PoolStats{{Function: "a", Busy: 2, Idle: 1, Starting: 1, Waiting: 3}, {Function: "b", Idle: 4}}
	if err := m.RegisterPools(func() []runtime.PoolStats {
		mu.Lock()
		defer mu.Unlock()
		return pools
	}); err != nil {
		t.Fatalf("RegisterPools: %v", err)
	}
	store := sqlite.Stats{GateWait: 1500 * time.Millisecond, WALRestarts: 3, WALRestart: 12 * time.Millisecond, WALCatchUps: 2}
	if err := m.RegisterStoreStats(func() sqlite.Stats {
		mu.Lock()
		defer mu.Unlock()
		return store
	}); err != nil {
		t.Fatalf("RegisterStoreStats: %v", err)
	}
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()

	m.SetActiveExecutions(5)
	t0 := time.Now()
	m.ExecutionStarted(engine.ExecutionInfo{Function: "a", Status: "RUNNING", Start: t0})
	m.ExecutionFinished(engine.ExecutionInfo{Function: "a", Status: "TIMED_OUT", Start: t0, End: t0.Add(time.Second)})
	m.ExecutionFinished(engine.ExecutionInfo{Function: "b", Status: "STOPPED", Start: t0, End: t0.Add(time.Second)})
	m.InvocationFinished(engine.InvocationInfo{Function: "a", Outcome: engine.OutcomeTimeout, Start: t0, End: t0.Add(3 * time.Second)})
	m.Checkpointed(engine.CheckpointInfo{Updates: 7, Start: t0, End: t0.Add(time.Millisecond)})
	m.Checkpointed(engine.CheckpointInfo{Updates: 1, Start: t0, End: t0.Add(time.Millisecond), Err: errors.New("stale")})
	m.TimerFired(engine.TimerKindRetry, -time.Second) // a clock step: no negative lag
	m.Committed(2*time.Millisecond, 1500*time.Microsecond, 3, nil)
	m.Committed(time.Millisecond, 0, 9, errors.New("disk full"))
	m.WALPagesWritten(42)

	f, err := scrape(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		what      string
		got, want float64
	}{
		{"active", f.value("duro_executions_active", nil), 4},
		{"finished TIMED_OUT", f.value("duro_executions_finished_total", map[string]string{"function": "a", "status": "TIMED_OUT"}), 1},
		{"invocations timeout", f.value("duro_invocations_total", map[string]string{"function": "a", "outcome": "timeout"}), 1},
		{"checkpoints ok", f.value("duro_checkpoints_total", map[string]string{"outcome": "ok"}), 1},
		{"checkpoints error", f.value("duro_checkpoints_total", map[string]string{"outcome": "error"}), 1},
		{"commit failures", f.value("duro_store_commit_failures_total", nil), 1},
		{"committer gate wait", f.value("duro_store_committer_gate_wait_seconds_total", nil), 1.5},
		{"WAL restarts", f.value("duro_store_wal_restarts_total", nil), 3},
		{"WAL restart time", f.value("duro_store_wal_restart_seconds_total", nil), 0.012},
		{"WAL catch-ups", f.value("duro_store_wal_catch_ups_total", nil), 2},
		{"a busy", f.value("duro_worker_pool_workers", map[string]string{"function": "a", "state": "busy"}), 2},
		{"a idle", f.value("duro_worker_pool_workers", map[string]string{"function": "a", "state": "idle"}), 1},
		{"a starting", f.value("duro_worker_pool_workers", map[string]string{"function": "a", "state": "starting"}), 1},
		{"a waiting", f.value("duro_worker_pool_waiting", map[string]string{"function": "a"}), 3},
		{"b idle", f.value("duro_worker_pool_workers", map[string]string{"function": "b", "state": "idle"}), 4},
		{"idle", f.value("duro_worker_pool_workers", map[string]string{"state": "idle"}), 5},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	if c, sum := f.histogram("duro_invocation_duration_seconds", map[string]string{"function": "a"}); c != 1 || sum != 3 {
		t.Errorf("invocation duration: count %d sum %v, want 1 and 3", c, sum)
	}
	if c, sum := f.histogram("duro_checkpoint_updates", nil); c != 2 || sum != 8 {
		t.Errorf("checkpoint updates: count %d sum %v, want 2 and 8", c, sum)
	}
	if c, sum := f.histogram("duro_timer_lag_seconds", map[string]string{"kind": "retry"}); c != 1 || sum != 0 {
		t.Errorf("retry timer lag: count %d sum %v, want 1 and 0", c, sum)
	}
	// A failed transaction is counted as a failure only.
	if c, sum := f.histogram("duro_store_commit_batch_size", nil); c != 1 || sum != 3 {
		t.Errorf("commit batch size: count %d sum %v, want 1 and 3", c, sum)
	}
	if c, sum := f.histogram("duro_store_commit_wal_pages", nil); c != 1 || sum != 42 {
		t.Errorf("store_commit_wal_pages: count %d sum %v, want 1 and 42", c, sum)
	}
	if c, sum := f.histogram("duro_store_commit_sync_seconds", nil); c != 1 || sum != 0.0015 {
		t.Errorf("store_commit_sync_seconds: count %d sum %v, want 1 and 0.0015 (failed transactions not timed)", c, sum)
	}

	// Pools come and go with the runtime's snapshot.
	mu.Lock()
	pools = nil
	mu.Unlock()
	if f, err = scrape(srv.URL); err != nil {
		t.Fatal(err)
	}
	if _, ok := f["duro_worker_pool_workers"]; ok {
		t.Errorf("worker pool gauges remain after the pools are gone")
	}
}
