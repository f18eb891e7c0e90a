package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
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

// cliRunner runs the real AWS CLI against one endpoint, with dummy
// credentials and an empty configuration (the user's ~/.aws and AWS_*
// variables are ignored).
type cliRunner struct {
	t        *testing.T
	bin      string
	endpoint string
	env      []string
	dir      string
	major    int // 1 or 2
}

var cliVersionPattern = regexp.MustCompile(`aws-cli/(\d+)\.(\S+)`)

// cliArnPattern is the model's DurableExecutionArn pattern (protocol.md §3.2).
var cliArnPattern = regexp.MustCompile(`^arn:aws:lambda:us-east-1:\d{12}:function:([a-zA-Z0-9_-]+):(\$LATEST(?:\.PUBLISHED)?|[0-9]+)/durable-execution/([a-zA-Z0-9_-]+)/([a-zA-Z0-9_-]+)$`)

// newCLIRunner finds `aws` on PATH (failing the test with instructions if it
// is missing) and detects its major version.
func newCLIRunner(t *testing.T, endpoint string) *cliRunner {
	t.Helper()
	bin, err := exec.LookPath("aws")
	if err != nil {
		t.Fatalf("the AWS CLI (`aws`) is not on PATH; the CLI smoke test needs it "+
			"(install it with `apt-get install awscli` or `pip install awscli`; .ci/run does this): %v", err)
	}
	dir := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"AWS_ACCESS_KEY_ID=AKIDDURO",
		"AWS_SECRET_ACCESS_KEY=duro-secret",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_PAGER=",
		"AWS_CONFIG_FILE="+filepath.Join(dir, "no-config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "no-credentials"),
	)
	c := &cliRunner{t: t, bin: bin, endpoint: endpoint, env: env, dir: dir}
	cmd := exec.Command(bin, "--version")
	cmd.Env = env
	out, err := cmd.CombinedOutput() // v1 printed the version on stderr for a long time
	if err != nil {
		t.Fatalf("aws --version: %v\n%s", err, out)
	}
	m := cliVersionPattern.FindSubmatch(out)
	if m == nil {
		t.Fatalf("cannot read the AWS CLI version from %q", out)
	}
	c.major, _ = strconv.Atoi(string(m[1]))
	t.Logf("using %s", strings.TrimSpace(string(out)))
	return c
}

// blobArgs are the arguments that make a blob parameter raw text: CLI v1
// sends it as is, v2 would read it as base64 without the flag.
func (c *cliRunner) blobArgs() []string {
	if c.major >= 2 {
		return []string{"--cli-binary-format", "raw-in-base64-out"}
	}
	return nil
}

// run runs `aws <args> --endpoint-url <endpoint> --output json` and returns
// its stdout, stderr and exit code.
func (c *cliRunner) run(args ...string) (stdout, stderr string, code int) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	full := append(append([]string(nil), args...), "--endpoint-url", c.endpoint, "--output", "json")
	cmd := exec.CommandContext(ctx, c.bin, full...)
	cmd.Env, cmd.Dir = c.env, c.dir
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	began := time.Now()
	err := cmd.Run()
	c.t.Logf("aws %s %s (%v)", args[0], args[1], time.Since(began).Round(time.Millisecond))
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ctx.Err() == nil:
		code = ee.ExitCode()
	default:
		c.t.Fatalf("aws %s: %v\nstderr: %s", strings.Join(args, " "), err, e.String())
	}
	return o.String(), e.String(), code
}

// with returns the runner for a subtest.
func (c *cliRunner) with(t *testing.T) *cliRunner {
	cc := *c
	cc.t = t
	return &cc
}

// ok runs a command that must succeed and decodes its JSON output into v
// (nil: the output is not decoded).
func (c *cliRunner) ok(v any, args ...string) {
	c.t.Helper()
	stdout, stderr, code := c.run(args...)
	if code != 0 {
		c.t.Fatalf("aws %s: exit status %d\nstderr: %s", strings.Join(args, " "), code, stderr)
	}
	if v == nil {
		return
	}
	if err := json.Unmarshal([]byte(stdout), v); err != nil {
		c.t.Fatalf("aws %s: output is not the expected JSON: %v\n%s", strings.Join(args, " "), err, stdout)
	}
}

// cliExecution is get-durable-execution's output as the CLI prints it.
type cliExecution struct {
	DurableExecutionArn  string
	DurableExecutionName string
	FunctionArn          string
	Status               string
	InputPayload         string
	Result               string
	Version              string
	StartTimestamp       cliTimestamp
	EndTimestamp         cliTimestamp
	Error                *struct{ ErrorType, ErrorMessage string }
}

// cliEvent is one history event as the CLI prints it (the members the test
// reads).
type cliEvent struct {
	EventType string
	EventId   int
	Id        string
	Name      string
	SubType   string

	StepSucceededDetails *struct {
		Result struct {
			Payload   string
			Truncated bool
		}
	}
	CallbackStartedDetails *struct {
		CallbackId string
	}
	CallbackSucceededDetails *struct {
		Result struct {
			Payload   string
			Truncated bool
		}
	}
}

type cliHistory struct {
	Events []cliEvent
}

func (h cliHistory) types() []string {
	out := make([]string, len(h.Events))
	for i, ev := range h.Events {
		out[i] = ev.EventType
	}
	return out
}

// cliTimestamp is a timestamp as the CLI prints it: v1 passes the wire
// value through (epoch seconds, a JSON number), v2 prints ISO 8601 by
// default.
type cliTimestamp struct {
	time.Time
	set bool
}

func (c *cliTimestamp) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if json.Unmarshal(b, &s) == nil {
		ts, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return fmt.Errorf("timestamp %q is neither epoch seconds nor ISO 8601: %w", s, err)
		}
		c.Time, c.set = ts, true
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("timestamp %s is neither epoch seconds nor ISO 8601", b)
	}
	sec, frac := math.Modf(f)
	c.Time, c.set = time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3), true
	return nil
}

// cliWant fails the test if a timestamp is absent.
func cliWant(t *testing.T, what string, ts cliTimestamp) time.Time {
	t.Helper()
	if !ts.set {
		t.Fatalf("%s is missing", what)
	}
	return ts.Time
}

// TestCLISmoke drives a real Duro node with the real AWS CLI: a synchronous
// invoke of a durable function, an asynchronous one completed through
// send-durable-execution-callback-success, a stopped one, the read APIs
// (get-durable-execution, get-durable-execution-history,
// list-durable-executions-by-function) and an error answer. The functions
// are remote (DURO_INVOKE_URL), served by the test.
func TestCLISmoke(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("aws"); err != nil {
		newCLIRunner(t, "") // fails with the installation hint
	}
	remote := newRemoteFunctions(t)
	srv, err := server.Start(context.Background(), server.Config{
		Listen:  "127.0.0.1:0",
		DataDir: t.TempDir(),
		Logger:  slog.New(slog.DiscardHandler),
		Engine: engine.Config{
			RetryBackoff:      func(int) time.Duration { return 50 * time.Millisecond },
			TimerPollInterval: 200 * time.Millisecond,
		},
	})
	if err != nil {
		t.Fatalf("server.Start: %v", err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			t.Logf("shutdown: %v", err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sdk := durable.NewClient(srv.URL())
	cli := newCLIRunner(t, srv.URL())

	hello := func(c *durable.Context, in json.RawMessage) (any, error) {
		var p struct{ Name string }
		if err := json.Unmarshal(in, &p); err != nil {
			return nil, err
		}
		g, err := c.Step("greet", func() (any, error) { return "hello " + p.Name, nil })
		if err != nil {
			return nil, err
		}
		return map[string]any{"greeting": g}, nil
	}
	approval := func(c *durable.Context, in json.RawMessage) (any, error) {
		var p struct{ Order string }
		if err := json.Unmarshal(in, &p); err != nil {
			return nil, err
		}
		if _, err := c.Step("receive", func() (any, error) { return p.Order, nil }); err != nil {
			return nil, err
		}
		_, wait := c.Callback("approval", 300, 0)
		res, err := wait()
		if err != nil {
			return nil, err
		}
		return map[string]any{"order": p.Order, "approval": res}, nil
	}
	createRemoteFunction(t, ctx, sdk, "cli-hello", remote.serve("cli-hello", sdk, hello), 30)
	createRemoteFunction(t, ctx, sdk, "cli-approval", remote.serve("cli-approval", sdk, approval), 30)

	// The CLI starts slowly (about a second a call), so independent flows
	// run as parallel subtests; the listing checks what they left.
	var approveArn, stopArn string
	t.Run("flows", func(t *testing.T) {
		t.Run("sync-invoke", func(t *testing.T) {
			t.Parallel()
			cliSyncInvoke(t, cli.with(t))
		})
		t.Run("callback-success", func(t *testing.T) {
			t.Parallel()
			approveArn = cliCallbackFlow(t, ctx, cli.with(t), sdk)
		})
		t.Run("stop", func(t *testing.T) {
			t.Parallel()
			stopArn = cliStopFlow(t, ctx, cli.with(t), sdk)
		})
		t.Run("unknown-arn", func(t *testing.T) {
			t.Parallel()
			missing := "arn:aws:lambda:us-east-1:123456789012:function:cli-approval:$LATEST/durable-execution/missing/00000000-0000-4000-8000-000000000000"
			stdout, stderr, code := cli.with(t).run("lambda", "get-durable-execution", "--durable-execution-arn", missing)
			if code != 255 || !strings.Contains(stderr, "ResourceNotFoundException") || !strings.Contains(stderr, "GetDurableExecution") {
				t.Errorf("get-durable-execution of an unknown ARN: exit %d, stderr %q, stdout %q; want 255 and a ResourceNotFoundException from GetDurableExecution",
					code, stderr, stdout)
			}
		})
	})
	if t.Failed() {
		return
	}

	// lambda list-durable-executions-by-function: newest first by default.
	t.Run("list", func(t *testing.T) {
		cli := cli.with(t)
		type listed struct {
			DurableExecutionArn, DurableExecutionName, FunctionArn, Status string
			StartTimestamp                                                 cliTimestamp
		}
		var list struct{ DurableExecutions []listed }
		cli.ok(&list, "lambda", "list-durable-executions-by-function", "--function-name", "cli-approval", "--qualifier", "$LATEST")
		got := map[string]string{}
		for i, x := range list.DurableExecutions {
			got[x.DurableExecutionArn] = x.DurableExecutionName + "=" + x.Status
			at := cliWant(t, "StartTimestamp", x.StartTimestamp)
			if i > 0 && at.After(list.DurableExecutions[i-1].StartTimestamp.Time) {
				t.Errorf("list-durable-executions-by-function is not newest first: %+v", list.DurableExecutions)
			}
			if !strings.HasSuffix(x.FunctionArn, ":function:cli-approval:$LATEST") {
				t.Errorf("FunctionArn = %q", x.FunctionArn)
			}
		}
		want := map[string]string{approveArn: "approve-1=SUCCEEDED", stopArn: "stop-1=STOPPED"}
		if len(got) != len(want) || got[approveArn] != want[approveArn] || got[stopArn] != want[stopArn] {
			t.Errorf("list-durable-executions-by-function = %v, want %v", got, want)
		}
		list.DurableExecutions = nil
		cli.ok(&list, "lambda", "list-durable-executions-by-function", "--function-name", "cli-approval", "--statuses", "STOPPED")
		if len(list.DurableExecutions) != 1 || list.DurableExecutions[0].DurableExecutionArn != stopArn {
			t.Errorf("list --statuses STOPPED = %+v, want only %s", list.DurableExecutions, stopArn)
		}
	})
}

// cliSyncInvoke: `lambda invoke` (RequestResponse, which blocks until the
// execution is done), then get-durable-execution and
// get-durable-execution-history of the execution.
func cliSyncInvoke(t *testing.T, cli *cliRunner) {
	outFile := filepath.Join(cli.dir, "hello.json")
	var inv struct {
		StatusCode          int
		ExecutedVersion     string
		DurableExecutionArn string
		FunctionError       string
	}
	cli.ok(&inv, append([]string{"lambda", "invoke", "--function-name", "cli-hello", "--qualifier", "$LATEST",
		"--durable-execution-name", "hello-1", "--payload", `{"name":"duro"}`, outFile}, cli.blobArgs()...)...)
	m := cliArnPattern.FindStringSubmatch(inv.DurableExecutionArn)
	if inv.StatusCode != 200 || inv.ExecutedVersion != "$LATEST" || inv.FunctionError != "" ||
		m == nil || m[1] != "cli-hello" || m[2] != "$LATEST" || m[3] != "hello-1" {
		t.Fatalf("lambda invoke printed %+v; want StatusCode 200, ExecutedVersion $LATEST, no FunctionError and a cli-hello:$LATEST/…/hello-1 ARN", inv)
	}
	arn := inv.DurableExecutionArn
	if b, err := os.ReadFile(outFile); err != nil || string(b) != `{"greeting":"hello duro"}` {
		t.Errorf("invoke output file = %q (%v), want {\"greeting\":\"hello duro\"}", b, err)
	}

	var ge cliExecution
	cli.ok(&ge, "lambda", "get-durable-execution", "--durable-execution-arn", arn)
	if ge.DurableExecutionArn != arn || ge.DurableExecutionName != "hello-1" || ge.Status != "SUCCEEDED" ||
		ge.Result != `{"greeting":"hello duro"}` || ge.InputPayload != `{"name":"duro"}` || ge.Version != "$LATEST" ||
		!strings.HasSuffix(ge.FunctionArn, ":function:cli-hello:$LATEST") {
		t.Errorf("get-durable-execution = %+v", ge)
	}
	start, end := cliWant(t, "StartTimestamp", ge.StartTimestamp), cliWant(t, "EndTimestamp", ge.EndTimestamp)
	if end.Before(start) || time.Since(start) > time.Minute || time.Since(start) < -time.Second {
		t.Errorf("StartTimestamp %v, EndTimestamp %v: want both about now, start first", start, end)
	}

	var h cliHistory
	cli.ok(&h, "lambda", "get-durable-execution-history", "--durable-execution-arn", arn)
	wantTypes := []string{"ExecutionStarted", "StepStarted", "StepSucceeded", "InvocationCompleted", "ExecutionSucceeded"}
	if !sameStringList(h.types(), wantTypes) {
		t.Fatalf("history = %v, want %v", h.types(), wantTypes)
	}
	for i, ev := range h.Events {
		if ev.EventId != i+1 {
			t.Errorf("event %d (%s) has EventId %d", i+1, ev.EventType, ev.EventId)
		}
	}
	if s := h.Events[2]; s.Name != "greet" || s.SubType != "Step" || s.StepSucceededDetails == nil ||
		s.StepSucceededDetails.Result.Payload != `"hello duro"` || s.StepSucceededDetails.Result.Truncated {
		t.Errorf("StepSucceeded = %+v", s)
	}
}

// cliStartApproval starts cli-approval with `lambda invoke --invocation-type
// Event` and waits (through the Go SDK, to keep the slow CLI calls few)
// until its callback is open.
func cliStartApproval(t *testing.T, ctx context.Context, cli *cliRunner, sdk *lambda.Client, name, payload string) string {
	t.Helper()
	var out struct {
		StatusCode          int
		DurableExecutionArn string
	}
	cli.ok(&out, append([]string{"lambda", "invoke", "--function-name", "cli-approval", "--qualifier", "$LATEST",
		"--invocation-type", "Event", "--durable-execution-name", name, "--payload", payload,
		filepath.Join(cli.dir, name+".json")}, cli.blobArgs()...)...)
	if out.StatusCode != 202 || !cliArnPattern.MatchString(out.DurableExecutionArn) {
		t.Fatalf("lambda invoke --invocation-type Event printed %+v; want StatusCode 202 and an execution ARN", out)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		events, err := procHistory(ctx, sdk, out.DurableExecutionArn)
		if err != nil {
			t.Fatal(err)
		}
		if len(eventsOfType(events, types.EventTypeCallbackStarted)) > 0 {
			return out.DurableExecutionArn
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no CallbackStarted after 20s\n%s", name, procDump(events))
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// cliCallbackFlow: an asynchronous execution waits for a callback, which
// send-durable-execution-callback-success completes with the callback id
// read from get-durable-execution-history.
func cliCallbackFlow(t *testing.T, ctx context.Context, cli *cliRunner, sdk *lambda.Client) string {
	arn := cliStartApproval(t, ctx, cli, sdk, "approve-1", `{"order":"o-7"}`)
	var ge cliExecution
	cli.ok(&ge, "lambda", "get-durable-execution", "--durable-execution-arn", arn)
	if ge.Status != "RUNNING" || ge.EndTimestamp.set || ge.Result != "" {
		t.Errorf("get-durable-execution of a waiting execution = %+v; want RUNNING without EndTimestamp or Result", ge)
	}
	var h cliHistory
	cli.ok(&h, "lambda", "get-durable-execution-history", "--durable-execution-arn", arn)
	var callbackID string
	for _, ev := range h.Events {
		if ev.EventType == "CallbackStarted" && ev.CallbackStartedDetails != nil {
			callbackID = ev.CallbackStartedDetails.CallbackId
		}
	}
	if callbackID == "" {
		t.Fatalf("no CallbackStarted with a CallbackId in the CLI's history: %v", h.types())
	}

	cli.ok(nil, append([]string{"lambda", "send-durable-execution-callback-success", "--callback-id", callbackID,
		"--result", `{"approved":true}`}, cli.blobArgs()...)...)
	actx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := procAwaitTerminal(actx, sdk, []string{arn}); err != nil {
		t.Fatal(err)
	}
	ge = cliExecution{}
	cli.ok(&ge, "lambda", "get-durable-execution", "--durable-execution-arn", arn)
	if ge.Status != "SUCCEEDED" || ge.Result != `{"approval":{"approved":true},"order":"o-7"}` {
		t.Errorf("after the callback: status %s, result %s; want SUCCEEDED with the callback's result", ge.Status, ge.Result)
	}
	h = cliHistory{}
	cli.ok(&h, "lambda", "get-durable-execution-history", "--durable-execution-arn", arn)
	var cbResult string
	for _, ev := range h.Events {
		if ev.EventType == "CallbackSucceeded" && ev.CallbackSucceededDetails != nil {
			cbResult = ev.CallbackSucceededDetails.Result.Payload
		}
	}
	if cbResult != `{"approved":true}` {
		t.Errorf("CallbackSucceeded result = %q, want the raw bytes the CLI sent, {\"approved\":true}", cbResult)
	}
	if last := h.Events[len(h.Events)-1]; last.EventType != "ExecutionSucceeded" {
		t.Errorf("last event = %s, want ExecutionSucceeded", last.EventType)
	}
	return arn
}

// cliStopFlow: stop-durable-execution with an error object, then
// get-durable-execution shows it STOPPED with that error.
func cliStopFlow(t *testing.T, ctx context.Context, cli *cliRunner, sdk *lambda.Client) string {
	arn := cliStartApproval(t, ctx, cli, sdk, "stop-1", `{"order":"o-8"}`)
	var stop struct{ StopTimestamp cliTimestamp }
	cli.ok(&stop, "lambda", "stop-durable-execution", "--durable-execution-arn", arn,
		"--error", `{"ErrorType":"Operator.Stop","ErrorMessage":"halted by the CLI"}`)
	stopped := cliWant(t, "StopTimestamp", stop.StopTimestamp)
	if d := time.Since(stopped); d < -time.Second || d > time.Minute {
		t.Errorf("StopTimestamp = %v, want about now", stopped)
	}
	var ge cliExecution
	cli.ok(&ge, "lambda", "get-durable-execution", "--durable-execution-arn", arn)
	if ge.Status != "STOPPED" || ge.Error == nil || ge.Error.ErrorType != "Operator.Stop" || ge.Error.ErrorMessage != "halted by the CLI" {
		t.Errorf("after stop-durable-execution: %+v; want STOPPED with the given error", ge)
	}
	if !cliWant(t, "EndTimestamp", ge.EndTimestamp).Equal(stopped) {
		t.Errorf("EndTimestamp %v, want the StopTimestamp %v", ge.EndTimestamp.Time, stopped)
	}
	// The SDK reads the same execution the same way.
	d, err := sdk.GetDurableExecution(ctx, &lambda.GetDurableExecutionInput{DurableExecutionArn: aws.String(arn)})
	if err != nil {
		t.Fatalf("GetDurableExecution through the SDK: %v", err)
	}
	if diff := aws.ToTime(d.EndTimestamp).Sub(stopped); diff > time.Millisecond || diff < -time.Millisecond || d.Status != types.ExecutionStatusStopped {
		t.Errorf("the SDK reads EndTimestamp %v, status %s; the CLI read %v, STOPPED", d.EndTimestamp, d.Status, stopped)
	}
	return arn
}

// sameStringList compares two string lists.
func sameStringList(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
