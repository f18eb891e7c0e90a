package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/duro-run/duro/internal/durable"
)

// These tests drive `duro dex-local-runner start-server` the way SAM CLI
// drives AWS's emulator (landscape.md §1.3): readiness on /health, starts
// through POST /start-durable-execution with the function behind a
// Lambda-compatible endpoint (here a fake Runtime Interface Emulator serving
// a durable handler written with internal/durable), then GetDurableExecution
// polling, history scans and callback completion with aws-sdk-go-v2.

// dexTimeout bounds every wait of these tests.
const dexTimeout = 60 * time.Second

// dexServingLine matches server.Start's announcement (slog text format).
var dexServingLine = regexp.MustCompile(`msg="duro serving" addr=(\S+)`)

// dexLog collects a server's log output and reports the listening address.
type dexLog struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	partial []byte
	addr    chan string
	found   bool
}

func newDexLog() *dexLog { return &dexLog{addr: make(chan string, 1)} }

func (l *dexLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		line := string(l.partial[:i])
		l.partial = l.partial[i+1:]
		if m := dexServingLine.FindStringSubmatch(line); m != nil && !l.found {
			l.found = true
			l.addr <- m[1]
		}
	}
	return len(p), nil
}

func (l *dexLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// dexRunner is an in-process `duro dex-local-runner start-server`, run
// through the real command constructor and flag parsing.
type dexRunner struct {
	url    string
	log    *dexLog
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

// startDexRunner runs `duro dex-local-runner start-server args...` and waits
// until it answers GET /health with 200, as SAM CLI does.
func startDexRunner(t *testing.T, args ...string) *dexRunner {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &dexRunner{log: newDexLog(), cancel: cancel, done: make(chan error, 1)}
	root := newRootCommand()
	root.SetArgs(append([]string{"dex-local-runner", "start-server"}, args...))
	root.SetOut(r.log)
	root.SetErr(r.log)
	go func() { r.done <- root.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		r.stop(t)
		if t.Failed() {
			t.Logf("runner output:\n%s", r.log)
		}
	})
	select {
	case addr := <-r.log.addr:
		r.url = "http://" + addr
	case err := <-r.done:
		t.Fatalf("start-server exited before serving: %v\n%s", err, r.log)
	case <-time.After(dexTimeout):
		t.Fatalf("start-server did not serve within %s\n%s", dexTimeout, r.log)
	}
	deadline := time.Now().Add(30 * time.Second) // SAM's readiness budget
	for {
		resp, err := http.Get(r.url + "/health")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				if string(body) != `{"status":"healthy"}` {
					t.Fatalf("GET /health body %q", body)
				}
				return r
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /health never answered 200 (last error %v)", err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// stop ends the server (as SIGTERM would) and waits for the command to
// return.
func (r *dexRunner) stop(t *testing.T) {
	r.once.Do(func() {
		r.cancel()
		select {
		case err := <-r.done:
			if err != nil {
				t.Errorf("start-server returned %v", err)
			}
		case <-time.After(dexTimeout):
			t.Errorf("start-server did not stop within %s", dexTimeout)
		}
	})
}

// fakeRIE is a stand-in for a function container's Runtime Interface
// Emulator: it serves Lambda's Invoke API for the fixed function name SAM
// uses ("function") and runs a durable handler whose Lambda client points
// at the runner (AWS_ENDPOINT_URL_LAMBDA in SAM's containers).
type fakeRIE struct {
	*httptest.Server
	hits atomic.Int32
}

func newFakeRIE(t *testing.T, runnerURL string, fn durable.Func) *fakeRIE {
	t.Helper()
	client := durable.NewClient(runnerURL)
	rie := &fakeRIE{}
	h := durable.HTTPHandler(client, fn)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2015-03-31/functions/function/invocations", func(w http.ResponseWriter, r *http.Request) {
		rie.hits.Add(1)
		h.ServeHTTP(w, r)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("fake RIE: unexpected %s %s", r.Method, r.URL)
		http.NotFound(w, r)
	})
	rie.Server = httptest.NewServer(mux)
	t.Cleanup(func() {
		durable.CloseIdleConnections(client)
		rie.Close()
	})
	return rie
}

// samHandler is the durable function behind the fake RIE. Input
// {"mode":"steps","name":N} runs two steps around a one-second wait;
// {"mode":"callback"} waits for a callback and returns its result.
func samHandler(c *durable.Context, input json.RawMessage) (any, error) {
	var in struct{ Mode, Name string }
	if err := json.Unmarshal(input, &in); err != nil {
		return nil, fmt.Errorf("bad input %s: %w", input, err)
	}
	switch in.Mode {
	case "steps":
		greeting, err := c.Step("greet", func() (any, error) { return "hello " + in.Name, nil })
		if err != nil {
			return nil, err
		}
		if err := c.Wait("pause", 1); err != nil {
			return nil, err
		}
		n, err := c.Step("count", func() (any, error) { return 42, nil })
		if err != nil {
			return nil, err
		}
		return map[string]json.RawMessage{"greeting": greeting, "n": n}, nil
	case "callback":
		_, wait := c.Callback("approval", 120, 0)
		res, err := wait()
		if err != nil {
			return nil, err
		}
		return map[string]json.RawMessage{"approval": res}, nil
	}
	return nil, fmt.Errorf("unknown mode %q", in.Mode)
}

// samStart posts /start-durable-execution with the body SAM CLI sends
// (durable_functions_emulator_container.start_durable_execution) and
// returns the ExecutionArn of the 201 answer.
func samStart(t *testing.T, runnerURL string, body map[string]any) string {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(runnerURL+"/start-durable-execution", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatalf("POST /start-durable-execution: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /start-durable-execution: %d %s", resp.StatusCode, raw)
	}
	var out struct{ ExecutionArn string }
	if err := json.Unmarshal(raw, &out); err != nil || out.ExecutionArn == "" {
		t.Fatalf("POST /start-durable-execution answered %s (%v)", raw, err)
	}
	return out.ExecutionArn
}

// samBody is SAM CLI's start body for the fixed function name.
func samBody(name, input string, timeout, retention any) map[string]any {
	return map[string]any{
		"AccountId":                    "123456789012",
		"FunctionName":                 "function",
		"FunctionQualifier":            "$LATEST",
		"ExecutionName":                name,
		"ExecutionTimeoutSeconds":      timeout,
		"ExecutionRetentionPeriodDays": retention,
		"Input":                        input,
	}
}

// awaitDone polls GetDurableExecution until the execution is not RUNNING,
// as SAM CLI does for a RequestResponse invoke.
func awaitDone(t *testing.T, client *lambda.Client, arn string) *lambda.GetDurableExecutionOutput {
	t.Helper()
	deadline := time.Now().Add(dexTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		out, err := client.GetDurableExecution(ctx, &lambda.GetDurableExecutionInput{DurableExecutionArn: aws.String(arn)})
		cancel()
		if err != nil {
			t.Fatalf("GetDurableExecution: %v", err)
		}
		if out.Status != types.ExecutionStatusRunning {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still RUNNING after %s", arn, dexTimeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// history returns an execution's events.
func history(t *testing.T, client *lambda.Client, arn string) []types.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := client.GetDurableExecutionHistory(ctx, &lambda.GetDurableExecutionHistoryInput{
		DurableExecutionArn: aws.String(arn), IncludeExecutionData: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("GetDurableExecutionHistory: %v", err)
	}
	return out.Events
}

// eventTypes lists the types of events, without InvocationCompleted
// (whose number depends on scheduling).
func eventTypes(events []types.Event) []string {
	var out []string
	for _, e := range events {
		if e.EventType != types.EventTypeInvocationCompleted {
			out = append(out, string(e.EventType))
		}
	}
	return out
}

// listExecutions calls the emulator-only GET /2025-12-01/durable-executions.
func listExecutions(t *testing.T, runnerURL, query string) (names []string, next string) {
	t.Helper()
	resp, err := http.Get(runnerURL + "/2025-12-01/durable-executions?" + query)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		DurableExecutions []struct{ DurableExecutionName, Status string }
		NextMarker        string
	}
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &out) != nil {
		t.Fatalf("GET /2025-12-01/durable-executions?%s: %d %s", query, resp.StatusCode, raw)
	}
	for _, e := range out.DurableExecutions {
		names = append(names, e.DurableExecutionName)
	}
	return names, out.NextMarker
}

func TestDexLocalRunnerSAMFlow(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), ".durable-executions-local")
	storePath := filepath.Join(dataDir, "durable-executions.db")
	runner := startDexRunner(t, "--host", "127.0.0.1", "--port", "0", "--log-level", "INFO",
		"--lambda-endpoint", "http://127.0.0.1:1", // nothing listens: every start below names its endpoint or sets one
		"--store-type", "sqlite", "--store-path", storePath)
	client := durable.NewClient(runner.url)
	defer durable.CloseIdleConnections(client)
	rieA := newFakeRIE(t, runner.url, samHandler)
	rieB := newFakeRIE(t, runner.url, samHandler)
	ctx, cancel := context.WithTimeout(context.Background(), dexTimeout)
	defer cancel()

	// Steps and a wait, with the endpoint in the request (sam local invoke).
	body := samBody("sam-steps", `{"mode":"steps","name":"duro"}`, 120, 7)
	body["LambdaEndpoint"] = rieA.URL
	stepsArn := samStart(t, runner.url, body)
	out := awaitDone(t, client, stepsArn)
	if out.Status != types.ExecutionStatusSucceeded || aws.ToString(out.Result) != `{"greeting":"hello duro","n":42}` {
		t.Fatalf("steps execution: %s result %s error %+v", out.Status, aws.ToString(out.Result), out.Error)
	}
	if aws.ToString(out.DurableExecutionName) != "sam-steps" {
		t.Fatalf("name %q", aws.ToString(out.DurableExecutionName))
	}
	events := history(t, client, stepsArn)
	want := []string{"ExecutionStarted", "StepStarted", "StepSucceeded", "WaitStarted", "WaitSucceeded",
		"StepStarted", "StepSucceeded", "ExecutionSucceeded"}
	if got := eventTypes(events); !slices.Equal(got, want) {
		t.Fatalf("history %v, want %v", got, want)
	}
	if d := events[0].ExecutionStartedDetails; d == nil || aws.ToInt32(d.ExecutionTimeout) != 120 {
		t.Fatalf("ExecutionStarted details %+v, want ExecutionTimeout 120", d)
	}
	if n := rieA.hits.Load(); n < 2 {
		t.Fatalf("the wait should have caused a second invocation of the RIE; got %d", n)
	}
	fn, err := client.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("function")})
	if err != nil {
		t.Fatalf("GetFunctionConfiguration: %v", err)
	}
	if dc := fn.DurableConfig; dc == nil || aws.ToInt32(dc.ExecutionTimeout) != 120 || aws.ToInt32(dc.RetentionPeriodInDays) != 7 || aws.ToInt32(fn.Timeout) != 900 {
		t.Fatalf("registered function: timeout %d, DurableConfig %+v", aws.ToInt32(fn.Timeout), fn.DurableConfig)
	}

	// The same name and input again is the same execution, as with Invoke.
	if again := samStart(t, runner.url, body); again != stepsArn {
		t.Fatalf("restart by name gave %s, want %s", again, stepsArn)
	}

	// PUT /lambda-endpoint, then a start without LambdaEndpoint: a callback
	// found in the history and completed through the API, as SAM prompts.
	put, err := http.NewRequest(http.MethodPut, runner.url+"/lambda-endpoint",
		strings.NewReader(`{"EndpointUrl":"`+rieB.URL+`","RegionName":"us-east-1"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(put)
	if err != nil {
		t.Fatalf("PUT /lambda-endpoint: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT /lambda-endpoint: %d", resp.StatusCode)
	}
	hitsA := rieA.hits.Load()
	cbArn := samStart(t, runner.url, samBody("sam-callback", `{"mode":"callback"}`, 300, nil))
	var callbackID string
	for deadline := time.Now().Add(dexTimeout); callbackID == ""; {
		for _, e := range history(t, client, cbArn) {
			if e.EventType == types.EventTypeCallbackStarted && e.CallbackStartedDetails != nil {
				callbackID = aws.ToString(e.CallbackStartedDetails.CallbackId)
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("no CallbackStarted event")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := client.SendDurableExecutionCallbackSuccess(ctx, &lambda.SendDurableExecutionCallbackSuccessInput{
		CallbackId: aws.String(callbackID), Result: []byte(`{"approved":true}`),
	}); err != nil {
		t.Fatalf("SendDurableExecutionCallbackSuccess: %v", err)
	}
	out = awaitDone(t, client, cbArn)
	if out.Status != types.ExecutionStatusSucceeded || aws.ToString(out.Result) != `{"approval":{"approved":true}}` {
		t.Fatalf("callback execution: %s result %s error %+v", out.Status, aws.ToString(out.Result), out.Error)
	}
	want = []string{"ExecutionStarted", "CallbackStarted", "CallbackSucceeded", "ExecutionSucceeded"}
	if got := eventTypes(history(t, client, cbArn)); !slices.Equal(got, want) {
		t.Fatalf("history %v, want %v", got, want)
	}
	if rieB.hits.Load() < 2 || rieA.hits.Load() != hitsA {
		t.Fatalf("after PUT /lambda-endpoint: RIE B got %d invocations, RIE A %d more", rieB.hits.Load(), rieA.hits.Load()-hitsA)
	}
	// The per-execution timeout became the function's DurableConfig; the
	// first execution kept its own.
	fn, err = client.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("function")})
	if err != nil || aws.ToInt32(fn.DurableConfig.ExecutionTimeout) != 300 || aws.ToInt32(fn.DurableConfig.RetentionPeriodInDays) != 7 {
		t.Fatalf("DurableConfig after the second start: %+v (%v)", fn.DurableConfig, err)
	}
	if d := history(t, client, cbArn)[0].ExecutionStartedDetails; aws.ToInt32(d.ExecutionTimeout) != 300 {
		t.Fatalf("second execution's timeout %d", aws.ToInt32(d.ExecutionTimeout))
	}

	// The emulator's list across functions.
	if names, next := listExecutions(t, runner.url, ""); !slices.Equal(names, []string{"sam-callback", "sam-steps"}) || next != "" {
		t.Fatalf("list: %v next %q", names, next)
	}
	if names, _ := listExecutions(t, runner.url, "ReverseOrder=true&StatusFilter=SUCCEEDED"); !slices.Equal(names, []string{"sam-steps", "sam-callback"}) {
		t.Fatalf("list oldest first: %v", names)
	}
	names, next := listExecutions(t, runner.url, "MaxItems=1")
	if !slices.Equal(names, []string{"sam-callback"}) || next == "" {
		t.Fatalf("first page: %v next %q", names, next)
	}
	if names, next = listExecutions(t, runner.url, "MaxItems=1&Marker="+next); !slices.Equal(names, []string{"sam-steps"}) || next != "" {
		t.Fatalf("second page: %v next %q", names, next)
	}
	if names, _ := listExecutions(t, runner.url, "FunctionName=function&DurableExecutionName=sam-steps"); !slices.Equal(names, []string{"sam-steps"}) {
		t.Fatalf("list by function and name: %v", names)
	}
	if names, _ := listExecutions(t, runner.url, "StatusFilter=RUNNING"); len(names) != 0 {
		t.Fatalf("RUNNING executions: %v", names)
	}

	// The database is the --store-path file, and survives a restart.
	durable.CloseIdleConnections(client)
	runner.stop(t)
	if _, err := os.Stat(storePath); err != nil {
		t.Fatalf("no database at --store-path: %v", err)
	}
	runner = startDexRunner(t, "--host", "127.0.0.1", "--port", "0", "--store-type", "sqlite", "--store-path", storePath)
	client2 := durable.NewClient(runner.url)
	defer durable.CloseIdleConnections(client2)
	if out := awaitDone(t, client2, stepsArn); out.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("after restart: %s", out.Status)
	}
}

// Without a default endpoint and without LambdaEndpoint, a start needs an
// existing function; with an endpoint it registers the function.
func TestDexLocalRunnerStartWithoutEndpoint(t *testing.T) {
	runner := startDexRunner(t, "--host", "127.0.0.1", "--port", "0", "--lambda-endpoint", "", "--store-type", "memory")
	b, _ := json.Marshal(samBody("x", `{}`, nil, nil))
	resp, err := http.Post(runner.url+"/start-durable-execution", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("X-Amzn-ErrorType") != "ResourceNotFoundException" ||
		!strings.Contains(string(raw), "no LambdaEndpoint") {
		t.Fatalf("got %d %s", resp.StatusCode, raw)
	}
}

func TestCommandArgs(t *testing.T) {
	for _, tc := range []struct {
		argv []string
		want []string
	}{
		{[]string{"duro", "serve"}, []string{"serve"}},
		{[]string{"/usr/local/bin/duro"}, []string{}},
		{[]string{"/usr/local/bin/dex-local-runner", "start-server", "--port", "9014"}, []string{"dex-local-runner", "start-server", "--port", "9014"}},
		{[]string{"/opt/bin/dex-local-runner.exe", "start-server"}, []string{"dex-local-runner", "start-server"}},
		{[]string{"dex-local-runner"}, []string{"dex-local-runner"}},
		{[]string{"dex-local-runner-old", "x"}, []string{"x"}},
		{nil, []string{}},
	} {
		if got := commandArgs(tc.argv); !slices.Equal(got, tc.want) {
			t.Errorf("commandArgs(%q) = %q, want %q", tc.argv, got, tc.want)
		}
	}
}

func TestDexStartServerFlagDefaults(t *testing.T) {
	defaults := func() map[string]string {
		f := newDexStartServerCommand().Flags()
		out := map[string]string{}
		for _, n := range []string{"host", "port", "log-level", "lambda-endpoint", "store-type", "store-path"} {
			out[n] = f.Lookup(n).DefValue
		}
		return out
	}
	for _, v := range []string{"AWS_DEX_HOST", "AWS_DEX_PORT", "AWS_DEX_LOG_LEVEL", "AWS_DEX_LAMBDA_ENDPOINT", "AWS_DEX_STORE_TYPE", "AWS_DEX_STORE_PATH"} {
		t.Setenv(v, "")
	}
	want := map[string]string{"host": "0.0.0.0", "port": "5000", "log-level": "INFO",
		"lambda-endpoint": "http://127.0.0.1:3001", "store-type": "memory", "store-path": ""}
	if got := defaults(); !maps.Equal(got, want) {
		t.Fatalf("defaults %v, want %v", got, want)
	}
	t.Setenv("AWS_DEX_HOST", "127.0.0.1")
	t.Setenv("AWS_DEX_PORT", "9014")
	t.Setenv("AWS_DEX_LOG_LEVEL", "DEBUG")
	t.Setenv("AWS_DEX_LAMBDA_ENDPOINT", "http://host.docker.internal:3001")
	t.Setenv("AWS_DEX_STORE_TYPE", "sqlite")
	t.Setenv("AWS_DEX_STORE_PATH", "/tmp/.durable-executions-local/durable-executions.db")
	want = map[string]string{"host": "127.0.0.1", "port": "9014", "log-level": "DEBUG",
		"lambda-endpoint": "http://host.docker.internal:3001", "store-type": "sqlite",
		"store-path": "/tmp/.durable-executions-local/durable-executions.db"}
	if got := defaults(); !maps.Equal(got, want) {
		t.Fatalf("defaults from env %v, want %v", got, want)
	}

	// A bad AWS_DEX_PORT is reported unless --port overrides it.
	t.Setenv("AWS_DEX_PORT", "nine")
	root := newRootCommand()
	root.SetArgs([]string{"dex-local-runner", "start-server"})
	root.SetOut(io.Discard)
	root.SetErr(io.Discard)
	if err := root.Execute(); err == nil || !strings.Contains(err.Error(), "AWS_DEX_PORT") {
		t.Fatalf("bad AWS_DEX_PORT: %v", err)
	}
	root = newRootCommand()
	root.SetArgs([]string{"dex-local-runner", "start-server", "--port", "0", "--store-type", "bogus"})
	root.SetOut(io.Discard)
	root.SetErr(io.Discard)
	if err := root.Execute(); err == nil || !strings.Contains(err.Error(), "invalid --store-type") {
		t.Fatalf("bad --store-type: %v", err)
	}
}

func TestResolveDexStore(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		typ, path string
		want      dexStore
	}{
		{"sqlite", "", dexStore{dataDir: ".", storePath: "durable-executions.db"}},
		{"sqlite", filepath.Join(dir, "x", "d.db"), dexStore{dataDir: filepath.Join(dir, "x"), storePath: filepath.Join(dir, "x", "d.db")}},
		{"SQLITE", "d.db", dexStore{dataDir: ".", storePath: "d.db"}},
		{"filesystem", "", dexStore{dataDir: ".durable_executions"}},
		{"filesystem", filepath.Join(dir, "fs"), dexStore{dataDir: filepath.Join(dir, "fs")}},
	} {
		got, err := resolveDexStore(tc.typ, tc.path)
		if err != nil || got != tc.want {
			t.Errorf("resolveDexStore(%q, %q) = %+v, %v; want %+v", tc.typ, tc.path, got, err, tc.want)
		}
	}
	mem, err := resolveDexStore("memory", "ignored")
	if err != nil || !mem.temporary || mem.storePath != "" {
		t.Fatalf("memory: %+v %v", mem, err)
	}
	if fi, err := os.Stat(mem.dataDir); err != nil || !fi.IsDir() {
		t.Fatalf("memory data dir: %v", err)
	}
	os.RemoveAll(mem.dataDir)
	if _, err := resolveDexStore("sqlite", dir); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Fatalf("sqlite on a directory: %v", err)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := resolveDexStore("filesystem", file); err == nil || !strings.Contains(err.Error(), "is a file") {
		t.Fatalf("filesystem on a file: %v", err)
	}
	if _, err := resolveDexStore("redis", ""); err == nil {
		t.Fatal("redis accepted")
	}
}

func TestDexLogLevel(t *testing.T) {
	for in, ok := range map[string]bool{"DEBUG": true, "info": true, "WARNING": true, "warn": true, "ERROR": true, "CRITICAL": true, "loud": false} {
		if _, err := dexLogLevel(in); (err == nil) != ok {
			t.Errorf("dexLogLevel(%q): %v", in, err)
		}
	}
}

// The duro binary invoked as dex-local-runner (a symlink) is the emulator's
// command line: help, and a real start with --store-type memory whose
// temporary data directory is gone after SIGTERM.
func TestDexLocalRunnerAsSymlink(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "duro")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	link := filepath.Join(dir, "dex-local-runner")
	if err := os.Symlink("duro", link); err != nil {
		t.Fatal(err)
	}

	help, err := exec.Command(link, "start-server", "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("dex-local-runner start-server --help: %v\n%s", err, help)
	}
	for _, s := range []string{"dex-local-runner start-server [flags]", "--store-type", "--store-path", "--lambda-endpoint", "AWS_DEX_PORT"} {
		if !strings.Contains(string(help), s) {
			t.Fatalf("help lacks %q:\n%s", s, help)
		}
	}

	log := newDexLog()
	cmd := exec.Command(link, "start-server", "--host", "127.0.0.1", "--port", "0", "--log-level", "INFO", "--store-type", "memory")
	cmd.Stdout, cmd.Stderr = log, log
	// Bound Wait's copying of output after the process ends: a descendant
	// holding the pipe open must not hang the test.
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// exited is closed once the process has been reaped; waitErr is then
	// its exit status.
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	defer func() {
		select {
		case <-exited:
		default:
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("output:\n%s", log)
		}
	}()
	var addr string
	select {
	case addr = <-log.addr:
	case <-exited:
		t.Fatalf("exited before serving: %v", waitErr)
	case <-time.After(dexTimeout):
		t.Fatal("did not serve")
	}
	resp, err := http.Get("http://" + addr + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /health: %d", resp.StatusCode)
	}
	m := regexp.MustCompile(`msg="duro serving" addr=\S+ data_dir=(\S+)`).FindStringSubmatch(log.String())
	if m == nil {
		t.Fatalf("no data_dir in the log")
	}
	tmpDir := m[1]
	if _, err := os.Stat(tmpDir); err != nil {
		t.Fatalf("temporary data dir: %v", err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
		if waitErr != nil {
			t.Fatalf("exit after SIGTERM: %v", waitErr)
		}
	case <-time.After(dexTimeout):
		t.Fatal("did not exit after SIGTERM")
	}
	if _, err := os.Stat(tmpDir); !os.IsNotExist(err) {
		t.Fatalf("temporary data dir %s not removed: %v", tmpDir, err)
	}
}
