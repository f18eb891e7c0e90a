package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/duro-run/duro/internal/bench"
)

// TestBenchCommandJSON runs a tiny embedded benchmark through the command
// line and checks that --json prints one object with the documented
// fields, and that they are sane. It asserts nothing about speed.
func TestBenchCommandJSON(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"bench", "--json", "--scenario", "waits", "--executions", "4", "--steps", "2",
		"--concurrency", "2", "--wait-seconds", "1", "--payload-size", "64", "--fsync-probe", "100ms"}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout.String(), stderr.String())
	}
	var r map[string]any
	dec := json.NewDecoder(&stdout)
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("decode --json output: %v\n%s", err, stdout.String())
	}
	if dec.More() {
		t.Fatal("--json printed more than one object")
	}
	num := func(key string) float64 {
		t.Helper()
		v, ok := r[key].(float64)
		if !ok {
			t.Errorf("%s = %#v, want a number", key, r[key])
		}
		return v
	}
	for _, key := range []string{"checkpoints_per_sec", "executions_per_sec", "fsyncs_per_sec", "server_cpu_seconds", "server_peak_rss_mb"} {
		if v := num(key); v <= 0 {
			t.Errorf("%s = %v, want > 0", key, v)
		}
	}
	if v := num("executions"); v != 4 {
		t.Errorf("executions = %v, want 4", v)
	}
	// Each execution: 2 steps and 2 waits, one checkpoint each.
	if v := num("checkpoints"); v != 16 {
		t.Errorf("checkpoints = %v, want 16", v)
	}
	// The committer's busy share, and within it the share spent in COMMIT
	// (WAL write and fsync), both from the server's /metrics.
	if busy, commit := num("store_busy_pct"), num("store_commit_pct"); commit <= 0 || commit > busy || busy > 100 {
		t.Errorf("store_busy_pct %v, store_commit_pct %v: want 0 < commit <= busy <= 100", busy, commit)
	}
	// The pages the run's transactions wrote to the WAL, from /metrics:
	// every transaction writes a few (a leaf of each B-tree it changes).
	if perTx, perCp := num("wal_pages_per_transaction"), num("wal_pages_per_checkpoint"); perTx < 2 || perCp <= 0 {
		t.Errorf("wal_pages_per_transaction %v, wal_pages_per_checkpoint %v: want 2 or more, and more than 0", perTx, perCp)
	}
	for _, key := range []string{"checkpoint_latency_ms", "wake_lag_ms"} {
		s, ok := r[key].(map[string]any)
		if !ok {
			t.Errorf("%s = %#v, want an object", key, r[key])
			continue
		}
		var prev float64
		for _, q := range []string{"p50", "p90", "p99", "max"} {
			v, ok := s[q].(float64)
			if !ok || v <= 0 || v < prev {
				t.Errorf("%s.%s = %#v: want a positive number, not below the previous quantile", key, q, s[q])
			}
			prev = v
		}
	}
}

// TestBenchTextWakeLags checks which wake-up lags the text report shows:
// the load generator's own (due time to re-invocation) whenever it plays
// the handlers, the server's timer lag whenever it was scraped, and never
// the one under the other's name; and the lines a repeated run and a
// --rate-of-max run add.
func TestBenchTextWakeLags(t *testing.T) {
	client := bench.Summary{Count: 7, P50: 1.5, P90: 2.5, P99: 3.5, Max: 4.5}
	server := &bench.Summary{Count: 9, P50: 0.5, P90: 0.75, P99: 0.875, Max: 1}
	tests := []struct {
		name       string
		r          bench.Result
		want, omit []string
	}{
		{"lean client", bench.Result{Client: bench.ClientLean, Scenario: bench.ScenarioWaits, WakeLagMs: client, ServerWaitLagMs: server},
			[]string{"wake-up lag         p50 1.50  p90 2.50  p99 3.50  max 4.50 ms  (n=7)", "timer lag           at the server (due time to timer fired): p50 0.50  p90 0.75  p99 0.88 ms"}, nil},
		{"js client", bench.Result{Client: bench.ClientJS, Scenario: bench.ScenarioWaits, ServerWaitLagMs: server},
			[]string{"timer lag           at the server"}, []string{"wake-up lag"}},
		{"steps", bench.Result{Client: bench.ClientLean, Scenario: bench.ScenarioSteps},
			[]string{"wake-up lag         -"}, []string{"timer lag", "runs", "CPU wait"}},
		{"repeated open loop", bench.Result{Client: bench.ClientLean, Scenario: bench.ScenarioSteps, Rate: 800,
			SchedLatencyMs: &bench.Summary{Count: 5, P50: 0.125, P90: 0.5, P99: 2, Max: 4},
			Repeats: []bench.RunFigures{
				{ExecutionsPerSec: 800, CheckpointsPerSec: 8000, MaxCheckpointsPerSec: 10000, CheckpointLatencyMs: bench.Summary{Count: 1, P99: 12.5}},
				{ExecutionsPerSec: 790, CheckpointsPerSec: 7900, MaxCheckpointsPerSec: 9900, CheckpointLatencyMs: bench.Summary{Count: 1, P99: 25}},
			}},
			[]string{"runs                2, the median by checkpoint p99 below; executions/s 800.0 / 790.0; checkpoints/s 8000 (max 10000) / 7900 (max 9900); checkpoint p99 12.50 / 25.00 ms",
				"CPU wait            p50 0.125  p90 0.500  p99 2.00  max ≤ 4 ms"}, nil},
		{"rate of max", bench.Result{Client: bench.ClientLean, Scenario: bench.ScenarioSteps, Rate: 800, RateOfMax: 80,
			MaxRun: &bench.Result{CheckpointsPerSec: 10000, ExecutionsPerSec: 1000, Concurrency: 200, ElapsedSeconds: 15.05,
				ServerCPUPerCheckpointUs: 124.4, CommitsPerTransaction: 43.9}},
			[]string{"maximum             10000.0 checkpoints/s, 1000.0 executions/s (closed loop, 200 concurrent, 15.05 s; 124 µs of CPU per checkpoint, 43.9 commits per transaction); open loop at 80 % of it"}, []string{"maximum after"}},
		{"rate of max, rechecked", bench.Result{Client: bench.ClientLean, Scenario: bench.ScenarioSteps, Rate: 800, RateOfMax: 80, CheckpointsPerSec: 8000,
			MaxRun: &bench.Result{CheckpointsPerSec: 10000, ExecutionsPerSec: 1000, Concurrency: 200, ElapsedSeconds: 15.05}, MaxAfterRun: &bench.Result{CheckpointsPerSec: 8888.9},
			Repeats: []bench.RunFigures{
				{ExecutionsPerSec: 800, CheckpointsPerSec: 8000, MaxCheckpointsPerSec: 10000, MaxAfterCheckpointsPerSec: 8888.9, CheckpointLatencyMs: bench.Summary{Count: 1, P99: 12.5}},
				{ExecutionsPerSec: 790, CheckpointsPerSec: 7900, MaxCheckpointsPerSec: 9900, MaxAfterCheckpointsPerSec: 11000, CheckpointLatencyMs: bench.Summary{Count: 1, P99: 25}},
			}},
			[]string{"maximum after       8888.9 checkpoints/s (the same closed loop after the open loop); the open loop's 8000.0 checkpoints/s are 90 % of it",
				"checkpoints/s 8000 (max 10000, after 8889) / 7900 (max 9900, after 11000)"}, nil},
		{"repeated js", bench.Result{Client: bench.ClientJS, Scenario: bench.ScenarioSteps,
			Repeats: []bench.RunFigures{{ExecutionsPerSec: 400, CheckpointsPerSec: 4000}, {ExecutionsPerSec: 410, CheckpointsPerSec: 4100}}},
			[]string{"runs                2, the median by checkpoints/s below; executions/s 400.0 / 410.0; checkpoints/s 4000 / 4100\n"}, []string{"checkpoint p99 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			printBenchResult(&out, &tt.r)
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("report lacks %q:\n%s", w, out.String())
				}
			}
			for _, o := range tt.omit {
				if strings.Contains(out.String(), o) {
					t.Errorf("report has %q:\n%s", o, out.String())
				}
			}
		})
	}
}
