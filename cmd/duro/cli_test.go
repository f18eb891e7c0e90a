package main

// Tests of the client commands (invoke, executions, callback, functions):
// each test starts a real server in-process on a loopback port, registers
// in-process durable functions written with internal/durable, and runs the
// command line through run, as main does. Identifiers are prefixed cli so
// that they cannot collide with the package's other tests.

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/duro-run/duro/internal/durable"
	"github.com/duro-run/duro/internal/engine"
	"github.com/duro-run/duro/internal/runtime"
	"github.com/duro-run/duro/internal/server"
)

// cliTimeout bounds every command and every wait of a test.
const cliTimeout = 30 * time.Second

// cliArnPattern matches an execution ARN printed by the CLI.
var cliArnPattern = regexp.MustCompile(`arn:aws:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+:[^/\s]+/durable-execution/[A-Za-z0-9_-]+/[A-Za-z0-9_-]+`)

// cliEnv is one running server and an SDK client for test setup.
type cliEnv struct {
	t      *testing.T
	srv    *server.Server
	client *lambda.Client
}

// newCLIEnv starts a server with a fresh data directory and short
// backoffs; it is shut down when the test ends.
func newCLIEnv(t *testing.T) *cliEnv {
	t.Helper()
	srv, err := server.Start(context.Background(), server.Config{
		Listen:  "127.0.0.1:0",
		DataDir: t.TempDir(),
		Region:  "us-east-1", AccountID: "123456789012",
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError + 4})),
		Engine: engine.Config{
			RetryBackoff:      func(int) time.Duration { return 50 * time.Millisecond },
			TimerPollInterval: 100 * time.Millisecond,
		},
	})
	if err != nil {
		t.Fatalf("server.Start: %v", err)
	}
	client := durable.NewClient(srv.URL())
	t.Cleanup(func() {
		durable.CloseIdleConnections(client)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Logf("shutdown: %v", err)
		}
	})
	return &cliEnv{t: t, srv: srv, client: client}
}

// cliResult is the outcome of one command line.
type cliResult struct {
	stdout, stderr string
	code           int
}

func (r cliResult) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// syncBuffer is a bytes.Buffer safe for a reader and a writer at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// cliRun runs a command line against endpoint (appended as --endpoint when
// not empty) and returns its output and exit code.
func cliRun(t *testing.T, endpoint string, args ...string) cliResult {
	t.Helper()
	if endpoint != "" {
		args = append(args, "--endpoint", endpoint)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	var stdout, stderr syncBuffer
	code := run(ctx, args, &stdout, &stderr)
	return cliResult{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// run runs a command line against the test server.
func (e *cliEnv) run(args ...string) cliResult {
	e.t.Helper()
	return cliRun(e.t, e.srv.URL(), args...)
}

// ok runs a command line that must succeed.
func (e *cliEnv) ok(args ...string) cliResult {
	e.t.Helper()
	r := e.run(args...)
	if r.code != exitOK {
		e.t.Fatalf("duro %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// fails runs a command line that must exit with code, and checks that
// stderr contains each of wants.
func (e *cliEnv) fails(code int, wants []string, args ...string) cliResult {
	e.t.Helper()
	r := e.run(args...)
	if r.code != code {
		e.t.Fatalf("duro %s: exit %d, want %d\n%s", strings.Join(args, " "), r.code, code, r)
	}
	for _, w := range wants {
		if !strings.Contains(r.stderr, w) {
			e.t.Errorf("duro %s: stderr lacks %q\n%s", strings.Join(args, " "), w, r)
		}
	}
	return r
}

// emptyZip is an empty zip archive: in-process functions have no code.
var emptyZip = []byte("PK\x05\x06" + strings.Repeat("\x00", 18))

// durableFn creates a durable function running fn in-process.
func (e *cliEnv) durableFn(name string, fn durable.Func) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	_, err := e.client.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Role: aws.String(defaultRole), Code: &types.FunctionCode{ZipFile: emptyZip},
		Runtime: types.RuntimeProvidedal2023, Handler: aws.String("bootstrap"), Timeout: aws.Int32(30),
		DurableConfig: &types.DurableConfig{ExecutionTimeout: aws.Int32(300)},
	})
	if err != nil {
		e.t.Fatalf("CreateFunction(%s): %v", name, err)
	}
	e.srv.Runtime.Handle(name, durable.Handler(e.client, fn))
}

// plainFn creates a function without DurableConfig running h in-process.
func (e *cliEnv) plainFn(name string, h runtime.HandlerFunc) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	_, err := e.client.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Role: aws.String(defaultRole), Code: &types.FunctionCode{ZipFile: emptyZip},
		Runtime: types.RuntimeProvidedal2023, Handler: aws.String("bootstrap"), Timeout: aws.Int32(30),
	})
	if err != nil {
		e.t.Fatalf("CreateFunction(%s): %v", name, err)
	}
	e.srv.Runtime.Handle(name, h)
}

// await polls an execution until it is not RUNNING and checks its status.
func (e *cliEnv) await(arn string, want types.ExecutionStatus) *lambda.GetDurableExecutionOutput {
	e.t.Helper()
	deadline := time.Now().Add(cliTimeout)
	for {
		d, err := e.client.GetDurableExecution(context.Background(), &lambda.GetDurableExecutionInput{DurableExecutionArn: aws.String(arn), IncludeExecutionData: aws.Bool(true)})
		if err != nil {
			e.t.Fatalf("GetDurableExecution: %v", err)
		}
		if d.Status != types.ExecutionStatusRunning {
			if d.Status != want {
				e.t.Fatalf("execution ended %s (%s), want %s", d.Status, fmtError(d.Error), want)
			}
			return d
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("execution still RUNNING, want %s", want)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// awaitCallbackID polls the history until the execution's first callback
// has started and returns its id.
func (e *cliEnv) awaitCallbackID(arn string) string {
	e.t.Helper()
	deadline := time.Now().Add(cliTimeout)
	for time.Now().Before(deadline) {
		events, err := allEvents(context.Background(), e.client, arn, false)
		if err != nil {
			e.t.Fatalf("history: %v", err)
		}
		for _, ev := range events {
			if ev.CallbackStartedDetails != nil {
				return aws.ToString(ev.CallbackStartedDetails.CallbackId)
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	e.t.Fatal("no CallbackStarted event")
	return ""
}

// decodeJSON parses a command's JSON output.
func decodeJSON[T any](t *testing.T, r cliResult) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("--output json is not JSON (%v):\n%s", err, r)
	}
	return v
}

// oneArn returns the single ARN a command printed.
func oneArn(t *testing.T, r cliResult) string {
	t.Helper()
	arn := strings.TrimSpace(r.stdout)
	if !cliArnPattern.MatchString(arn) || strings.ContainsAny(arn, " \n") {
		t.Fatalf("want one execution ARN on stdout:\n%s", r)
	}
	return arn
}

// wantContains checks that text contains each of wants.
func wantContains(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, text)
		}
	}
}

// greet is a durable function with one step that greets its input's name.
func greet(c *durable.Context, in json.RawMessage) (any, error) {
	var p struct{ Name string }
	if err := json.Unmarshal(in, &p); err != nil {
		return nil, err
	}
	r, err := c.Step("greet", func() (any, error) { return map[string]string{"hello": p.Name}, nil })
	if err != nil {
		return nil, err
	}
	return r, nil
}

// boom is a durable function that fails.
func boom(c *durable.Context, _ json.RawMessage) (any, error) {
	return nil, &durable.Error{Type: "OrderRejected", Message: "out of stock"}
}

// approval waits for a callback (heartbeat timeout 60 s) and returns its
// result.
func approval(c *durable.Context, _ json.RawMessage) (any, error) {
	_, wait := c.Callback("approval", 0, 60)
	r, err := wait()
	if err != nil {
		return nil, err
	}
	return r, nil
}

func TestInvokeSyncAsyncAndJSON(t *testing.T) {
	t.Parallel()
	e := newCLIEnv(t)
	e.durableFn("greet", greet)

	r := e.ok("invoke", "greet", "--payload", `{"name":"ada"}`)
	wantContains(t, "stdout", r.stdout, `"hello": "ada"`)
	wantContains(t, "stderr", r.stderr, "SUCCEEDED")

	r = e.ok("invoke", "greet", "--payload", `{"name":"bob"}`, "--name", "run-bob", "-o", "json")
	res := decodeJSON[struct {
		DurableExecutionArn, Status string
		Result                      map[string]string
	}](t, r)
	if res.Status != "SUCCEEDED" || res.Result["hello"] != "bob" || !cliArnPattern.MatchString(res.DurableExecutionArn) {
		t.Errorf("invoke -o json = %+v", res)
	}
	if !strings.Contains(res.DurableExecutionArn, "/durable-execution/run-bob/") {
		t.Errorf("execution name not used: %s", res.DurableExecutionArn)
	}

	// A payload from a file.
	file := filepath.Join(t.TempDir(), "in.json")
	if err := os.WriteFile(file, []byte(`{"name":"file"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	r = e.ok("invoke", "greet", "--payload", "@"+file)
	wantContains(t, "stdout", r.stdout, `"hello": "file"`)

	arn := oneArn(t, e.ok("invoke", "greet", "--async", "--payload", `{"name":"cy"}`))
	d := e.await(arn, types.ExecutionStatusSucceeded)
	if !strings.Contains(aws.ToString(d.Result), "cy") {
		t.Errorf("async execution result %s", aws.ToString(d.Result))
	}
	// A plain function (no DurableConfig) is invoked once.
	e.plainFn("echo", func(_ context.Context, inv engine.Invocation) (engine.InvocationResponse, error) {
		return engine.InvocationResponse{Payload: inv.Payload}, nil
	})
	r = e.ok("invoke", "echo", "--payload", `{"plain":true}`)
	wantContains(t, "invoke of a plain function", r.stdout, `"plain": true`)
	e.plainFn("crash", func(context.Context, engine.Invocation) (engine.InvocationResponse, error) {
		return engine.InvocationResponse{Payload: []byte(`{"errorType":"Crash","errorMessage":"bad input"}`), FunctionError: "Unhandled"}, nil
	})
	e.fails(exitExecutionFailed, []string{"execution FAILED: Crash: bad input"}, "invoke", "crash")
	e.fails(exitError, []string{"not a durable function"}, "invoke", "echo", "--follow")

	r = e.ok("invoke", "greet", "--async", "--payload", `{"name":"dee"}`, "-o", "json")
	started := decodeJSON[struct {
		DurableExecutionArn string
		StatusCode          int
	}](t, r)
	if started.StatusCode != 202 || !cliArnPattern.MatchString(started.DurableExecutionArn) {
		t.Errorf("invoke --async -o json = %+v", started)
	}
}

func TestInvokeFollow(t *testing.T) {
	t.Parallel()
	e := newCLIEnv(t)
	e.durableFn("flow", func(c *durable.Context, in json.RawMessage) (any, error) {
		if _, err := c.Step("reserve", func() (any, error) { return "reserved", nil }); err != nil {
			return nil, err
		}
		if err := c.Wait("cool-down", 1); err != nil {
			return nil, err
		}
		return c.Step("ship", func() (any, error) { return map[string]bool{"shipped": true}, nil })
	})
	r := e.ok("invoke", "flow", "--follow")
	wantContains(t, "follow output", r.stdout, "Following arn:aws:lambda:", "ExecutionStarted", `step "reserve"`, "StepSucceeded",
		`wait "cool-down"`, "WaitStarted", "WaitSucceeded", `step "ship"`, "ExecutionSucceeded", `"shipped": true`)
	// Lines mode prints each event once.
	if n := strings.Count(r.stdout, "WaitStarted"); n != 1 {
		t.Errorf("WaitStarted printed %d times, want 1:\n%s", n, r.stdout)
	}

	// -o json keeps stdout one JSON document; the live view goes to stderr.
	r = e.ok("invoke", "flow", "--follow", "-o", "json")
	res := decodeJSON[struct{ Status string }](t, r)
	if res.Status != "SUCCEEDED" {
		t.Errorf("status %q", res.Status)
	}
	wantContains(t, "stderr", r.stderr, "WaitSucceeded")
}

func TestInvokeFollowShowsPendingCallback(t *testing.T) {
	t.Parallel()
	e := newCLIEnv(t)
	e.durableFn("approve", approval)
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
		defer cancel()
		done <- run(ctx, []string{"invoke", "approve", "--follow", "--endpoint", e.srv.URL()}, &stdout, &stderr)
	}()
	// The live view shows the pending callback with its id.
	idLine := regexp.MustCompile(`CallbackStarted\s+callback "approval"\s+id (\S+),`)
	var id string
	deadline := time.Now().Add(cliTimeout)
	for id == "" {
		if m := idLine.FindStringSubmatch(stdout.String()); m != nil {
			id = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("no callback id in the live view:\n%s", stdout.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.ok("callback", "succeed", id, "--result", `{"approved":true}`)
	select {
	case code := <-done:
		if code != exitOK {
			t.Fatalf("invoke --follow: exit %d\n%s\n%s", code, stdout.String(), stderr.String())
		}
	case <-time.After(cliTimeout):
		t.Fatal("invoke --follow did not end")
	}
	wantContains(t, "follow output", stdout.String(), "CallbackSucceeded", "ExecutionSucceeded", `"approved": true`)
}

func TestInvokeErrorsAndExitCodes(t *testing.T) {
	t.Parallel()
	e := newCLIEnv(t)
	e.durableFn("boom", boom)
	e.durableFn("greet", greet)

	// The execution failed: exit code 4, the error type and message.
	e.fails(exitExecutionFailed, []string{"Error: execution FAILED: OrderRejected: out of stock", "Hint:", "duro executions history"}, "invoke", "boom")
	e.fails(exitExecutionFailed, []string{"OrderRejected"}, "invoke", "boom", "--follow")
	r := e.fails(exitExecutionFailed, nil, "invoke", "boom", "-o", "json")
	res := decodeJSON[struct {
		Status string
		Error  struct{ ErrorType, ErrorMessage string }
	}](t, r)
	if res.Status != "FAILED" || res.Error.ErrorType != "OrderRejected" {
		t.Errorf("invoke -o json of a failed execution = %+v", res)
	}

	// Usage errors: exit code 2.
	e.fails(exitUsage, []string{"--payload is not valid JSON"}, "invoke", "greet", "--payload", `{"name":`)
	e.fails(exitUsage, []string{"no such file"}, "invoke", "greet", "--payload", "@"+filepath.Join(t.TempDir(), "missing.json"))
	e.fails(exitUsage, []string{"accepts 1 arg"}, "invoke")
	e.fails(exitUsage, []string{"unknown flag: --bogus"}, "invoke", "greet", "--bogus")
	e.fails(exitUsage, []string{"exclude each other"}, "invoke", "greet", "--async", "--follow")
	e.fails(exitUsage, []string{"--output \"yaml\""}, "invoke", "greet", "-o", "yaml")
	e.fails(exitUsage, []string{`unknown command "bogus"`}, "bogus")
	e.fails(exitUsage, []string{`unknown command "bogus"`}, "executions", "bogus")

	// Not found: exit code 3 and a hint.
	e.fails(exitNotFound, []string{"Error: ResourceNotFoundException: ", "Hint: list the functions with `duro functions list`"}, "invoke", "nope")

	// No server: exit code 1 and a hint.
	r = cliRun(t, "http://127.0.0.1:1", "invoke", "greet")
	if r.code != exitError || !strings.Contains(r.stderr, "is `duro serve` running at http://127.0.0.1:1?") {
		t.Errorf("invoke without a server:\n%s", r)
	}
	// DURO_ENDPOINT is only the default: the tests pass --endpoint.
	if !strings.Contains(cliRun(t, "", "invoke", "--help").stdout, "DURO_ENDPOINT") {
		t.Error("invoke --help does not mention DURO_ENDPOINT")
	}
}

func TestExecutionsListGetHistoryStop(t *testing.T) {
	t.Parallel()
	e := newCLIEnv(t)
	e.durableFn("greet", greet)
	e.durableFn("sleeper", func(c *durable.Context, _ json.RawMessage) (any, error) {
		return nil, c.Wait("nap", 300)
	})
	var arns []string
	for _, n := range []string{"o-1", "o-2", "o-3"} {
		r := e.ok("invoke", "greet", "--name", n, "--payload", `{"name":"`+n+`"}`, "-o", "json")
		arns = append(arns, decodeJSON[struct{ DurableExecutionArn string }](t, r).DurableExecutionArn)
		time.Sleep(5 * time.Millisecond) // distinct start times
	}
	sleeper := oneArn(t, e.ok("invoke", "sleeper", "--async", "--name", "s-1"))

	// list: every function by default.
	r := e.ok("executions", "list")
	wantContains(t, "executions list", r.stdout, "STATUS", "NAME", "FUNCTION", "STARTED", "o-1", "o-2", "o-3", "s-1", "greet:$LATEST", arns[0], sleeper)
	// Filters, newest first, and JSON.
	r = e.ok("executions", "list", "--function", "greet", "--status", "succeeded", "--limit", "2", "-o", "json")
	list := decodeJSON[struct {
		DurableExecutions []struct{ DurableExecutionArn, DurableExecutionName, Status, StartTimestamp string }
	}](t, r)
	if len(list.DurableExecutions) != 2 || list.DurableExecutions[0].DurableExecutionName != "o-3" || list.DurableExecutions[1].DurableExecutionName != "o-2" {
		t.Errorf("list --limit 2 -o json = %+v", list)
	}
	for _, x := range list.DurableExecutions {
		if x.Status != "SUCCEEDED" || x.StartTimestamp == "" {
			t.Errorf("listed %+v", x)
		}
	}
	r = e.ok("executions", "list", "--status", "RUNNING")
	if !strings.Contains(r.stdout, "s-1") || strings.Contains(r.stdout, "o-1") {
		t.Errorf("list --status RUNNING:\n%s", r.stdout)
	}
	r = e.ok("executions", "list", "--name", "o-2", "--since", "1h")
	if !strings.Contains(r.stdout, "o-2") || strings.Contains(r.stdout, "o-1") {
		t.Errorf("list --name o-2:\n%s", r.stdout)
	}
	r = e.ok("executions", "list", "--since", "2200-01-01")
	wantContains(t, "list --since future", r.stdout, "No executions found.")
	e.fails(exitUsage, []string{"--since"}, "executions", "list", "--since", "yesterday")
	e.fails(exitUsage, []string{"--status \"DONE\""}, "executions", "list", "--status", "done")
	e.fails(exitNotFound, []string{"ResourceNotFoundException"}, "executions", "list", "--function", "nope")

	// get
	r = e.ok("executions", "get", arns[0])
	wantContains(t, "executions get", r.stdout, "ARN", arns[0], "Name", "o-1", "Status", "SUCCEEDED", "Input", `"name": "o-1"`, "Result", `"hello": "o-1"`, "Duration")
	got := decodeJSON[struct {
		DurableExecutionArn, Status, Result, InputPayload string
	}](t, e.ok("executions", "get", arns[0], "-o", "json"))
	if got.DurableExecutionArn != arns[0] || got.Status != "SUCCEEDED" || !strings.Contains(got.Result, "o-1") {
		t.Errorf("get -o json = %+v", got)
	}

	// history
	r = e.ok("executions", "history", arns[0])
	wantContains(t, "executions history", r.stdout, "EVENT", "OPERATION", "ExecutionStarted", "StepStarted", "StepSucceeded",
		`step "greet"`, `result {"hello":"o-1"}`, "InvocationCompleted", "ExecutionSucceeded")
	hist := decodeJSON[struct {
		Events []struct {
			EventType string
			EventId   int
		}
	}](t, e.ok("executions", "history", arns[0], "-o", "json"))
	if len(hist.Events) < 4 || hist.Events[0].EventType != "ExecutionStarted" || hist.Events[0].EventId != 1 {
		t.Errorf("history -o json = %+v", hist)
	}

	// logs of an in-process function: none, but the command works.
	e.ok("executions", "logs", arns[0])
	logs := decodeJSON[struct{ Logs []any }](t, e.ok("executions", "logs", arns[0], "-o", "json"))
	if logs.Logs == nil || len(logs.Logs) != 0 {
		t.Errorf("logs -o json of an in-process function = %+v", logs)
	}

	// stop
	r = e.ok("executions", "stop", sleeper, "--error-type", "Manual", "--error-message", "enough")
	wantContains(t, "executions stop", r.stdout, "Stopped "+sleeper)
	d := e.await(sleeper, types.ExecutionStatusStopped)
	if aws.ToString(d.Error.ErrorMessage) != "enough" {
		t.Errorf("stop error = %s", fmtError(d.Error))
	}
	r = e.ok("executions", "get", sleeper)
	wantContains(t, "get of a stopped execution", r.stdout, "STOPPED", "Manual: enough")
	stopped := oneArn(t, e.ok("invoke", "sleeper", "--async"))
	stop := decodeJSON[struct{ StopTimestamp string }](t, e.ok("executions", "stop", stopped, "-o", "json"))
	if stop.StopTimestamp == "" {
		t.Errorf("stop -o json = %+v", stop)
	}
	e.fails(exitExecutionFailed, []string{"execution STOPPED"}, "invoke", "sleeper", "--follow", "--name", "s-1")

	// An unknown execution: exit code 3 and the hint, for every command.
	unknown := strings.Replace(arns[0], "/o-1/", "/nobody/", 1)
	for _, sub := range []string{"get", "history", "logs", "stop"} {
		e.fails(exitNotFound, []string{"Error: ResourceNotFoundException: ", "Hint: check the ARN with `duro executions list`"}, "executions", sub, unknown)
	}
	e.fails(exitUsage, []string{"accepts 1 arg"}, "executions", "get")
	e.fails(exitError, []string{"InvalidParameterValueException", "Hint: check the ARN with `duro executions list`"}, "executions", "get", "not-an-arn")
}

func TestSendCallbackCommands(t *testing.T) {
	t.Parallel()
	e := newCLIEnv(t)
	e.durableFn("approve", approval)

	arn := oneArn(t, e.ok("invoke", "approve", "--async"))
	id := e.awaitCallbackID(arn)
	r := e.ok("callback", "heartbeat", id)
	wantContains(t, "callback heartbeat", r.stdout, "Heartbeat sent")
	if out := decodeJSON[map[string]any](t, e.ok("callback", "heartbeat", id, "-o", "json")); len(out) != 0 {
		t.Errorf("heartbeat -o json = %v, want {}", out)
	}
	e.fails(exitUsage, []string{"--result is not valid JSON"}, "callback", "succeed", id, "--result", "approved")
	e.ok("callback", "succeed", id, "--result", `{"approved":true}`)
	d := e.await(arn, types.ExecutionStatusSucceeded)
	if aws.ToString(d.Result) != `{"approved":true}` {
		t.Errorf("result %s", aws.ToString(d.Result))
	}
	// The callback is complete: it cannot be completed again.
	e.fails(exitError, []string{"CallbackTimeoutException", "Hint: the callback was already completed"}, "callback", "succeed", id)

	arn = oneArn(t, e.ok("invoke", "approve", "--async"))
	id = e.awaitCallbackID(arn)
	r = e.ok("callback", "fail", id, "--error-type", "Rejected", "--error-message", "card declined", "--error-data", `{"code":42}`)
	wantContains(t, "callback fail", r.stdout, "Callback failed")
	d = e.await(arn, types.ExecutionStatusFailed)
	if !strings.Contains(fmtError(d.Error), "card declined") {
		t.Errorf("execution error %s", fmtError(d.Error))
	}
	e.fails(exitNotFound, []string{"Hint: check the callback id"}, "callback", "heartbeat", "bm90LWEtY2FsbGJhY2s")
	e.fails(exitUsage, []string{"accepts 1 arg"}, "callback", "fail")
}

func TestFunctionsCommands(t *testing.T) {
	t.Parallel()
	e := newCLIEnv(t)
	dir := t.TempDir()
	zipFile := filepath.Join(dir, "code.zip")
	if err := os.WriteFile(zipFile, emptyZip, 0o644); err != nil {
		t.Fatal(err)
	}
	r := e.ok("functions", "create", "orders", "--runtime", "provided.al2023", "--handler", "bootstrap", "--zip", zipFile,
		"--timeout", "10", "--memory", "256", "--env", "MODE=1", "--env", "EXTRA=x=y", "--durable-timeout", "60", "--retention-days", "3")
	wantContains(t, "functions create", r.stdout, "Created arn:aws:lambda:us-east-1:123456789012:function:orders", "durable: yes (timeout 1m00s, retention 3d)")

	code := filepath.Join(dir, "src")
	if err := os.MkdirAll(filepath.Join(code, "lib"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"index.js": "exports.handler = async () => 1;\n", "lib/util.js": "module.exports = {};\n"} {
		if err := os.WriteFile(filepath.Join(code, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	created := decodeJSON[struct {
		FunctionName, Runtime string
		CodeSize              int64
	}](t, e.ok("functions", "create", "plain", "--runtime", "nodejs22.x", "--handler", "index.handler", "--code-dir", code, "-o", "json"))
	if created.FunctionName != "plain" || created.Runtime != "nodejs22.x" || created.CodeSize == 0 {
		t.Errorf("create -o json = %+v", created)
	}
	// The directory was zipped with its layout.
	b, err := runtime.ZipDir(code)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	if strings.Join(names, ",") != "index.js,lib/util.js" {
		t.Errorf("zipped %v", names)
	}

	r = e.ok("functions", "list")
	wantContains(t, "functions list", r.stdout, "NAME", "RUNTIME", "DURABLE", "orders", "plain", "provided.al2023", "nodejs22.x")
	fl := decodeJSON[struct {
		Functions []struct{ FunctionName string }
	}](t, e.ok("functions", "list", "-o", "json"))
	if len(fl.Functions) != 2 || fl.Functions[0].FunctionName != "orders" {
		t.Errorf("list -o json = %+v", fl)
	}

	r = e.ok("functions", "get", "orders")
	wantContains(t, "functions get", r.stdout, "orders", "provided.al2023", "bootstrap", "timeout 1m00s", "retention 3d", "256 MB", "EXTRA=x=y MODE=1", "10s", "$LATEST")
	fg := decodeJSON[struct {
		Configuration struct {
			FunctionName  string
			DurableConfig struct{ ExecutionTimeout, RetentionPeriodInDays int }
		}
	}](t, e.ok("functions", "get", "orders", "-o", "json"))
	if fg.Configuration.DurableConfig.ExecutionTimeout != 60 || fg.Configuration.DurableConfig.RetentionPeriodInDays != 3 {
		t.Errorf("get -o json = %+v", fg)
	}

	// Managed instances: the flags set CapacityProviderConfig, get shows it.
	e.ok("functions", "create", "shared", "--runtime", "nodejs22.x", "--handler", "index.handler", "--code-dir", code, "--environment-concurrency", "5")
	r = e.ok("functions", "get", "shared")
	wantContains(t, "functions get (managed instances)", r.stdout, "Managed instances", "arn:aws:lambda:us-east-1:123456789012:capacity-provider:duro, up to 5 invocations per worker")
	e.ok("functions", "create", "shared2", "--runtime", "nodejs22.x", "--handler", "index.handler", "--code-dir", code,
		"--capacity-provider", "arn:aws:lambda:us-east-1:123456789012:capacity-provider:fleet")
	r = e.ok("functions", "get", "shared2")
	wantContains(t, "functions get (managed instances, default)", r.stdout, "capacity-provider:fleet, up to the runtime's default number of invocations per worker")
	if r := e.ok("functions", "get", "orders"); strings.Contains(r.stdout, "Managed instances") {
		t.Errorf("a function without CapacityProviderConfig shows managed instances:\n%s", r.stdout)
	}
	e.fails(exitError, []string{"InvalidParameterValueException", "perExecutionEnvironmentMaxConcurrency"},
		"functions", "create", "bad", "--runtime", "nodejs22.x", "--handler", "index.handler", "--code-dir", code, "--environment-concurrency", "2000")

	r = e.ok("functions", "delete", "plain")
	wantContains(t, "functions delete", r.stdout, "Deleted plain")
	e.fails(exitNotFound, []string{"ResourceNotFoundException", "Hint: list the functions with `duro functions list`"}, "functions", "get", "plain")
	e.fails(exitNotFound, []string{"ResourceNotFoundException"}, "functions", "delete", "plain")

	// Errors.
	e.fails(exitError, []string{"ResourceConflictException"}, "functions", "create", "orders", "--runtime", "provided.al2023", "--handler", "bootstrap", "--zip", zipFile)
	e.fails(exitUsage, []string{"--runtime is required"}, "functions", "create", "x", "--handler", "h", "--zip", zipFile)
	e.fails(exitUsage, []string{"exactly one of --zip FILE and --code-dir DIR"}, "functions", "create", "x", "--runtime", "nodejs22.x", "--handler", "h", "--zip", zipFile, "--code-dir", code)
	e.fails(exitUsage, []string{"want KEY=VALUE"}, "functions", "create", "x", "--runtime", "nodejs22.x", "--handler", "h", "--zip", zipFile, "--env", "NOVALUE")
	e.fails(exitUsage, []string{"is not a directory"}, "functions", "create", "x", "--runtime", "nodejs22.x", "--handler", "h", "--code-dir", zipFile)
}

// nodeLogFlow is a Node.js durable handler (speaking the invocation
// envelope itself) that logs, checkpoints a one-second wait on its first
// invocation, and succeeds on the next.
const nodeLogFlow = `
exports.handler = async (event) => {
  const ops = event.InitialExecutionState.Operations;
  const input = JSON.parse(ops[0].ExecutionDetails.InputPayload || "{}");
  if (!ops.find((o) => o.Id === "w1")) {
    console.log("first invocation for " + input.name);
    const url = process.env.AWS_ENDPOINT_URL_LAMBDA + "/2025-12-01/durable-executions/" +
      encodeURIComponent(event.DurableExecutionArn) + "/checkpoint";
    const res = await fetch(url, {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ CheckpointToken: event.CheckpointToken,
        Updates: [{ Id: "w1", Type: "WAIT", Action: "START", WaitOptions: { WaitSeconds: 1 } }] }),
    });
    if (!res.ok) throw new Error("checkpoint " + res.status + ": " + (await res.text()));
    return { Status: "PENDING" };
  }
  console.error("second invocation for " + input.name);
  return { Status: "SUCCEEDED", Result: JSON.stringify({ done: input.name }) };
};
`

func TestExecutionsLogsNode(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skipf("node not installed: %v", err)
	}
	e := newCLIEnv(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.js"), []byte(nodeLogFlow), 0o644); err != nil {
		t.Fatal(err)
	}
	e.ok("functions", "create", "node-logs", "--runtime", "nodejs22.x", "--handler", "index.handler", "--code-dir", dir,
		"--timeout", "30", "--durable-timeout", "120")

	// --follow prints the lines as they come and ends with the execution.
	arn := oneArn(t, e.ok("invoke", "node-logs", "--async", "--payload", `{"name":"ada"}`))
	r := e.ok("executions", "logs", arn, "--follow")
	wantContains(t, "logs --follow", r.stdout, "stdout first invocation for ada", "stderr second invocation for ada")
	e.await(arn, types.ExecutionStatusSucceeded)

	r = e.ok("executions", "logs", arn)
	wantContains(t, "logs", r.stdout, "first invocation for ada", "second invocation for ada")
	logs := decodeJSON[struct {
		Logs []struct {
			Message, Stream, DurableExecutionArn, FunctionName string
		}
		NextToken string
	}](t, e.ok("executions", "logs", arn, "-o", "json"))
	var messages []string
	for _, l := range logs.Logs {
		if l.DurableExecutionArn != arn || l.FunctionName != "node-logs" {
			t.Errorf("log line %+v", l)
		}
		messages = append(messages, l.Stream+" "+l.Message)
	}
	wantContains(t, "logs -o json", strings.Join(messages, "\n"), "stdout first invocation for ada", "stderr second invocation for ada")
	if logs.NextToken == "" {
		t.Error("logs -o json: no NextToken")
	}
	// --follow with JSON: one object per line.
	r = e.ok("executions", "logs", arn, "--follow", "-o", "json")
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var l logEvent
		if err := json.Unmarshal([]byte(line), &l); err != nil || l.Message == "" {
			t.Errorf("logs --follow -o json line %q: %v", line, err)
		}
	}

	// The sync result of the Node function, through the CLI.
	r = e.ok("invoke", "node-logs", "--payload", `{"name":"bo"}`)
	wantContains(t, "invoke node", r.stdout, `"done": "bo"`)
}

func TestProgressViewRedrawsOnTerminal(t *testing.T) {
	t.Parallel()
	start := time.Now().Add(-2 * time.Second)
	at := func(d time.Duration) *time.Time { t := start.Add(d); return &t }
	until := start.Add(time.Minute)
	events := []types.Event{
		{EventId: aws.Int32(1), EventType: types.EventTypeExecutionStarted, EventTimestamp: at(0), Id: aws.String("x"), Name: aws.String("run-1"),
			ExecutionStartedDetails: &types.ExecutionStartedDetails{}},
		{EventId: aws.Int32(2), EventType: types.EventTypeStepStarted, EventTimestamp: at(10 * time.Millisecond), Id: aws.String("1"), Name: aws.String("charge"),
			StepStartedDetails: &types.StepStartedDetails{}},
		{EventId: aws.Int32(3), EventType: types.EventTypeStepSucceeded, EventTimestamp: at(20 * time.Millisecond), Id: aws.String("1"), Name: aws.String("charge"),
			StepSucceededDetails: &types.StepSucceededDetails{}},
		{EventId: aws.Int32(4), EventType: types.EventTypeWaitStarted, EventTimestamp: at(30 * time.Millisecond), Id: aws.String("2"), Name: aws.String("cool-down"),
			WaitStartedDetails: &types.WaitStartedDetails{Duration: aws.Int32(60), ScheduledEndTimestamp: &until}},
	}
	var out bytes.Buffer
	v := newProgressView(&out, true, 60)
	v.update(buildProgress("arn:x", events[:3]), events[:3], time.Now())
	first := out.String()
	wantContains(t, "first frame", first, "Following arn:x", "Execution  run-1  RUNNING", `Steps      1 done of 1: step "charge" ✓`)
	if strings.Contains(first, "\x1b[") {
		t.Errorf("first frame moves the cursor:\n%q", first)
	}
	events = append(events, types.Event{EventId: aws.Int32(5), EventType: types.EventTypeCallbackStarted, EventTimestamp: at(40 * time.Millisecond),
		Id: aws.String("3"), Name: aws.String("approval"), CallbackStartedDetails: &types.CallbackStartedDetails{CallbackId: aws.String("CB-123")}})
	v.update(buildProgress("arn:x", events), events, time.Now())
	second := out.String()[len(first):]
	if !strings.HasPrefix(second, "\x1b[3A\r\x1b[J") {
		t.Errorf("second frame does not redraw the 3 lines of the first:\n%q", second)
	}
	wantContains(t, "second frame", second, `Now        callback "approval" pending`, "id CB-123", `Wait       wait "cool-down" 5`, "left (until",
		"complete it: duro callback succeed CB-123")
	for _, line := range strings.Split(strings.TrimSuffix(second, "\n"), "\n") {
		if n := len([]rune(strings.TrimPrefix(line, "\x1b[3A\r\x1b[J"))); n > 59 {
			t.Errorf("line of %d runes on a 60-column terminal: %q", n, line)
		}
	}
}

func TestShellCompletionAndHelp(t *testing.T) {
	t.Parallel()
	e := newCLIEnv(t)
	e.durableFn("greet", greet)
	e.durableFn("grow", greet)
	e.durableFn("other", greet)

	r := cliRun(t, "", "completion", "bash")
	if r.code != exitOK || !strings.Contains(r.stdout, "bash completion") {
		t.Errorf("completion bash:\n%s", r)
	}
	r = cliRun(t, "", "__complete", "functions", "get", "--endpoint", e.srv.URL(), "gr")
	if r.code != exitOK || !strings.Contains(r.stdout, "greet\ngrow\n:4") {
		t.Errorf("completion of function names:\n%s", r)
	}
	r = cliRun(t, "", "__complete", "executions", "list", "--endpoint", e.srv.URL(), "--status", "")
	wantContains(t, "completion of --status", r.stdout, "RUNNING", "TIMED_OUT")

	for _, args := range [][]string{{"--help"}, {"invoke", "--help"}, {"executions", "--help"}, {"callback", "--help"}, {"functions", "--help"}} {
		r := cliRun(t, "", args...)
		if r.code != exitOK {
			t.Errorf("duro %v: %s", args, r)
		}
		wantContains(t, strings.Join(args, " "), r.stdout, "Exit codes:", "3  not found")
	}
}

func TestOutputHelpers(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 4, 15, 0, 0, 0, time.Local)
	for d, want := range map[time.Duration]string{
		850 * time.Millisecond: "850ms", 12300 * time.Millisecond: "12.3s", 245 * time.Second: "4m05s",
		127 * time.Minute: "2h07m", 76 * time.Hour: "3d04h",
	} {
		if got := fmtDuration(d); got != want {
			t.Errorf("fmtDuration(%v) = %q, want %q", d, got, want)
		}
	}
	ago := now.Add(-3 * time.Minute)
	if got := fmtTime(&ago, now); got != "14:57:00 (3m00s ago)" {
		t.Errorf("fmtTime = %q", got)
	}
	old := now.Add(-48 * time.Hour)
	if got := fmtTime(&old, now); !strings.HasPrefix(got, "2026-03-02 15:00:00 (2d00h ago)") {
		t.Errorf("fmtTime of another day = %q", got)
	}
	for in, want := range map[string]time.Time{
		"90m": now.Add(-90 * time.Minute), "2d": now.Add(-48 * time.Hour),
		"2026-03-01": time.Date(2026, 3, 1, 0, 0, 0, 0, time.Local), "2026-03-01 10:30": time.Date(2026, 3, 1, 10, 30, 0, 0, time.Local),
		"2026-03-01T10:30:00Z": time.Date(2026, 3, 1, 10, 30, 0, 0, time.UTC),
	} {
		got, err := parseSince(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseSince(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := parseSince("soon", now); exitCodeOf(err) != exitUsage {
		t.Errorf("parseSince(soon) = %v, want a usage error", err)
	}
	var buf bytes.Buffer
	if err := writeJSON(&buf, &lambda.StopDurableExecutionOutput{StopTimestamp: &now}); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil || len(m) != 1 || m["StopTimestamp"] == nil {
		t.Errorf("writeJSON = %s (%v); want only StopTimestamp", buf.String(), err)
	}
	if code := exitCodeOf(errors.New("x")); code != exitError {
		t.Errorf("exitCodeOf(plain error) = %d", code)
	}
}
