package e2e

import (
	"context"
	"encoding/json"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/duro-run/duro/internal/devenv"
	"github.com/duro-run/duro/internal/runtime"
	"github.com/duro-run/duro/internal/sam"
)

// jsWorkflowDir holds a durable function written with the official JS SDK
// (@aws/durable-execution-sdk-js, pinned in its package-lock.json).
const jsWorkflowDir = "testdata/jsworkflow"

var jsInstall struct {
	once sync.Once
	err  error
}

// jsWorkflowReady installs the function's npm dependencies once.
func jsWorkflowReady(t *testing.T) {
	t.Helper()
	hostNeed(t, "node")
	jsInstall.once.Do(func() { jsInstall.err = devenv.NpmInstall(context.Background(), jsWorkflowDir, nil) })
	if jsInstall.err != nil {
		t.Fatalf("npm install in %s: %v", jsWorkflowDir, jsInstall.err)
	}
}

// zipDir archives a directory as a deployment package.
func zipDir(t *testing.T, dir string) []byte {
	t.Helper()
	b, err := runtime.ZipDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jsWorkflowResult is what workflow.mjs returns.
type jsWorkflowResult struct {
	Order    string            `json:"order"`
	Flaky    string            `json:"flaky"`
	Approval map[string]any    `json:"approval"`
	Priced   int               `json:"priced"`
	Checks   []string          `json:"checks"`
	Labels   []string          `json:"labels"`
	Echoed   map[string]string `json:"echoed"`
}

// runJSWorkflow starts the workflow asynchronously, completes its approval
// callback through the API, and checks its result and history.
func runJSWorkflow(t *testing.T, e *env, function string) {
	arn := e.start(function, latest, "", `{"orderId":"o-7","items":["a","b","c"]}`)
	cb := e.awaitEvent(arn, types.EventTypeCallbackStarted, 1)
	if _, err := e.client.SendDurableExecutionCallbackSuccess(ctx(t), &lambda.SendDurableExecutionCallbackSuccessInput{
		CallbackId: cb.CallbackStartedDetails.CallbackId, Result: []byte(`{"approved":true}`),
	}); err != nil {
		t.Fatalf("SendDurableExecutionCallbackSuccess: %v", err)
	}
	d := e.awaitStatus(arn, types.ExecutionStatusSucceeded)
	var got jsWorkflowResult
	hostResult(t, d, &got)
	want := jsWorkflowResult{
		Order: "o-7", Flaky: "ok on attempt 2", Approval: map[string]any{"approved": true}, Priced: 31,
		Checks: []string{"clean", "in-stock"}, Labels: []string{"label-a", "label-b", "label-c"},
		Echoed: map[string]string{"order": "o-7"},
	}
	gj, _ := json.Marshal(got)
	wj, _ := json.Marshal(want)
	if string(gj) != string(wj) {
		t.Errorf("result = %s\nwant     %s", gj, wj)
	}
	events := e.history(arn)
	checkHistory(t, events, -1)
	for _, typ := range []types.EventType{types.EventTypeStepFailed, types.EventTypeWaitSucceeded, types.EventTypeCallbackSucceeded,
		types.EventTypeContextSucceeded, types.EventTypeChainedInvokeSucceeded} {
		if len(eventsOf(events, typ)) == 0 {
			t.Errorf("history has no %s: %v", typ, eventTypes(events))
		}
	}
	logs := e.hostLogs(url.Values{"durableExecutionArn": {arn}})
	found := false
	for _, l := range logs {
		if strings.Contains(l.Message, "approval requested") && strings.Contains(l.Message, aws.ToString(cb.CallbackStartedDetails.CallbackId)) {
			found = true
		}
	}
	if !found {
		t.Errorf("the handler's console.log line with the callback id is not in the execution's logs (%d lines)", len(logs))
	}
}

// The official JS SDK runs unchanged on Duro: a function uploaded as a zip
// through CreateFunction uses steps, a retry, a wait, a callback completed
// through the API, a child context, parallel, map and a chained invoke of a
// second (plain) function.
func TestJSSDKWorkflowFromZip(t *testing.T) {
	t.Parallel()
	jsWorkflowReady(t)
	e := newEnv(t)
	code := zipDir(t, jsWorkflowDir)
	e.hostCreate("js-echo", hostFn{runtime: types.RuntimeNodejs22x, handler: "echo.handler", code: code})
	e.hostCreate("js-workflow", hostFn{runtime: types.RuntimeNodejs22x, handler: "workflow.handler", code: code, durable: true, timeout: 30,
		env: map[string]string{"ECHO_FUNCTION": "js-echo:$LATEST"}})
	runJSWorkflow(t, e, "js-workflow")
}

// The same function registered from a SAM template (as `duro dev
// --template` does) and driven through the API.
func TestJSSDKWorkflowFromSAMTemplate(t *testing.T) {
	t.Parallel()
	jsWorkflowReady(t)
	e := newEnv(t)
	tmpl, err := sam.Load(filepath.Join(jsWorkflowDir, "template.yaml"), sam.Options{})
	if err != nil {
		t.Fatal(err)
	}
	names, err := devenv.Deploy(ctx(t), e.srv.Engine, tmpl, nil)
	if err != nil {
		t.Fatal(err)
	}
	if names["Workflow"] != "sam-workflow" || names["Echo"] != "sam-echo" {
		t.Fatalf("deployed %v", names)
	}
	fn, err := e.client.GetFunctionConfiguration(ctx(t), &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("sam-workflow")})
	if err != nil {
		t.Fatal(err)
	}
	if fn.DurableConfig == nil || aws.ToInt32(fn.DurableConfig.ExecutionTimeout) != 300 || fn.Environment.Variables["ECHO_FUNCTION"] != "sam-echo:$LATEST" {
		t.Fatalf("registered configuration: %+v", fn)
	}
	// A function on managed instances keeps its CapacityProviderConfig
	// when registered, and when registered again (an update).
	for range 2 {
		cfg, err := e.client.GetFunctionConfiguration(ctx(t), &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("sam-concurrent")})
		if err != nil {
			t.Fatal(err)
		}
		if managedConcurrency(cfg.CapacityProviderConfig) != 8 || aws.ToString(cfg.CapacityProviderConfig.LambdaManagedInstancesCapacityProviderConfig.CapacityProviderArn) !=
			"arn:aws:lambda:us-east-1:123456789012:capacity-provider:Fleet" {
			t.Fatalf("sam-concurrent: CapacityProviderConfig %+v", cfg.CapacityProviderConfig)
		}
		if _, err := devenv.Deploy(ctx(t), e.srv.Engine, tmpl, nil); err != nil {
			t.Fatal(err)
		}
	}
	runJSWorkflow(t, e, "sam-workflow")
}
