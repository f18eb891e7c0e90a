package conformance_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/duro-run/duro/internal/conformance"
	"github.com/duro-run/duro/internal/conformance/logs"
	"github.com/duro-run/duro/internal/conformance/report"
	"github.com/duro-run/duro/internal/durable"
	"github.com/duro-run/duro/internal/engine"
	"github.com/duro-run/duro/internal/server"
)

// The requirements below are authored for this test (they are not files of
// the public suite) and exercise the sync flow, the async flow with a
// CallbackAction, ExpectedResult, ExpectedLogs and the failure report.
var requirements = map[string]string{
	// Passes: one step returning the input.
	"demo/t-1.yaml": `
description: One step echoes the input
Variables:
  NAME1: ${GEN_STR:8}
Input:
  value: '${NAME1}'
  n: 1
ExpectedResult:
  ExecutionStatus: SUCCEEDED
  Result:
    value: '${NAME1}'
    n: 1.0
ExpectedExecutionHistory:
  - EventType: ExecutionStarted
    EventId: 1
    ExecutionStartedDetails:
      Input:
        Payload: '{"value": "${NAME1}", "n": 1}'
  - EventType: StepStarted
    SubType: Step
    EventId: 2
    Id: ${ID1}
    Name: echo
    EventTimestamp: '*'
  - EventType: StepSucceeded
    SubType: Step
    EventId: 3
    Id: ${ID1}
    Name: echo
    EventTimestamp: '*'
    StepSucceededDetails:
      Result:
        Payload: '{"n":1,"value":"${NAME1}"}'
  - EventType: InvocationCompleted
    EventId: 4
    EventTimestamp: '*'
  - EventType: ExecutionSucceeded
    EventId: 5
ExpectedLogs:
  - match:
      message: '/echo ran for ${NAME1}/'
    count: 1
  - match:
      message: '/\[ERROR\]/'
    count: 0
`,
	// Fails: a wrong step name, reported with the path and both values.
	"demo/t-2.yaml": `
description: Same function, wrong expectation
Input: {value: x}
ExpectedResult:
  ExecutionStatus: SUCCEEDED
ExpectedExecutionHistory:
  - EventType: StepStarted
    EventId: 2
    Id: ${ID1}
    Name: not-echo
`,
	// Passes: async flow, the harness completes the callback.
	"demo/t-3.yaml": `
description: A callback completed by the harness
AsyncInvoke: true
AsyncConfig:
  PollIntervalSeconds: 0.2
Variables:
  CB_NAME: ${GEN_STR:10}
Input: ${CB_NAME}
ExpectedResult:
  ExecutionStatus: SUCCEEDED
  Result: {status: approved}
CallbackActions:
  - CallbackName: ${CB_NAME}
    Operation: success
    Payload: {status: approved}
ExpectedExecutionHistory:
  - EventType: CallbackStarted
    SubType: Callback
    EventId: 2
    Id: ${CB1}
    Name: ${CB_NAME}
    CallbackStartedDetails:
      CallbackId: '*'
  - EventType: InvocationCompleted
    EventId: 3
  - EventType: CallbackSucceeded
    EventId: 4
    Id: ${CB1}
    CallbackSucceededDetails:
      Result:
        Payload: '{"status": "approved"}'
`,
	// History-only (no ExpectedResult): polling stops once the events
	// match, and the still-running execution is stopped afterwards.
	"demo/t-7.yaml": `
AsyncInvoke: true
AsyncConfig: {PollIntervalSeconds: 0.2}
Variables:
  CB_NAME: ${GEN_STR:10}
Input: ${CB_NAME}
ExpectedExecutionHistory:
  - {EventId: 2, EventType: CallbackStarted, Name: '${CB_NAME}'}
  - {EventId: 3, EventType: InvocationCompleted}
`,
	// No progress: nobody completes the callback.
	"demo/t-8.yaml": `
AsyncInvoke: true
AsyncConfig: {PollIntervalSeconds: 0.2, NoProgressTimeoutSeconds: 1}
Input: stuck
ExpectedResult:
  ExecutionStatus: SUCCEEDED
ExpectedExecutionHistory:
  - {EventId: 2, EventType: CallbackStarted, Name: stuck}
`,
	// Listed by no function.
	"other/t-4.yaml": "Input: null\nExpectedExecutionHistory: [{EventId: 1}]\n",
	// Declared not implemented.
	"other/t-5.yaml": "Input: null\nExpectedExecutionHistory: [{EventId: 1}]\n",
	// Optional and failing.
	"other/t-6.yaml": `
optional: true
Input: {value: 1}
ExpectedResult:
  ExecutionStatus: FAILED
ExpectedExecutionHistory: [{EventId: 1, EventType: ExecutionStarted}]
`,
}

const samTemplate = `
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
TestingMetadata:
  NotImplemented:
    - id: t-5
      reason: declared gap
Resources:
  EchoFunction:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: conf-echo
    TestingMetadata:
      TestDescription: [t-1, t-2, t-6]
  CallbackFunction:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: conf-callback
    TestingMetadata:
      TestDescription: [t-3, t-7, t-8]
`

// fakeLogs stands in for the log API: the echo function "logs" through it.
type fakeLogs struct {
	mu    sync.Mutex
	lines map[string][]logs.Record
}

func (f *fakeLogs) add(arn, line string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lines[arn] = append(f.lines[arn], logs.NewRecord(line, time.Now(), int64(len(f.lines[arn]))))
}

func (f *fakeLogs) Logs(_ context.Context, arn string) ([]logs.Record, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]logs.Record(nil), f.lines[arn]...), nil
}

func startServer(t *testing.T) *server.Server {
	t.Helper()
	srv, err := server.Start(context.Background(), server.Config{
		Listen:    "127.0.0.1:0",
		DataDir:   t.TempDir(),
		Region:    "us-east-1",
		AccountID: "123456789012",
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Engine: engine.Config{
			RetryBackoff:      func(int) time.Duration { return 50 * time.Millisecond },
			TimerPollInterval: 100 * time.Millisecond,
		},
	})
	if err != nil {
		t.Fatalf("server.Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Logf("shutdown: %v", err)
		}
	})
	return srv
}

func register(t *testing.T, srv *server.Server, client *lambda.Client, name string, fn durable.Func) {
	t.Helper()
	_, err := client.CreateFunction(context.Background(), &lambda.CreateFunctionInput{
		FunctionName:  aws.String(name),
		Role:          aws.String("arn:aws:iam::123456789012:role/duro-test"),
		Code:          &types.FunctionCode{ZipFile: []byte("PK\x05\x06" + strings.Repeat("\x00", 18))}, // an empty zip: the code runs in-process
		Runtime:       types.RuntimeProvidedal2023,
		Handler:       aws.String("bootstrap"),
		Timeout:       aws.Int32(30),
		DurableConfig: &types.DurableConfig{ExecutionTimeout: aws.Int32(300)},
	})
	if err != nil {
		t.Fatalf("CreateFunction(%s): %v", name, err)
	}
	srv.Runtime.Handle(name, durable.Handler(client, fn))
}

func writeTree(t *testing.T) (reqDir, templatePath string) {
	t.Helper()
	root := t.TempDir()
	reqDir = filepath.Join(root, "requirements")
	for rel, body := range requirements {
		p := filepath.Join(reqDir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	templatePath = filepath.Join(root, "template.yaml")
	if err := os.WriteFile(templatePath, []byte(samTemplate), 0o644); err != nil {
		t.Fatal(err)
	}
	return reqDir, templatePath
}

func TestHarnessAgainstInProcessServer(t *testing.T) {
	srv := startServer(t)
	client := durable.NewClient(srv.URL())
	logSrc := &fakeLogs{lines: map[string][]logs.Record{}}

	register(t, srv, client, "conf-echo", func(c *durable.Context, in json.RawMessage) (any, error) {
		return c.Step("echo", func() (any, error) {
			var input any
			if err := json.Unmarshal(in, &input); err != nil {
				return nil, err
			}
			var value any
			if m, ok := input.(map[string]any); ok {
				value = m["value"]
			}
			arn := c.ExecutionArn()
			logSrc.add(arn, fmt.Sprintf(`{"executionArn": %q, "level": "INFO", "message": "echo ran for %v"}`, arn, value))
			// Lines upstream's CloudWatch filter drops: another execution's
			// record and a plain (non-JSON) line.
			logSrc.add(arn, `{"executionArn": "arn:other", "message": "[ERROR] another execution"}`)
			logSrc.add(arn, "[ERROR] a plain line")
			return input, nil
		})
	})
	register(t, srv, client, "conf-callback", func(c *durable.Context, in json.RawMessage) (any, error) {
		var name string
		if err := json.Unmarshal(in, &name); err != nil {
			return nil, err
		}
		_, wait := c.Callback(name, 60, 0)
		return wait()
	})

	reqDir, templatePath := writeTree(t)
	var lines []string
	var mu sync.Mutex
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rep, err := conformance.Run(ctx, conformance.Options{
		RequirementsDir: reqDir,
		TemplatePath:    templatePath,
		Endpoint:        srv.URL(),
		LogSource:       logSrc,
		Parallel:        3,
		OnResult: func(r report.Result) {
			mu.Lock()
			defer mu.Unlock()
			lines = append(lines, r.Line())
		},
		Logf: t.Logf,
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	byID := map[string]report.Result{}
	for _, r := range rep.Results {
		byID[r.ID] = r
	}
	want := map[string]report.Status{
		"t-1": report.Passed, "t-2": report.Failed, "t-3": report.Passed,
		"t-4": report.Uncovered, "t-5": report.NotImplemented, "t-6": report.OptionalFailed,
		"t-7": report.Passed, "t-8": report.Failed,
	}
	for id, st := range want {
		r := byID[id]
		if r.Status != st {
			t.Errorf("%s: %s, want %s; errors:\n  %s\nhistory: %s", id, r.Status, st, strings.Join(r.Errors, "\n  "), r.History)
		}
	}
	if got := byID["t-2"].Line(); got != "FAILED t-2: Event[EventId=2].Name: expected 'not-echo', got 'echo'" {
		t.Errorf("t-2 line = %q", got)
	}
	if got := byID["t-6"].Line(); got != "OPTIONAL_FAILED t-6: Expected ExecutionStatus='FAILED', got 'SUCCEEDED'" {
		t.Errorf("t-6 line = %q", got)
	}
	if got := byID["t-5"].Line(); got != "NOT_IMPLEMENTED t-5: declared gap" {
		t.Errorf("t-5 line = %q", got)
	}
	if r := byID["t-1"]; r.FunctionName != "conf-echo" || r.Function != "EchoFunction" || r.ExecutionArn == "" || len(r.History) == 0 {
		t.Errorf("t-1 result fields: %+v", r)
	}
	if got := byID["t-8"].Line(); !strings.HasPrefix(got, "FAILED t-8: No new events for 1.") || !strings.HasSuffix(got, "s (timeout: 1.0s) (+1 more)") {
		t.Errorf("t-8 line = %q", got)
	}
	if errs := byID["t-8"].Errors; len(errs) != 2 || errs[1] != "Expected ExecutionStatus='SUCCEEDED', got 'RUNNING'" {
		t.Errorf("t-8 errors %q", errs)
	}
	for _, id := range []string{"t-7", "t-8"} {
		d, err := client.GetDurableExecution(ctx, &lambda.GetDurableExecutionInput{DurableExecutionArn: aws.String(byID[id].ExecutionArn)})
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != types.ExecutionStatusStopped {
			t.Errorf("%s: execution left %s, want STOPPED by the harness", id, d.Status)
		}
	}
	// The server's own log route answers in the shape HTTPSource reads (an
	// in-process Go handler writes no log lines, so the list is empty).
	if recs, err := (&logs.HTTPSource{Endpoint: srv.URL()}).Logs(ctx, byID["t-1"].ExecutionArn); err != nil || len(recs) != 0 {
		t.Errorf("log route: %d records, err %v", len(recs), err)
	}
	if len(lines) != 8 {
		t.Errorf("OnResult lines %q", lines)
	}
	if got := rep.FinalLine(); got != "3 passed, 3 failed, 1 optional failed, 1 not implemented" {
		t.Errorf("final line %q", got)
	}
	if !rep.Failed() {
		t.Error("report with a FAILED requirement does not fail")
	}
	var junit, summary strings.Builder
	if err := rep.WriteJUnit(&junit); err != nil {
		t.Fatal(err)
	}
	for _, frag := range []string{`<testcase classname="js.demo" name="t-1"`, `<failure message="Event[EventId=2].Name: expected &#39;not-echo&#39;, got &#39;echo&#39;"`, `<skipped message="NOT_IMPLEMENTED: declared gap">`} {
		if !strings.Contains(junit.String(), frag) {
			t.Errorf("JUnit lacks %s:\n%s", frag, junit.String())
		}
	}
	if err := rep.WriteSummary(&summary); err != nil {
		t.Fatal(err)
	}
	t.Logf("summary:\n%s", summary.String())

	// Only the selected suite and ids run.
	rep, err = conformance.Run(ctx, conformance.Options{
		RequirementsDir: reqDir, TemplatePath: templatePath, Endpoint: srv.URL(), LogSource: logSrc,
		IDs: []string{"t-1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 1 || rep.Results[0].Status != report.Passed || rep.Failed() || rep.FinalLine() != "1 passed, 0 failed" {
		t.Errorf("selected run: %+v", rep.Results)
	}
	if _, err := conformance.Run(ctx, conformance.Options{RequirementsDir: reqDir, TemplatePath: templatePath, Endpoint: srv.URL(), Suites: []string{"nope"}}); err == nil {
		t.Error("unknown suite accepted")
	}
}

func TestInProcessWithoutDeployer(t *testing.T) {
	reqDir, templatePath := writeTree(t)
	_, err := conformance.Run(context.Background(), conformance.Options{RequirementsDir: reqDir, TemplatePath: templatePath})
	if err == nil || !strings.Contains(err.Error(), "no template deployer") {
		t.Errorf("err = %v", err)
	}
}

func TestInProcessWithDeployer(t *testing.T) {
	reqDir, templatePath := writeTree(t)
	var srvURL string
	newDeployer := func(srv *server.Server) (conformance.Deployer, error) {
		srvURL = srv.URL()
		return conformance.DeployerFunc(func(ctx context.Context, path string) (map[string]string, error) {
			client := durable.NewClient(srv.URL())
			register(t, srv, client, "deployed-echo", func(c *durable.Context, in json.RawMessage) (any, error) {
				return c.Step("echo", func() (any, error) { return "ok", nil })
			})
			return map[string]string{"EchoFunction": "deployed-echo"}, nil
		}), nil
	}
	rep, err := conformance.Run(context.Background(), conformance.Options{
		RequirementsDir: reqDir, TemplatePath: templatePath, NewDeployer: newDeployer, IDs: []string{"t-2"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if srvURL == "" || len(rep.Results) != 1 || rep.Results[0].FunctionName != "deployed-echo" || rep.Results[0].Status != report.Failed {
		t.Errorf("results %+v", rep.Results)
	}
}
