package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/duro-run/duro/internal/devenv"
	"github.com/duro-run/duro/internal/runtime"
)

// The JS client mode (--client js) runs the steps, waits, callbacks and fanout
// scenarios as a real durable function written with
// @aws/durable-execution-sdk-js
// (jsbench/index.mjs): uploaded as a zip through CreateFunction with
// runtime nodejs22.x and run by Duro's Node worker pool, so that a run
// measures the whole path: Invoke, worker dispatch, the Node bootstrap,
// the SDK and its checkpoints over the wire. The load generator only
// drives Invokes; checkpoint counts come from the server's /metrics.

// jsBenchFiles is the function's code and its pinned dependencies; its
// node_modules is installed with `npm ci` on first use.
//
//go:embed jsbench/index.mjs jsbench/package.json jsbench/package-lock.json
var jsBenchFiles embed.FS

// jsBenchVersion identifies the embedded files, so that a cached install
// of other files is never used.
func jsBenchVersion() string {
	h := sha256.New()
	for _, name := range []string{"index.mjs", "package.json", "package-lock.json"} {
		b, _ := jsBenchFiles.ReadFile("jsbench/" + name)
		fmt.Fprintf(h, "%s %d\n", name, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// jsCodeDir returns a directory holding the bench function and its
// node_modules: cfg.JSDir when set, otherwise a directory in the user's
// cache named after the embedded files' hash. The embedded files are
// written when missing and `npm ci` runs when node_modules is missing
// (needs npm and the npm registry, once). A default directory is installed
// beside its final place and renamed into it, so that concurrent runs
// never see half an install.
func jsCodeDir(ctx context.Context, cfg *Config) (string, error) {
	if cfg.JSDir != "" {
		if err := writeJSFiles(cfg.JSDir); err != nil {
			return "", err
		}
		if err := devenv.NpmInstall(ctx, cfg.JSDir, cfg.Logger); err != nil {
			return "", fmt.Errorf("install the JS bench function's dependencies: %w", err)
		}
		return cfg.JSDir, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "duro", "bench-js-"+jsBenchVersion())
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err == nil {
		return dir, nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", fmt.Errorf("JS bench function: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".bench-js-*")
	if err != nil {
		return "", fmt.Errorf("JS bench function: %w", err)
	}
	defer os.RemoveAll(tmp) // nothing left once renamed
	if err := writeJSFiles(tmp); err != nil {
		return "", err
	}
	if cfg.Progress != nil {
		fmt.Fprintf(cfg.Progress, "installing the JS bench function's dependencies (npm ci) in %s\n", dir)
	}
	if err := devenv.NpmInstall(ctx, tmp, cfg.Logger); err != nil {
		return "", fmt.Errorf("install the JS bench function's dependencies: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(filepath.Join(dir, "node_modules")); serr == nil {
			return dir, nil // another run installed it meanwhile
		}
		return "", fmt.Errorf("JS bench function: %w", err)
	}
	return dir, nil
}

// writeJSFiles writes the embedded files into dir, leaving identical ones
// alone.
func writeJSFiles(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("JS bench function: %w", err)
	}
	for _, name := range []string{"index.mjs", "package.json", "package-lock.json"} {
		b, err := jsBenchFiles.ReadFile("jsbench/" + name)
		if err != nil {
			return fmt.Errorf("JS bench function: %w", err)
		}
		path := filepath.Join(dir, name)
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, b) {
			continue
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return fmt.Errorf("JS bench function: %w", err)
		}
	}
	return nil
}

// zipCode archives a code directory for CreateFunction. With cache, the
// archive is cached beside the directory (which must be Duro's own: the
// default JS directory), keyed by the newest modification time and the
// file count, so that repeated runs do not re-compress node_modules.
func zipCode(dir string, cache bool) ([]byte, error) {
	if !cache {
		return runtime.ZipDir(dir)
	}
	files := 0
	var newest time.Time
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.ModTime().After(newest) {
			newest = info.ModTime()
		}
		files++
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("zip %s: %w", dir, err)
	}
	cached := filepath.Join(filepath.Dir(dir), "."+filepath.Base(dir)+"-"+strconv.FormatInt(newest.UnixNano(), 36)+"-"+strconv.Itoa(files)+".zip")
	if b, err := os.ReadFile(cached); err == nil {
		return b, nil
	}
	b, err := runtime.ZipDir(dir)
	if err != nil {
		return nil, err
	}
	// Best effort: a read-only cache only costs the next run a re-zip.
	var nonce [4]byte
	_, _ = rand.Read(nonce[:])
	tmp := cached + "." + hex.EncodeToString(nonce[:])
	if os.WriteFile(tmp, b, 0o644) == nil {
		if os.Rename(tmp, cached) != nil {
			os.Remove(tmp)
		}
	}
	return b, nil
}

// jsFunctionEnv is the bench function's environment.
func jsFunctionEnv(cfg Config) map[string]string {
	env := map[string]string{
		"BENCH_SCENARIO":     cfg.Scenario,
		"BENCH_STEPS":        strconv.Itoa(cfg.Steps),
		"BENCH_WAIT_SECONDS": strconv.Itoa(cfg.WaitSeconds),
		"BENCH_BRANCHES":     strconv.Itoa(cfg.Branches),
		"BENCH_PAYLOAD_SIZE": strconv.Itoa(cfg.PayloadSize),
	}
	if cfg.callbackURL != "" {
		env["BENCH_CALLBACK_URL"] = cfg.callbackURL
	}
	if cfg.NoLeanNodeClient {
		env["DURO_NODE_LEAN_CLIENT"] = "0"
	}
	for k, v := range cfg.FunctionEnv {
		env[k] = v
	}
	return env
}

// createJSFunction uploads the JS bench function as a zip through the API
// and returns the MemorySize the server recorded for it.
func createJSFunction(ctx context.Context, client *lambda.Client, name string, cfg Config) (int32, error) {
	dir, err := jsCodeDir(ctx, &cfg)
	if err != nil {
		return 0, err
	}
	code, err := zipCode(dir, cfg.JSDir == "")
	if err != nil {
		return 0, err
	}
	in := &lambda.CreateFunctionInput{
		FunctionName:  aws.String(name),
		Role:          aws.String("arn:aws:iam::123456789012:role/duro-bench"),
		Code:          &types.FunctionCode{ZipFile: code},
		Runtime:       types.RuntimeNodejs22x,
		Handler:       aws.String("index.handler"),
		Timeout:       aws.Int32(300),
		MemorySize:    aws.Int32(jsMemorySize(cfg)),
		DurableConfig: &types.DurableConfig{ExecutionTimeout: aws.Int32(3600), RetentionPeriodInDays: aws.Int32(1)},
		Environment:   &types.Environment{Variables: jsFunctionEnv(cfg)},
	}
	if cfg.EnvironmentConcurrency > 0 {
		in.CapacityProviderConfig = &types.CapacityProviderConfig{
			LambdaManagedInstancesCapacityProviderConfig: &types.LambdaManagedInstancesCapacityProviderConfig{
				CapacityProviderArn:                   aws.String("arn:aws:lambda:us-east-1:123456789012:capacity-provider:duro-bench"),
				PerExecutionEnvironmentMaxConcurrency: aws.Int32(int32(cfg.EnvironmentConcurrency)),
			},
		}
	}
	out, err := client.CreateFunction(ctx, in)
	if err != nil {
		return 0, fmt.Errorf("create function %s: %w", name, err)
	}
	return aws.ToInt32(out.MemorySize), nil
}

// jsMemorySize is the bench function's MemorySize: 2 GB on managed
// instances, the smallest function size Lambda supports there (one vCPU,
// the one Node worker), else 512 MB. Duro sizes the worker's heap from it
// as Lambda's Node.js runtimes do.
func jsMemorySize(cfg Config) int32 {
	if cfg.EnvironmentConcurrency > 0 {
		return 2048
	}
	return 512
}

// nodeVersion asks the Node.js the embedded server runs (command, default
// "node") for its version; empty if it cannot tell.
func nodeVersion(command string) string {
	if command == "" {
		command = "node"
	}
	out, err := exec.Command(command, "--version").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// jsWorkers is the size of the Node worker pool the runs assume: the
// embedded server's per-function limit, or Duro's default for a remote
// server.
func jsWorkers(cfg Config) int {
	if cfg.Workers > 0 {
		return cfg.Workers
	}
	return runtime.DefaultMaxConcurrency
}

// warmUp runs cfg.Warmup executions (default 20 per worker) before the
// measured run, so that it starts with warm workers: a Node worker's first
// invocation loads the SDK, and V8 takes a few hundred invocations to
// optimise the hot paths.
func warmUp(ctx context.Context, c *wireClient, fn string, cfg Config) error {
	n := min(cfg.Concurrency, jsWorkers(cfg)*max(cfg.EnvironmentConcurrency, 1))
	executions := cfg.Warmup
	if executions == 0 {
		executions = 20 * n
	}
	if executions < 0 {
		return nil
	}
	warm := cfg
	warm.Concurrency, warm.Executions, warm.Duration, warm.Rate, warm.Progress = min(n, executions), executions, 0, 0, nil
	warm.WarmupDuration = 0
	if cfg.Progress != nil {
		fmt.Fprintf(cfg.Progress, "warming up: %d executions, %d at a time\n", executions, n)
	}
	m := &measurements{}
	if err := drive(ctx, c, fn, warm, m, nil); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	if m.failed.Load() > 0 {
		return fmt.Errorf("warm-up: %d of %d executions failed (see the function's logs: duro executions logs ARN)", m.failed.Load(), warm.Executions)
	}
	return nil
}

// workerProcs is a snapshot of a function's local worker processes: the
// CPU time each has used so far, and their resident memory.
type workerProcs struct {
	cpu map[int]time.Duration
	rss int64
}

// functionWorkers finds the processes of a function's local workers (on
// this machine: Duro gives each AWS_LAMBDA_FUNCTION_NAME in its
// environment) and reads their CPU time and RSS from /proc.
func functionWorkers(function string) (workerProcs, error) {
	out := workerProcs{cpu: map[int]time.Duration{}}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return out, err
	}
	want := []byte("\x00AWS_LAMBDA_FUNCTION_NAME=" + function + "\x00")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil || !bytes.Contains(append([]byte{0}, env...), want) {
			continue
		}
		cpu, err := processCPU(pid)
		if err != nil {
			continue // gone meanwhile
		}
		out.cpu[pid] = cpu
		if rss, _, err := processMemory(pid); err == nil {
			out.rss += rss
		}
	}
	return out, nil
}

// workerCPU is the CPU the workers used between two snapshots (workers
// started in between count from zero).
func workerCPU(before, after workerProcs) time.Duration {
	var d time.Duration
	for pid, c := range after.cpu {
		d += c - before.cpu[pid]
	}
	return d
}

// errJSScenario refuses what the JS function does not implement: parked
// executions are the lean player's.
var errJSScenario = errors.New("--client js runs without --suspended")

// receiveCallbackIDs serves the JS function's callback submitter: the
// function (context.waitForCallback) posts each callback's id to the
// returned URL, and the load generator's completers answer it with
// SendDurableExecutionCallbackSuccess, as an external system would. It
// listens on the loopback: the Node workers must run on this machine.
func receiveCallbackIDs(ids chan<- string) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("listen for the function's callback ids: %w", err)
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := io.ReadAll(io.LimitReader(r.Body, 4096))
		if r.Method != http.MethodPost || err != nil || len(id) == 0 {
			http.Error(w, "want POST with a callback id as the body", http.StatusBadRequest)
			return
		}
		select {
		case ids <- string(id):
			w.WriteHeader(http.StatusNoContent)
		case <-r.Context().Done():
		}
	})}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String() + "/callback", func() { srv.Close() }, nil
}

// ParseFunctionEnv parses KEY=VALUE pairs (--function-env).
func ParseFunctionEnv(pairs []string) (map[string]string, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	env := make(map[string]string, len(pairs))
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%q: want KEY=VALUE", p)
		}
		env[k] = v
	}
	return env, nil
}

// jsResult fills in what a JS client run measures at the server and in
// the workers.
func jsResult(res *Result, st0, st1 storeMetrics, statsErr error, workers0, workers1 workerProcs, secs float64) {
	if statsErr == nil {
		res.Checkpoints = st1.checkpoints - st0.checkpoints
		res.CheckpointErrors = st1.checkpointErrors - st0.checkpointErrors
		res.Updates = st1.updates - st0.updates
		res.Invocations = st1.invocations - st0.invocations
		res.InvocationErrors = st1.invocationErrors - st0.invocationErrors
		res.CheckpointsPerSec = round3(float64(res.Checkpoints) / secs)
		if res.StoreTransactions > 0 {
			res.CheckpointsPerFsync = round3(float64(res.Checkpoints) / float64(res.StoreTransactions))
		}
		if n := st1.checkpointCount - st0.checkpointCount; n > 0 {
			res.ServerCheckpointMeanMs = round3(float64(st1.checkpointTime-st0.checkpointTime) / float64(time.Millisecond) / float64(n))
		}
	}
	cpu := workerCPU(workers0, workers1)
	res.WorkerProcesses = len(workers1.cpu)
	res.WorkerCPUSeconds = round3(cpu.Seconds())
	res.WorkerCPUPercent = round3(100 * cpu.Seconds() / secs)
	res.WorkerRSSMB = round3(float64(workers1.rss) / (1 << 20))
}
