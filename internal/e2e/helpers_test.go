package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/duro-run/duro/internal/durable"
	"github.com/duro-run/duro/internal/engine"
	"github.com/duro-run/duro/internal/runtime"
	"github.com/duro-run/duro/internal/server"
)

// env is one running Duro node and a client for it.
type env struct {
	t       *testing.T
	srv     *server.Server
	client  *lambda.Client
	dataDir string // the node's data directory; its store is duro.db there
}

// testTimeout bounds every wait in a test; the whole package should run in
// well under a minute.
const testTimeout = 30 * time.Second

// latest is the qualifier durable invocations use.
const latest = "$LATEST"

// newEnv starts a node on a loopback port with a fresh data directory and
// shortened invocation backoffs. It is shut down when the test ends.
func newEnv(t *testing.T) *env {
	t.Helper()
	logLevel := slog.LevelError + 4 // silent: expected failures would be noise
	if os.Getenv("DURO_E2E_LOG") != "" {
		logLevel = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel}))
	dataDir := t.TempDir()
	srv, err := server.Start(context.Background(), server.Config{
		Listen:  "127.0.0.1:0",
		DataDir: dataDir,
		Logger:  logger,
		Engine: engine.Config{
			RetryBackoff:      func(int) time.Duration { return 50 * time.Millisecond },
			TimerPollInterval: 200 * time.Millisecond,
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
	return &env{t: t, srv: srv, client: client, dataDir: dataDir}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return c
}

// fnOpts configures createFunction.
type fnOpts struct {
	durable *types.DurableConfig // nil: a plain function
	timeout int32                // function timeout in seconds; 0 = defaultFunctionTimeout
}

// defaultFunctionTimeout replaces Lambda's 3 s default for test functions,
// so that a slow machine (or -race) does not turn CPU starvation into
// Sandbox.Timedout re-invocations that would change the histories.
const defaultFunctionTimeout = 30

// createFunction registers a function with the API and its in-process
// handler with the runtime.
func (e *env) createFunction(name string, o fnOpts, h runtime.HandlerFunc) *lambda.CreateFunctionOutput {
	e.t.Helper()
	in := &lambda.CreateFunctionInput{
		FunctionName:  aws.String(name),
		Role:          aws.String("arn:aws:iam::123456789012:role/duro-test"),
		Code:          &types.FunctionCode{ZipFile: []byte("PK\x05\x06" + strings.Repeat("\x00", 18))}, // an empty zip: the code runs in-process
		Runtime:       types.RuntimeProvidedal2023,
		Handler:       aws.String("bootstrap"),
		DurableConfig: o.durable,
	}
	in.Timeout = aws.Int32(defaultFunctionTimeout)
	if o.timeout > 0 {
		in.Timeout = aws.Int32(o.timeout)
	}
	out, err := e.client.CreateFunction(ctx(e.t), in)
	if err != nil {
		e.t.Fatalf("CreateFunction(%s): %v", name, err)
	}
	if h != nil {
		e.srv.Runtime.Handle(name, h)
	}
	return out
}

// durableFunction creates a durable function (ExecutionTimeout 300 s unless
// dc says otherwise) running fn through the durable SDK, and returns a
// counter of its invocations.
func (e *env) durableFunction(name string, dc *types.DurableConfig, fn durable.Func) *atomic.Int32 {
	e.t.Helper()
	if dc == nil {
		dc = &types.DurableConfig{ExecutionTimeout: aws.Int32(300)}
	}
	var calls atomic.Int32
	h := durable.Handler(e.client, fn)
	e.createFunction(name, fnOpts{durable: dc}, func(c context.Context, inv engine.Invocation) (engine.InvocationResponse, error) {
		calls.Add(1)
		return h(c, inv)
	})
	return &calls
}

// invoke calls Invoke synchronously with Qualifier $LATEST.
func (e *env) invoke(name, executionName string, payload string) *lambda.InvokeOutput {
	e.t.Helper()
	out, err := e.client.Invoke(ctx(e.t), &lambda.InvokeInput{
		FunctionName: aws.String(name), Qualifier: aws.String(latest),
		DurableExecutionName: optString(executionName), Payload: []byte(payload),
	})
	if err != nil {
		e.t.Fatalf("Invoke(%s): %v\n%s", name, err, e.dumpFunction(name))
	}
	return out
}

// dumpFunction renders the executions of a function (and their histories)
// for failure messages.
func (e *env) dumpFunction(name string) string {
	list, err := e.client.ListDurableExecutionsByFunction(context.Background(), &lambda.ListDurableExecutionsByFunctionInput{FunctionName: aws.String(name)})
	if err != nil {
		return "(executions unavailable: " + err.Error() + ")"
	}
	var b strings.Builder
	for _, x := range list.DurableExecutions {
		fmt.Fprintf(&b, "execution %s %s\n%s", aws.ToString(x.DurableExecutionArn), x.Status, e.dump(aws.ToString(x.DurableExecutionArn)))
	}
	return b.String()
}

// start invokes asynchronously (InvocationType Event) and returns the ARN.
func (e *env) start(name, qualifier, executionName, payload string) string {
	e.t.Helper()
	out, err := e.client.Invoke(ctx(e.t), &lambda.InvokeInput{
		FunctionName: aws.String(name), Qualifier: aws.String(qualifier), InvocationType: types.InvocationTypeEvent,
		DurableExecutionName: optString(executionName), Payload: []byte(payload),
	})
	if err != nil {
		e.t.Fatalf("Invoke(%s, Event): %v", name, err)
	}
	if out.StatusCode != http.StatusAccepted || aws.ToString(out.DurableExecutionArn) == "" {
		e.t.Fatalf("Invoke(%s, Event) = status %d, ARN %q; want 202 with an ARN", name, out.StatusCode, aws.ToString(out.DurableExecutionArn))
	}
	return *out.DurableExecutionArn
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// describe calls GetDurableExecution.
func (e *env) describe(arn string) *lambda.GetDurableExecutionOutput {
	e.t.Helper()
	out, err := e.client.GetDurableExecution(ctx(e.t), &lambda.GetDurableExecutionInput{DurableExecutionArn: aws.String(arn)})
	if err != nil {
		e.t.Fatalf("GetDurableExecution: %v", err)
	}
	return out
}

// awaitStatus polls GetDurableExecution until the execution is not RUNNING
// and checks that it ended with want.
func (e *env) awaitStatus(arn string, want types.ExecutionStatus) *lambda.GetDurableExecutionOutput {
	e.t.Helper()
	deadline := time.Now().Add(testTimeout)
	for {
		d := e.describe(arn)
		if d.Status != types.ExecutionStatusRunning {
			if d.Status != want {
				e.t.Fatalf("execution ended %s (error %s), want %s\nhistory:\n%s", d.Status, errString(d.Error), want, e.dump(arn))
			}
			return d
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("execution still RUNNING after %v, want %s\nhistory:\n%s", testTimeout, want, e.dump(arn))
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// awaitEvent polls the history until an event of type typ appears (the
// n-th one, from 1) and returns it.
func (e *env) awaitEvent(arn string, typ types.EventType, n int) types.Event {
	e.t.Helper()
	deadline := time.Now().Add(testTimeout)
	for {
		seen := 0
		for _, ev := range e.history(arn) {
			if ev.EventType == typ {
				if seen++; seen == n {
					return ev
				}
			}
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("no %s event #%d after %v\nhistory:\n%s", typ, n, testTimeout, e.dump(arn))
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// history returns the whole history, oldest first, through the paginator.
func (e *env) history(arn string) []types.Event {
	e.t.Helper()
	var all []types.Event
	p := lambda.NewGetDurableExecutionHistoryPaginator(e.client, &lambda.GetDurableExecutionHistoryInput{DurableExecutionArn: aws.String(arn)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx(e.t))
		if err != nil {
			e.t.Fatalf("GetDurableExecutionHistory: %v", err)
		}
		all = append(all, page.Events...)
	}
	return all
}

// eventTypes lists the EventType of each event.
func eventTypes(events []types.Event) []string {
	out := make([]string, len(events))
	for i, ev := range events {
		out[i] = string(ev.EventType)
	}
	return out
}

// dump renders a history for failure messages.
func (e *env) dump(arn string) string {
	out, err := e.client.GetDurableExecutionHistory(context.Background(), &lambda.GetDurableExecutionHistoryInput{DurableExecutionArn: aws.String(arn)})
	if err != nil {
		return "  (history unavailable: " + err.Error() + ")"
	}
	var b strings.Builder
	for _, ev := range out.Events {
		fmt.Fprintf(&b, "  %3d %-22s id=%s", aws.ToInt32(ev.EventId), ev.EventType, aws.ToString(ev.Id))
		if ev.InvocationCompletedDetails != nil && ev.InvocationCompletedDetails.Error != nil {
			fmt.Fprintf(&b, " error=%s", errString(ev.InvocationCompletedDetails.Error.Payload))
		}
		b.WriteString("\n")
	}
	return b.String()
}

func errString(e *types.ErrorObject) string {
	if e == nil {
		return "<nil>"
	}
	return aws.ToString(e.ErrorType) + ": " + aws.ToString(e.ErrorMessage)
}

// sameStrings compares two string lists.
func sameStrings(a, b []string) bool { return reflect.DeepEqual(a, b) }

// terminalEvents are the execution-ending event types.
var terminalEvents = map[types.EventType]bool{
	types.EventTypeExecutionSucceeded: true, types.EventTypeExecutionFailed: true,
	types.EventTypeExecutionTimedOut: true, types.EventTypeExecutionStopped: true,
}

// checkHistory asserts the invariants every history must satisfy
// (protocol.md §6): EventIds 1..n contiguous; ExecutionStarted first; each
// event carries exactly the details member named after its type; at most one
// terminal event, last; no InvocationCompleted after it; and, when
// invocations >= 0, exactly that many InvocationCompleted events.
func checkHistory(t *testing.T, events []types.Event, invocations int) {
	t.Helper()
	if len(events) == 0 {
		t.Fatal("empty history")
	}
	if events[0].EventType != types.EventTypeExecutionStarted {
		t.Errorf("first event is %s, want ExecutionStarted", events[0].EventType)
	}
	completed := 0
	for i, ev := range events {
		if got := aws.ToInt32(ev.EventId); got != int32(i+1) {
			t.Errorf("event %d (%s) has EventId %d, want %d (contiguous from 1)", i, ev.EventType, got, i+1)
		}
		if ev.EventTimestamp == nil || ev.Id == nil {
			t.Errorf("event %d (%s) lacks EventTimestamp or Id", i+1, ev.EventType)
		}
		if msg := detailsMismatch(ev); msg != "" {
			t.Errorf("event %d: %s", i+1, msg)
		}
		if ev.EventType == types.EventTypeInvocationCompleted {
			completed++
		}
		if terminalEvents[ev.EventType] && i != len(events)-1 {
			t.Errorf("terminal event %s at position %d of %d; it must be last", ev.EventType, i+1, len(events))
		}
	}
	if invocations >= 0 && completed != invocations {
		t.Errorf("%d InvocationCompleted events, want %d (one per invocation); types %v", completed, invocations, eventTypes(events))
	}
}

// detailsMismatch checks that exactly the <EventType>Details member is set.
func detailsMismatch(ev types.Event) string {
	v := reflect.ValueOf(ev)
	want := string(ev.EventType) + "Details"
	var set []string
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		if strings.HasSuffix(f.Name, "Details") && !v.Field(i).IsNil() {
			set = append(set, f.Name)
		}
	}
	if len(set) != 1 || set[0] != want {
		return fmt.Sprintf("%s carries details %v, want exactly [%s]", ev.EventType, set, want)
	}
	return ""
}

// eventsOf returns the events of one type.
func eventsOf(events []types.Event, typ types.EventType) []types.Event {
	var out []types.Event
	for _, ev := range events {
		if ev.EventType == typ {
			out = append(out, ev)
		}
	}
	return out
}

// statusOf returns the HTTP status code recorded in an operation output's
// ResultMetadata.
func statusOf(t *testing.T, md middleware.Metadata) int {
	t.Helper()
	raw := awsmiddleware.GetRawResponse(md)
	resp, ok := raw.(*smithyhttp.Response)
	if !ok {
		t.Fatalf("no raw HTTP response in result metadata (%T)", raw)
	}
	return resp.StatusCode
}

// rawResponse is a response read by rawCall.
type rawResponse struct {
	status int
	header http.Header
	body   []byte
}

// rawCall makes an unsigned HTTP request to the node. path is the escaped
// path (use seg to escape labels).
func (e *env) rawCall(method, path string, body []byte, header map[string]string) rawResponse {
	e.t.Helper()
	req, err := http.NewRequestWithContext(ctx(e.t), method, e.srv.URL()+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return rawResponse{status: resp.StatusCode, header: resp.Header, body: b}
}

// noRedirects is the raw client: it reports redirects instead of following
// them (AWS never redirects; a redirect is a finding).
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// seg escapes a URI label the way the AWS SDKs do ("/" becomes %2F).
func seg(s string) string { return url.PathEscape(s) }

// apiErr asserts that err is the SDK's typed error T and returns it.
func apiErr[T error](t *testing.T, err error) T {
	t.Helper()
	var target T
	if !errors.As(err, &target) {
		t.Fatalf("error = %v (%T); want %T", err, err, target)
	}
	return target
}

// wantStaleToken asserts the fencing error (protocol.md §5.11).
func wantStaleToken(t *testing.T, err error) {
	t.Helper()
	ipv := apiErr[*types.InvalidParameterValueException](t, err)
	if !strings.HasPrefix(ipv.ErrorMessage(), "Invalid Checkpoint Token") {
		t.Fatalf("message %q does not start with \"Invalid Checkpoint Token\"", ipv.ErrorMessage())
	}
}

// arnPattern is the model's DurableExecutionArn pattern (protocol.md §3.2).
var arnPattern = regexp.MustCompile(`^arn:aws:lambda:us-east-1:\d{12}:function:([a-zA-Z0-9_-]+):(\$LATEST(?:\.PUBLISHED)?|[0-9]+)/durable-execution/([a-zA-Z0-9_-]+)/([a-zA-Z0-9_-]+)$`)

// live is an invocation held open by a controlled function, so that a test
// can make raw checkpoint calls with its token.
type live struct {
	Arn   string
	Token string
	Ops   []json.RawMessage
	// Raw is the whole envelope as received.
	Raw   []byte
	reply chan engine.InvocationResponse
}

// finish answers the held invocation with a handler output.
func (l *live) finish(output string) { l.reply <- engine.InvocationResponse{Payload: []byte(output)} }

// controlledFunction creates a durable function whose every invocation is
// handed to the test on the returned channel and held until the test calls
// finish (or the test ends).
func (e *env) controlledFunction(name string, dc *types.DurableConfig) <-chan *live {
	e.t.Helper()
	if dc == nil {
		dc = &types.DurableConfig{ExecutionTimeout: aws.Int32(300)}
	}
	ch := make(chan *live, 8)
	done := make(chan struct{})
	e.t.Cleanup(func() { close(done) })
	e.createFunction(name, fnOpts{durable: dc, timeout: 60}, func(c context.Context, inv engine.Invocation) (engine.InvocationResponse, error) {
		var envl struct {
			DurableExecutionArn   string
			CheckpointToken       string
			InitialExecutionState struct{ Operations []json.RawMessage }
		}
		if err := json.Unmarshal(inv.Payload, &envl); err != nil {
			return engine.InvocationResponse{}, err
		}
		l := &live{Arn: envl.DurableExecutionArn, Token: envl.CheckpointToken, Ops: envl.InitialExecutionState.Operations,
			Raw: inv.Payload, reply: make(chan engine.InvocationResponse, 1)}
		ch <- l
		select {
		case r := <-l.reply:
			return r, nil
		case <-done:
			return engine.InvocationResponse{}, errors.New("test over")
		case <-c.Done():
			return engine.InvocationResponse{}, c.Err()
		}
	})
	return ch
}

// next receives the next held invocation.
func next(t *testing.T, ch <-chan *live) *live {
	t.Helper()
	select {
	case l := <-ch:
		return l
	case <-time.After(testTimeout):
		t.Fatal("no invocation arrived")
		return nil
	}
}

// checkpoint makes a checkpoint call through the SDK.
func (e *env) checkpoint(arn, token, clientToken string, updates ...types.OperationUpdate) (*lambda.CheckpointDurableExecutionOutput, error) {
	return e.client.CheckpointDurableExecution(ctx(e.t), &lambda.CheckpointDurableExecutionInput{
		DurableExecutionArn: aws.String(arn), CheckpointToken: aws.String(token), ClientToken: optString(clientToken), Updates: updates,
	})
}

// upd builds an OperationUpdate.
func upd(id string, typ types.OperationType, action types.OperationAction) types.OperationUpdate {
	return types.OperationUpdate{Id: aws.String(id), Type: typ, Action: action}
}

// statusOfErr returns the HTTP status of an SDK error response (0 if none).
func statusOfErr(err error) int {
	var sc interface{ HTTPStatusCode() int }
	if errors.As(err, &sc) {
		return sc.HTTPStatusCode()
	}
	return 0
}

// wantCleanInvocations asserts that no InvocationCompleted carries an error.
func wantCleanInvocations(t *testing.T, events []types.Event) {
	t.Helper()
	for _, ev := range events {
		if d := ev.InvocationCompletedDetails; d != nil && d.Error != nil {
			t.Errorf("InvocationCompleted (EventId %d) records a failed invocation: %s", aws.ToInt32(ev.EventId), errString(d.Error.Payload))
		}
	}
}
