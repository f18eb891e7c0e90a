package e2e

// Tests of the function host: real functions uploaded as zip archives and
// run as local processes through Duro's Lambda Runtime API (Node.js and
// Python through Duro's bootstraps, a provided.al2023 Go function built
// with aws-lambda-go). The handlers speak the durable invocation envelope
// themselves, without a durable SDK. Identifiers are prefixed host* so that
// they cannot collide with the other helpers of the package.

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// hostFile is one file of a test archive.
type hostFile struct {
	name string
	body string
	mode fs.FileMode // 0: 0644
}

// hostZip builds a zip archive.
func hostZip(t *testing.T, files ...hostFile) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		h := &zip.FileHeader{Name: f.name, Method: zip.Deflate}
		mode := f.mode
		if mode == 0 {
			mode = 0o644
		}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(f.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// hostFn describes a function for hostCreate.
type hostFn struct {
	runtime types.Runtime
	handler string
	code    []byte
	timeout int32
	memory  int32 // MemorySize; 0 leaves the default
	durable bool
	env     map[string]string
	// managed, when not 0, puts the function on managed instances with
	// this PerExecutionEnvironmentMaxConcurrency, or (when negative) with
	// none, leaving the runtime's default.
	managed int32
}

// hostCreate creates a function from an archive.
func (e *env) hostCreate(name string, f hostFn) *lambda.CreateFunctionOutput {
	e.t.Helper()
	in := &lambda.CreateFunctionInput{
		FunctionName: aws.String(name),
		Role:         aws.String("arn:aws:iam::123456789012:role/duro-test"),
		Code:         &types.FunctionCode{ZipFile: f.code},
		Runtime:      f.runtime,
		Handler:      aws.String(f.handler),
	}
	if f.timeout > 0 {
		in.Timeout = aws.Int32(f.timeout)
	}
	if f.memory > 0 {
		in.MemorySize = aws.Int32(f.memory)
	}
	if f.durable {
		in.DurableConfig = &types.DurableConfig{ExecutionTimeout: aws.Int32(300)}
	}
	if f.env != nil {
		in.Environment = &types.Environment{Variables: f.env}
	}
	if f.managed != 0 {
		in.CapacityProviderConfig = managedConfig(max(f.managed, 0))
	}
	out, err := e.client.CreateFunction(ctx(e.t), in)
	if err != nil {
		e.t.Fatalf("CreateFunction(%s): %v", name, err)
	}
	return out
}

// hostInvokePlain invokes a function without DurableConfig and decodes its
// JSON result into out.
func (e *env) hostInvokePlain(name, payload string, out any) {
	e.t.Helper()
	res, err := e.client.Invoke(ctx(e.t), &lambda.InvokeInput{FunctionName: aws.String(name), Payload: []byte(payload)})
	if err != nil {
		e.t.Fatalf("Invoke(%s): %v", name, err)
	}
	if res.FunctionError != nil {
		e.t.Fatalf("Invoke(%s): function error %s: %s", name, aws.ToString(res.FunctionError), res.Payload)
	}
	if err := json.Unmarshal(res.Payload, out); err != nil {
		e.t.Fatalf("Invoke(%s): result %q: %v", name, res.Payload, err)
	}
}

// hostLogEvent is one line of the log route.
type hostLogEvent struct {
	Timestamp           int64
	FunctionName        string
	FunctionVersion     string
	RequestId           string
	DurableExecutionArn string
	Stream              string
	Message             string
}

// hostLogs reads every log line of a query through GET /duro/v1/logs.
func (e *env) hostLogs(query url.Values) []hostLogEvent {
	e.t.Helper()
	var all []hostLogEvent
	for page := 0; ; page++ {
		if page > 100 {
			e.t.Fatal("log paging does not end")
		}
		r := e.rawCall("GET", "/duro/v1/logs?"+query.Encode(), nil, nil)
		if r.status != 200 {
			e.t.Fatalf("GET /duro/v1/logs?%s = %d %s", query.Encode(), r.status, r.body)
		}
		var resp struct {
			Logs      []hostLogEvent
			NextToken string
		}
		if err := json.Unmarshal(r.body, &resp); err != nil {
			e.t.Fatalf("log route body %s: %v", r.body, err)
		}
		if len(resp.Logs) == 0 {
			return all
		}
		all = append(all, resp.Logs...)
		query.Set("NextToken", resp.NextToken)
	}
}

// hostResult decodes an execution's result.
func hostResult(t *testing.T, d *lambda.GetDurableExecutionOutput, out any) {
	t.Helper()
	if err := json.Unmarshal([]byte(aws.ToString(d.Result)), out); err != nil {
		t.Fatalf("result %q: %v", aws.ToString(d.Result), err)
	}
}

// hostNeed skips a test when an interpreter is missing.
func hostNeed(t *testing.T, command string) {
	t.Helper()
	if _, err := exec.LookPath(command); err != nil {
		t.Skipf("%s not installed: %v", command, err)
	}
}

// hostNodeWaitFlow is a Node.js durable handler that checkpoints a wait
// through the API on its first invocation (plain fetch to
// AWS_ENDPOINT_URL_LAMBDA, as the SDK does), suspends, and completes on the
// next one.
const hostNodeWaitFlow = `
exports.handler = async (event, context) => {
  const ops = event.InitialExecutionState.Operations;
  const input = JSON.parse(ops[0].ExecutionDetails.InputPayload);
  console.log("node handler " + context.awsRequestId + " ops=" + ops.length);
  console.error("to stderr");
  if (!ops.find((o) => o.Id === "w1")) {
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
  return { Status: "SUCCEEDED", Result: JSON.stringify({
    hello: input.name, fn: context.functionName, version: context.functionVersion,
    mem: context.memoryLimitInMB, remaining: context.getRemainingTimeInMillis(),
    arn: context.invokedFunctionArn, region: process.env.AWS_REGION, custom: process.env.CUSTOM,
    cwd: process.cwd(), root: process.env.LAMBDA_TASK_ROOT, tz: process.env.TZ, handler: process.env._HANDLER,
  }) };
};
`

func TestHostNodeDurableWaitAndLogs(t *testing.T) {
	hostNeed(t, "node")
	e := newEnv(t)
	e.hostCreate("node-wait", hostFn{
		runtime: types.RuntimeNodejs20x, handler: "index.handler", durable: true, timeout: 30,
		code: hostZip(t, hostFile{name: "index.js", body: hostNodeWaitFlow}),
		env:  map[string]string{"CUSTOM": "from-config"},
	})
	out := e.invoke("node-wait", "", `{"name":"duro"}`)
	if out.FunctionError != nil {
		t.Fatalf("Invoke: function error %s: %s\nhistory:\n%s", aws.ToString(out.FunctionError), out.Payload,
			e.dump(aws.ToString(out.DurableExecutionArn)))
	}
	arn := aws.ToString(out.DurableExecutionArn)
	d := e.awaitStatus(arn, types.ExecutionStatusSucceeded)
	var res struct {
		Hello, Fn, Version, Mem, Arn, Region, Custom, Cwd, Root, Tz, Handler string
		Remaining                                                            int64
	}
	hostResult(t, d, &res)
	if res.Hello != "duro" || res.Fn != "node-wait" || res.Version != latest || res.Mem != "128" ||
		res.Region != "us-east-1" || res.Custom != "from-config" || res.Tz != ":UTC" || res.Handler != "index.handler" {
		t.Errorf("context and environment seen by the handler: %+v", res)
	}
	if res.Cwd != res.Root || res.Root == "" {
		t.Errorf("working directory %q, LAMBDA_TASK_ROOT %q; want the code directory for both", res.Cwd, res.Root)
	}
	if res.Arn != "arn:aws:lambda:us-east-1:123456789012:function:node-wait:$LATEST" {
		t.Errorf("invokedFunctionArn = %q", res.Arn)
	}
	if res.Remaining <= 0 || res.Remaining > 30_000 {
		t.Errorf("getRemainingTimeInMillis() = %d, want within the 30 s timeout", res.Remaining)
	}

	events := e.history(arn)
	want := []string{"ExecutionStarted", "WaitStarted", "InvocationCompleted", "WaitSucceeded", "InvocationCompleted", "ExecutionSucceeded"}
	if !sameStrings(eventTypes(events), want) {
		t.Fatalf("history = %v, want %v", eventTypes(events), want)
	}
	var requestIDs []string
	for _, ev := range eventsOf(events, types.EventTypeInvocationCompleted) {
		requestIDs = append(requestIDs, aws.ToString(ev.InvocationCompletedDetails.RequestId))
	}

	// Every line of both invocations is stored by the time the execution
	// is complete, tagged with its invocation's request id.
	logs := e.hostLogs(url.Values{"durableExecutionArn": {arn}})
	for i, id := range requestIDs {
		var found, stderr bool
		for _, l := range logs {
			if l.RequestId != id {
				continue
			}
			if l.Message == fmt.Sprintf("node handler %s ops=%d", id, i+1) && l.Stream == "stdout" {
				found = true
			}
			if l.Message == "to stderr" && l.Stream == "stderr" {
				stderr = true
			}
			if l.FunctionName != "node-wait" || l.FunctionVersion != latest || l.DurableExecutionArn != arn {
				t.Errorf("log line tagged %+v", l)
			}
		}
		if !found || !stderr {
			t.Errorf("invocation %d (%s): stdout line found %v, stderr line found %v; logs: %+v", i+1, id, found, stderr, logs)
		}
	}
	// The same lines, through the function and request filters.
	byFn := e.hostLogs(url.Values{"functionName": {"node-wait"}, "requestId": {requestIDs[0]}, "limit": {"1"}})
	if len(byFn) != 2 {
		t.Errorf("logs of the first request by function name: %+v, want its 2 lines", byFn)
	}
}

// hostPythonFlow is a Python durable handler.
const hostPythonFlow = `
import json, os

def handler(event, context):
    ops = event["InitialExecutionState"]["Operations"]
    payload = json.loads(ops[0]["ExecutionDetails"]["InputPayload"])
    print("python handler", context.aws_request_id)
    return {"Status": "SUCCEEDED", "Result": json.dumps({
        "doubled": payload["n"] * 2,
        "fn": context.function_name,
        "remaining": context.get_remaining_time_in_millis(),
        "arn": context.invoked_function_arn,
        "endpoint": os.environ["AWS_ENDPOINT_URL_LAMBDA"],
    })}
`

func TestHostPythonDurable(t *testing.T) {
	hostNeed(t, "python3")
	e := newEnv(t)
	e.hostCreate("py-fn", hostFn{
		runtime: types.RuntimePython312, handler: "pkg/app.handler", durable: true, timeout: 30,
		code: hostZip(t, hostFile{name: "pkg/__init__.py"}, hostFile{name: "pkg/app.py", body: hostPythonFlow}),
	})
	out := e.invoke("py-fn", "", `{"n":21}`)
	arn := aws.ToString(out.DurableExecutionArn)
	d := e.awaitStatus(arn, types.ExecutionStatusSucceeded)
	var res struct {
		Doubled       int
		Fn, Arn       string
		Endpoint      string
		Remaining     int64
		InvokedFnName string
	}
	hostResult(t, d, &res)
	if res.Doubled != 42 || res.Fn != "py-fn" || res.Endpoint != e.srv.URL() || res.Remaining <= 0 {
		t.Errorf("result %+v", res)
	}
	logs := e.hostLogs(url.Values{"durableExecutionArn": {arn}})
	if len(logs) == 0 || !strings.HasPrefix(logs[0].Message, "python handler ") || logs[0].RequestId == "" ||
		logs[0].Message != "python handler "+logs[0].RequestId {
		t.Errorf("logs %+v, want the handler's print tagged with its request id", logs)
	}
}

// hostBuildGoFunction builds testdata/golambda (a function using
// aws-lambda-go, a module of its own) into a provided.al2023 archive.
func hostBuildGoFunction(t *testing.T) []byte {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bootstrap")
	src, err := filepath.Abs(filepath.Join("testdata", "golambda"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod -buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the aws-lambda-go function: %v\n%s", err, out)
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	return hostZip(t, hostFile{name: "bootstrap", body: string(b), mode: 0o755})
}

func TestHostGoProvided(t *testing.T) {
	e := newEnv(t)
	e.hostCreate("go-fn", hostFn{runtime: types.RuntimeProvidedal2023, handler: "bootstrap", durable: true, timeout: 30,
		code: hostBuildGoFunction(t)})
	out := e.invoke("go-fn", "", `{"order":7}`)
	arn := aws.ToString(out.DurableExecutionArn)
	d := e.awaitStatus(arn, types.ExecutionStatusSucceeded)
	var res struct {
		Input       map[string]any
		RequestID   string
		FunctionArn string
		Function    string
		HasDeadline bool
		Endpoint    string
	}
	hostResult(t, d, &res)
	if res.Input["order"] != float64(7) || res.Function != "go-fn" || !res.HasDeadline || res.Endpoint != e.srv.URL() ||
		res.FunctionArn != "arn:aws:lambda:us-east-1:123456789012:function:go-fn:$LATEST" {
		t.Errorf("result %+v", res)
	}
	completed := eventsOf(e.history(arn), types.EventTypeInvocationCompleted)
	if len(completed) != 1 || aws.ToString(completed[0].InvocationCompletedDetails.RequestId) != res.RequestID {
		t.Errorf("request id seen by the function %q; InvocationCompleted %+v", res.RequestID, completed)
	}
}

// hostFirstAttempt is Node code that is true on the function's first
// invocation only (tracked with a file, which outlives the worker).
const hostFirstAttempt = `
const fs = require("fs");
function firstAttempt() {
  const marker = process.env.MARKER;
  if (fs.existsSync(marker)) return false;
  fs.writeFileSync(marker, "x");
  return true;
}
`

func TestHostWorkerExitIsReinvoked(t *testing.T) {
	hostNeed(t, "node")
	e := newEnv(t)
	e.hostCreate("node-crash", hostFn{
		runtime: types.RuntimeNodejs20x, handler: "index.handler", durable: true, timeout: 30,
		env: map[string]string{"MARKER": filepath.Join(t.TempDir(), "crashed")},
		code: hostZip(t, hostFile{name: "index.js", body: hostFirstAttempt + `
exports.handler = async () => {
  if (firstAttempt()) {
    console.log("crashing");
    process.exit(1);
  }
  return { Status: "SUCCEEDED", Result: JSON.stringify({ pid: process.pid }) };
};`}),
	})
	arn := e.start("node-crash", latest, "", `{}`)
	e.awaitStatus(arn, types.ExecutionStatusSucceeded)
	events := e.history(arn)
	checkHistory(t, events, 2)
	completed := eventsOf(events, types.EventTypeInvocationCompleted)
	first := completed[0].InvocationCompletedDetails
	if first.Error == nil || first.Error.Payload == nil {
		t.Fatalf("first InvocationCompleted has no error: %+v", first)
	}
	id := aws.ToString(first.RequestId)
	wantMsg := "RequestId: " + id + " Error: Runtime exited with error: exit status 1"
	if got := first.Error.Payload; aws.ToString(got.ErrorType) != "Runtime.ExitError" || aws.ToString(got.ErrorMessage) != wantMsg {
		t.Errorf("first invocation error = %s, want Runtime.ExitError: %s", errString(got), wantMsg)
	}
	// The crashing invocation's last words are in its logs.
	logs := e.hostLogs(url.Values{"durableExecutionArn": {arn}, "requestId": {id}})
	if len(logs) != 1 || logs[0].Message != "crashing" {
		t.Errorf("logs of the crashed invocation: %+v", logs)
	}
}

func TestHostTimeoutKillsWorker(t *testing.T) {
	hostNeed(t, "node")
	e := newEnv(t)
	e.hostCreate("node-slow", hostFn{
		runtime: types.RuntimeNodejs20x, handler: "index.handler", durable: true, timeout: 1,
		env: map[string]string{"MARKER": filepath.Join(t.TempDir(), "slow")},
		code: hostZip(t, hostFile{name: "index.js", body: hostFirstAttempt + `
exports.handler = async () => {
  if (firstAttempt()) await new Promise((r) => setTimeout(r, 60000));
  return { Status: "SUCCEEDED", Result: "\"done\"" };
};`}),
	})
	start := time.Now()
	arn := e.start("node-slow", latest, "", `{}`)
	e.awaitStatus(arn, types.ExecutionStatusSucceeded)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v: the timed-out worker was not killed at its deadline", d)
	}
	completed := eventsOf(e.history(arn), types.EventTypeInvocationCompleted)
	if len(completed) != 2 {
		t.Fatalf("%d InvocationCompleted events, want 2", len(completed))
	}
	first := completed[0].InvocationCompletedDetails
	if first.Error == nil || aws.ToString(first.Error.Payload.ErrorType) != "Sandbox.Timedout" ||
		!strings.Contains(aws.ToString(first.Error.Payload.ErrorMessage), "Task timed out after 1.00 seconds") {
		t.Errorf("first invocation error = %+v, want Sandbox.Timedout", first.Error)
	}
}

func TestHostWarmReuseAndCodeUpdate(t *testing.T) {
	hostNeed(t, "node")
	e := newEnv(t)
	version := func(v string) []byte {
		// An ES module package, with the handler in a subdirectory.
		return hostZip(t,
			hostFile{name: "package.json", body: `{"type":"module"}`},
			hostFile{name: "dist/app.js", body: `
let count = 0;
export const handler = async (event, context) => ({ v: "` + v + `", pid: process.pid, count: ++count, echo: event });`})
	}
	e.hostCreate("node-warm", hostFn{runtime: types.RuntimeNodejs22x, handler: "dist/app.handler", code: version("v1")})
	type result struct {
		V     string
		Pid   int
		Count int
		Echo  map[string]any
	}
	var r1, r2, r3 result
	e.hostInvokePlain("node-warm", `{"a":1}`, &r1)
	e.hostInvokePlain("node-warm", `{"a":2}`, &r2)
	if r1.V != "v1" || r1.Echo["a"] != float64(1) || r2.Echo["a"] != float64(2) {
		t.Fatalf("results %+v, %+v", r1, r2)
	}
	if r1.Pid != r2.Pid || r2.Count != 2 {
		t.Errorf("second invocation ran in pid %d (count %d), first in pid %d: want the same warm worker", r2.Pid, r2.Count, r1.Pid)
	}

	upd, err := e.client.UpdateFunctionCode(ctx(t), &lambda.UpdateFunctionCodeInput{
		FunctionName: aws.String("node-warm"), ZipFile: version("v2"),
	})
	if err != nil {
		t.Fatalf("UpdateFunctionCode: %v", err)
	}
	if aws.ToString(upd.CodeSha256) == "" || upd.CodeSize == 0 {
		t.Errorf("UpdateFunctionCode = sha %q size %d", aws.ToString(upd.CodeSha256), upd.CodeSize)
	}
	e.hostInvokePlain("node-warm", `{}`, &r3)
	if r3.V != "v2" || r3.Pid == r1.Pid {
		t.Errorf("after UpdateFunctionCode: %+v; want v2 from a fresh worker (old pid %d)", r3, r1.Pid)
	}
}

// Node workers start with the heap Lambda's Node.js runtimes give a
// function of that memory size, and with global.gc.
func TestHostNodeHeapFromMemorySize(t *testing.T) {
	hostNeed(t, "node")
	e := newEnv(t)
	code := hostZip(t, hostFile{name: "index.mjs", body: `
import v8 from "node:v8";
export const handler = async () => ({
  execArgv: process.execArgv,
  gc: typeof globalThis.gc,
  heapLimitMB: v8.getHeapStatistics().heap_size_limit / 1048576,
});`})
	for _, tc := range []struct {
		memory     int32 // 0: CreateFunction's default, 128
		semi, old  int
		underLimit float64 // the heap limit stays below this many MB
	}{
		{memory: 0, semi: 6, old: 116, underLimit: 200},
		{memory: 512, semi: 25, old: 461, underLimit: 600},
		{memory: 2048, semi: 102, old: 1844, underLimit: 2400},
	} {
		t.Run(fmt.Sprint(tc.memory), func(t *testing.T) {
			name := fmt.Sprintf("node-heap-%d", tc.memory)
			e.hostCreate(name, hostFn{runtime: types.RuntimeNodejs22x, handler: "index.handler", memory: tc.memory, code: code})
			var got struct {
				ExecArgv    []string
				GC          string
				HeapLimitMB float64
			}
			e.hostInvokePlain(name, `{}`, &got)
			for _, want := range []string{"--expose-gc", fmt.Sprintf("--max-semi-space-size=%d", tc.semi), fmt.Sprintf("--max-old-space-size=%d", tc.old)} {
				if !slices.Contains(got.ExecArgv, want) {
					t.Errorf("node started with %q, want %s among them", got.ExecArgv, want)
				}
			}
			if got.GC != "function" {
				t.Errorf("typeof gc = %q, want function", got.GC)
			}
			if got.HeapLimitMB < float64(tc.old) || got.HeapLimitMB > tc.underLimit {
				t.Errorf("heap limit %.0f MB, want between %d and %.0f", got.HeapLimitMB, tc.old, tc.underLimit)
			}
		})
	}
}

func TestHostInitErrors(t *testing.T) {
	hostNeed(t, "node")
	hostNeed(t, "python3")
	e := newEnv(t)
	cases := []struct {
		name, handler string
		runtime       types.Runtime
		file          hostFile
		wantType      string
	}{
		{"node-nohandler", "index.missing", types.RuntimeNodejs20x, hostFile{name: "index.js", body: "exports.handler = () => 1;"}, "Runtime.HandlerNotFound"},
		{"node-nomodule", "nope.handler", types.RuntimeNodejs20x, hostFile{name: "index.js", body: ""}, "Runtime.ImportModuleError"},
		{"node-throws", "index.handler", types.RuntimeNodejs20x, hostFile{name: "index.js", body: "throw new TypeError('bad init');"}, "Runtime.ImportModuleError"},
		{"py-nomodule", "nope.handler", types.RuntimePython312, hostFile{name: "app.py", body: ""}, "Runtime.ImportModuleError"},
		{"provided-nobootstrap", "x", types.RuntimeProvidedal2023, hostFile{name: "readme.txt", body: "no bootstrap"}, "Runtime.InvalidEntrypoint"},
	}
	for _, c := range cases {
		e.hostCreate(c.name, hostFn{runtime: c.runtime, handler: c.handler, code: hostZip(t, c.file)})
		res, err := e.client.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String(c.name), Payload: []byte(`{}`)})
		if err != nil {
			t.Fatalf("%s: Invoke: %v", c.name, err)
		}
		var body struct{ ErrorType, ErrorMessage string }
		_ = json.Unmarshal(res.Payload, &body)
		if aws.ToString(res.FunctionError) != "Unhandled" || body.ErrorType != c.wantType {
			t.Errorf("%s: function error %q, payload %s; want Unhandled %s", c.name, aws.ToString(res.FunctionError), res.Payload, c.wantType)
		}
	}

	// A handler error is an Unhandled function error carrying the error.
	e.hostCreate("node-throw", hostFn{runtime: types.RuntimeNodejs20x, handler: "index.handler",
		code: hostZip(t, hostFile{name: "index.js", body: "exports.handler = async () => { throw new RangeError('out of range'); };"})})
	res, err := e.client.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String("node-throw"), Payload: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		ErrorType, ErrorMessage string
		StackTrace              []string
	}
	_ = json.Unmarshal(res.Payload, &body)
	if aws.ToString(res.FunctionError) != "Unhandled" || body.ErrorType != "RangeError" || body.ErrorMessage != "out of range" || len(body.StackTrace) == 0 {
		t.Errorf("handler error: function error %q, payload %s", aws.ToString(res.FunctionError), res.Payload)
	}
}

func TestHostZipRejected(t *testing.T) {
	e := newEnv(t)
	bad := map[string][]byte{
		"traversal": hostZip(t, hostFile{name: "../evil.js", body: "x"}),
		"absolute":  hostZip(t, hostFile{name: "/etc/evil", body: "x"}),
		"symlink":   hostZip(t, hostFile{name: "link", body: "../../outside", mode: fs.ModeSymlink | 0o777}),
		"not a zip": []byte("definitely not a zip"),
	}
	for what, code := range bad {
		_, err := e.client.CreateFunction(ctx(t), &lambda.CreateFunctionInput{
			FunctionName: aws.String("bad-zip"), Role: aws.String("arn:aws:iam::123456789012:role/x"),
			Runtime: types.RuntimeNodejs20x, Handler: aws.String("index.handler"), Code: &types.FunctionCode{ZipFile: code},
		})
		ipv := apiErr[*types.InvalidParameterValueException](t, err)
		if !strings.Contains(ipv.ErrorMessage(), "Could not unzip uploaded file") {
			t.Errorf("%s: message %q", what, ipv.ErrorMessage())
		}
	}
	e.hostCreate("good-zip", hostFn{runtime: types.RuntimeNodejs20x, handler: "index.handler",
		code: hostZip(t, hostFile{name: "index.js", body: "exports.handler = async () => 1;"})})
	_, err := e.client.UpdateFunctionCode(ctx(t), &lambda.UpdateFunctionCodeInput{
		FunctionName: aws.String("good-zip"), ZipFile: bad["traversal"],
	})
	apiErr[*types.InvalidParameterValueException](t, err)
	var n int
	e.hostInvokePlain("good-zip", `{}`, &n)
	if n != 1 {
		t.Errorf("after a rejected update the function returned %d, want the old code's 1", n)
	}
}
