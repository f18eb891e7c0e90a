package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/duro-run/duro/internal/bench"
)

// newBenchCommand is `duro bench`, the load generator (internal/bench).
func newBenchCommand() *cobra.Command {
	var cfg bench.Config
	var asJSON bool
	var logLevel string
	var functionEnv []string
	leanNode := true
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Load-test Duro: play durable functions over the wire protocol and report throughput and latencies",
		Long: `Load-test Duro: play durable functions over the real wire protocol and report
executions/s, checkpoints/s, checkpoint latency, wake-up lags, server CPU and
peak RSS, and the machine's raw fsync rate measured in the same run.

Without --endpoint, an embedded server runs in this process on a temporary
data directory and the functions are in-process handlers; CPU and RSS are then
this process's, load generator included, and the played functions send their
checkpoints over the server's Unix socket in its multiplexed protocol, as the
functions Duro runs do (--function-transport unix-http: HTTP on that socket;
tcp: loopback TCP; the Invokes, which stand for the functions' callers,
always go over TCP). With --endpoint, the functions are
served by this process over HTTP (--handler-listen, --handler-url) and
registered with DURO_INVOKE_URL, so the remote server must be able to reach
that URL (for a server on another host: --handler-listen 0.0.0.0:9600
--handler-url http://<this host>:9600); pass --server-pid to read the server's
CPU and RSS from /proc when it runs on this machine.

Executions run closed-loop (--concurrency workers, each starting the next
execution when its last one ends) or, with --rate, open-loop at a fixed start
rate. --rate-of-max P measures the sustained maximum first (a closed loop of
--max-concurrency executions, default 200, for --duration, on an embedded
server of its own or on --endpoint's) and then runs the open loop at P % of it: issue 6's "p99 at 80 % of the
sustained maximum" is --rate-of-max 80. --repeat N runs the whole measurement N times and
reports the median run: on a machine whose speed swings, one run says little;
--recheck-max measures the maximum again after the open loop, to show what
share of the capacity it had then. --suspended parks that many executions on a long wait before the
measured run, to measure with a large timer backlog.

Scenarios: steps (--steps sequential steps), waits (a step and a wait of
--wait-seconds, --steps times), callbacks (a step and a callback completed by
the load generator, --steps times), fanout (--branches parallel branches of
--steps steps).

--client js runs the steps, waits, callbacks and fanout scenarios end to end: a real
durable function written with @aws/durable-execution-sdk-js (context.step,
context.wait, context.waitForCallback, context.parallel) is uploaded as a zip
with runtime nodejs22.x and run by Duro's Node worker pool (--workers
processes, embedded server), after a warm-up; the waits' wake-up lag is then
the server's (due time to timer fired), the handlers being out of the load
generator's sight, and the callbacks' submitter posts each callback id to the
load generator on the loopback, which completes it through the API (so the
workers must run on this machine). It needs node and,
the first time, npm and the npm registry (npm ci into the user's cache, or
--js-dir). --lean-node-client=false makes the SDK use @aws-sdk/client-lambda
instead of the Node bootstrap's lean client; --function-env adds variables
to the function, e.g. DURO_NODE_CPU_PROF_DIR=/tmp/prof to get a V8 CPU
profile of each worker when it stops (--cpuprofile covers this process
only: the embedded server and the load generator).`,
		Example: `  duro bench --scenario steps --steps 10 --concurrency 200 --executions 20000
  duro bench --scenario steps --steps 10 --rate-of-max 80 --concurrency 500 --duration 15s --repeat 5
  duro bench --scenario waits --suspended 100000 --concurrency 200 --duration 60s --json
  duro bench --endpoint http://127.0.0.1:9014 --server-pid $(pgrep -f 'duro serve') --scenario callbacks
  duro bench --client js --steps 10 --concurrency 100 --executions 3000`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return usageError(fmt.Errorf("--log-level: %w", err))
			}
			cfg.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
			if !asJSON || cmd.Flags().Changed("progress") {
				cfg.Progress = cmd.ErrOrStderr()
			}
			env, err := bench.ParseFunctionEnv(functionEnv)
			if err != nil {
				return usageError(fmt.Errorf("--function-env: %w", err))
			}
			cfg.FunctionEnv, cfg.NoLeanNodeClient = env, !leanNode
			if cfg.Client != bench.ClientJS && cmd.Flags().Changed("lean-node-client") {
				return usageError(fmt.Errorf("--lean-node-client applies to --client js"))
			}
			res, err := bench.Run(cmd.Context(), cfg)
			if err != nil {
				return fmt.Errorf("bench: %w", err)
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			printBenchResult(cmd.OutOrStdout(), res)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Scenario, "scenario", bench.ScenarioSteps, "steps, waits, callbacks or fanout")
	f.StringVar(&cfg.Client, "client", bench.ClientLean, "lean (purpose-built wire client), sdk (internal/durable over the AWS SDK for Go) or js (a real function written with the JS SDK on Node workers; steps, waits, fanout)")
	f.IntVar(&cfg.Concurrency, "concurrency", 50, "executions in flight (closed loop)")
	f.IntVar(&cfg.Executions, "executions", 0, "executions to run (default 1000 unless --duration is set)")
	f.DurationVar(&cfg.Duration, "duration", 0, "stop starting executions after this long (0: no limit)")
	f.Float64Var(&cfg.Rate, "rate", 0, "start this many executions per second (open loop, at most --concurrency in flight); 0: closed loop")
	f.BoolVar(&cfg.RecheckMax, "recheck-max", false, "with --rate-of-max, measure the maximum again after the open loop, the same way, and report the open loop's rate against both (on a machine whose speed swings, a maximum measured in a fast minute overstates the capacity the open loop then had)")
	f.Float64Var(&cfg.RateOfMax, "rate-of-max", 0, "measure the maximum first (a closed loop of --max-concurrency executions for --duration, on an embedded server of its own, or on --endpoint's), then run the open loop at this percentage of it (needs --duration)")
	f.IntVar(&cfg.MaxConcurrency, "max-concurrency", 0, "--rate-of-max: the closed loop's concurrency (default 200)")
	f.IntVar(&cfg.Repeat, "repeat", 1, "run the measurement (with --rate-of-max, the maximum and the open loop) this many times (the embedded server afresh each time) and report the median run (by checkpoint p99 for an open loop, by checkpoints/s for a closed one) and every run's figures")
	f.IntVar(&cfg.Steps, "steps", 10, "steps per execution (per branch for fanout)")
	f.IntVar(&cfg.PayloadSize, "payload-size", 100, "bytes of each step's result")
	f.IntVar(&cfg.InputSize, "input-size", 0, "bytes of each execution's input (the Invoke payload, padded); 0: a few bytes")
	f.DurationVar(&cfg.StepWork, "step-work", 0, "CPU the played function spends after each checkpoint's answer, as its own code between steps (lean and sdk clients)")
	f.IntVar(&cfg.WaitSeconds, "wait-seconds", 1, "length of each wait (waits scenario)")
	f.IntVar(&cfg.Branches, "branches", 4, "parallel branches (fanout scenario)")
	f.IntVar(&cfg.Suspended, "suspended", 0, "park this many executions on a two-day wait before the measured run")
	f.StringVar(&cfg.Endpoint, "endpoint", "", "base URL of a remote Duro server (default: an embedded one)")
	f.IntVar(&cfg.ServerPID, "server-pid", 0, "process id of the remote server, for its CPU and peak RSS")
	f.StringVar(&cfg.HandlerListen, "handler-listen", "127.0.0.1:0", "remote mode: address this process serves the functions on")
	f.StringVar(&cfg.HandlerURL, "handler-url", "", "remote mode: base URL the server reaches the functions at (default http://<handler-listen address>)")
	f.StringVar(&cfg.DataDir, "data-dir", "", "embedded server's data directory (default: a temporary one, removed afterwards)")
	f.StringVar(&cfg.FsyncDir, "fsync-dir", "", "directory whose filesystem's fsync rate is measured (default: the data directory, or $TMPDIR)")
	f.DurationVar(&cfg.FsyncProbe, "fsync-probe", 0, "how long to measure the fsync rate (default 1s; negative: skip)")
	f.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write a CPU profile of the measured run to this file")
	f.StringVar(&cfg.Trace, "trace", "", "write a Go execution trace of the measured run to this file (go tool trace)")
	f.StringVar(&cfg.MemProfile, "memprofile", "", "write a heap profile taken after the run to this file")
	f.StringVar(&cfg.Timeline, "timeline", "", "write one JSON line per 100 ms of the measured run to this file: checkpoints and their latencies, executions in flight, this process's CPU and garbage collections, the embedded server's committer (transactions, mutations, busy and COMMIT shares, waits for answered callers, its own WAL checkpoints)")
	f.IntVar(&cfg.Workers, "workers", 0, "--client js: Node worker processes per function of the embedded server (default 10, Duro's default)")
	f.StringVar(&cfg.NodeCommand, "node", "", "--client js: Node.js the embedded server runs the function on (default: node on PATH)")
	f.IntVar(&cfg.EnvironmentConcurrency, "environment-concurrency", 0, "--client js: run the function on managed instances with this PerExecutionEnvironmentMaxConcurrency (each Node worker serves that many invocations at once; 0: one at a time, Lambda's default)")
	f.StringVar(&cfg.FunctionTransport, "function-transport", "", "--client lean: how the played functions send their checkpoints: mux (the embedded server's Unix socket, multiplexed, as Duro's Node workers do; the default there), unix-http (HTTP on that socket) or tcp (the default against --endpoint); Invokes always use TCP")
	f.BoolVar(&leanNode, "lean-node-client", true, "--client js: let the SDK use the Node bootstrap's lean client (false: DURO_NODE_LEAN_CLIENT=0, @aws-sdk/client-lambda)")
	f.StringArrayVar(&functionEnv, "function-env", nil, "--client js: KEY=VALUE added to the function's environment (repeatable)")
	f.StringVar(&cfg.JSDir, "js-dir", "", "--client js: directory for the function's code and node_modules (default: in the user's cache)")
	f.DurationVar(&cfg.WarmupDuration, "warmup-duration", 0, "run the load this long before the measured run begins, without a pause, so that a cold start (empty database, cold caches) is not measured; with --rate-of-max, both loops")
	f.IntVar(&cfg.Warmup, "warmup", 0, "--client js: executions before the measured run (default 20 per worker; negative: none)")
	f.BoolVar(&asJSON, "json", false, "print the result as one JSON object")
	f.Bool("progress", false, "print progress lines on stderr even with --json")
	f.StringVar(&logLevel, "log-level", "error", "log level of the embedded server and the load generator")
	return cmd
}

// printBenchResult prints a result for people.
func printBenchResult(w io.Writer, r *bench.Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	pct := func(s bench.Summary) string {
		if s.Count == 0 {
			return "-"
		}
		return fmt.Sprintf("p50 %.2f  p90 %.2f  p99 %.2f  max %.2f ms  (n=%d)", s.P50, s.P90, s.P99, s.Max, s.Count)
	}
	shape := fmt.Sprintf("%s, %d steps", r.Scenario, r.Steps)
	switch r.Scenario {
	case bench.ScenarioFanout:
		shape += fmt.Sprintf(" × %d branches", r.Branches)
	case bench.ScenarioWaits:
		shape += fmt.Sprintf(", %d s waits", r.WaitSeconds)
	}
	// load: what the played functions send and do besides their steps.
	load := fmt.Sprintf("payload %d B", r.PayloadSize)
	if r.InputSize > 0 {
		load += fmt.Sprintf(", input %d B", r.InputSize)
	}
	if r.StepWorkUs > 0 {
		load += fmt.Sprintf(", %.0f µs of work per checkpoint", r.StepWorkUs)
	}
	fmt.Fprintf(tw, "scenario\t%s, %s, concurrency %d, client %s, %s server\n", shape, load, r.Concurrency, r.Client, r.Mode)
	if r.Suspended > 0 {
		fmt.Fprintf(tw, "suspended\t%d executions parked (server RSS then %.1f MB)\n", r.Suspended, r.SuspendedRSSMB)
	}
	if m := r.MaxRun; m != nil {
		// What a checkpoint cost there, against the open loop's own CPU
		// and store lines: the maximum is reached with larger
		// transactions, which cost less per checkpoint.
		cost := ""
		if m.ServerCPUPerCheckpointUs > 0 {
			cost += fmt.Sprintf("; %.0f µs of CPU per checkpoint", m.ServerCPUPerCheckpointUs)
		}
		if m.CommitsPerTransaction > 0 {
			cost += fmt.Sprintf(", %.1f commits per transaction", m.CommitsPerTransaction)
		}
		fmt.Fprintf(tw, "maximum\t%.1f checkpoints/s, %.1f executions/s (closed loop, %d concurrent, %.2f s%s); open loop at %.0f %% of it\n",
			m.CheckpointsPerSec, m.ExecutionsPerSec, m.Concurrency, m.ElapsedSeconds, cost, r.RateOfMax)
	}
	if a := r.MaxAfterRun; a != nil && a.CheckpointsPerSec > 0 {
		fmt.Fprintf(tw, "maximum after	%.1f checkpoints/s (the same closed loop after the open loop); the open loop's %.1f checkpoints/s are %.0f %% of it\n",
			a.CheckpointsPerSec, r.CheckpointsPerSec, 100*r.CheckpointsPerSec/a.CheckpointsPerSec)
	}
	if len(r.Repeats) > 1 {
		var p99s, rates, execs []string
		for _, f := range r.Repeats {
			if f.CheckpointLatencyMs.Count > 0 {
				p99s = append(p99s, fmt.Sprintf("%.2f", f.CheckpointLatencyMs.P99))
			}
			rate := fmt.Sprintf("%.0f", f.CheckpointsPerSec)
			switch {
			case f.MaxAfterCheckpointsPerSec > 0:
				rate += fmt.Sprintf(" (max %.0f, after %.0f)", f.MaxCheckpointsPerSec, f.MaxAfterCheckpointsPerSec)
			case f.MaxCheckpointsPerSec > 0:
				rate += fmt.Sprintf(" (max %.0f)", f.MaxCheckpointsPerSec)
			}
			rates, execs = append(rates, rate), append(execs, fmt.Sprintf("%.1f", f.ExecutionsPerSec))
		}
		by := "checkpoints/s"
		if r.Rate > 0 {
			by = "checkpoint p99"
		}
		line := fmt.Sprintf("%d, the median by %s below; executions/s %s; checkpoints/s %s", len(r.Repeats), by, strings.Join(execs, " / "), strings.Join(rates, " / "))
		if len(p99s) == len(r.Repeats) {
			line += "; checkpoint p99 " + strings.Join(p99s, " / ") + " ms"
		}
		fmt.Fprintf(tw, "runs\t%s\n", line)
	}
	if r.Rate > 0 {
		fmt.Fprintf(tw, "open loop\t%.1f executions/s requested, %d starts late (all --concurrency in flight)\n", r.Rate, r.LateStarts)
	}
	if r.WarmupSeconds > 0 {
		fmt.Fprintf(tw, "elapsed\t%.2f s, after a %.0f s warm-up under the same load (not measured)\n", r.ElapsedSeconds, r.WarmupSeconds)
	} else {
		fmt.Fprintf(tw, "elapsed\t%.2f s\n", r.ElapsedSeconds)
	}
	fmt.Fprintf(tw, "executions\t%d ok, %d failed: %.1f/s\n", r.Executions, r.ExecutionsFailed, r.ExecutionsPerSec)
	fmt.Fprintf(tw, "checkpoints\t%d (%d errors): %.1f/s\n", r.Checkpoints, r.CheckpointErrors, r.CheckpointsPerSec)
	fmt.Fprintf(tw, "invocations\t%d (%d failed)\n", r.Invocations, r.InvocationErrors)
	if r.Client == bench.ClientJS {
		transport := "lean Node client"
		if r.NodeLeanClient != nil && !*r.NodeLeanClient {
			transport = "@aws-sdk/client-lambda"
		}
		if r.NodeUnixSocket != nil && *r.NodeUnixSocket {
			transport += fmt.Sprintf(", Unix socket offered: %d requests over it", r.ServerMuxRequests)
		}
		if r.NodeVersion != "" {
			transport = "Node " + r.NodeVersion + ", " + transport
		}
		if r.EnvironmentConcurrency > 0 {
			transport += fmt.Sprintf(", up to %d invocations each", r.EnvironmentConcurrency)
		}
		fmt.Fprintf(tw, "node workers\t%d processes (%s): CPU %.2f s (%.0f %% of one core), RSS %.1f MB\n",
			r.WorkerProcesses, transport, r.WorkerCPUSeconds, r.WorkerCPUPercent, r.WorkerRSSMB)
		fmt.Fprintf(tw, "checkpoint latency\tnot timed (the workers send them); engine mean %.2f ms per checkpoint, %.1f updates each\n",
			r.ServerCheckpointMeanMs, float64(r.Updates)/float64(max(r.Checkpoints, 1)))
	} else {
		fmt.Fprintf(tw, "checkpoint latency\t%s (functions over %s)\n", pct(r.CheckpointLatencyMs), transportName(r.FunctionTransport))
	}
	fmt.Fprintf(tw, "execution latency\t%s\n", pct(r.ExecutionLatencyMs))
	// The load generator times a wake-up from the wait's due time to the
	// re-invocation it receives; with --client js the handlers run in
	// Node, out of its sight, and only the server's own lag (due time to
	// timer fired) is known.
	if r.Client != bench.ClientJS {
		fmt.Fprintf(tw, "wake-up lag\t%s\n", pct(r.WakeLagMs))
	}
	if l := r.ServerWaitLagMs; l != nil {
		fmt.Fprintf(tw, "timer lag\tat the server (due time to timer fired): p50 %.2f  p90 %.2f  p99 %.2f ms, mean %.2f  (n=%d)\n", l.P50, l.P90, l.P99, l.Mean, l.Count)
	}
	fmt.Fprintf(tw, "callback lag\t%s\n", pct(r.CallbackLagMs))
	who := "server"
	if r.ServerSharedWithClient {
		who = "server + load generator (one process)"
	}
	if r.Mode == "remote" && r.ServerPeakRSSMB == 0 {
		fmt.Fprintf(tw, "server CPU, RSS\tunknown (pass --server-pid); load generator CPU %.2f s\n", r.ClientCPUSeconds)
	} else {
		perCheckpoint := ""
		if r.ServerCPUPerCheckpointUs > 0 {
			perCheckpoint = fmt.Sprintf(", %.0f µs per checkpoint", r.ServerCPUPerCheckpointUs)
		}
		fmt.Fprintf(tw, "CPU\t%.2f s (%.0f %% of one core%s), %s\n", r.ServerCPUSeconds, r.ServerCPUPercent, perCheckpoint, who)
		fmt.Fprintf(tw, "RSS\tpeak %.1f MB, now %.1f MB\n", r.ServerPeakRSSMB, r.ServerRSSMB)
	}
	if r.FsyncsPerSec > 0 {
		fmt.Fprintf(tw, "raw fsync rate\t%.0f/s (4 KiB write+fdatasync in %s)\n", r.FsyncsPerSec, r.FsyncDir)
	}
	if r.StoreStatsNotAvailable != "" {
		fmt.Fprintf(tw, "store\tno counters: %s\n", r.StoreStatsNotAvailable)
	} else {
		fmt.Fprintf(tw, "store\t%d transactions (%.0f/s, %.0f %% of the raw fsync rate), %.1f commits and %.1f checkpoints per transaction; committer busy %.0f %% (%.0f %% in COMMIT: WAL write and fsync)\n",
			r.StoreTransactions, r.TransactionsPerSec, r.FsyncUtilizationPct, r.CommitsPerTransaction, r.CheckpointsPerFsync, r.StoreBusyPct, r.StoreCommitPct)
		if p := r.StoreMutationMs; p != nil {
			fmt.Fprintf(tw, "store mutation\tp50 / p99 (ms, from /metrics buckets): waiting for the committer %.2f / %.2f, transaction %.2f / %.2f, caller waiting for a CPU %.2f / %.2f\n",
				p.Queued.P50, p.Queued.P99, p.Transaction.P50, p.Transaction.P99, p.Resumed.P50, p.Resumed.P99)
		}
		if r.WALPagesPerTransaction > 0 {
			fmt.Fprintf(tw, "store WAL\t%.1f pages per transaction, %.2f per checkpoint (from /metrics)\n",
				r.WALPagesPerTransaction, r.WALPagesPerCheckpoint)
		}
		if c := r.EngineCheckpointMs; c != nil {
			fmt.Fprintf(tw, "engine checkpoint\tp50 %.2f  p90 %.2f  p99 %.2f  max ≤ %.0f ms (from the checked token to the durable commit, from /metrics buckets; the rest of a checkpoint's latency is transport, API and client)\n", c.P50, c.P90, c.P99, c.Max)
		}
		if c := r.StoreCommitSyncMs; c != nil {
			fmt.Fprintf(tw, "store COMMIT\tp50 %.2f  p90 %.2f  p99 %.2f  max ≤ %.0f ms (WAL write and fsync, from /metrics buckets)\n", c.P50, c.P90, c.P99, c.Max)
		}
	}
	if l := r.SchedLatencyMs; l != nil {
		fmt.Fprintf(tw, "CPU wait\tp50 %.3f  p90 %.3f  p99 %.2f  max ≤ %.0f ms (goroutines runnable before they ran, n=%d: server and load generator)\n", l.P50, l.P90, l.P99, l.Max, l.Count)
	}
	m := r.Machine
	fmt.Fprintf(tw, "machine\t%d CPUs (%s), %s, Linux %s, load %.2f → %.2f\n", m.CPUs, strings.TrimSpace(m.CPUModel), m.GoVersion, m.Kernel, m.LoadStart, m.LoadEnd)
	tw.Flush()
}

// transportName names a Result.FunctionTransport for the text report.
func transportName(t string) string {
	switch t {
	case bench.TransportMux:
		return "the Unix socket, multiplexed"
	case bench.TransportUnixHTTP:
		return "HTTP on the Unix socket"
	case bench.TransportTCP:
		return "loopback TCP"
	}
	return "HTTP"
}
