package metrics_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/duro-run/duro/internal/durable"
	"github.com/duro-run/duro/internal/engine"
	"github.com/duro-run/duro/internal/server"
)

// node is a running server and a client for it.
type node struct {
	t      *testing.T
	srv    *server.Server
	client *lambda.Client
}

// startNode starts a server on a loopback port over dataDir; with
// otlpEndpoint it exports traces there.
func startNode(t *testing.T, dataDir, otlpEndpoint string) *node {
	t.Helper()
	srv, err := server.Start(context.Background(), server.Config{
		Listen:       "127.0.0.1:0",
		DataDir:      dataDir,
		Logger:       slog.New(slog.DiscardHandler),
		OTLPEndpoint: otlpEndpoint,
		Engine: engine.Config{
			RetryBackoff:      func(int) time.Duration { return 50 * time.Millisecond },
			TimerPollInterval: 200 * time.Millisecond,
		},
	})
	if err != nil {
		t.Fatalf("server.Start: %v", err)
	}
	n := &node{t: t, srv: srv, client: durable.NewClient(srv.URL())}
	t.Cleanup(func() { n.stop() })
	return n
}

// stop shuts the server down (once).
func (n *node) stop() {
	if n.srv == nil {
		return
	}
	durable.CloseIdleConnections(n.client)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.srv.Shutdown(ctx); err != nil {
		n.t.Errorf("Shutdown: %v", err)
	}
	n.srv = nil
}

func (n *node) ctx() context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	n.t.Cleanup(cancel)
	return c
}

// function registers a durable function running fn in-process.
func (n *node) function(name string, fn durable.Func) {
	n.t.Helper()
	_, err := n.client.CreateFunction(n.ctx(), &lambda.CreateFunctionInput{
		FunctionName:  aws.String(name),
		Role:          aws.String("arn:aws:iam::123456789012:role/duro-test"),
		Code:          &types.FunctionCode{ZipFile: []byte("PK\x05\x06" + strings.Repeat("\x00", 18))},
		Runtime:       types.RuntimeProvidedal2023,
		Handler:       aws.String("bootstrap"),
		Timeout:       aws.Int32(30),
		DurableConfig: &types.DurableConfig{ExecutionTimeout: aws.Int32(300)},
	})
	if err != nil {
		n.t.Fatalf("CreateFunction(%s): %v", name, err)
	}
	n.handle(name, fn)
}

// handle (re-)registers the in-process handler of a function.
func (n *node) handle(name string, fn durable.Func) {
	n.srv.Runtime.Handle(name, durable.Handler(n.client, fn))
}

// start invokes a function asynchronously and returns the execution ARN.
func (n *node) start(name string) string {
	n.t.Helper()
	out, err := n.client.Invoke(n.ctx(), &lambda.InvokeInput{
		FunctionName: aws.String(name), Qualifier: aws.String("$LATEST"),
		InvocationType: types.InvocationTypeEvent, Payload: []byte(`{}`),
	})
	if err != nil {
		n.t.Fatalf("Invoke(%s): %v", name, err)
	}
	return aws.ToString(out.DurableExecutionArn)
}

// await waits for an execution to end with a status.
func (n *node) await(arn string, want types.ExecutionStatus) {
	n.t.Helper()
	eventually(n.t, 20*time.Second, func() error {
		out, err := n.client.GetDurableExecution(n.ctx(), &lambda.GetDurableExecutionInput{DurableExecutionArn: aws.String(arn)})
		if err != nil {
			return fmt.Errorf("GetDurableExecution: %w", err)
		}
		if out.Status != want {
			return fmt.Errorf("execution %s is %s, want %s", arn, out.Status, want)
		}
		return nil
	})
}

// complete sends a callback's success.
func (n *node) complete(callbackID string) {
	n.t.Helper()
	_, err := n.client.SendDurableExecutionCallbackSuccess(n.ctx(), &lambda.SendDurableExecutionCallbackSuccessInput{
		CallbackId: aws.String(callbackID), Result: []byte(`"ok"`),
	})
	if err != nil {
		n.t.Fatalf("SendDurableExecutionCallbackSuccess: %v", err)
	}
}

func (n *node) scrape() (families, error) { return scrape(n.srv.URL() + "/metrics") }

// The durable functions of the tests.
var (
	stepsFn = func(c *durable.Context, _ json.RawMessage) (any, error) {
		a, err := c.Step("one", func() (any, error) { return 1, nil })
		if err != nil {
			return nil, err
		}
		b, err := c.Step("two", func() (any, error) { return 2, nil })
		if err != nil {
			return nil, err
		}
		return string(a) + string(b), nil
	}
	waitFn = func(c *durable.Context, _ json.RawMessage) (any, error) {
		if _, err := c.Step("before", func() (any, error) { return "x", nil }); err != nil {
			return nil, err
		}
		if err := c.Wait("pause", 1); err != nil {
			return nil, err
		}
		return "waited", nil
	}
	failFn = func(c *durable.Context, _ json.RawMessage) (any, error) {
		return nil, errors.New("failing on purpose")
	}
)

// callbackFn starts a callback, reports its id on ids (without blocking),
// and returns the callback's result.
func callbackFn(ids chan<- string) durable.Func {
	return func(c *durable.Context, _ json.RawMessage) (any, error) {
		id, wait := c.Callback("approval", 0, 0)
		select {
		case ids <- id:
		default:
		}
		res, err := wait()
		return string(res), err
	}
}

// TestServerMetrics runs executions of every kind on a real server and
// checks what GET /metrics reports.
func TestServerMetrics(t *testing.T) {
	n := startNode(t, t.TempDir(), "")
	ids := make(chan string, 4)
	n.function("m-steps", stepsFn)
	n.function("m-wait", waitFn)
	n.function("m-fail", failFn)
	n.function("m-callback", callbackFn(ids))

	type run struct {
		arn  string
		want types.ExecutionStatus
	}
	var runs []run
	for range 3 {
		runs = append(runs, run{n.start("m-steps"), types.ExecutionStatusSucceeded})
	}
	runs = append(runs, run{n.start("m-wait"), types.ExecutionStatusSucceeded})
	runs = append(runs, run{n.start("m-fail"), types.ExecutionStatusFailed})
	runs = append(runs, run{n.start("m-callback"), types.ExecutionStatusSucceeded})

	// While the callback is open, its execution is active.
	var cbID string
	select {
	case cbID = <-ids:
	case <-time.After(20 * time.Second):
		t.Fatal("the callback did not start")
	}
	eventually(t, 10*time.Second, func() error {
		f, err := n.scrape()
		if err != nil {
			return err
		}
		if v := f.value("duro_executions_active", nil); v < 1 {
			return fmt.Errorf("duro_executions_active = %v with a callback open, want >= 1", v)
		}
		return nil
	})
	n.complete(cbID)
	for _, r := range runs {
		n.await(r.arn, r.want)
	}

	const total = 6
	var f families
	eventually(t, 10*time.Second, func() error {
		var err error
		if f, err = n.scrape(); err != nil {
			return err
		}
		started := f.value("duro_executions_started_total", nil)
		finished := f.value("duro_executions_finished_total", nil)
		active := f.value("duro_executions_active", nil)
		if started != total || finished != total || active != 0 {
			return fmt.Errorf("started %v, finished %v, active %v; want %d, %d, 0", started, finished, active, total, total)
		}
		return nil
	})

	checks := []struct {
		what      string
		got, want float64
	}{
		{"started m-steps", f.value("duro_executions_started_total", map[string]string{"function": "m-steps"}), 3},
		{"finished m-steps SUCCEEDED", f.value("duro_executions_finished_total", map[string]string{"function": "m-steps", "status": "SUCCEEDED"}), 3},
		{"finished m-fail FAILED", f.value("duro_executions_finished_total", map[string]string{"function": "m-fail", "status": "FAILED"}), 1},
		{"finished SUCCEEDED", f.value("duro_executions_finished_total", map[string]string{"status": "SUCCEEDED"}), 5},
		{"m-fail invocations failed", f.value("duro_invocations_total", map[string]string{"function": "m-fail", "outcome": "failed"}), 1},
		{"m-steps invocations succeeded", f.value("duro_invocations_total", map[string]string{"function": "m-steps", "outcome": "succeeded"}), 3},
		{"m-wait invocations succeeded", f.value("duro_invocations_total", map[string]string{"function": "m-wait", "outcome": "succeeded"}), 1},
		{"m-callback invocations succeeded", f.value("duro_invocations_total", map[string]string{"function": "m-callback", "outcome": "succeeded"}), 1},
		{"checkpoint errors", f.value("duro_checkpoints_total", map[string]string{"outcome": "error"}), 0},
		{"store commit failures", f.value("duro_store_commit_failures_total", nil), 0},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	// The wait and the callback suspended their executions once at least.
	for _, fn := range []string{"m-wait", "m-callback"} {
		if v := f.value("duro_invocations_total", map[string]string{"function": fn, "outcome": "pending"}); v < 1 {
			t.Errorf("%s pending invocations = %v, want >= 1", fn, v)
		}
	}

	invocations := f.value("duro_invocations_total", nil)
	if c, _ := f.histogram("duro_invocation_duration_seconds", nil); float64(c) != invocations || c < total {
		t.Errorf("invocation duration count = %d, invocations_total = %v; want equal and >= %d", c, invocations, total)
	}
	checkpoints := f.value("duro_checkpoints_total", nil)
	if c, _ := f.histogram("duro_checkpoint_duration_seconds", nil); c == 0 || float64(c) != checkpoints {
		t.Errorf("checkpoint latency count = %d, checkpoints_total = %v; want equal and > 0", c, checkpoints)
	}
	// Updates: steps checkpoint START+SUCCEED pairs, so the batches carry
	// at least one update on average.
	if c, sum := f.histogram("duro_checkpoint_updates", nil); c == 0 || sum < float64(c) {
		t.Errorf("checkpoint updates: count %d, sum %v; want count > 0 and sum >= count", c, sum)
	}
	if c, _ := f.histogram("duro_timer_lag_seconds", map[string]string{"kind": "wait"}); c < 1 {
		t.Errorf("timer lag of waits: count %d, want >= 1", c)
	}
	// Starts and wake-ups begin their invocation in the same commit; the
	// invoke timer only serves retries after a failed invocation and lost
	// leases, and none of these executions had either.
	if c, _ := f.histogram("duro_timer_lag_seconds", map[string]string{"kind": "invoke"}); c != 0 {
		t.Errorf("timer lag of invokes: count %d, want 0 (no invocation should wait for the invoke timer)", c)
	}
	if _, ok := f["duro_store_commit_batch_size"]; !ok {
		t.Errorf("no duro_store_commit_batch_size in the scrape")
	}
	commits, mutations := f.histogram("duro_store_commit_batch_size", nil)
	if commits == 0 || mutations < float64(commits) {
		t.Errorf("commit batch size: %d transactions of %v mutations; want > 0 transactions of >= 1 mutation each", commits, mutations)
	}
	if c, _ := f.histogram("duro_store_commit_duration_seconds", nil); c != commits {
		t.Errorf("commit latency count %d, batch size count %d; want equal", c, commits)
	}
	// Each mutation's time, split three ways: every mutation the
	// transactions carried is counted once its caller has run again.
	for _, name := range []string{"duro_store_mutation_queued_seconds", "duro_store_mutation_transaction_seconds", "duro_store_mutation_resumed_seconds"} {
		c, sum := f.histogram(name, nil)
		if c == 0 || float64(c) > mutations || sum < 0 {
			t.Errorf("%s: count %d, sum %v; want 1..%v mutations and a sum >= 0", name, c, sum, mutations)
		}
		if name == "duro_store_mutation_transaction_seconds" && sum <= 0 {
			t.Errorf("%s: sum %v, want > 0 (a transaction takes time)", name, sum)
		}
	}
	// The committer's counters are read from the store (a run this short
	// never restarts the WAL: their values are TestMetricsUnit's).
	for _, name := range []string{"duro_store_committer_gate_wait_seconds_total", "duro_store_wal_restarts_total", "duro_store_wal_restart_seconds_total", "duro_store_wal_catch_ups_total"} {
		if _, ok := f[name]; !ok {
			t.Errorf("no %s in the scrape", name)
		}
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", "go_sched_latencies_seconds", "go_sched_goroutines_runnable_goroutines"} {
		if _, ok := f[name]; !ok {
			t.Errorf("no %s in the scrape", name)
		}
	}

	// The API still answers beside /metrics, and /metrics is GET only.
	resp, err := http.Post(n.srv.URL()+"/metrics", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Errorf("POST /metrics = 200, want the API's error")
	}
}

// TestActiveExecutionsSurviveRestart checks that the active-executions
// gauge starts from the store: an execution left waiting on a callback is
// counted by the next server over the same data directory, and leaves the
// gauge at zero when it ends there.
func TestActiveExecutionsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	n := startNode(t, dir, "")
	ids := make(chan string, 4)
	n.function("r-callback", callbackFn(ids))
	n.function("r-steps", stepsFn)
	arn := n.start("r-callback")
	done := n.start("r-steps")
	n.await(done, types.ExecutionStatusSucceeded)
	var cbID string
	select {
	case cbID = <-ids:
	case <-time.After(20 * time.Second):
		t.Fatal("the callback did not start")
	}
	n.stop()

	n = startNode(t, dir, "")
	n.handle("r-callback", callbackFn(ids))
	// The store is counted in the background: NaN until then.
	var f families
	eventually(t, 10*time.Second, func() (err error) {
		if f, err = n.scrape(); err != nil {
			return err
		}
		if v := f.value("duro_executions_active", nil); v != 1 {
			return fmt.Errorf("after a restart with one execution waiting: duro_executions_active = %v, want 1", v)
		}
		return nil
	})
	if v := f.value("duro_executions_started_total", nil); v != 0 {
		t.Errorf("after a restart: duro_executions_started_total = %v, want 0 (counters start afresh)", v)
	}
	n.complete(cbID)
	n.await(arn, types.ExecutionStatusSucceeded)
	eventually(t, 10*time.Second, func() error {
		f, err := n.scrape()
		if err != nil {
			return err
		}
		if v := f.value("duro_executions_active", nil); v != 0 {
			return fmt.Errorf("after the execution ended: duro_executions_active = %v, want 0", v)
		}
		if v := f.value("duro_executions_finished_total", map[string]string{"function": "r-callback", "status": "SUCCEEDED"}); v != 1 {
			return fmt.Errorf("finished r-callback SUCCEEDED = %v, want 1", v)
		}
		return nil
	})
}
