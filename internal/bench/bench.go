// Package bench is Duro's load generator (`duro bench`): it plays durable
// functions over the real wire protocol against an embedded server (a
// temporary data directory, functions registered as in-process handlers)
// or a remote one (functions served by the load generator over HTTP and
// registered with DURO_INVOKE_URL), and reports throughput, latency
// distributions, wake-up lags, the server's CPU and memory, and the
// machine's raw fsync rate measured in the same run.
//
// Executions are driven closed-loop: Concurrency workers each start an
// execution with a synchronous Invoke (which returns when the execution
// ends) and start the next one when it returns. Every invocation the server
// sends is played by a client that behaves like an SDK: it reads the
// envelope, checkpoints its work with CheckpointDurableExecution following
// the token chain, and answers PENDING or SUCCEEDED.
package bench

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	goruntime "runtime"
	runtimemetrics "runtime/metrics"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/duro-run/duro/internal/durable"
	"github.com/duro-run/duro/internal/engine"
	"github.com/duro-run/duro/internal/runtime"
	"github.com/duro-run/duro/internal/server"
	"github.com/duro-run/duro/internal/store/sqlite"
)

// Scenarios.
const (
	// ScenarioSteps runs Steps sequential steps in one invocation.
	ScenarioSteps = "steps"
	// ScenarioWaits runs Steps times a step and a wait of WaitSeconds:
	// every wait suspends the execution and a timer re-invokes it.
	ScenarioWaits = "waits"
	// ScenarioCallbacks runs Steps times a step and a callback that the
	// load generator completes with SendDurableExecutionCallbackSuccess.
	ScenarioCallbacks = "callbacks"
	// ScenarioFanout runs Branches parallel branches (a CONTEXT each) of
	// Steps steps, inside one parallel CONTEXT.
	ScenarioFanout = "fanout"
)

// Scenarios lists the scenario names.
var Scenarios = []string{ScenarioSteps, ScenarioWaits, ScenarioCallbacks, ScenarioFanout}

// Clients.
const (
	// ClientLean is the purpose-built player (plain net/http and JSON).
	ClientLean = "lean"
	// ClientSDK plays the scenarios with internal/durable over the AWS SDK
	// for Go, to measure what a full SDK client costs.
	ClientSDK = "sdk"
	// ClientJS runs the steps, waits, callbacks and fanout scenarios end to end as
	// a real function written with @aws/durable-execution-sdk-js on
	// Duro's Node worker pool (js.go).
	ClientJS = "js"
)

// Function transports (Config.FunctionTransport).
const (
	TransportMux      = "mux"
	TransportUnixHTTP = "unix-http"
	TransportTCP      = "tcp"
)

// Config configures a run. The zero value of a field means its default.
type Config struct {
	Scenario    string        // default steps
	Client      string        // default lean
	Concurrency int           // executions in flight; default 50
	Executions  int           // executions to run; default 1000 unless Duration is set
	Duration    time.Duration // stop starting executions after this; 0: no limit
	// Rate, when positive, starts executions at this many per second (open
	// loop) instead of as soon as a worker is free; Concurrency then caps
	// the executions in flight, and starts it delays are counted.
	Rate float64
	// RateOfMax, when positive, sets Rate to this percentage of a maximum
	// measured first: a closed loop of MaxConcurrency executions for the
	// same Duration, on an embedded server of its own (against --endpoint,
	// on that server) (issue 6's "80 % of the sustained maximum" is
	// RateOfMax 80). Needs Duration; excludes Rate and Executions.
	RateOfMax float64
	// MaxConcurrency is the closed loop's concurrency for RateOfMax;
	// default 200.
	MaxConcurrency int
	// RecheckMax, with RateOfMax, measures the maximum again after the
	// open loop, the same way. A machine whose speed swings can give a
	// maximum in a fast minute and run the open loop in a slow one, which
	// then runs nearer its capacity than RateOfMax says; the second
	// maximum shows it (Result.MaxAfterRun).
	RecheckMax bool
	// Repeat runs the whole measurement (with RateOfMax, the maximum and
	// the open loop) this many times (an embedded server afresh each time)
	// and reports the median run with every run's figures in Result.Repeats;
	// default 1. The median is by checkpoint p99 for an open loop (Rate or
	// RateOfMax), by checkpoints/s for a closed one. On a machine whose
	// speed swings from one minute to the next, one run says little.
	Repeat      int
	Steps       int // steps per execution (per branch for fanout); default 10
	PayloadSize int // bytes of each step result; default 100
	// InputSize pads each execution's input (the Invoke payload, a JSON
	// object) to about this many bytes; 0 leaves it at a few bytes.
	InputSize   int
	WaitSeconds int // waits scenario; default 1
	Branches    int // fanout scenario; default 4
	// StepWork is CPU the played function spends, busy, after each
	// checkpoint's answer, as a function's own code between two steps
	// does; 0 spends none. The checkpoint's latency does not include it,
	// the execution's does. Lean and sdk clients only.
	StepWork time.Duration
	// Suspended parks this many executions on a two-day wait before the
	// measured run starts, so that the run happens with that many
	// executions suspended (timers in the store). Default 0.
	Suspended int

	// Endpoint is a remote server's base URL; empty starts an embedded one.
	Endpoint string
	// ServerPID is the remote server's process id, for its CPU and peak
	// RSS (read from /proc, so the server must run on this machine).
	ServerPID int
	// HandlerListen is where the load generator serves its functions in
	// remote mode; default 127.0.0.1:0.
	HandlerListen string
	// HandlerURL is the base URL the remote server reaches the functions
	// at; default http://<the HandlerListen address>.
	HandlerURL string
	// callbackURL is where a JS run's function posts its callback ids
	// (receiveCallbackIDs).
	callbackURL string
	// DataDir is the embedded server's data directory; default a temporary
	// directory, removed afterwards.
	DataDir string
	// FsyncDir is where the fsync rate is measured; default the embedded
	// server's data directory, or the system's temporary directory.
	FsyncDir string
	// FsyncProbe is how long the fsync rate is measured; default 1 s,
	// negative to skip.
	FsyncProbe time.Duration
	// CPUProfile, when set, receives a CPU profile of the measured run
	// (the whole process: with an embedded server, server and load
	// generator alike).
	CPUProfile string
	// Trace, when set, receives a Go execution trace of the measured run
	// (go tool trace; its -pprof=sched and -pprof=syscall views show where
	// goroutines waited for a CPU and for system calls).
	Trace string
	// MemProfile, when set, receives a heap profile taken after the run.
	MemProfile string
	// Timeline, when set, receives one JSON object per 100 ms of the
	// measured run (TimelineWindow): its checkpoints and their latencies,
	// the executions in flight, and the embedded server's committer.
	Timeline string

	// The JS client (ClientJS).
	//
	// Workers is the embedded server's limit of worker processes per
	// function (runtime.Config.MaxConcurrency); default Duro's, 10.
	Workers int
	// NodeCommand is the Node.js the embedded server runs the function
	// on (runtime.Config.NodeCommand); default "node" on PATH.
	NodeCommand string
	// EnvironmentConcurrency, when positive, puts the function on managed
	// instances with this PerExecutionEnvironmentMaxConcurrency: each Node
	// worker serves that many invocations at once instead of one.
	EnvironmentConcurrency int
	// FunctionTransport is how the lean player's functions send their
	// checkpoints: TransportMux (the default with the embedded server: its
	// Unix socket's multiplexed protocol, as Duro's Node workers do),
	// TransportUnixHTTP (HTTP/1.1 on that socket) or TransportTCP
	// (loopback TCP, as the load generator's own requests go; the only
	// choice against a remote server).
	FunctionTransport string
	// NoLeanNodeClient sets DURO_NODE_LEAN_CLIENT=0 in the function's
	// environment: the SDK then uses @aws-sdk/client-lambda instead of
	// the Node bootstrap's lean client.
	NoLeanNodeClient bool
	// FunctionEnv is added to the function's environment (e.g.
	// DURO_NODE_CPU_PROF_DIR=DIR to profile the workers).
	FunctionEnv map[string]string
	// JSDir holds the function's code and node_modules (installed with
	// npm ci when missing); default a directory in the user's cache.
	JSDir string
	// WarmupDuration is how long the load runs before the measured run
	// begins, without a pause between them: what a server does in its
	// first seconds on an empty database (its files growing from nothing,
	// its goroutines and caches starting cold) is then left out, and the
	// figures are those of a server that has been running. With RateOfMax,
	// both loops warm up. 0: the measured run starts with the load.
	WarmupDuration time.Duration
	// Warmup is how many executions run before the measured run, so that
	// it measures warm workers whose JIT has settled; default 20 per
	// worker, negative for none.
	Warmup int

	// Logger receives the embedded server's logs and the load generator's
	// warnings; default: errors only, to stderr.
	Logger *slog.Logger
	// Progress, when set, receives a progress line every few seconds.
	Progress io.Writer
}

func (c *Config) defaults() error {
	if c.Scenario == "" {
		c.Scenario = ScenarioSteps
	}
	if c.Client == "" {
		c.Client = ClientLean
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 50
	}
	if c.RecheckMax && c.RateOfMax == 0 {
		return errors.New("--recheck-max needs --rate-of-max")
	}
	if c.RateOfMax != 0 {
		switch {
		case c.RateOfMax < 0 || c.RateOfMax > 100:
			return errors.New("--rate-of-max is a percentage between 0 and 100")
		case c.Rate != 0 || c.Executions != 0 || c.Duration <= 0:
			return errors.New("--rate-of-max needs --duration, and neither --rate nor --executions")
		case c.Client == ClientJS || c.Suspended > 0:
			return errors.New("--rate-of-max runs the lean or sdk client without --suspended")
		}
		if c.MaxConcurrency <= 0 {
			c.MaxConcurrency = 200
		}
	} else if c.MaxConcurrency != 0 {
		return errors.New("--max-concurrency goes with --rate-of-max")
	}
	if c.WarmupDuration < 0 {
		return errors.New("--warmup-duration must not be negative")
	}
	switch {
	case c.StepWork < 0:
		return errors.New("--step-work must not be negative")
	case c.StepWork > 0 && c.Client == ClientJS:
		return errors.New("--step-work runs the lean or sdk client: a JS function's work is its own code")
	}
	switch {
	case c.Repeat < 0:
		return errors.New("--repeat must be positive")
	case c.Repeat == 0:
		c.Repeat = 1
	case c.Repeat > 1 && (c.CPUProfile != "" || c.Trace != "" || c.MemProfile != "" || c.Timeline != ""):
		return errors.New("--repeat records no profile, trace or timeline: each run would overwrite the last")
	}
	if c.Executions <= 0 && c.Duration <= 0 {
		c.Executions = 1000
	}
	if c.Steps <= 0 {
		c.Steps = 10
	}
	if c.PayloadSize <= 0 {
		c.PayloadSize = 100
	}
	if c.WaitSeconds <= 0 {
		c.WaitSeconds = 1
	}
	if c.Branches <= 0 {
		c.Branches = 4
	}
	if c.HandlerListen == "" {
		c.HandlerListen = "127.0.0.1:0"
	}
	if c.FsyncProbe == 0 {
		c.FsyncProbe = time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	}
	switch c.Scenario {
	case ScenarioSteps, ScenarioWaits, ScenarioCallbacks, ScenarioFanout:
	default:
		return fmt.Errorf("unknown scenario %q (want one of %s)", c.Scenario, strings.Join(Scenarios, ", "))
	}
	switch c.Client {
	case ClientLean, ClientSDK:
	case ClientJS:
		if c.Suspended > 0 {
			return errJSScenario
		}
	default:
		return fmt.Errorf("unknown client %q (want %s, %s or %s)", c.Client, ClientLean, ClientSDK, ClientJS)
	}
	switch c.FunctionTransport {
	case "":
	case TransportMux, TransportUnixHTTP, TransportTCP:
		if c.Client != ClientLean {
			return errors.New("--function-transport applies to --client lean (the SDK client speaks TCP; Node workers choose for themselves)")
		}
		if c.Endpoint != "" && c.FunctionTransport != TransportTCP {
			return fmt.Errorf("--function-transport %s needs the embedded server's Unix socket (a remote server's functions use tcp)", c.FunctionTransport)
		}
	default:
		return fmt.Errorf("unknown --function-transport %q (want %s, %s or %s)", c.FunctionTransport, TransportMux, TransportUnixHTTP, TransportTCP)
	}
	if c.Client != ClientJS && (c.Workers != 0 || c.EnvironmentConcurrency != 0 || c.NoLeanNodeClient || len(c.FunctionEnv) > 0 || c.JSDir != "" || c.Warmup != 0) {
		return errors.New("--workers, --environment-concurrency, --lean-node-client, --function-env, --js-dir and --warmup apply to --client js")
	}
	if c.EnvironmentConcurrency < 0 || c.EnvironmentConcurrency > engine.MaxEnvironmentConcurrency {
		return fmt.Errorf("--environment-concurrency must be between 1 and %d (0: one invocation per worker)", engine.MaxEnvironmentConcurrency)
	}
	if c.Workers != 0 && c.Endpoint != "" {
		return errors.New("--workers sets the embedded server's worker pool; a remote server has its own")
	}
	if c.NodeCommand != "" && (c.Client != ClientJS || c.Endpoint != "") {
		return errors.New("--node sets the Node.js of the embedded server's workers (--client js without --endpoint)")
	}
	if c.ServerPID != 0 && c.Endpoint == "" {
		return errors.New("--server-pid needs --endpoint (an embedded server is this process)")
	}
	return nil
}

// Result is what a run measured. Rates are per second of the measured run
// (from the first execution's start to the last one's end).
type Result struct {
	Scenario    string `json:"scenario"`
	Mode        string `json:"mode"` // embedded or remote
	Client      string `json:"client"`
	Concurrency int    `json:"concurrency"`
	Steps       int    `json:"steps"`
	Branches    int    `json:"branches,omitempty"`
	PayloadSize int    `json:"payload_size"`
	InputSize   int    `json:"input_size,omitempty"`
	WaitSeconds int    `json:"wait_seconds,omitempty"`
	Suspended   int    `json:"suspended"`
	// StepWorkUs is Config.StepWork in microseconds.
	StepWorkUs float64 `json:"step_work_us,omitempty"`

	ElapsedSeconds float64 `json:"elapsed_seconds"`
	// WarmupSeconds is how long the load ran before the measured run
	// (Config.WarmupDuration); nothing in it is counted.
	WarmupSeconds    float64 `json:"warmup_seconds,omitempty"`
	Executions       int64   `json:"executions"` // succeeded
	ExecutionsFailed int64   `json:"executions_failed"`
	Invocations      int64   `json:"invocations"`
	InvocationErrors int64   `json:"invocation_errors"`
	Checkpoints      int64   `json:"checkpoints"`
	CheckpointErrors int64   `json:"checkpoint_errors"`
	Updates          int64   `json:"updates,omitempty"` // lean client only
	// Rate is the requested start rate (0: closed loop); LateStarts
	// counts starts more than 10 ms behind it because Concurrency
	// executions were in flight.
	Rate float64 `json:"rate,omitempty"`
	// RateOfMax is Config.RateOfMax; MaxRun the closed loop that measured
	// the maximum Rate is a percentage of.
	RateOfMax float64 `json:"rate_of_max,omitempty"`
	MaxRun    *Result `json:"max_run,omitempty"`
	// MaxAfterRun is the closed loop that measured the maximum again after
	// the open loop (Config.RecheckMax).
	MaxAfterRun *Result `json:"max_after_run,omitempty"`
	// Repeats lists every run's figures when Config.Repeat ran several;
	// the rest of the Result is then the median run's.
	Repeats             []RunFigures `json:"repeats,omitempty"`
	LateStarts          int64        `json:"late_starts,omitempty"`
	ExecutionsPerSec    float64      `json:"executions_per_sec"`
	CheckpointsPerSec   float64      `json:"checkpoints_per_sec"`
	CheckpointLatencyMs Summary      `json:"checkpoint_latency_ms"`
	ExecutionLatencyMs  Summary      `json:"execution_latency_ms"`
	// WakeLagMs is the time from a wait's ScheduledEndTimestamp to the
	// arrival of the invocation it caused at the handler.
	WakeLagMs Summary `json:"wake_lag_ms"`
	// CallbackLagMs is the time from sending
	// SendDurableExecutionCallbackSuccess to the arrival of the invocation
	// it caused at the handler (the API call's round trip included).
	CallbackLagMs Summary `json:"callback_lag_ms"`
	// ServerWaitLagMs is the server's own wake-up lag of the waits: from a
	// wait's due time to its timer firing, from the
	// duro_timer_lag_seconds{kind="wait"} histogram (buckets from 1 ms);
	// its count is the wait timers that fired. For --client js, whose
	// handlers run in Node out of the load generator's sight, it is the
	// only wake-up lag.
	ServerWaitLagMs *Summary `json:"server_wait_lag_ms,omitempty"`

	// ServerCPUSeconds and ServerPeakRSSMB are the server process's; with
	// an embedded server that process is also the load generator's
	// (ServerSharedWithClient).
	ServerCPUSeconds float64 `json:"server_cpu_seconds"`
	ServerCPUPercent float64 `json:"server_cpu_percent"`
	// ServerCPUPerCheckpointUs is ServerCPUSeconds over Checkpoints, in
	// microseconds: what a checkpoint costs the process all told. It falls
	// as transactions grow (bench/README.md, seventeenth session), so it
	// tells a run at low concurrency from one at high.
	ServerCPUPerCheckpointUs float64 `json:"server_cpu_us_per_checkpoint,omitempty"`
	ServerPeakRSSMB          float64 `json:"server_peak_rss_mb"`
	ServerRSSMB              float64 `json:"server_rss_mb"`
	ServerSharedWithClient   bool    `json:"server_shared_with_client"`
	// SuspendedRSSMB is the server's RSS once the Suspended executions
	// are parked (after a GC, embedded).
	SuspendedRSSMB   float64 `json:"suspended_rss_mb,omitempty"`
	ClientCPUSeconds float64 `json:"client_cpu_seconds,omitempty"` // remote mode

	// The JS client: the function's Node workers (processes found by
	// their environment on this machine) and what they used during the
	// run, the transport the SDK used, and the engine's mean time per
	// checkpoint (validate, apply, commit; from /metrics), since the
	// checkpoints are not sent by the load generator.
	NodeLeanClient *bool `json:"node_lean_client,omitempty"`
	// NodeUnixSocket says whether the workers' lean client was given the
	// embedded server's Unix socket (--client js, embedded, lean client);
	// the bootstrap uses it unless it cannot connect, and then falls back
	// to loopback TCP, which this run does not see.
	NodeUnixSocket *bool `json:"node_unix_socket,omitempty"`
	// FunctionTransport is how the lean player's functions reached the
	// server with their checkpoints (Config.FunctionTransport: mux,
	// unix-http or tcp). Invokes and callback completions, which stand for
	// the functions' callers, always use loopback TCP.
	FunctionTransport string `json:"function_transport,omitempty"`
	// NodeVersion is the version of the Node.js that ran the workers.
	NodeVersion string `json:"node_version,omitempty"`
	// EnvironmentConcurrency is --environment-concurrency (JS client).
	EnvironmentConcurrency int `json:"environment_concurrency,omitempty"`
	// FunctionMemoryMB is the JS function's MemorySize as the server
	// recorded it at CreateFunction; it sizes the Node workers' heap.
	FunctionMemoryMB       int32   `json:"function_memory_mb,omitempty"`
	WorkerProcesses        int     `json:"worker_processes,omitempty"`
	WorkerCPUSeconds       float64 `json:"worker_cpu_seconds,omitempty"`
	WorkerCPUPercent       float64 `json:"worker_cpu_percent,omitempty"`
	WorkerRSSMB            float64 `json:"worker_rss_mb,omitempty"`
	ServerCheckpointMeanMs float64 `json:"server_checkpoint_mean_ms,omitempty"`
	// ServerMuxRequests counts the requests the server received over its
	// Unix socket's multiplexed protocol during the run
	// (duro_mux_requests_total): every checkpoint and state page of the
	// Node workers' lean client, or of the played functions with
	// --function-transport mux.
	ServerMuxRequests int64 `json:"server_mux_requests"`

	// FsyncsPerSec is the raw rate of 4 KiB write+fdatasync, one at a
	// time, in FsyncDir, measured just before the load.
	FsyncsPerSec float64 `json:"fsyncs_per_sec"`
	FsyncDir     string  `json:"fsync_dir"`
	// StoreTransactions counts the store's committed transactions during
	// the run (each is one fsync of the WAL); StoreCommits the mutations
	// they carried. Embedded: sqlite Stats; remote: /metrics.
	StoreTransactions     int64   `json:"store_transactions"`
	StoreCommits          int64   `json:"store_commits"`
	TransactionsPerSec    float64 `json:"transactions_per_sec"`
	CommitsPerTransaction float64 `json:"commits_per_transaction"`
	CheckpointsPerFsync   float64 `json:"checkpoints_per_fsync"`
	FsyncUtilizationPct   float64 `json:"fsync_utilization_pct"` // transactions/s over the raw fsync rate
	// StoreBusyPct is the share of the run the group committer spent in
	// transactions (from /metrics): near 100 %, it is the bottleneck.
	StoreBusyPct float64 `json:"store_busy_pct"`
	// StoreCommitPct is the share of the run the committer spent in
	// COMMIT (writing the WAL and the fsync), part of StoreBusyPct.
	StoreCommitPct float64 `json:"store_commit_pct"`
	// WALPagesPerTransaction and WALPagesPerCheckpoint are the database
	// pages the run's committed transactions wrote to the WAL (from
	// /metrics), per transaction and per checkpoint: what the disk is
	// asked to write, steadier from run to run than a latency.
	WALPagesPerTransaction float64 `json:"wal_pages_per_transaction,omitempty"`
	WALPagesPerCheckpoint  float64 `json:"wal_pages_per_checkpoint,omitempty"`
	// StoreMutationMs splits the time of the run's store mutations (its
	// checkpoints, and the starts, ends and wake-ups of its invocations)
	// inside the server: waiting for the group committer, the transaction
	// that committed them, and the wait of the goroutine that sent one
	// for a CPU once the transaction had committed. Estimated from the
	// server's duro_store_mutation_*_seconds histograms, whose buckets
	// double from 0.25 ms.
	StoreMutationMs *MutationPhases `json:"store_mutation_ms,omitempty"`
	// StoreCommitSyncMs is the distribution of the transactions' COMMIT
	// (WAL write and fsync), estimated from the server's
	// duro_store_commit_sync_seconds buckets: its tail is the disk's.
	StoreCommitSyncMs *Summary `json:"store_commit_sync_ms,omitempty"`
	// EngineCheckpointMs is the distribution of the checkpoints' time in
	// the server's engine, from the checked token to the durable commit of
	// the mutation (duro_checkpoint_duration_seconds buckets, which double
	// from 0.25 ms): the execution's lock, validation, the store's queue,
	// transaction and hand-back. What a checkpoint's latency has beyond it
	// is the transport both ways, the API's parsing and encoding, and the
	// client's own waits for a CPU.
	EngineCheckpointMs *Summary `json:"engine_checkpoint_ms,omitempty"`
	// SchedLatencyMs is how long this process's goroutines waited for a
	// CPU once runnable (the Go runtime's /sched/latencies:seconds over the
	// measured run), with the embedded server only, where the process is
	// the server and the load generator: at high load most of a
	// checkpoint's latency beyond the committer is these waits, one at
	// each hand-over between goroutines.
	SchedLatencyMs *Summary `json:"sched_latency_ms,omitempty"`
	// LoadGenJSONFallbacks counts the checkpoint responses and invocation
	// envelopes the load generator's fast decoders gave up on and decoded
	// with encoding/json instead (0 against Duro).
	LoadGenJSONFallbacks   int64   `json:"loadgen_json_fallbacks"`
	Machine                Machine `json:"machine"`
	Started                string  `json:"started"`
	StoreStatsNotAvailable string  `json:"store_stats_error,omitempty"`
}

// record starts a recorder (the CPU profiler, the execution tracer) writing
// to a new file at path, and returns what stops it and closes the file;
// stopping twice is harmless. An empty path records nothing.
func record(path, what string, start func(io.Writer) error, stop func()) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := start(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			stop()
			f.Close()
		})
	}, nil
}

// MutationPhases is where store mutations spent their time.
type MutationPhases struct {
	Queued      Summary `json:"queued"`
	Transaction Summary `json:"transaction"`
	Resumed     Summary `json:"resumed"`
}

// phaseSummary summarises a histogram scraped from the server, in
// milliseconds: the quantiles are estimated within buckets, and Max is the
// upper bound of the highest bucket with an observation.
func phaseSummary(h promHistogram) Summary {
	if h.count <= 0 {
		return Summary{}
	}
	ms := func(s float64) float64 { return round3(1000 * s) }
	return Summary{Count: uint64(h.count), Mean: ms(h.sum / h.count),
		P50: ms(h.quantile(0.5)), P90: ms(h.quantile(0.9)), P99: ms(h.quantile(0.99)), Max: ms(h.quantile(1))}
}

// target is the server under load and how to reach its functions.
type target struct {
	base     string
	srv      *server.Server // embedded only
	dataDir  string
	cleanup  func()
	register func(name string, h runtime.HandlerFunc) (env map[string]string)
	stats    func(ctx context.Context) (storeMetrics, error)
}

// functionClient returns the client the played functions send their
// checkpoints with, and its transport's name: want, or by default the
// multiplexed protocol on the server's socket when there is one.
func functionClient(ctx context.Context, c *wireClient, socket, want string, conns int) (*wireClient, string, error) {
	if want == "" {
		want = TransportTCP
		if socket != "" && c.lean != nil {
			want = TransportMux
		}
	}
	if want == TransportTCP {
		return c, TransportTCP, nil
	}
	if socket == "" || c.lean == nil {
		return nil, "", fmt.Errorf("--function-transport %s: the server offers no Unix socket here", want)
	}
	if want == TransportUnixHTTP {
		return c.overSocket(socket, conns), TransportUnixHTTP, nil
	}
	fc, err := c.overMux(ctx, socket)
	if err != nil {
		return nil, "", err
	}
	return fc, TransportMux, nil
}

// socketPath is the embedded server's Unix socket, or "" (a remote server,
// or none was opened: see server.SocketName).
func (tg *target) socketPath() string {
	if tg.srv == nil {
		return ""
	}
	return tg.srv.SocketPath()
}

// Run performs a benchmark: one run, or cfg.Repeat runs of which it
// returns the median.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if cfg.Repeat == 1 {
		return measure(ctx, cfg)
	}
	runs := make([]*Result, 0, cfg.Repeat)
	for i := range cfg.Repeat {
		one := cfg
		if cfg.DataDir != "" {
			one.DataDir = filepath.Join(cfg.DataDir, fmt.Sprintf("run-%d", i+1))
		}
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "run %d of %d\n", i+1, cfg.Repeat)
		}
		r, err := measure(ctx, one)
		if err != nil {
			return nil, fmt.Errorf("run %d of %d: %w", i+1, cfg.Repeat, err)
		}
		runs = append(runs, r)
	}
	return medianRun(runs), nil
}

// RunFigures are one run's headline figures, for Result.Repeats.
type RunFigures struct {
	CheckpointsPerSec   float64 `json:"checkpoints_per_sec"`
	ExecutionsPerSec    float64 `json:"executions_per_sec"`
	CheckpointLatencyMs Summary `json:"checkpoint_latency_ms"`
	ServerCPUSeconds    float64 `json:"server_cpu_seconds"`
	// MaxCheckpointsPerSec is the maximum a RateOfMax run measured first;
	// MaxAfterCheckpointsPerSec the one it measured after (RecheckMax).
	MaxCheckpointsPerSec      float64 `json:"max_checkpoints_per_sec,omitempty"`
	MaxAfterCheckpointsPerSec float64 `json:"max_after_checkpoints_per_sec,omitempty"`
}

// medianRun returns the run in the middle of runs (the lower middle of an
// even number) by checkpoint p99 for open loops, by checkpoints/s for
// closed ones, with every run's figures, in the order they ran, attached.
func medianRun(runs []*Result) *Result {
	figures := make([]RunFigures, len(runs))
	for i, r := range runs {
		figures[i] = RunFigures{CheckpointsPerSec: r.CheckpointsPerSec, ExecutionsPerSec: r.ExecutionsPerSec,
			CheckpointLatencyMs: r.CheckpointLatencyMs, ServerCPUSeconds: r.ServerCPUSeconds}
		if r.MaxRun != nil {
			figures[i].MaxCheckpointsPerSec = r.MaxRun.CheckpointsPerSec
		}
		if r.MaxAfterRun != nil {
			figures[i].MaxAfterCheckpointsPerSec = r.MaxAfterRun.CheckpointsPerSec
		}
	}
	sorted := slices.Clone(runs)
	slices.SortStableFunc(sorted, func(a, b *Result) int {
		if a.Rate > 0 {
			return cmp.Compare(a.CheckpointLatencyMs.P99, b.CheckpointLatencyMs.P99)
		}
		return cmp.Compare(a.CheckpointsPerSec, b.CheckpointsPerSec)
	})
	median := sorted[(len(sorted)-1)/2]
	median.Repeats = figures
	return median
}

// measure performs one measurement: with RateOfMax, the closed loop that
// measures the maximum, then the open loop (and, with RecheckMax, the
// closed loop again).
func measure(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.RateOfMax <= 0 {
		return run(ctx, cfg)
	}
	maxRun, err := measureMax(ctx, cfg, "max")
	if err != nil {
		return nil, fmt.Errorf("measure the maximum: %w", err)
	}
	cfg.Rate = maxRun.ExecutionsPerSec * cfg.RateOfMax / 100
	if cfg.Progress != nil {
		fmt.Fprintf(cfg.Progress, "maximum %.0f checkpoints/s; open loop at %.1f executions/s (%.0f %%)\n", maxRun.CheckpointsPerSec, cfg.Rate, cfg.RateOfMax)
	}
	res, err := run(ctx, cfg)
	if err != nil {
		return nil, err
	}
	res.RateOfMax, res.MaxRun = cfg.RateOfMax, maxRun
	if cfg.RecheckMax {
		after, err := measureMax(ctx, cfg, "max-after")
		if err != nil {
			return nil, fmt.Errorf("measure the maximum again: %w", err)
		}
		res.MaxAfterRun = after
	}
	return res, nil
}

// measureMax runs cfg's closed loop of MaxConcurrency executions for
// Duration, without profiles or a probe, in dir under cfg.DataDir when that
// is set (not the open loop's database).
func measureMax(ctx context.Context, cfg Config, dir string) (*Result, error) {
	closed := cfg
	closed.RateOfMax, closed.RecheckMax, closed.MaxConcurrency, closed.Concurrency, closed.Rate = 0, false, 0, cfg.MaxConcurrency, 0
	closed.CPUProfile, closed.Trace, closed.MemProfile, closed.Timeline, closed.FsyncProbe = "", "", "", "", -1
	if cfg.DataDir != "" {
		closed.DataDir = filepath.Join(cfg.DataDir, dir)
	}
	if cfg.Progress != nil {
		fmt.Fprintf(cfg.Progress, "maximum: a closed loop of %d executions for %s\n", closed.Concurrency, closed.Duration)
	}
	r, err := run(ctx, closed)
	if err != nil {
		return nil, err
	}
	if r.ExecutionsPerSec <= 0 {
		return nil, errors.New("no execution completed")
	}
	return r, nil
}

// run performs one run of cfg, defaults applied.
func run(ctx context.Context, cfg Config) (*Result, error) {
	res := &Result{
		Scenario: cfg.Scenario, Client: cfg.Client, Concurrency: cfg.Concurrency, Steps: cfg.Steps,
		PayloadSize: cfg.PayloadSize, InputSize: cfg.InputSize, Suspended: cfg.Suspended, Machine: machineInfo(),
		StepWorkUs: float64(cfg.StepWork) / float64(time.Microsecond),
		Started:    time.Now().UTC().Format(time.RFC3339),
	}
	if cfg.Scenario == ScenarioFanout {
		res.Branches = cfg.Branches
	}
	if cfg.Scenario == ScenarioWaits {
		res.WaitSeconds = cfg.WaitSeconds
	}
	m := &measurements{}
	tg, err := startTarget(ctx, &cfg, m)
	if err != nil {
		return nil, err
	}
	defer tg.cleanup()
	res.Mode = "embedded"
	if tg.srv == nil {
		res.Mode = "remote"
	}
	res.ServerSharedWithClient = tg.srv != nil

	// The fsync probe runs before any load, so that it measures the disk,
	// not the disk shared with our own commits.
	res.FsyncDir = cfg.FsyncDir
	if res.FsyncDir == "" {
		res.FsyncDir = tg.dataDir
	}
	if res.FsyncDir == "" {
		res.FsyncDir = os.TempDir()
	}
	if cfg.FsyncProbe > 0 {
		rate, err := FsyncRate(res.FsyncDir, cfg.FsyncProbe)
		if err != nil {
			return nil, err
		}
		res.FsyncsPerSec = round3(rate)
	}

	conns := 2*cfg.Concurrency + 64
	c := newWireClient(tg.base, conns, m)
	defer c.close()
	p := newPlayer(cfg, c, m)
	if cfg.Client == ClientLean {
		fc, transport, err := functionClient(ctx, c, tg.socketPath(), cfg.FunctionTransport, conns)
		if err != nil {
			return nil, err
		}
		if fc != c {
			defer fc.close()
		}
		p.fn, res.FunctionTransport = fc, transport
	}
	setup := durable.NewClient(tg.base)
	defer durable.CloseIdleConnections(setup)

	// The callback completers run from the start: a JS run's warm-up
	// executions wait on callbacks too.
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var bg sync.WaitGroup
	defer bg.Wait()
	defer stop()
	if cfg.Scenario == ScenarioCallbacks {
		p.runCompleters(runCtx, min(cfg.Concurrency, 256), &bg)
	}

	suffix := newSuffix()
	fn := "bench-" + cfg.Scenario + "-" + suffix
	if cfg.Client == ClientJS && cfg.Scenario == ScenarioCallbacks {
		url, stopReceiver, err := receiveCallbackIDs(p.completions)
		if err != nil {
			return nil, err
		}
		defer stopReceiver()
		cfg.callbackURL = url
	}
	if cfg.Client == ClientJS {
		fn = "bench-js-" + cfg.Scenario + "-" + suffix
		lean := !cfg.NoLeanNodeClient
		res.NodeLeanClient = &lean
		if tg.srv != nil && lean {
			sock := tg.srv.SocketPath() != ""
			res.NodeUnixSocket = &sock
		}
		res.EnvironmentConcurrency = cfg.EnvironmentConcurrency
		if cfg.Endpoint == "" {
			res.NodeVersion = nodeVersion(cfg.NodeCommand)
		}
		mem, err := createJSFunction(ctx, setup, fn, cfg)
		if err != nil {
			return nil, err
		}
		res.FunctionMemoryMB = mem
		defer deleteFunction(setup, fn, tg.srv == nil)
		if err := warmUp(ctx, c, fn, cfg); err != nil {
			return nil, err
		}
	} else {
		var play invocationFunc
		if cfg.Client == ClientSDK {
			play = p.sdkFunc(cfg.Scenario, sdkClient(c))
		} else {
			play = map[string]invocationFunc{
				ScenarioSteps: p.playSteps, ScenarioWaits: p.playWaits,
				ScenarioCallbacks: p.playCallbacks, ScenarioFanout: p.playFanout,
			}[cfg.Scenario]
		}
		timeout := int32(3600 + cfg.Steps*cfg.WaitSeconds*4)
		if err := createFunction(ctx, setup, fn, timeout, tg.register(fn, p.handler(play))); err != nil {
			return nil, err
		}
		defer deleteFunction(setup, fn, tg.srv == nil)
	}

	if cfg.Suspended > 0 {
		idle := "bench-idle-" + suffix
		if err := createFunction(ctx, setup, idle, 2*idleWaitSeconds, tg.register(idle, p.handler(p.playIdle))); err != nil {
			return nil, err
		}
		defer deleteFunction(setup, idle, tg.srv == nil)
		if err := park(ctx, c, idle, cfg, m); err != nil {
			return nil, err
		}
		rss, err := serverRSS(tg, cfg.ServerPID)
		if err != nil {
			return nil, err
		}
		res.SuspendedRSSMB = round3(float64(rss) / (1 << 20))
		m.reset() // parking is not part of the measured run
	}

	serverPID := 0
	if tg.srv == nil {
		serverPID = cfg.ServerPID
	}
	// The figures the measured run is compared against are read as it
	// begins: at once, or when the warm-up ends while the load goes on
	// (see drive).
	var (
		cpu0, clientCPU0       time.Duration
		sched0                 *runtimemetrics.Float64Histogram
		st0                    storeMetrics
		statsErr               error
		workers0               workerProcs
		start                  time.Time
		stopProfile, stopTrace = func() {}, func() {}
		tl                     *timeline
	)
	begin := func() error {
		var err error
		if cpu0, err = serverCPU(tg, serverPID); err != nil {
			return err
		}
		clientCPU0, _ = processCPU(0)
		sched0 = schedLatencies()
		st0, statsErr = tg.stats(ctx)
		if cfg.Client == ClientJS {
			workers0, _ = functionWorkers(fn)
		}
		if stopProfile, err = record(cfg.CPUProfile, "cpu profile", pprof.StartCPUProfile, pprof.StopCPUProfile); err != nil {
			stopProfile = func() {}
			return err
		}
		if stopTrace, err = record(cfg.Trace, "trace", trace.Start, trace.Stop); err != nil {
			stopTrace = func() {}
			return err
		}
		if cfg.WarmupDuration > 0 {
			m.reset() // the warm-up is not measured
		}
		start = time.Now()
		if cfg.Timeline != "" {
			var stats func() sqlite.Stats
			if tg.srv != nil {
				stats = tg.srv.StoreStats
			}
			if tl, err = startTimeline(cfg.Timeline, m, stats); err != nil {
				return err
			}
		}
		return nil
	}
	closeTimeline := func() error {
		if tl == nil {
			return nil
		}
		err := tl.close()
		tl = nil
		return err
	}
	defer func() {
		stopProfile()
		stopTrace()
		_ = closeTimeline()
	}()

	if err := drive(ctx, c, fn, cfg, m, begin); err != nil {
		return nil, err
	}
	elapsed := time.Since(start)
	stopProfile()
	stopTrace()
	if err := closeTimeline(); err != nil {
		return nil, err
	}

	cpu1, err := serverCPU(tg, serverPID)
	if err != nil {
		return nil, err
	}
	if tg.srv != nil {
		res.SchedLatencyMs = schedLatencySummary(sched0, schedLatencies())
	}
	var workers1 workerProcs
	if cfg.Client == ClientJS {
		workers1, _ = functionWorkers(fn)
	}
	st1, statsErr1 := tg.stats(ctx)
	if statsErr == nil {
		statsErr = statsErr1
	}

	secs := elapsed.Seconds()
	res.ElapsedSeconds = round3(secs)
	res.WarmupSeconds = round3(cfg.WarmupDuration.Seconds())
	res.Executions = m.completed.Load()
	res.ExecutionsFailed = m.failed.Load()
	res.Invocations = m.invocations.Load()
	res.InvocationErrors = m.handlerErrors.Load()
	res.Checkpoints = m.checkpoints.Load()
	res.CheckpointErrors = m.checkpointErrors.Load()
	res.Updates = m.updates.Load()
	res.LoadGenJSONFallbacks = m.jsonFallbacks.Load()
	res.Rate, res.LateStarts = cfg.Rate, m.lateStarts.Load()
	res.ExecutionsPerSec = round3(float64(res.Executions) / secs)
	res.CheckpointsPerSec = round3(float64(res.Checkpoints) / secs)
	res.CheckpointLatencyMs = m.checkpointLatency.Summary()
	res.ExecutionLatencyMs = m.executionLatency.Summary()
	res.WakeLagMs = m.wakeLag.Summary()
	res.CallbackLagMs = m.callbackLag.Summary()
	res.ServerCPUSeconds = round3((cpu1 - cpu0).Seconds())
	res.ServerCPUPercent = round3(100 * (cpu1 - cpu0).Seconds() / secs)
	if res.Checkpoints > 0 {
		res.ServerCPUPerCheckpointUs = round3((cpu1 - cpu0).Seconds() / float64(res.Checkpoints) * 1e6)
	}
	if tg.srv == nil {
		clientCPU1, _ := processCPU(0)
		res.ClientCPUSeconds = round3((clientCPU1 - clientCPU0).Seconds())
	}
	if tg.srv != nil || serverPID != 0 {
		rss, peak, err := processMemory(serverPID)
		if err != nil {
			return nil, err
		}
		res.ServerRSSMB = round3(float64(rss) / (1 << 20))
		res.ServerPeakRSSMB = round3(float64(peak) / (1 << 20))
	}
	if statsErr != nil {
		res.StoreStatsNotAvailable = statsErr.Error()
	} else {
		res.StoreTransactions = st1.transactions - st0.transactions
		res.ServerMuxRequests = st1.muxRequests - st0.muxRequests
		res.StoreCommits = st1.commits - st0.commits
		if st0.busy >= 0 && st1.busy >= 0 {
			res.StoreBusyPct = round3(100 * (st1.busy - st0.busy).Seconds() / secs)
			res.StoreCommitPct = round3(100 * (st1.sync - st0.sync).Seconds() / secs)
		}
		res.TransactionsPerSec = round3(float64(res.StoreTransactions) / secs)
		if res.StoreTransactions > 0 {
			res.CommitsPerTransaction = round3(float64(res.StoreCommits) / float64(res.StoreTransactions))
			res.CheckpointsPerFsync = round3(float64(res.Checkpoints) / float64(res.StoreTransactions))
			if st0.walPages >= 0 && st1.walPages >= 0 {
				pages := float64(st1.walPages - st0.walPages)
				res.WALPagesPerTransaction = round3(pages / float64(res.StoreTransactions))
				if res.Checkpoints > 0 {
					res.WALPagesPerCheckpoint = round3(pages / float64(res.Checkpoints))
				}
			}
		}
		if res.FsyncsPerSec > 0 {
			res.FsyncUtilizationPct = round3(100 * res.TransactionsPerSec / res.FsyncsPerSec)
		}
		if q := st1.mutation[1].since(st0.mutation[1]); q.count > 0 {
			res.StoreMutationMs = &MutationPhases{
				Queued:      phaseSummary(st1.mutation[0].since(st0.mutation[0])),
				Transaction: phaseSummary(q),
				Resumed:     phaseSummary(st1.mutation[2].since(st0.mutation[2])),
			}
		}
		if c := st1.commitSync.since(st0.commitSync); c.count > 0 {
			sync := phaseSummary(c)
			res.StoreCommitSyncMs = &sync
		}
		if c := st1.engineCheckpoint.since(st0.engineCheckpoint); c.count > 0 {
			engine := phaseSummary(c)
			res.EngineCheckpointMs = &engine
		}
	}
	if cfg.Client == ClientJS {
		jsResult(res, st0, st1, statsErr, workers0, workers1, secs)
	}
	if statsErr == nil && cfg.Scenario == ScenarioWaits {
		lag := phaseSummary(st1.waitLag.since(st0.waitLag))
		res.ServerWaitLagMs = &lag
	}
	res.Machine.LoadEnd = loadAverage()

	if cfg.MemProfile != "" {
		if err := writeHeapProfile(cfg.MemProfile); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	return nil
}

// startTarget starts the embedded server, or prepares the remote one: the
// load generator then serves its functions over HTTP.
func startTarget(ctx context.Context, cfg *Config, m *measurements) (*target, error) {
	if cfg.Endpoint != "" {
		return remoteTarget(ctx, cfg)
	}
	dir, cleanupDir := cfg.DataDir, func() {}
	if dir == "" {
		d, err := os.MkdirTemp("", "duro-bench-")
		if err != nil {
			return nil, fmt.Errorf("bench data dir: %w", err)
		}
		dir, cleanupDir = d, func() { os.RemoveAll(d) }
	}
	srv, err := server.Start(ctx, server.Config{Listen: "127.0.0.1:0", DataDir: dir, Region: "us-east-1", AccountID: "123456789012", Logger: cfg.Logger,
		Runtime: runtime.Config{MaxConcurrency: cfg.Workers, NodeCommand: cfg.NodeCommand}})
	if err != nil {
		cleanupDir()
		return nil, fmt.Errorf("start embedded server: %w", err)
	}
	metrics := newWireClient(srv.URL(), 2, &measurements{})
	return &target{
		base: srv.URL(), srv: srv, dataDir: dir,
		cleanup: func() {
			metrics.close()
			sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := srv.Shutdown(sctx); err != nil {
				cfg.Logger.Warn("shut the embedded server down", "err", err)
			}
			cleanupDir()
		},
		register: func(name string, h runtime.HandlerFunc) map[string]string {
			srv.Runtime.Handle(name, h)
			return nil
		},
		stats: func(ctx context.Context) (storeMetrics, error) {
			// Exact counters and times from the store; the mutations'
			// phases and the WAL pages from /metrics. The store is read
			// after the scrape: a mutation is counted when its
			// transaction commits and timed later, when its caller runs
			// again, so read in this order the run's timed mutations
			// never outnumber its committed ones (the other order made
			// TestRunScenarios fail now and then, 30 timed against 28
			// committed).
			m, err := metrics.scrapeStoreMetrics(ctx)
			st := srv.StoreStats()
			m.transactions, m.commits, m.busy, m.sync = st.Transactions, st.Commits, st.Busy, st.CommitTime
			if err != nil && cfg.Client == ClientJS {
				return m, err // the checkpoint counts are in /metrics only
			}
			return m, nil
		},
	}, nil
}

// remoteTarget serves the functions on HandlerListen: POST /fn/{name}
// takes an invocation the way Lambda's Invoke API carries it.
func remoteTarget(_ context.Context, cfg *Config) (*target, error) {
	ln, err := net.Listen("tcp", cfg.HandlerListen)
	if err != nil {
		return nil, fmt.Errorf("listen for the remote server's invocations on %s: %w", cfg.HandlerListen, err)
	}
	url := cfg.HandlerURL
	if url == "" {
		url = "http://" + ln.Addr().String()
	}
	url = strings.TrimSuffix(url, "/")
	var mu sync.RWMutex
	handlers := map[string]runtime.HandlerFunc{}
	hs := &http.Server{Handler: invocationServer(func(name string) runtime.HandlerFunc {
		mu.RLock()
		defer mu.RUnlock()
		return handlers[name]
	}), ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	c := newWireClient(cfg.Endpoint, 4, &measurements{})
	return &target{
		base: strings.TrimSuffix(cfg.Endpoint, "/"),
		cleanup: func() {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = hs.Shutdown(sctx)
			c.close()
		},
		register: func(name string, h runtime.HandlerFunc) map[string]string {
			mu.Lock()
			handlers[name] = h
			mu.Unlock()
			return map[string]string{runtime.InvokeURLVariable: url + "/fn/" + name}
		},
		stats: c.scrapeStoreMetrics,
	}, nil
}

// invocationServer answers POST /fn/{name} with the named handler's output
// (Lambda's Invoke API shape: X-Amz-Function-Error for a function error).
func invocationServer(lookup func(string) runtime.HandlerFunc) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /fn/{name}", func(w http.ResponseWriter, r *http.Request) {
		h := lookup(r.PathValue("name"))
		if h == nil {
			http.Error(w, "no such function", http.StatusNotFound)
			return
		}
		durable.InvocationHandler(h).ServeHTTP(w, r)
	})
	return mux
}

// createFunction registers a durable function; env carries DURO_INVOKE_URL
// for a remote server.
func createFunction(ctx context.Context, client *lambda.Client, name string, executionTimeout int32, env map[string]string) error {
	in := &lambda.CreateFunctionInput{
		FunctionName:  aws.String(name),
		Role:          aws.String("arn:aws:iam::123456789012:role/duro-bench"),
		Code:          &types.FunctionCode{ZipFile: []byte("PK\x05\x06" + strings.Repeat("\x00", 18))}, // empty zip: the code runs in the load generator
		Runtime:       types.RuntimeProvidedal2023,
		Handler:       aws.String("bootstrap"),
		Timeout:       aws.Int32(300),
		DurableConfig: &types.DurableConfig{ExecutionTimeout: aws.Int32(executionTimeout), RetentionPeriodInDays: aws.Int32(1)},
	}
	if env != nil {
		in.Environment = &types.Environment{Variables: env}
	}
	if _, err := client.CreateFunction(ctx, in); err != nil {
		return fmt.Errorf("create function %s: %w", name, err)
	}
	return nil
}

// deleteFunction removes a remote server's bench function (an embedded
// server's data goes away with its directory).
func deleteFunction(client *lambda.Client, name string, remote bool) {
	if !remote {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _ = client.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(name)})
}

func serverCPU(tg *target, pid int) (time.Duration, error) {
	if tg.srv == nil && pid == 0 {
		return 0, nil
	}
	return processCPU(pid)
}

func serverRSS(tg *target, pid int) (int64, error) {
	if tg.srv == nil && pid == 0 {
		return 0, nil
	}
	if tg.srv != nil {
		goruntime.GC() // count live memory, not garbage not yet collected
	}
	rss, _, err := processMemory(pid)
	return rss, err
}

// drive runs the closed loop: Concurrency workers, each starting an
// execution with a synchronous Invoke and the next when it returns, until
// Executions have started or Duration has passed (or, with Rate, the open
// loop). begin, when not nil, is called once as the measured run begins:
// before the first execution, or after WarmupDuration of the same load,
// which goes on meanwhile; Executions and Duration count from there.
func drive(ctx context.Context, c *wireClient, fn string, cfg Config, m *measurements, begin func() error) error {
	var started, measured atomic.Int64
	first := time.Now()
	// The open loop keeps its schedule through the warm-up's end.
	warmEnd := first.Add(max(cfg.WarmupDuration, 0))
	var deadline time.Time
	if cfg.Duration > 0 {
		deadline = warmEnd.Add(cfg.Duration)
	}
	// measuring is set once begin has run; beginErr is its error, read
	// after stopBeginning.
	var (
		measuring     atomic.Bool
		beginErr      error
		stopBeginning = func() {}
	)
	if cfg.WarmupDuration <= 0 {
		if begin != nil {
			if err := begin(); err != nil {
				return err
			}
		}
		measuring.Store(true)
	} else {
		// The measured run begins on a goroutine of its own, which drive
		// waits for: a run cut short in its warm-up returns only once
		// begin has either run whole or not at all.
		cut := make(chan struct{})
		var beginning sync.WaitGroup
		beginning.Go(func() {
			t := time.NewTimer(cfg.WarmupDuration)
			defer t.Stop()
			select {
			case <-t.C:
			case <-cut:
				return
			}
			if begin != nil {
				beginErr = begin()
			}
			measuring.Store(true)
		})
		stopBeginning = func() {
			close(cut)
			beginning.Wait()
		}
	}
	done := make(chan struct{})
	defer close(done)
	if cfg.Progress != nil {
		go progress(cfg.Progress, m, cfg.Client == ClientJS, done)
	}
	var wg sync.WaitGroup
	var firstErr error
	var errOnce sync.Once
	for range cfg.Concurrency {
		wg.Go(func() {
			for ctx.Err() == nil {
				n := started.Add(1)
				// An execution started in the warm-up is not counted when
				// it ends in the measured run: the run counts the
				// executions it started, as without a warm-up. The open
				// loop's executions count by their slot.
				counted := measuring.Load()
				var slot time.Time
				if cfg.Rate > 0 {
					slot = first.Add(time.Duration(float64(n-1) / cfg.Rate * float64(time.Second)))
					counted = !slot.Before(warmEnd)
				}
				if cfg.Executions > 0 && counted && measured.Add(1) > int64(cfg.Executions) {
					return
				}
				if !deadline.IsZero() && time.Now().After(deadline) {
					return
				}
				if cfg.Rate > 0 {
					// Open loop: execution n starts at its slot, or as
					// soon as a worker is free if all were busy then.
					if !deadline.IsZero() && slot.After(deadline) {
						return
					}
					if d := time.Until(slot); d > 0 {
						select {
						case <-time.After(d):
						case <-ctx.Done():
							return
						}
					} else if d < -10*time.Millisecond && counted {
						m.lateStarts.Add(1)
					}
				}
				t0 := time.Now()
				m.inFlight.Add(1)
				err := c.invoke(ctx, fn, executionInput(n, cfg.InputSize), false)
				m.inFlight.Add(-1)
				switch {
				case err == nil:
					if counted {
						m.completed.Add(1)
						m.executionLatency.Record(time.Since(t0))
					}
				case errors.Is(err, errFunction):
					m.failed.Add(1)
					cfg.Logger.Warn("execution failed", "err", err)
				default:
					m.failed.Add(1)
					if ctx.Err() == nil {
						errOnce.Do(func() { firstErr = err })
					}
					return
				}
			}
		})
	}
	wg.Wait()
	stopBeginning()
	if err := ctx.Err(); err != nil {
		return err
	}
	switch {
	case !measuring.Load():
		return fmt.Errorf("the run ended during its %s warm-up", cfg.WarmupDuration)
	case beginErr != nil:
		return fmt.Errorf("begin the measured run: %w", beginErr)
	}
	if firstErr != nil && m.completed.Load() == 0 {
		return fmt.Errorf("no execution completed: %w", firstErr)
	}
	return nil
}

// park starts cfg.Suspended background executions with asynchronous
// invokes and waits until each has suspended on its wait.
func park(ctx context.Context, c *wireClient, fn string, cfg Config, m *measurements) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, cfg.Concurrency)
	for range cfg.Concurrency {
		wg.Go(func() {
			for ctx.Err() == nil {
				n := next.Add(1)
				if n > int64(cfg.Suspended) {
					return
				}
				if err := c.invoke(ctx, fn, nil, true); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return fmt.Errorf("start suspended executions: %w", err)
	}
	last, lastChange := int64(-1), time.Now()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	report := time.Now()
	for {
		n := m.parked.Load()
		if n >= int64(cfg.Suspended) {
			return nil
		}
		if n != last {
			last, lastChange = n, time.Now()
		} else if time.Since(lastChange) > time.Minute {
			return fmt.Errorf("suspended executions: %d of %d parked, no progress for a minute", n, cfg.Suspended)
		}
		if cfg.Progress != nil && time.Since(report) > 5*time.Second {
			report = time.Now()
			fmt.Fprintf(cfg.Progress, "parking: %d/%d executions suspended\n", n, cfg.Suspended)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// progress prints a line every 5 s until done is closed. With
// executionsOnly (the JS client, whose checkpoints the load generator does
// not see) it leaves the checkpoints out.
func progress(w io.Writer, m *measurements, executionsOnly bool, done <-chan struct{}) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	start := time.Now()
	var lastCP, resets int64
	last := start
	for {
		select {
		case <-done:
			return
		case now := <-t.C:
			if executionsOnly {
				fmt.Fprintf(w, "%5.0fs  executions %d  failed %d\n", now.Sub(start).Seconds(), m.completed.Load(), m.failed.Load())
				continue
			}
			r := m.resets.Load()
			cp := m.checkpoints.Load()
			if r != resets || cp < lastCP {
				resets, lastCP = r, 0 // the warm-up ended: the counts started again
			}
			fmt.Fprintf(w, "%5.0fs  executions %d  checkpoints %d (%.0f/s)  errors %d\n",
				now.Sub(start).Seconds(), m.completed.Load(), cp, float64(cp-lastCP)/now.Sub(last).Seconds(),
				m.failed.Load()+m.checkpointErrors.Load())
			lastCP, last = cp, now
		}
	}
}

// newSuffix returns a short random suffix that keeps one run's function
// names apart from another's on a shared server.
func newSuffix() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// executionInput is the input of the nth execution: {"n":n}, padded with
// a "pad" string member to about size bytes.
func executionInput(n int64, size int) []byte {
	b := fmt.Appendf(nil, `{"n":%d`, n)
	if pad := size - len(b) - len(`,"pad":""}`); pad > 0 {
		b = append(b, `,"pad":"`...)
		b = append(b, bytes.Repeat([]byte{'x'}, pad)...)
		b = append(b, '"')
	}
	return append(b, '}')
}
