package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Functions on Lambda Managed Instances (CapacityProviderConfig): the
// configuration through the API, and workers that serve several
// invocations at once (PerExecutionEnvironmentMaxConcurrency), as
// Lambda's multi-concurrent runtimes do.

const managedProviderArn = "arn:aws:lambda:us-east-1:123456789012:capacity-provider:duro-test"

// managedConfig is a CapacityProviderConfig with the given concurrency
// (0: unset).
func managedConfig(concurrency int32) *types.CapacityProviderConfig {
	mi := &types.LambdaManagedInstancesCapacityProviderConfig{CapacityProviderArn: aws.String(managedProviderArn)}
	if concurrency > 0 {
		mi.PerExecutionEnvironmentMaxConcurrency = aws.Int32(concurrency)
	}
	return &types.CapacityProviderConfig{LambdaManagedInstancesCapacityProviderConfig: mi}
}

// managedConcurrency is the concurrency a configuration reports, -1 when
// it has no managed-instances configuration.
func managedConcurrency(c *types.CapacityProviderConfig) int32 {
	if c == nil || c.LambdaManagedInstancesCapacityProviderConfig == nil {
		return -1
	}
	return aws.ToInt32(c.LambdaManagedInstancesCapacityProviderConfig.PerExecutionEnvironmentMaxConcurrency)
}

func TestManagedInstancesConfiguration(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := ctx(t)
	role := aws.String("arn:aws:iam::123456789012:role/duro-test")
	created, err := e.client.CreateFunction(c, &lambda.CreateFunctionInput{
		FunctionName: aws.String("managed"), Role: role, Runtime: types.RuntimeNodejs22x, Handler: aws.String("index.handler"),
		Code:                   &types.FunctionCode{ZipFile: hostZip(t, hostFile{name: "index.js", body: "exports.handler = async () => 1;"})},
		CapacityProviderConfig: managedConfig(8),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := managedConcurrency(created.CapacityProviderConfig); got != 8 {
		t.Errorf("CreateFunction returned concurrency %d, want 8", got)
	}
	got, err := e.client.GetFunctionConfiguration(c, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("managed")})
	if err != nil {
		t.Fatal(err)
	}
	if managedConcurrency(got.CapacityProviderConfig) != 8 ||
		aws.ToString(got.CapacityProviderConfig.LambdaManagedInstancesCapacityProviderConfig.CapacityProviderArn) != managedProviderArn {
		t.Errorf("GetFunctionConfiguration: CapacityProviderConfig %+v", got.CapacityProviderConfig)
	}
	if _, err := e.client.UpdateFunctionConfiguration(c, &lambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String("managed"), CapacityProviderConfig: managedConfig(3),
	}); err != nil {
		t.Fatal(err)
	}
	fn, err := e.client.GetFunction(c, &lambda.GetFunctionInput{FunctionName: aws.String("managed")})
	if err != nil {
		t.Fatal(err)
	}
	if got := managedConcurrency(fn.Configuration.CapacityProviderConfig); got != 3 {
		t.Errorf("after UpdateFunctionConfiguration: concurrency %d, want 3", got)
	}
	// A published version keeps the configuration of $LATEST it was made from.
	v1, err := e.client.PublishVersion(c, &lambda.PublishVersionInput{FunctionName: aws.String("managed")})
	if err != nil {
		t.Fatal(err)
	}
	if got := managedConcurrency(v1.CapacityProviderConfig); got != 3 || aws.ToString(v1.Version) != "1" {
		t.Errorf("PublishVersion: version %s with concurrency %d, want version 1 with 3", aws.ToString(v1.Version), got)
	}

	// Bad configurations are refused with AWS's validation message and
	// change nothing. Raw requests: the Go SDK itself refuses the ones
	// that lack required members.
	bad := []struct {
		name, config, field string
	}{
		{"no managed instances member", `{}`, "capacityProviderConfig.lambdaManagedInstancesCapacityProviderConfig"},
		{"no provider", `{"LambdaManagedInstancesCapacityProviderConfig":{}}`, "lambdaManagedInstancesCapacityProviderConfig.capacityProviderArn"},
		{"not a capacity provider ARN", `{"LambdaManagedInstancesCapacityProviderConfig":{"CapacityProviderArn":"arn:aws:lambda:us-east-1:123456789012:function:f"}}`,
			"lambdaManagedInstancesCapacityProviderConfig.capacityProviderArn"},
		{"concurrency 0", `{"LambdaManagedInstancesCapacityProviderConfig":{"CapacityProviderArn":"` + managedProviderArn + `","PerExecutionEnvironmentMaxConcurrency":0}}`,
			"perExecutionEnvironmentMaxConcurrency' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"concurrency 1601", `{"LambdaManagedInstancesCapacityProviderConfig":{"CapacityProviderArn":"` + managedProviderArn + `","PerExecutionEnvironmentMaxConcurrency":1601}}`,
			"perExecutionEnvironmentMaxConcurrency' failed to satisfy constraint: Member must have value less than or equal to 1600"},
		{"memory per vCPU 1.5", `{"LambdaManagedInstancesCapacityProviderConfig":{"CapacityProviderArn":"` + managedProviderArn + `","ExecutionEnvironmentMemoryGiBPerVCpu":1.5}}`,
			"Value '1.5' at 'capacityProviderConfig.lambdaManagedInstancesCapacityProviderConfig.executionEnvironmentMemoryGiBPerVCpu'"},
		{"not an object", `[1]`, ""},
	}
	jsonHeader := map[string]string{"Content-Type": "application/json"}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			body := `{"FunctionName":"managed-bad","Role":"arn:aws:iam::123456789012:role/duro-test","Runtime":"nodejs22.x",` +
				`"Handler":"index.handler","Code":{"ZipFile":"UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="},"CapacityProviderConfig":` + tc.config + `}`
			r := e.rawCall(http.MethodPost, "/2015-03-31/functions", []byte(body), jsonHeader)
			b := wantRawError(t, r, http.StatusBadRequest, "InvalidParameterValueException")
			if !strings.Contains(b.LowerMessage+b.UpperMessage, tc.field) {
				t.Errorf("CreateFunction: message %q does not name %s", b.LowerMessage+b.UpperMessage, tc.field)
			}
			if _, err := e.client.GetFunction(c, &lambda.GetFunctionInput{FunctionName: aws.String("managed-bad")}); err == nil {
				t.Error("a refused CreateFunction created the function")
			}
			r = e.rawCall(http.MethodPut, "/2015-03-31/functions/managed/configuration", []byte(`{"CapacityProviderConfig":`+tc.config+`}`), jsonHeader)
			b = wantRawError(t, r, http.StatusBadRequest, "InvalidParameterValueException")
			if !strings.Contains(b.LowerMessage+b.UpperMessage, tc.field) {
				t.Errorf("UpdateFunctionConfiguration: message %q does not name %s", b.LowerMessage+b.UpperMessage, tc.field)
			}
			fn, err := e.client.GetFunctionConfiguration(c, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("managed")})
			if err != nil {
				t.Fatal(err)
			}
			if got := managedConcurrency(fn.CapacityProviderConfig); got != 3 {
				t.Errorf("a refused update changed the concurrency to %d", got)
			}
		})
	}
}

// managedPlainHandler holds each invocation for 400 ms and reports the
// process that ran it and when.
const managedPlainHandler = `
exports.handler = async (event, context) => {
  const start = Date.now();
  console.log("begin " + event.n);
  await new Promise((r) => setTimeout(r, 400));
  console.log("end " + event.n + "\nnext line of " + event.n);
  return { pid: process.pid, start, end: Date.now(), max: process.env.AWS_LAMBDA_MAX_CONCURRENCY, req: context.awsRequestId };
};
`

// A Node worker on managed instances serves several invocations at once,
// and each invocation's console lines are stored under its request id.
func TestManagedInstancesNodeWorkerServesInvocationsAtOnce(t *testing.T) {
	t.Parallel()
	hostNeed(t, "node")
	e := newEnv(t)
	e.hostCreate("managed-node", hostFn{runtime: types.RuntimeNodejs22x, handler: "index.handler", timeout: 30, managed: 4,
		code: hostZip(t, hostFile{name: "index.js", body: managedPlainHandler})})
	type result struct {
		Pid        int
		Start, End int64
		Max, Req   string
	}
	var warm result // starts the worker, so that the next four find it
	e.hostInvokePlain("managed-node", `{"n":0}`, &warm)

	results := make([]result, 4)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := e.client.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String("managed-node"), Payload: fmt.Appendf(nil, `{"n":%d}`, i+1)})
			if err != nil || res.FunctionError != nil {
				t.Errorf("Invoke %d: %v %s", i+1, err, res.Payload)
				return
			}
			if err := json.Unmarshal(res.Payload, &results[i]); err != nil {
				t.Errorf("Invoke %d: %q: %v", i+1, res.Payload, err)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	latestStart, earliestEnd := int64(0), int64(1<<62)
	for i, r := range results {
		if r.Pid != warm.Pid {
			t.Errorf("invocation %d ran in process %d, not in the warm worker %d", i+1, r.Pid, warm.Pid)
		}
		if r.Max != "4" {
			t.Errorf("AWS_LAMBDA_MAX_CONCURRENCY = %q, want 4", r.Max)
		}
		latestStart, earliestEnd = max(latestStart, r.Start), min(earliestEnd, r.End)
	}
	if latestStart >= earliestEnd {
		t.Errorf("the four invocations did not run at the same time: the last started at %d, the first ended at %d", latestStart, earliestEnd)
	}

	for i, r := range results {
		var lines []string
		for _, l := range e.hostLogs(url.Values{"functionName": {"managed-node"}, "requestId": {r.Req}}) {
			if l.RequestId != r.Req {
				t.Errorf("log query for %s returned a line of %s", r.Req, l.RequestId)
			}
			// "<time>\t<request id>\tINFO\t<message>", as Lambda's Node.js runtime writes it.
			parts := strings.SplitN(l.Message, "\t", 4)
			if len(parts) != 4 || parts[1] != r.Req || parts[2] != "INFO" {
				t.Errorf("line %q is not in Lambda's text format for %s", l.Message, r.Req)
				continue
			}
			lines = append(lines, parts[3])
		}
		want := []string{fmt.Sprintf("begin %d", i+1), fmt.Sprintf("end %d\nnext line of %d", i+1, i+1)}
		if !sameStrings(lines, want) {
			t.Errorf("lines of invocation %d = %q, want %q", i+1, lines, want)
		}
	}
}

// Durable functions written with the official JS SDK run side by side on
// one worker: every execution succeeds, replays in the same process, and
// its log lines are its own.
func TestManagedInstancesJSSDKExecutionsShareAWorker(t *testing.T) {
	t.Parallel()
	jsWorkflowReady(t)
	e := newEnv(t)
	e.hostCreate("managed-js", hostFn{runtime: types.RuntimeNodejs22x, handler: "concurrent.handler", timeout: 30, durable: true,
		managed: 8, code: zipDir(t, jsWorkflowDir)})
	type result struct {
		N    int
		Pids []int
		Max  string
	}
	runOne := func(n int) (string, result) {
		out, err := e.client.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String("managed-js"), Qualifier: aws.String(latest),
			Payload: fmt.Appendf(nil, `{"n":%d}`, n)})
		if err != nil || out.FunctionError != nil {
			t.Errorf("Invoke %d: %v", n, err)
			return "", result{}
		}
		arn := aws.ToString(out.DurableExecutionArn)
		var r result
		hostResult(t, e.awaitStatus(arn, types.ExecutionStatusSucceeded), &r)
		return arn, r
	}
	_, warm := runOne(0)
	if len(warm.Pids) != 2 {
		t.Fatalf("warm-up result %+v", warm)
	}
	const n = 6
	arns := make([]string, n)
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			arns[i], results[i] = runOne(i + 1)
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for i, r := range results {
		if r.N != i+1 || r.Max != "8" || len(r.Pids) != 2 || r.Pids[0] != warm.Pids[0] || r.Pids[1] != warm.Pids[0] {
			t.Errorf("execution %d: result %+v, want n=%d, max 8 and both steps in the warm worker %d", i+1, r, i+1, warm.Pids[0])
		}
		events := e.history(arns[i])
		checkHistory(t, events, 2)
		var stepLines []string
		for _, l := range e.hostLogs(url.Values{"durableExecutionArn": {arns[i]}}) {
			if _, msg, ok := strings.Cut(l.Message, "\tINFO\t"); ok && strings.HasPrefix(msg, "step ") {
				stepLines = append(stepLines, msg)
			}
		}
		want := []string{fmt.Sprintf("step a of %d", i+1), fmt.Sprintf("step b of %d\nsecond line of %d", i+1, i+1)}
		if !sameStrings(stepLines, want) {
			t.Errorf("execution %d: step lines %q, want %q", i+1, stepLines, want)
		}
	}
}

// managedTimeoutHandler sleeps as long as its event says.
const managedTimeoutHandler = `
exports.handler = async (event) => {
  await new Promise((r) => setTimeout(r, event.sleepMs));
  return { pid: process.pid };
};
`

// On managed instances a timeout fails that invocation only: the worker
// and the invocations running beside it go on (Lambda's documented
// behaviour there), where a Lambda-default worker is killed.
func TestManagedInstancesTimeoutFailsOneInvocation(t *testing.T) {
	t.Parallel()
	hostNeed(t, "node")
	e := newEnv(t)
	e.hostCreate("managed-timeout", hostFn{runtime: types.RuntimeNodejs22x, handler: "index.handler", timeout: 2, managed: 4,
		code: hostZip(t, hostFile{name: "index.js", body: managedTimeoutHandler})})
	var warm struct{ Pid int }
	e.hostInvokePlain("managed-timeout", `{"sleepMs":0}`, &warm)

	slow := make(chan *lambda.InvokeOutput, 1)
	go func() {
		out, err := e.client.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String("managed-timeout"), Payload: []byte(`{"sleepMs":10000}`)})
		if err != nil {
			t.Errorf("slow Invoke: %v", err)
		}
		slow <- out
	}()
	time.Sleep(time.Second)
	// Runs from 1 s to 2.5 s: across the slow one's deadline at 2 s.
	var beside struct{ Pid int }
	e.hostInvokePlain("managed-timeout", `{"sleepMs":1500}`, &beside)
	out := <-slow
	if out == nil {
		t.FailNow()
	}
	if aws.ToString(out.FunctionError) != "Unhandled" || !strings.Contains(string(out.Payload), "Sandbox.Timedout") {
		t.Errorf("slow invocation: function error %q, payload %s; want Sandbox.Timedout", aws.ToString(out.FunctionError), out.Payload)
	}
	var after struct{ Pid int }
	e.hostInvokePlain("managed-timeout", `{"sleepMs":0}`, &after)
	if beside.Pid != warm.Pid || after.Pid != warm.Pid {
		t.Errorf("processes: warm %d, beside the timeout %d, after it %d; want one worker throughout", warm.Pid, beside.Pid, after.Pid)
	}
}

// Without PerExecutionEnvironmentMaxConcurrency a Node worker takes
// Lambda's Node default, 64 at once; Duro's Python bootstrap serves one
// invocation per process, so a Python worker is told nothing.
func TestManagedInstancesDefaultConcurrency(t *testing.T) {
	t.Parallel()
	hostNeed(t, "node")
	hostNeed(t, "python3")
	e := newEnv(t)
	e.hostCreate("managed-node-default", hostFn{runtime: types.RuntimeNodejs22x, handler: "index.handler", timeout: 30, managed: -1,
		code: hostZip(t, hostFile{name: "index.js", body: `exports.handler = async () => ({ max: process.env.AWS_LAMBDA_MAX_CONCURRENCY ?? "unset" });`})})
	e.hostCreate("managed-python", hostFn{runtime: types.RuntimePython312, handler: "app.handler", timeout: 30, managed: 8,
		code: hostZip(t, hostFile{name: "app.py", body: "import os\ndef handler(event, context):\n    return {\"max\": os.environ.get(\"AWS_LAMBDA_MAX_CONCURRENCY\", \"unset\")}\n"})})
	for _, tc := range []struct{ fn, want string }{{"managed-node-default", "64"}, {"managed-python", "unset"}} {
		var got struct{ Max string }
		e.hostInvokePlain(tc.fn, `{}`, &got)
		if got.Max != tc.want {
			t.Errorf("%s: AWS_LAMBDA_MAX_CONCURRENCY = %q, want %q", tc.fn, got.Max, tc.want)
		}
	}
}
