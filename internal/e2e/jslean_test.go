package e2e

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// The Node bootstrap's lean durable client (internal/runtime/bootstrap):
// durable functions written with @aws/durable-execution-sdk-js talk to
// Duro through it instead of @aws-sdk/client-lambda, unless the function
// sets DURO_NODE_LEAN_CLIENT=0.

// jsProbeResult is what testdata/jsworkflow/probe.mjs returns.
type jsProbeResult struct {
	Sum                int  `json:"sum"`
	ClientLambdaLoaded bool `json:"clientLambdaLoaded"`
	Lean               *struct {
		Invocations int  `json:"invocations"`
		Checkpoints int  `json:"checkpoints"`
		States      int  `json:"states"`
		Retries     int  `json:"retries"`
		Errors      int  `json:"errors"`
		Socket      bool `json:"socket"`
		// SocketAnswers counts answers received over the socket's
		// multiplexed protocol.
		SocketAnswers int `json:"socketAnswers"`
	} `json:"lean"`
}

// runJSProbe runs probe.mjs (two steps around a one-second wait, so two
// invocations) and returns its result. before, if set, runs once the
// server is up; envOf, if set, adds function variables that depend on it.
func runJSProbe(t *testing.T, env map[string]string, before func(*env), envOf func(*env) map[string]string) jsProbeResult {
	t.Helper()
	jsWorkflowReady(t)
	e := newEnv(t)
	if before != nil {
		before(e)
	}
	if envOf != nil {
		env = maps.Clone(env)
		if env == nil {
			env = map[string]string{}
		}
		maps.Copy(env, envOf(e))
	}
	e.hostCreate("js-probe", hostFn{runtime: types.RuntimeNodejs22x, handler: "probe.handler", code: zipDir(t, jsWorkflowDir),
		durable: true, timeout: 30, env: env})
	out := e.invoke("js-probe", "", `{"base":1}`)
	if out.FunctionError != nil {
		t.Fatalf("Invoke: function error %s: %s\nhistory:\n%s", aws.ToString(out.FunctionError), out.Payload,
			e.dump(aws.ToString(out.DurableExecutionArn)))
	}
	d := e.awaitStatus(aws.ToString(out.DurableExecutionArn), types.ExecutionStatusSucceeded)
	var got jsProbeResult
	hostResult(t, d, &got)
	if got.Sum != 5 {
		t.Errorf("sum = %d, want 5 (steps 2 and 3)", got.Sum)
	}
	checkHistory(t, e.history(aws.ToString(out.DurableExecutionArn)), -1)
	return got
}

// By default the SDK's checkpoints go through the lean client and
// @aws-sdk/client-lambda is never loaded.
func TestJSSDKUsesLeanClient(t *testing.T) {
	t.Parallel()
	got := runJSProbe(t, nil, nil, nil)
	if got.Lean == nil {
		t.Fatal("the bootstrap's lean client counters are missing: the lean client is not enabled")
	}
	if got.Lean.Invocations < 1 || got.Lean.Checkpoints < 2 || got.Lean.Errors != 0 {
		t.Errorf("lean client counters %+v: want at least one invocation and two checkpoints, no errors", *got.Lean)
	}
	if got.ClientLambdaLoaded {
		t.Error("@aws-sdk/client-lambda was loaded although the lean client served the SDK")
	}
}

// DURO_NODE_LEAN_CLIENT=0 leaves the SDK on its own AWS client, which
// still works against Duro (through AWS_ENDPOINT_URL_LAMBDA).
func TestJSSDKOfficialClientWhenLeanDisabled(t *testing.T) {
	t.Parallel()
	got := runJSProbe(t, map[string]string{"DURO_NODE_LEAN_CLIENT": "0"}, nil, nil)
	if got.Lean != nil {
		t.Errorf("lean client enabled (%+v) with DURO_NODE_LEAN_CLIENT=0", *got.Lean)
	}
	if !got.ClientLambdaLoaded {
		t.Error("@aws-sdk/client-lambda was not loaded: the SDK did not use its own client")
	}
}

// The whole workflow (steps, retry, wait, callback, child context,
// parallel, map, chained invoke) also runs on the official AWS client.
func TestJSSDKWorkflowWithOfficialClient(t *testing.T) {
	t.Parallel()
	jsWorkflowReady(t)
	e := newEnv(t)
	code := zipDir(t, jsWorkflowDir)
	off := map[string]string{"DURO_NODE_LEAN_CLIENT": "0"}
	e.hostCreate("js-echo", hostFn{runtime: types.RuntimeNodejs22x, handler: "echo.handler", code: code, env: off})
	e.hostCreate("js-workflow", hostFn{runtime: types.RuntimeNodejs22x, handler: "workflow.handler", code: code, durable: true, timeout: 30,
		env: map[string]string{"ECHO_FUNCTION": "js-echo:$LATEST", "DURO_NODE_LEAN_CLIENT": "0"}})
	runJSWorkflow(t, e, "js-workflow")
}

// leanWireHandler drives the injected client by hand, the way the SDK
// calls it, and reports what it got back: the event's shape, Dates for
// epoch-second timestamps, and AWS-SDK-shaped errors.
const leanWireHandler = `
export const handler = async (event) => {
  const c = event.durableExecutionClient;
  const arn = event.DurableExecutionArn;
  const report = {
    hasClient: !!c,
    tag: Object.prototype.toString.call(event),
    ctor: event && event.constructor && event.constructor.name,
    keys: Object.keys(event).sort(),
    json: Object.keys(JSON.parse(JSON.stringify(event))).sort(),
  };
  if (!c) return { Status: "SUCCEEDED", Result: JSON.stringify(report) };
  const errorOf = async (f) => {
    try { await f(); return null; } catch (e) {
      return { name: e.name, message: e.message, status: e.$metadata && e.$metadata.httpStatusCode,
        fault: e.$fault, attempts: e.$metadata && e.$metadata.attempts, requestId: !!(e.$metadata && e.$metadata.requestId) };
    }
  };
  const st = await c.getExecutionState({ DurableExecutionArn: arn, CheckpointToken: event.CheckpointToken, MaxItems: 1000 });
  report.stateOps = st.Operations.length;
  report.stateStartIsDate = st.Operations[0].StartTimestamp instanceof Date;
  report.stateStartSkewMs = Math.abs(st.Operations[0].StartTimestamp.getTime() - Date.now());
  report.stale = await errorOf(() => c.checkpoint({ DurableExecutionArn: arn, CheckpointToken: "AAAA", Updates: [] }));
  report.unknown = await errorOf(() => c.getExecutionState({ DurableExecutionArn: arn + "-nope", CheckpointToken: event.CheckpointToken }));
  const cp = await c.checkpoint({ DurableExecutionArn: arn, CheckpointToken: event.CheckpointToken, Updates: [
    { Id: "w1", Type: "WAIT", Action: "START", SubType: "Wait", Name: "w1", WaitOptions: { WaitSeconds: 60 } },
  ] });
  report.newToken = typeof cp.CheckpointToken === "string" && cp.CheckpointToken !== event.CheckpointToken;
  const w = cp.NewExecutionState.Operations.find((o) => o.Id === "w1");
  report.waitStartIsDate = !!w && w.StartTimestamp instanceof Date;
  report.waitEndInS = w && w.WaitDetails && w.WaitDetails.ScheduledEndTimestamp instanceof Date
    ? Math.round((w.WaitDetails.ScheduledEndTimestamp.getTime() - Date.now()) / 1000) : null;
  return { Status: "SUCCEEDED", Result: JSON.stringify(report) };
};
`

func TestLeanClientWire(t *testing.T) {
	t.Parallel()
	hostNeed(t, "node")
	e := newEnv(t)
	e.hostCreate("lean-wire", hostFn{runtime: types.RuntimeNodejs22x, handler: "index.handler", durable: true, timeout: 30,
		code: hostZip(t, hostFile{name: "index.mjs", body: leanWireHandler})})
	out := e.invoke("lean-wire", "", `{"x":1}`)
	if out.FunctionError != nil {
		t.Fatalf("Invoke: function error %s: %s", aws.ToString(out.FunctionError), out.Payload)
	}
	d := e.awaitStatus(aws.ToString(out.DurableExecutionArn), types.ExecutionStatusSucceeded)
	type apiErr struct {
		Name, Message, Fault string
		Status, Attempts     int
		RequestID            bool
	}
	var r struct {
		HasClient        bool
		Tag, Ctor        string
		Keys, JSON       []string
		StateOps         int
		StateStartIsDate bool
		StateStartSkewMs float64
		Stale, Unknown   *apiErr
		NewToken         bool
		WaitStartIsDate  bool
		WaitEndInS       *int
	}
	hostResult(t, d, &r)
	raw, _ := json.Marshal(r)
	if !r.HasClient || r.Tag != "[object DurableExecutionInvocationInputWithClient]" || r.Ctor != "DurableExecutionInvocationInputWithClient" {
		t.Fatalf("the durable envelope is not wrapped for the SDK: %s", raw)
	}
	for _, keys := range [][]string{r.Keys, r.JSON} {
		k := "," + strings.Join(keys, ",") + ","
		if strings.Contains(k, ",durableExecutionClient,") || !strings.Contains(k, ",CheckpointToken,DurableExecutionArn,InitialExecutionState,") {
			t.Errorf("event keys %v, want the envelope's and not the client (it must not be enumerable)", keys)
		}
	}
	if r.StateOps < 1 || !r.StateStartIsDate || r.StateStartSkewMs > 60_000 {
		t.Errorf("GetDurableExecutionState through the lean client: %s (want Dates close to now)", raw)
	}
	if s := r.Stale; s == nil || s.Name != "InvalidParameterValueException" || s.Status != 400 || s.Fault != "client" ||
		!strings.HasPrefix(s.Message, "Invalid Checkpoint Token") || s.Attempts != 1 || !s.RequestID {
		t.Errorf("stale-token checkpoint error %+v; want what the AWS SDK throws (the durable SDK classifies it by name, status and message)", s)
	}
	if u := r.Unknown; u == nil || u.Status < 400 || u.Status >= 500 || !strings.HasSuffix(u.Name, "Exception") || u.Attempts != 1 {
		t.Errorf("unknown-execution error %+v; want a 4xx AWS error, not retried", u)
	}
	if !r.NewToken || !r.WaitStartIsDate || r.WaitEndInS == nil || *r.WaitEndInS < 55 || *r.WaitEndInS > 65 {
		t.Errorf("checkpoint through the lean client: %s (want a new token and Dates, the wait ending in ~60 s)", raw)
	}
}
