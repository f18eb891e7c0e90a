package bench

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/duro-run/duro/internal/server"
	"github.com/duro-run/duro/internal/store/sqlite"
)

// quiet discards logs below error.
func quiet() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError + 4}))
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// checkResult checks what every run must show: every execution succeeded,
// the expected number of checkpoints, no errors, sane figures.
func checkResult(t *testing.T, r *Result, executions int, checkpoints int64) {
	t.Helper()
	if r.Executions != int64(executions) || r.ExecutionsFailed != 0 {
		t.Errorf("executions: %d ok, %d failed; want %d ok", r.Executions, r.ExecutionsFailed, executions)
	}
	if r.Checkpoints != checkpoints || r.CheckpointErrors != 0 || r.InvocationErrors != 0 {
		t.Errorf("checkpoints: %d (%d errors, %d failed invocations); want %d", r.Checkpoints, r.CheckpointErrors, r.InvocationErrors, checkpoints)
	}
	if r.CheckpointLatencyMs.Count != uint64(r.Checkpoints) || r.CheckpointLatencyMs.P50 <= 0 ||
		r.CheckpointLatencyMs.P50 > r.CheckpointLatencyMs.P99 || r.CheckpointLatencyMs.P99 > r.CheckpointLatencyMs.Max {
		t.Errorf("checkpoint latency %+v is not a distribution of %d checkpoints", r.CheckpointLatencyMs, r.Checkpoints)
	}
	if r.ExecutionsPerSec <= 0 || r.CheckpointsPerSec <= 0 || r.ElapsedSeconds <= 0 {
		t.Errorf("rates: %v executions/s, %v checkpoints/s over %v s", r.ExecutionsPerSec, r.CheckpointsPerSec, r.ElapsedSeconds)
	}
}

func TestRunScenarios(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers")
	}
	tests := []struct {
		cfg         Config
		checkpoints int64
		wakes       uint64 // wake-up lags (waits) or callback lags expected
	}{
		{Config{Scenario: ScenarioSteps, Steps: 3}, 6 * 3, 0},
		{Config{Scenario: ScenarioSteps, Steps: 3, FunctionTransport: TransportTCP}, 6 * 3, 0},
		{Config{Scenario: ScenarioSteps, Steps: 3, FunctionTransport: TransportUnixHTTP}, 6 * 3, 0},
		{Config{Scenario: ScenarioSteps, Steps: 3, Client: ClientSDK}, 6 * 3, 0},
		{Config{Scenario: ScenarioWaits, Steps: 1, WaitSeconds: 1}, 6 * 2, 6},
		{Config{Scenario: ScenarioCallbacks, Steps: 2}, 6 * 4, 12},
		{Config{Scenario: ScenarioCallbacks, Steps: 1, Client: ClientSDK}, 6 * 2, 6},
		// Branches' checkpoints are batched, so their number depends on
		// timing: -1 checks the updates instead.
		{Config{Scenario: ScenarioFanout, Steps: 2, Branches: 3}, -1, 0},
	}
	for _, tc := range tests {
		name := tc.cfg.Scenario
		if tc.cfg.Client != "" {
			name += "-" + tc.cfg.Client
		}
		if tc.cfg.FunctionTransport != "" {
			name += "-" + tc.cfg.FunctionTransport
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg := tc.cfg
			cfg.Executions, cfg.Concurrency, cfg.Logger, cfg.FsyncProbe = 6, 3, quiet(), 50*time.Millisecond
			r, err := Run(testCtx(t), cfg)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.checkpoints
			if want < 0 {
				want = r.Checkpoints
				// Per execution: parallel START and SUCCEED, and per
				// branch START, 2 updates per step, SUCCEED.
				if wantUpdates := int64(6 * (2 + 3*(2+2*2))); r.Updates != wantUpdates {
					t.Errorf("fanout sent %d updates, want %d", r.Updates, wantUpdates)
				}
			}
			checkResult(t, r, 6, want)
			// The lean player's functions checkpoint over the embedded
			// server's socket, multiplexed, unless told otherwise; the
			// SDK client speaks TCP and is not reported.
			wantTransport := ""
			if cfg.Client == "" || cfg.Client == ClientLean {
				wantTransport = cmp.Or(cfg.FunctionTransport, TransportMux)
			}
			if r.FunctionTransport != wantTransport {
				t.Errorf("function transport %q, want %q", r.FunctionTransport, wantTransport)
			}
			// The server counted the played functions' requests on the
			// multiplexed socket, and none otherwise.
			if mux := r.ServerMuxRequests; wantTransport == TransportMux && mux < r.Checkpoints || wantTransport != TransportMux && mux != 0 {
				t.Errorf("server_mux_requests = %d for %d checkpoints over %q", mux, r.Checkpoints, wantTransport)
			}
			// Every checkpoint response and envelope Duro sent took the
			// load generator's fast decoders.
			if r.LoadGenJSONFallbacks != 0 {
				t.Errorf("%d documents decoded with encoding/json, want 0", r.LoadGenJSONFallbacks)
			}
			lags := r.WakeLagMs.Count + r.CallbackLagMs.Count
			if lags != tc.wakes {
				t.Errorf("%d wake-up/callback lags recorded, want %d", lags, tc.wakes)
			}
			// Goroutines were scheduled during the run, so this process's
			// scheduling latencies have samples.
			if l := r.SchedLatencyMs; l == nil || l.Count == 0 || l.P50 > l.P99 || l.P99 > l.Max {
				t.Errorf("CPU wait %+v, want a distribution", l)
			}
			if r.Mode != "embedded" || !r.ServerSharedWithClient || r.ServerPeakRSSMB <= 0 || r.ServerCPUSeconds <= 0 {
				t.Errorf("server figures: mode %s, peak RSS %v MB, CPU %v s", r.Mode, r.ServerPeakRSSMB, r.ServerCPUSeconds)
			}
			// server_cpu_seconds is rounded to the millisecond.
			if lo, hi := (r.ServerCPUSeconds-0.0005)/float64(r.Checkpoints)*1e6, (r.ServerCPUSeconds+0.0005)/float64(r.Checkpoints)*1e6; r.ServerCPUPerCheckpointUs <= 0 ||
				r.ServerCPUPerCheckpointUs < lo-0.001 || r.ServerCPUPerCheckpointUs > hi+0.001 {
				t.Errorf("server_cpu_us_per_checkpoint = %v, want %v..%v (%v s over %d checkpoints)", r.ServerCPUPerCheckpointUs, lo, hi, r.ServerCPUSeconds, r.Checkpoints)
			}
			if r.FsyncsPerSec <= 0 || r.StoreTransactions <= 0 || r.CheckpointsPerFsync <= 0 {
				t.Errorf("store figures: %v fsyncs/s, %d transactions, %v checkpoints per fsync", r.FsyncsPerSec, r.StoreTransactions, r.CheckpointsPerFsync)
			}
			// Every checkpoint is a mutation, and the run's mutations are
			// those of its executions only.
			if p := r.StoreMutationMs; p == nil || p.Transaction.Count < uint64(r.Checkpoints) || p.Transaction.Count > uint64(r.StoreCommits) ||
				p.Queued.Count != p.Transaction.Count || p.Transaction.Mean <= 0 || p.Transaction.P50 > p.Transaction.P99 ||
				p.Transaction.P99 > p.Transaction.Max {
				t.Errorf("store mutation phases %+v; want %d..%d mutations with a transaction time", p, r.Checkpoints, r.StoreCommits)
			}
			// One COMMIT per transaction, read from the same two scrapes.
			if c := r.StoreCommitSyncMs; c == nil || c.Count != uint64(r.StoreTransactions) || c.Mean <= 0 || c.P99 > c.Max {
				t.Errorf("store COMMIT summary %+v; want %d transactions", c, r.StoreTransactions)
			}
			// The engine timed every checkpoint the played functions sent.
			if c := r.EngineCheckpointMs; c == nil || c.Count < uint64(r.Checkpoints) || c.Mean <= 0 || c.P50 > c.P99 || c.P99 > c.Max {
				t.Errorf("engine checkpoint summary %+v; want %d checkpoints", c, r.Checkpoints)
			}
		})
	}
}

// TestProfiles checks that --cpuprofile and --trace write what go tool
// pprof and go tool trace read: a gzipped profile and an execution trace.
func TestProfiles(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server")
	}
	dir := t.TempDir()
	cfg := Config{Scenario: ScenarioSteps, Steps: 2, Executions: 4, Concurrency: 2, Logger: quiet(), FsyncProbe: -1,
		CPUProfile: filepath.Join(dir, "cpu.prof"), Trace: filepath.Join(dir, "trace.out")}
	r, err := Run(testCtx(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, r, 4, 4*2)
	for _, f := range []struct {
		path   string
		prefix string
	}{{cfg.CPUProfile, "\x1f\x8b"}, {cfg.Trace, "go 1."}} {
		b, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) < 100 || !strings.HasPrefix(string(b), f.prefix) {
			t.Errorf("%s: %d bytes starting %q, want more than 100 starting %q", f.path, len(b), b[:min(len(b), 8)], f.prefix)
		}
	}
}

// TestRemote runs the load generator against a server it did not start:
// the functions are served over HTTP and registered with DURO_INVOKE_URL,
// and the store counters come from /metrics.
func TestRemote(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers")
	}
	ctx := testCtx(t)
	srv, err := server.Start(ctx, server.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	r, err := Run(ctx, Config{Endpoint: srv.URL(), ServerPID: os.Getpid(), Scenario: ScenarioWaits, Steps: 1, Executions: 4,
		Concurrency: 2, Suspended: 5, Logger: quiet(), FsyncProbe: -1})
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, r, 4, 4*2)
	if r.Mode != "remote" || r.ServerSharedWithClient || r.ServerPeakRSSMB <= 0 || r.Suspended != 5 {
		t.Errorf("mode %s, shared %v, peak RSS %v MB, suspended %d", r.Mode, r.ServerSharedWithClient, r.ServerPeakRSSMB, r.Suspended)
	}
	if r.FunctionTransport != "tcp" {
		t.Errorf("function transport %q against a remote server, want tcp", r.FunctionTransport)
	}
	// This process is not the server: its own goroutines' waits say
	// nothing about the server's CPUs.
	if r.SchedLatencyMs != nil {
		t.Errorf("CPU wait %+v reported for a remote server", r.SchedLatencyMs)
	}
	if r.WakeLagMs.Count != 4 {
		t.Errorf("%d wake-up lags, want 4", r.WakeLagMs.Count)
	}
	if r.StoreStatsNotAvailable != "" || r.StoreTransactions <= 0 {
		t.Errorf("store counters from /metrics: %d transactions (%s)", r.StoreTransactions, r.StoreStatsNotAvailable)
	}
}

// TestSchedLatencySummary checks the reading of the runtime's
// scheduling-latency histogram: only what was recorded between the two
// readings counts, and quantiles fall in the bucket that holds them.
func TestSchedLatencySummary(t *testing.T) {
	bounds := []float64{math.Inf(-1), 0.0001, 0.001, 0.01, math.Inf(1)}
	before := &metrics.Float64Histogram{Buckets: bounds, Counts: []uint64{5, 5, 5, 5}}
	after := &metrics.Float64Histogram{Buckets: bounds, Counts: []uint64{5, 95, 14, 6}}
	s := schedLatencySummary(before, after)
	if s == nil || s.Count != 100 {
		t.Fatalf("summary %+v, want 100 samples", s)
	}
	// 90 samples in (0.1, 1] ms, 9 in (1, 10] ms, 1 above 10 ms.
	if s.P50 <= 0.1 || s.P50 > 1 || s.P99 <= 1 || s.P99 > 10 || s.Max != 10 {
		t.Errorf("summary %+v: p50 in (0.1, 1], p99 in (1, 10], max 10 ms wanted", s)
	}
	if s := schedLatencySummary(before, before); s != nil {
		t.Errorf("no samples: %+v, want nil", s)
	}
	if s := schedLatencies(); s == nil || len(s.Buckets) != len(s.Counts)+1 {
		t.Errorf("runtime histogram %v", s)
	}
}

func TestHistogram(t *testing.T) {
	var h Histogram
	for i := 1; i <= 10000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	for _, q := range []float64{0.5, 0.9, 0.99} {
		got, want := h.Percentile(q), time.Duration(q*10000)*time.Microsecond
		if math.Abs(float64(got-want))/float64(want) > 0.01 {
			t.Errorf("p%v = %v, want %v ± 1%%", q*100, got, want)
		}
	}
	if s := h.Summary(); s.Max != 10 || s.Count != 10000 || math.Abs(s.Mean-5.0005) > 1e-3 {
		t.Errorf("summary %+v", s)
	}
	for _, v := range []uint64{0, 1, 127, 128, 255, 256, 1 << 40, math.MaxInt64} {
		if i := bucketOf(v); i < 0 || i >= histBuckets || (v > 0 && math.Abs(bucketValue(i)-float64(v))/float64(v) > 0.01) {
			t.Errorf("bucketOf(%d) = %d (value %v)", v, i, bucketValue(i))
		}
	}
}

// BenchmarkCheckpointRoundTrip measures one step checkpoint ([START,
// SUCCEED] of a step) through the API of an embedded server: the lean
// player's request, the wire layer, the engine, the group commit and the
// response. Executions of 10 steps run one at a time (sequential) or 32 at
// a time (parallel); ns/op is per checkpoint, execution overheads (start,
// invocation, completion) included. The functions send their checkpoints
// over HTTP on TCP, or, in parallel32-mux, over the multiplexed Unix
// socket, as `duro bench` plays them by default.
func BenchmarkCheckpointRoundTrip(b *testing.B) {
	for _, bc := range []struct {
		name      string
		conc      int
		transport string
	}{{"sequential", 1, TransportTCP}, {"parallel32", 32, TransportTCP}, {"parallel32-mux", 32, TransportMux}} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := testCtx(b)
			cfg := Config{Scenario: ScenarioSteps, Steps: 10, Concurrency: bc.conc, Logger: quiet(), Progress: io.Discard}
			if err := cfg.defaults(); err != nil {
				b.Fatal(err)
			}
			m := &measurements{}
			tg, err := startTarget(ctx, &cfg, m)
			if err != nil {
				b.Fatal(err)
			}
			defer tg.cleanup()
			c := newWireClient(tg.base, 2*bc.conc+64, m)
			defer c.close()
			p := newPlayer(cfg, c, m)
			fc, _, err := functionClient(ctx, c, tg.socketPath(), bc.transport, 2*bc.conc+64)
			if err != nil {
				b.Fatal(err)
			}
			if fc != c {
				defer fc.close()
			}
			p.fn = fc
			setup := sdkClient(c)
			if err := createFunction(ctx, setup, "bench-rt", 3600, tg.register("bench-rt", p.handler(p.playSteps))); err != nil {
				b.Fatal(err)
			}
			cfg.Executions = max(1, b.N/cfg.Steps)
			b.ResetTimer()
			if err := drive(ctx, c, "bench-rt", cfg, m, nil); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if m.failed.Load() > 0 || m.checkpointErrors.Load() > 0 {
				b.Fatalf("%d executions failed, %d checkpoint errors", m.failed.Load(), m.checkpointErrors.Load())
			}
			s := m.checkpointLatency.Summary()
			b.ReportMetric(s.P50*1000, "p50-µs")
			b.ReportMetric(s.P99*1000, "p99-µs")
		})
	}
}

func TestExecutionInput(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		size int
	}{{7, 0}, {7, 5}, {123, 100}, {1, 65536}} {
		b := executionInput(tc.n, tc.size)
		var in struct {
			N   int64  `json:"n"`
			Pad string `json:"pad"`
		}
		if err := json.Unmarshal(b, &in); err != nil || in.N != tc.n {
			t.Fatalf("executionInput(%d, %d) = %.60q: %v, n %d", tc.n, tc.size, b, err, in.N)
		}
		if tc.size > 20 && len(b) != tc.size {
			t.Errorf("executionInput(%d, %d) is %d bytes", tc.n, tc.size, len(b))
		}
		if tc.size <= 20 && in.Pad != "" {
			t.Errorf("executionInput(%d, %d) padded a small input: %q", tc.n, tc.size, b)
		}
	}
}

// TestPromHistogramQuantile checks the bucket interpolation against
// histograms whose quantiles are known.
func TestPromHistogramQuantile(t *testing.T) {
	h := func(counts ...float64) promHistogram {
		return promHistogram{bounds: []float64{0.001, 0.002, 0.004}, counts: counts, count: counts[len(counts)-1]}
	}
	tests := []struct {
		name string
		h    promHistogram
		q    float64
		want float64
	}{
		{"all in the first bucket, median", h(10, 10, 10), 0.5, 0.0005},
		{"spread evenly", h(10, 20, 40), 0.5, 0.002},
		{"inside the last bucket", h(10, 20, 40), 0.75, 0.003},
		{"first bucket edge", h(10, 20, 40), 0.25, 0.001},
		// q = 1 is the bound of the highest bucket with an observation.
		{"max, last bucket", h(10, 20, 40), 1, 0.004},
		{"max, first bucket", h(10, 10, 10), 1, 0.001},
		{"empty", promHistogram{bounds: []float64{0.001}, counts: []float64{0}}, 0.99, 0},
		// Observations past the last bound: the bound is all one can say.
		{"beyond the buckets", promHistogram{bounds: []float64{0.001}, counts: []float64{1}, count: 10}, 0.99, 0.001},
	}
	for _, tc := range tests {
		if got := tc.h.quantile(tc.q); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%s: quantile(%v) = %v, want %v", tc.name, tc.q, got, tc.want)
		}
	}
	later := h(10, 20, 40)
	earlier := h(5, 5, 5)
	if d := later.since(earlier); d.count != 35 || d.counts[0] != 5 || d.counts[2] != 35 {
		t.Errorf("since: %+v, want counts 5, 15, 35 of 35", d)
	}
}

// TestWaitTimersFireOnce runs waits that fall due in waves of up to 200 at
// once and checks that the server fired each wait's timer exactly once: a
// timer scan that began before a fire committed must not fire it again.
func TestWaitTimersFireOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server")
	}
	const executions, steps = 600, 1
	cfg := Config{Scenario: ScenarioWaits, Steps: steps, WaitSeconds: 1, Executions: executions, Concurrency: 200, Logger: quiet(), FsyncProbe: -1}
	r, err := Run(testCtx(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, r, executions, executions*2*steps)
	if l := r.ServerWaitLagMs; l == nil || l.Count != executions*steps {
		t.Errorf("wait timers fired: %+v, want exactly %d (one per wait)", l, executions*steps)
	}
}

// Repeat runs the measurement several times and reports the median run
// with every run's figures.
func TestRepeat(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers")
	}
	dir := t.TempDir()
	r, err := Run(testCtx(t), Config{Scenario: ScenarioSteps, Steps: 2, Concurrency: 4, Executions: 8, Repeat: 3,
		DataDir: dir, Logger: quiet(), FsyncProbe: -1})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Repeats) != 3 {
		t.Fatalf("%d runs reported, want 3", len(r.Repeats))
	}
	rates := []float64{}
	for _, f := range r.Repeats {
		if f.CheckpointsPerSec <= 0 || f.CheckpointLatencyMs.Count != 16 {
			t.Errorf("run figures %+v: want 16 timed checkpoints", f)
		}
		rates = append(rates, f.CheckpointsPerSec)
	}
	slices.Sort(rates)
	if r.CheckpointsPerSec != rates[1] || r.Executions != 8 {
		t.Errorf("reported %v checkpoints/s (%d executions), want the median of %v", r.CheckpointsPerSec, r.Executions, rates)
	}
	// Each run had a fresh database of its own.
	for i := 1; i <= 3; i++ {
		if _, err := os.Stat(filepath.Join(dir, fmt.Sprintf("run-%d", i))); err != nil {
			t.Errorf("run %d: %v", i, err)
		}
	}
}

// TestStepWork: the played function spends StepWork after each
// checkpoint's answer, inside its execution (which takes at least the
// work of its steps) and outside the checkpoint's timed round trip; the
// result reports it.
func TestStepWork(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers")
	}
	const steps, work = 3, 5 * time.Millisecond
	r, err := Run(testCtx(t), Config{Scenario: ScenarioSteps, Steps: steps, StepWork: work, Concurrency: 1, Executions: 4,
		Logger: quiet(), FsyncProbe: -1})
	if err != nil {
		t.Fatal(err)
	}
	if r.StepWorkUs != 5000 || r.Executions != 4 {
		t.Fatalf("step work %v µs over %d executions, want 5000 over 4", r.StepWorkUs, r.Executions)
	}
	if r.Checkpoints != 4*steps {
		t.Fatalf("%d checkpoints, want one per step", r.Checkpoints)
	}
	if min := float64(steps*work) / float64(time.Millisecond); r.ExecutionLatencyMs.Mean < min {
		t.Errorf("execution latency mean %.2f ms, want at least the %.0f ms of work its checkpoints were followed by", r.ExecutionLatencyMs.Mean, min)
	}
}

// medianRun picks the middle run by p99 for open loops, by checkpoints/s
// for closed ones.
func TestMedianRun(t *testing.T) {
	open := func(p99 float64) *Result {
		return &Result{Rate: 100, CheckpointsPerSec: 1000 - p99, CheckpointLatencyMs: Summary{P99: p99}, MaxRun: &Result{CheckpointsPerSec: 2000}}
	}
	r := medianRun([]*Result{open(30), open(10), open(20), open(40)})
	if r.CheckpointLatencyMs.P99 != 20 || len(r.Repeats) != 4 || r.Repeats[0].CheckpointLatencyMs.P99 != 30 || r.Repeats[3].MaxCheckpointsPerSec != 2000 {
		t.Errorf("open loops: median p99 %v, runs %+v; want 20 and the runs in their order", r.CheckpointLatencyMs.P99, r.Repeats)
	}
	closed := func(rate float64) *Result {
		return &Result{CheckpointsPerSec: rate, CheckpointLatencyMs: Summary{P99: 1e4 / rate}}
	}
	if r := medianRun([]*Result{closed(300), closed(100), closed(200)}); r.CheckpointsPerSec != 200 {
		t.Errorf("closed loops: median %v checkpoints/s, want 200", r.CheckpointsPerSec)
	}
}

// TestRateOfMax: the maximum is measured by a closed loop first, and the
// open loop runs at the asked percentage of its executions/s.
func TestRateOfMax(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers")
	}
	r, err := Run(testCtx(t), Config{Scenario: ScenarioSteps, Steps: 2, Concurrency: 20, Duration: time.Second,
		RateOfMax: 50, MaxConcurrency: 4, Logger: quiet(), FsyncProbe: -1})
	if err != nil {
		t.Fatal(err)
	}
	m := r.MaxRun
	if m == nil || m.Rate != 0 || m.Concurrency != 4 || m.ExecutionsPerSec <= 0 || m.Checkpoints <= 0 {
		t.Fatalf("maximum run %+v: want a closed loop of 4 that completed executions", m)
	}
	if want := m.ExecutionsPerSec / 2; math.Abs(r.Rate-want) > 1e-6*want || r.RateOfMax != 50 {
		t.Errorf("open loop at %v executions/s (%v %%), want half of the maximum's %v", r.Rate, r.RateOfMax, m.ExecutionsPerSec)
	}
	if r.Concurrency != 20 || r.Executions <= 0 || r.ExecutionsFailed != 0 || r.CheckpointErrors != 0 {
		t.Errorf("open loop: concurrency %d, %d executions (%d failed, %d checkpoint errors)", r.Concurrency, r.Executions, r.ExecutionsFailed, r.CheckpointErrors)
	}
	// Started at half the closed loop's pace, the open loop completes
	// about half as many executions in the same time.
	if ratio := r.ExecutionsPerSec / m.ExecutionsPerSec; ratio < 0.3 || ratio > 0.7 {
		t.Errorf("open loop %v executions/s against the maximum's %v: ratio %.2f, want about 0.5", r.ExecutionsPerSec, m.ExecutionsPerSec, ratio)
	}
}

// TestRecheckMax: with RecheckMax the maximum is measured again, by the
// same closed loop, after the open loop, which still runs at the asked
// percentage of the first one.
func TestRecheckMax(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers")
	}
	r, err := Run(testCtx(t), Config{Scenario: ScenarioSteps, Steps: 2, Concurrency: 20, Duration: time.Second,
		RateOfMax: 50, RecheckMax: true, MaxConcurrency: 4, Logger: quiet(), FsyncProbe: -1})
	if err != nil {
		t.Fatal(err)
	}
	m, a := r.MaxRun, r.MaxAfterRun
	if m == nil || a == nil {
		t.Fatalf("maximum runs %+v and %+v: want both", m, a)
	}
	if a.Rate != 0 || a.Concurrency != 4 || a.ExecutionsPerSec <= 0 || a.Checkpoints <= 0 || a.MaxRun != nil || a.MaxAfterRun != nil {
		t.Errorf("second maximum run: rate %v, concurrency %d, %v executions/s, %d checkpoints, nested %v/%v: want a closed loop of 4 like the first",
			a.Rate, a.Concurrency, a.ExecutionsPerSec, a.Checkpoints, a.MaxRun, a.MaxAfterRun)
	}
	if want := m.ExecutionsPerSec / 2; math.Abs(r.Rate-want) > 1e-6*want {
		t.Errorf("open loop at %v executions/s, want half of the first maximum's %v", r.Rate, m.ExecutionsPerSec)
	}
	out, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"max_after_run":{`) {
		t.Errorf("--json output lacks max_after_run: %.300s", out)
	}
	if _, err := Run(testCtx(t), Config{Scenario: ScenarioSteps, Duration: time.Second, RecheckMax: true, Logger: quiet()}); err == nil || !strings.Contains(err.Error(), "--recheck-max needs --rate-of-max") {
		t.Errorf("RecheckMax without RateOfMax: err %v", err)
	}
}

// TestWarmupDuration: the load runs for the warm-up before the measured run
// begins, and nothing of the warm-up is counted: the closed loop measures
// exactly its executions, although the database holds the warm-up's too,
// and the open loop keeps its schedule across the boundary.
func TestWarmupDuration(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers")
	}
	countSucceeded := func(dir string) int64 {
		t.Helper()
		st, err := sqlite.Open(testCtx(t), filepath.Join(dir, "duro.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		n, err := st.CountExecutions(testCtx(t), "SUCCEEDED")
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	dir := t.TempDir()
	began := time.Now()
	r, err := Run(testCtx(t), Config{Scenario: ScenarioSteps, Steps: 2, Concurrency: 4, Executions: 8,
		WarmupDuration: 500 * time.Millisecond, DataDir: dir, Logger: quiet(), FsyncProbe: -1})
	if err != nil {
		t.Fatal(err)
	}
	// The executions the warm-up left running end in the measured run:
	// their checkpoints count there, the executions do not.
	if r.Executions != 8 || r.ExecutionsFailed != 0 || r.Checkpoints < 16 || r.CheckpointErrors != 0 ||
		r.CheckpointLatencyMs.Count != uint64(r.Checkpoints) {
		t.Errorf("closed loop: %d executions (%d failed), %d checkpoints (%d errors, %d timed); want 8 and at least 16",
			r.Executions, r.ExecutionsFailed, r.Checkpoints, r.CheckpointErrors, r.CheckpointLatencyMs.Count)
	}
	if r.WarmupSeconds != 0.5 || time.Since(began) < 500*time.Millisecond {
		t.Errorf("warm-up %v s, run took %v; want 0.5 s before the measured run", r.WarmupSeconds, time.Since(began))
	}
	if n := countSucceeded(dir); n <= 8 {
		t.Errorf("%d executions in the database; want the warm-up's on top of the 8 measured", n)
	}

	dir = t.TempDir()
	r, err = Run(testCtx(t), Config{Scenario: ScenarioSteps, Steps: 2, Concurrency: 20, Rate: 40, Duration: time.Second,
		WarmupDuration: time.Second, DataDir: dir, Logger: quiet(), FsyncProbe: -1})
	if err != nil {
		t.Fatal(err)
	}
	// About 40 executions start in the measured second, about 40 in the
	// warm-up's (a few more or less at the edges).
	if r.Executions < 30 || r.Executions > 50 || r.ExecutionsFailed != 0 || r.ElapsedSeconds < 0.95 || r.ElapsedSeconds > 3 {
		t.Errorf("open loop: %d executions (%d failed) in %v s; want about 40 in about 1 s", r.Executions, r.ExecutionsFailed, r.ElapsedSeconds)
	}
	if n := countSucceeded(dir); n < 70 || n > 90 {
		t.Errorf("%d executions in the database; want about 80 (warm-up and measured run)", n)
	}

	if _, err := Run(testCtx(t), Config{WarmupDuration: -time.Second}); err == nil {
		t.Error("a negative warm-up was accepted")
	}
}

// TestTimeline: --timeline writes a window every 100 ms of the measured
// run, whose checkpoints add up to the run's and whose committer figures
// come from the embedded server's store.
func TestTimeline(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers")
	}
	path := filepath.Join(t.TempDir(), "timeline.jsonl")
	r, err := Run(testCtx(t), Config{Scenario: ScenarioSteps, Steps: 2, Concurrency: 20, Rate: 40, Duration: time.Second,
		Timeline: path, Logger: quiet(), FsyncProbe: -1})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var windows []TimelineWindow
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var w TimelineWindow
		if err := json.Unmarshal([]byte(line), &w); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		windows = append(windows, w)
	}
	if len(windows) < 10 || len(windows) > 40 {
		t.Fatalf("%d windows for a run of %v s; want one per 100 ms", len(windows), r.ElapsedSeconds)
	}
	var checkpoints uint64
	var transactions int64
	last := 0.0
	for i, w := range windows {
		if w.Seconds <= last || w.ExecutionsInFlight < 0 || w.Transactions == nil || w.Mutations == nil ||
			w.CommitterBusyPct == nil || w.CommitPct == nil || w.GCCycles == nil || *w.CommitPct > *w.CommitterBusyPct ||
			w.GatePct == nil || *w.GatePct < 0 || w.WALRestarts == nil || w.WALRestartPct == nil || *w.WALRestartPct < 0 {
			t.Errorf("window %d: %+v", i, w)
		}
		// The process's CPU in a window: there, not negative, and no more than its cores
		// can give (with a margin for the clock's granularity).
		if runtime.GOOS != "windows" && (w.CPUPct == nil && i < len(windows)-1 || w.CPUPct != nil && (*w.CPUPct < 0 || *w.CPUPct > float64(100*runtime.NumCPU())+50)) {
			t.Errorf("window %d: cpu_pct %v", i, w.CPUPct)
		}
		if w.Checkpoints > 0 && (w.CheckpointLatencyMs.Count != w.Checkpoints || w.CheckpointLatencyMs.P50 <= 0) {
			t.Errorf("window %d: %d checkpoints, latencies %+v", i, w.Checkpoints, w.CheckpointLatencyMs)
		}
		last = w.Seconds
		checkpoints += w.Checkpoints
		transactions += *w.Transactions
	}
	// A latency recorded as the windows change may be lost; at this rate,
	// hardly ever.
	if checkpoints > uint64(r.Checkpoints) || checkpoints+2 < uint64(r.Checkpoints) || r.Checkpoints == 0 {
		t.Errorf("windows hold %d checkpoints, the run %d", checkpoints, r.Checkpoints)
	}
	if transactions <= 0 || transactions > r.StoreTransactions {
		t.Errorf("windows hold %d transactions, the run %d", transactions, r.StoreTransactions)
	}
	// The windows' CPU adds up to about the run's (the run's is measured
	// over its own span, a little longer or shorter at the ends).
	var cpuSeconds float64
	for _, w := range windows {
		if w.CPUPct != nil {
			cpuSeconds += *w.CPUPct / 100 * timelineWindow.Seconds()
		}
	}
	if runtime.GOOS != "windows" && (cpuSeconds <= 0 || cpuSeconds > 2*r.ServerCPUSeconds+0.1) {
		t.Errorf("windows hold %.3f s of CPU, the run %.3f s", cpuSeconds, r.ServerCPUSeconds)
	}

	if _, err := Run(testCtx(t), Config{Timeline: path, Repeat: 2}); err == nil {
		t.Error("--timeline with --repeat was accepted")
	}
}
