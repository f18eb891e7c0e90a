package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// needNode skips a test that starts servers and Node workers in -short
// mode or where node and npm are not installed.
func needNode(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts servers and Node workers")
	}
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
}

// TestRunJS runs the end-to-end JS mode: a function written with the
// official JS SDK, uploaded as a zip and run by Node workers, with the
// Node bootstrap's lean client and with @aws-sdk/client-lambda
// (DURO_NODE_LEAN_CLIENT=0). It needs node and npm (and, the first time,
// the npm registry to install the function's dependencies in the user's
// cache). It asserts nothing about speed.
func TestRunJS(t *testing.T) {
	needNode(t)
	for _, tc := range []struct {
		name        string
		lean        bool
		concurrency int // --environment-concurrency
	}{
		{"lean-node-client", true, 0},
		{"aws-sdk-client", false, 0},
		// Managed instances: one worker serves the three executions at once.
		{"managed-instances", true, 3},
	} {
		lean := tc.lean
		t.Run(tc.name, func(t *testing.T) {
			const executions, steps = 6, 3
			cfg := Config{Client: ClientJS, Steps: steps, Executions: executions, Concurrency: 3, Workers: 2, Warmup: 2,
				NoLeanNodeClient: !lean, EnvironmentConcurrency: tc.concurrency, Logger: quiet(), FsyncProbe: -1}
			r, err := Run(testCtx(t), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if r.Executions != executions || r.ExecutionsFailed != 0 || r.ExecutionLatencyMs.Count != executions {
				t.Errorf("executions: %d ok, %d failed, %d latencies; want %d ok", r.Executions, r.ExecutionsFailed, r.ExecutionLatencyMs.Count, executions)
			}
			// The SDK checkpoints a step's START and SUCCEED, batched
			// into one checkpoint when it can.
			if r.Updates != 2*executions*steps || r.Checkpoints < executions*steps || r.Checkpoints > 2*executions*steps || r.CheckpointErrors != 0 {
				t.Errorf("checkpoints %d (%d errors) with %d updates; want %d updates in %d to %d checkpoints",
					r.Checkpoints, r.CheckpointErrors, r.Updates, 2*executions*steps, executions*steps, 2*executions*steps)
			}
			if r.Invocations != executions || r.InvocationErrors != 0 {
				t.Errorf("invocations %d (%d failed), want %d", r.Invocations, r.InvocationErrors, executions)
			}
			if !strings.HasPrefix(r.NodeVersion, "v") {
				t.Errorf("node_version = %q, want the workers' Node.js version", r.NodeVersion)
			}
			if r.NodeLeanClient == nil || *r.NodeLeanClient != lean {
				t.Errorf("node_lean_client = %v, want %v", r.NodeLeanClient, lean)
			}
			if lean != (r.NodeUnixSocket != nil && *r.NodeUnixSocket) {
				t.Errorf("node_unix_socket = %v with the lean client %v; want it on the embedded server's socket with the lean client only", r.NodeUnixSocket, lean)
			}
			// The lean client's checkpoints all went over the socket's
			// multiplexed protocol; the AWS SDK's over TCP.
			if lean && r.ServerMuxRequests < r.Checkpoints || !lean && r.ServerMuxRequests != 0 {
				t.Errorf("server_mux_requests = %d for %d checkpoints with the lean client %v", r.ServerMuxRequests, r.Checkpoints, lean)
			}
			if want := map[bool]int32{true: 2048, false: 512}[tc.concurrency > 0]; r.FunctionMemoryMB != want {
				t.Errorf("function_memory_mb = %d, want %d", r.FunctionMemoryMB, want)
			}
			if tc.concurrency > 0 && (r.WorkerProcesses != 1 || r.EnvironmentConcurrency != tc.concurrency) {
				t.Errorf("managed instances: %d worker processes, environment_concurrency %d; want 1 process serving %d at once",
					r.WorkerProcesses, r.EnvironmentConcurrency, tc.concurrency)
			}
			if r.WorkerProcesses < 1 || r.WorkerProcesses > 2 || r.WorkerCPUSeconds <= 0 || r.WorkerRSSMB <= 0 {
				t.Errorf("workers: %d processes, %v s CPU, %v MB; want 1 or 2 processes (--workers 2) that used CPU",
					r.WorkerProcesses, r.WorkerCPUSeconds, r.WorkerRSSMB)
			}
			if r.ServerCheckpointMeanMs <= 0 || r.ExecutionsPerSec <= 0 || r.CheckpointsPerSec <= 0 {
				t.Errorf("figures: %v ms per checkpoint, %v executions/s, %v checkpoints/s", r.ServerCheckpointMeanMs, r.ExecutionsPerSec, r.CheckpointsPerSec)
			}
		})
	}
}

// TestRunJSScenarios runs the waits and fanout scenarios with the JS
// function: every execution succeeds, each wait costs an invocation and
// its timer shows in the server's wake-up lag, and the branches' steps
// are all checkpointed.
func TestRunJSScenarios(t *testing.T) {
	needNode(t)
	const executions, steps, branches = 4, 2, 3
	for _, scenario := range []string{ScenarioWaits, ScenarioCallbacks, ScenarioFanout} {
		t.Run(scenario, func(t *testing.T) {
			cfg := Config{Client: ClientJS, Scenario: scenario, Steps: steps, WaitSeconds: 1, Branches: branches,
				Executions: executions, Concurrency: executions, Workers: 2, Warmup: -1, Logger: quiet(), FsyncProbe: -1}
			r, err := Run(testCtx(t), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if r.Executions != executions || r.ExecutionsFailed != 0 || r.CheckpointErrors != 0 || r.InvocationErrors != 0 {
				t.Fatalf("executions: %d ok, %d failed, %d checkpoint errors, %d failed invocations; want %d ok",
					r.Executions, r.ExecutionsFailed, r.CheckpointErrors, r.InvocationErrors, executions)
			}
			switch scenario {
			case ScenarioWaits:
				// The first invocation, then one after each wait.
				if r.Invocations != executions*(steps+1) {
					t.Errorf("invocations %d, want %d", r.Invocations, executions*(steps+1))
				}
				// At least one timer per wait (a timer that fires twice,
				// the second time doing nothing, is counted twice).
				if l := r.ServerWaitLagMs; l == nil || l.Count < executions*steps || l.P50 > l.P99 {
					t.Errorf("server wait lag %+v, want %d waits or more", l, executions*steps)
				}
				// A step's START and SUCCEED and the wait's START.
				if r.Updates != executions*steps*3 {
					t.Errorf("updates %d, want %d", r.Updates, executions*steps*3)
				}
			case ScenarioCallbacks:
				// Each execution finished, so the load generator completed
				// every callback whose id the submitter posted. An
				// invocation suspends on a callback only if the completion
				// has not arrived by its next checkpoint.
				if r.Invocations < executions || r.Invocations > executions*(steps+1) {
					t.Errorf("invocations %d, want %d to %d", r.Invocations, executions, executions*(steps+1))
				}
				// A step's START and SUCCEED, and waitForCallback's
				// context, callback and submitter step around each wait.
				if min := int64(executions * steps * 4); r.Updates <= min {
					t.Errorf("updates %d, want more than %d", r.Updates, min)
				}
			case ScenarioFanout:
				if r.ServerWaitLagMs != nil {
					t.Errorf("server wait lag %+v without waits", r.ServerWaitLagMs)
				}
				// Each branch's steps (START and SUCCEED), and the parallel
				// and branch contexts around them.
				if min := int64(executions * branches * steps * 2); r.Updates <= min {
					t.Errorf("updates %d, want more than the steps' %d", r.Updates, min)
				}
			}
		})
	}
}

func TestJSConfig(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Client: ClientJS, Suspended: 10}, "without --suspended"},
		{Config{Workers: 4}, "apply to --client js"},
		{Config{NoLeanNodeClient: true}, "apply to --client js"},
		{Config{EnvironmentConcurrency: 4}, "apply to --client js"},
		{Config{NodeCommand: "node"}, "--client js without --endpoint"},
		{Config{Client: ClientJS, NodeCommand: "node", Endpoint: "http://127.0.0.1:9014"}, "--client js without --endpoint"},
		{Config{Client: ClientJS, EnvironmentConcurrency: 1601}, "between 1 and 1600"},
		{Config{Client: ClientJS, Workers: 4, Endpoint: "http://127.0.0.1:9014"}, "remote server has its own"},
		{Config{Client: "bogus"}, "unknown client"},
		{Config{Client: ClientJS, FunctionTransport: TransportTCP}, "--function-transport applies to --client lean"},
		{Config{Client: ClientSDK, FunctionTransport: TransportMux}, "--function-transport applies to --client lean"},
		{Config{FunctionTransport: "carrier-pigeon"}, "unknown --function-transport"},
		{Config{RateOfMax: 80}, "--rate-of-max needs --duration"},
		{Config{RateOfMax: 80, Duration: time.Second, Rate: 10}, "--rate-of-max needs --duration"},
		{Config{RateOfMax: 120, Duration: time.Second}, "between 0 and 100"},
		{Config{RateOfMax: 80, Duration: time.Second, Client: ClientJS}, "lean or sdk client"},
		{Config{MaxConcurrency: 10}, "--max-concurrency goes with --rate-of-max"},
		{Config{Repeat: -1}, "--repeat must be positive"},
		{Config{StepWork: -time.Millisecond}, "--step-work must not be negative"},
		{Config{StepWork: time.Millisecond, Client: ClientJS}, "--step-work runs the lean or sdk client"},
		{Config{Repeat: 2, CPUProfile: "cpu.prof"}, "each run would overwrite the last"},
		{Config{FunctionTransport: TransportMux, Endpoint: "http://127.0.0.1:9014"}, "needs the embedded server's Unix socket"},
	} {
		err := tc.cfg.defaults()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.cfg, err, tc.want)
		}
	}
	if env, err := ParseFunctionEnv([]string{"A=1", "NODE_OPTIONS=--max-old-space-size=256 --x=y"}); err != nil ||
		len(env) != 2 || env["NODE_OPTIONS"] != "--max-old-space-size=256 --x=y" {
		t.Errorf("ParseFunctionEnv = %v, %v", env, err)
	}
	if _, err := ParseFunctionEnv([]string{"novalue"}); err == nil {
		t.Error("ParseFunctionEnv accepted a pair without =")
	}
}

// The embedded function files are written into a directory and the zip of
// a code directory is cached and reused.
func TestJSFilesAndZipCache(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "code")
	if err := writeJSFiles(dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"index.mjs", "package.json", "package-lock.json"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s not written: %v", name, err)
		}
	}
	a, err := zipCode(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	b, err := zipCode(dir, true)
	if err != nil || string(a) != string(b) {
		t.Fatalf("second zip differs or failed: %v", err)
	}
	// A changed file makes a new archive.
	later := time.Now().Add(time.Minute)
	if err := os.WriteFile(filepath.Join(dir, "index.mjs"), []byte("export const handler = async () => 1;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(filepath.Join(dir, "index.mjs"), later, later); err != nil {
		t.Fatal(err)
	}
	c, err := zipCode(dir, true)
	if err != nil || string(c) == string(a) {
		t.Fatalf("zip after a change is the cached one (err %v)", err)
	}
}
