package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/duro-run/duro/internal/durable"
	"github.com/duro-run/duro/internal/engine"
)

func TestStopExecution(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	invocations := e.controlledFunction("stoppable", nil)
	arn := e.start("stoppable", latest, "", `{}`)
	inv := next(t, invocations)

	// The live invocation starts a callback, then the execution is stopped
	// under it.
	cp, err := e.checkpoint(arn, inv.Token, "", types.OperationUpdate{
		Id: aws.String("cb"), Type: types.OperationTypeCallback, Action: types.OperationActionStart, SubType: aws.String("Callback"),
		CallbackOptions: &types.CallbackOptions{TimeoutSeconds: 60},
	})
	if err != nil {
		t.Fatalf("checkpoint CALLBACK START: %v", err)
	}
	var callbackID string
	for _, op := range cp.NewExecutionState.Operations {
		if aws.ToString(op.Id) == "cb" && op.CallbackDetails != nil {
			callbackID = aws.ToString(op.CallbackDetails.CallbackId)
		}
	}
	if callbackID == "" {
		t.Fatalf("checkpoint response lacks the CALLBACK operation with its CallbackId: %+v", cp.NewExecutionState.Operations)
	}

	cause := &types.ErrorObject{ErrorType: aws.String("OperatorStop"), ErrorMessage: aws.String("stopped by the test")}
	before := time.Now().Add(-time.Second)
	stop, err := e.client.StopDurableExecution(ctx(t), &lambda.StopDurableExecutionInput{DurableExecutionArn: aws.String(arn), Error: cause})
	if err != nil {
		t.Fatalf("StopDurableExecution: %v", err)
	}
	if stop.StopTimestamp == nil || stop.StopTimestamp.Before(before) || stop.StopTimestamp.After(time.Now().Add(time.Second)) {
		t.Errorf("StopTimestamp = %v, want about now", stop.StopTimestamp)
	}
	d := e.describe(arn)
	if d.Status != types.ExecutionStatusStopped || d.EndTimestamp == nil || !d.EndTimestamp.Equal(*stop.StopTimestamp) {
		t.Errorf("after stop: status %s, EndTimestamp %v (StopTimestamp %v)", d.Status, d.EndTimestamp, stop.StopTimestamp)
	}
	if aws.ToString(d.Error.ErrorType) != "OperatorStop" || aws.ToString(d.Error.ErrorMessage) != "stopped by the test" {
		t.Errorf("execution error = %s, want the stop cause", errString(d.Error))
	}
	events := e.history(arn)
	checkHistory(t, events, -1)
	last := events[len(events)-1]
	if last.EventType != types.EventTypeExecutionStopped || aws.ToString(last.ExecutionStoppedDetails.Error.Payload.ErrorType) != "OperatorStop" {
		t.Fatalf("last event = %s %+v, want ExecutionStopped with the cause", last.EventType, last.ExecutionStoppedDetails)
	}

	// The live invocation is fenced.
	_, err = e.checkpoint(arn, aws.ToString(cp.CheckpointToken), "", upd("s", types.OperationTypeStep, types.OperationActionSucceed))
	wantStaleToken(t, err)
	// So are the callback APIs.
	_, err = e.client.SendDurableExecutionCallbackSuccess(ctx(t), &lambda.SendDurableExecutionCallbackSuccessInput{CallbackId: aws.String(callbackID), Result: []byte(`1`)})
	apiErr[*types.CallbackTimeoutException](t, err)

	// Stopping again changes nothing and answers with the same end time.
	again, err := e.client.StopDurableExecution(ctx(t), &lambda.StopDurableExecutionInput{DurableExecutionArn: aws.String(arn)})
	if err != nil {
		t.Fatalf("second StopDurableExecution: %v", err)
	}
	if !again.StopTimestamp.Equal(*stop.StopTimestamp) {
		t.Errorf("second stop StopTimestamp = %v, want the original %v", again.StopTimestamp, stop.StopTimestamp)
	}
	// The held invocation answering late changes nothing either.
	inv.finish(`{"Status":"SUCCEEDED","Result":"\"late\""}`)
	time.Sleep(100 * time.Millisecond) // give a wrong implementation the chance to record it
	if after := e.history(arn); len(after) != len(events) {
		t.Errorf("history changed after the stop: %v", eventTypes(after))
	}
	if d := e.describe(arn); d.Status != types.ExecutionStatusStopped || d.Result != nil {
		t.Errorf("after the late answer: %s result %v", d.Status, d.Result)
	}
}

func TestStopWithoutCause(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.durableFunction("stop-default", nil, callbackFlow(0, 0))
	arn := e.start("stop-default", latest, "", `{}`)
	e.callbackStarted(arn)
	// Stop the suspended execution: stopped while its first invocation is
	// still running, it would record no InvocationCompleted (that case is
	// TestStopExecution's).
	e.awaitEvent(arn, types.EventTypeInvocationCompleted, 1)
	if _, err := e.client.StopDurableExecution(ctx(t), &lambda.StopDurableExecutionInput{DurableExecutionArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	d := e.awaitStatus(arn, types.ExecutionStatusStopped)
	events := e.history(arn)
	checkHistory(t, events, 1)
	last := events[len(events)-1]
	if last.EventType != types.EventTypeExecutionStopped || last.ExecutionStoppedDetails.Error == nil {
		t.Fatalf("last event = %s, want ExecutionStopped with an Error (required)", last.EventType)
	}
	if d.Error == nil || aws.ToString(d.Error.ErrorType) == "" {
		t.Errorf("execution error = %v, want a default stop error", d.Error)
	}
}

func TestExecutionTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	calls := e.durableFunction("slow", &types.DurableConfig{ExecutionTimeout: aws.Int32(2)}, func(c *durable.Context, _ json.RawMessage) (any, error) {
		if err := c.Wait("long", 30); err != nil {
			return nil, err
		}
		return "never", nil
	})
	arn := e.start("slow", latest, "", `{}`)
	d := e.awaitStatus(arn, types.ExecutionStatusTimedOut)
	if d.EndTimestamp == nil || d.EndTimestamp.Sub(*d.StartTimestamp) < 2*time.Second || d.EndTimestamp.Sub(*d.StartTimestamp) > 10*time.Second {
		t.Errorf("timed out after %v, want about 2 s", d.EndTimestamp.Sub(*d.StartTimestamp))
	}
	if d.Error == nil || d.Result != nil {
		t.Errorf("error %v result %v, want an error and no result", d.Error, d.Result)
	}
	events := e.history(arn)
	checkHistory(t, events, 1)
	wantCleanInvocations(t, events)
	want := []string{"ExecutionStarted", "WaitStarted", "InvocationCompleted", "ExecutionTimedOut"}
	if !sameStrings(eventTypes(events), want) {
		t.Errorf("history = %v, want %v", eventTypes(events), want)
	}
	if d := events[len(events)-1].ExecutionTimedOutDetails; d == nil || d.Error == nil {
		t.Errorf("ExecutionTimedOut details = %+v, want an Error", d)
	}
	if aws.ToInt32(events[0].ExecutionStartedDetails.ExecutionTimeout) != 2 {
		t.Errorf("ExecutionStarted ExecutionTimeout = %d, want 2", aws.ToInt32(events[0].ExecutionStartedDetails.ExecutionTimeout))
	}
	if calls.Load() != 1 {
		t.Errorf("handler invoked %d times, want 1", calls.Load())
	}
}

// A synchronous Invoke of an execution that times out returns the timeout
// as a function error.
func TestSyncInvokeTimedOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.durableFunction("slow-sync", &types.DurableConfig{ExecutionTimeout: aws.Int32(1)}, func(c *durable.Context, _ json.RawMessage) (any, error) {
		return nil, c.Wait("long", 30)
	})
	out := e.invoke("slow-sync", "", `{}`)
	if aws.ToString(out.FunctionError) != "Unhandled" || !strings.Contains(string(out.Payload), "errorType") {
		t.Errorf("Invoke = function error %q payload %s; want Unhandled with the timeout error", aws.ToString(out.FunctionError), out.Payload)
	}
	if d := e.describe(aws.ToString(out.DurableExecutionArn)); d.Status != types.ExecutionStatusTimedOut {
		t.Errorf("status %s, want TIMED_OUT", d.Status)
	}
}

func TestChainedInvoke(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.durableFunction("chain-target", nil, func(c *durable.Context, in json.RawMessage) (any, error) {
		var req struct{ N int }
		if err := json.Unmarshal(in, &req); err != nil {
			return nil, err
		}
		return c.Step("double", func() (any, error) { return req.N * 2, nil })
	})
	var plainPayload atomic.Value
	e.createFunction("chain-plain", fnOpts{}, func(_ context.Context, inv engine.Invocation) (engine.InvocationResponse, error) {
		plainPayload.Store(string(inv.Payload))
		return engine.InvocationResponse{Payload: []byte(`{"plain":true}`)}, nil
	})
	e.durableFunction("chain-caller", nil, func(c *durable.Context, _ json.RawMessage) (any, error) {
		d, err := c.Invoke("call-durable", "chain-target:$LATEST", map[string]int{"N": 21})
		if err != nil {
			return nil, err
		}
		p, err := c.Invoke("call-plain", "chain-plain", map[string]string{"hello": "plain"})
		if err != nil {
			return nil, err
		}
		return map[string]json.RawMessage{"durable": d, "plain": p}, nil
	})
	out := e.invoke("chain-caller", "", `{}`)
	if string(out.Payload) != `{"durable":42,"plain":{"plain":true}}` || out.FunctionError != nil {
		t.Fatalf("result = %s (function error %v)", out.Payload, aws.ToString(out.FunctionError))
	}
	if got, _ := plainPayload.Load().(string); got != `{"hello":"plain"}` {
		t.Errorf("plain target received %q", got)
	}
	callerArn := aws.ToString(out.DurableExecutionArn)
	events := e.history(callerArn)
	checkHistory(t, events, 3)
	wantCleanInvocations(t, events)
	// A target may finish before or after the invocation that started it
	// returns (service-generated events are written when they happen), so
	// InvocationCompleted events are checked apart from the operations'.
	var ops []types.Event
	for _, ev := range events {
		if ev.EventType != types.EventTypeInvocationCompleted {
			ops = append(ops, ev)
		}
	}
	want := []string{"ExecutionStarted", "ChainedInvokeStarted", "ChainedInvokeSucceeded", "ChainedInvokeStarted", "ChainedInvokeSucceeded", "ExecutionSucceeded"}
	if !sameStrings(eventTypes(ops), want) {
		t.Fatalf("caller history = %v, want %v plus 3 InvocationCompleted", eventTypes(events), want)
	}
	ds := ops[1].ChainedInvokeStartedDetails
	if aws.ToString(ds.FunctionName) != "chain-target:$LATEST" || aws.ToString(ds.Input.Payload) != `{"N":21}` || aws.ToString(ds.ExecutedVersion) != latest {
		t.Errorf("ChainedInvokeStarted (durable) = function %q input %q version %q", aws.ToString(ds.FunctionName), aws.ToString(ds.Input.Payload), aws.ToString(ds.ExecutedVersion))
	}
	childArn := aws.ToString(ds.DurableExecutionArn)
	if m := arnPattern.FindStringSubmatch(childArn); m == nil || m[1] != "chain-target" {
		t.Fatalf("ChainedInvokeStarted DurableExecutionArn = %q, want an execution of chain-target", childArn)
	}
	if aws.ToString(ops[1].Name) != "call-durable" || aws.ToString(ops[1].SubType) != "ChainedInvoke" {
		t.Errorf("ChainedInvokeStarted identity = %q/%q", aws.ToString(ops[1].Name), aws.ToString(ops[1].SubType))
	}
	if r := ops[2].ChainedInvokeSucceededDetails.Result; aws.ToString(r.Payload) != "42" || aws.ToString(ops[2].Name) != "call-durable" {
		t.Errorf("ChainedInvokeSucceeded (durable) = %q name %q", aws.ToString(r.Payload), aws.ToString(ops[2].Name))
	}
	ps := ops[3].ChainedInvokeStartedDetails
	if aws.ToString(ps.FunctionName) != "chain-plain" || ps.DurableExecutionArn != nil {
		t.Errorf("ChainedInvokeStarted (plain) = function %q durable ARN %v; want no execution ARN", aws.ToString(ps.FunctionName), ps.DurableExecutionArn)
	}
	if r := ops[4].ChainedInvokeSucceededDetails.Result; aws.ToString(r.Payload) != `{"plain":true}` {
		t.Errorf("ChainedInvokeSucceeded (plain) = %q", aws.ToString(r.Payload))
	}

	// The child is an execution of its own, listed under the target.
	list, err := e.client.ListDurableExecutionsByFunction(ctx(t), &lambda.ListDurableExecutionsByFunctionInput{FunctionName: aws.String("chain-target")})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.DurableExecutions) != 1 || aws.ToString(list.DurableExecutions[0].DurableExecutionArn) != childArn || list.DurableExecutions[0].Status != types.ExecutionStatusSucceeded {
		t.Fatalf("target executions = %+v, want the child %s SUCCEEDED", list.DurableExecutions, childArn)
	}
	child := e.describe(childArn)
	if aws.ToString(child.InputPayload) != `{"N":21}` || aws.ToString(child.Result) != "42" {
		t.Errorf("child input %q result %q", aws.ToString(child.InputPayload), aws.ToString(child.Result))
	}
	checkHistory(t, e.history(childArn), 1)
}

func TestChainedInvokeFailure(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.durableFunction("chain-fails", nil, func(c *durable.Context, _ json.RawMessage) (any, error) {
		return nil, &durable.Error{Type: "TargetBroke", Message: "nope"}
	})
	e.durableFunction("chain-caller2", nil, func(c *durable.Context, _ json.RawMessage) (any, error) {
		_, err := c.Invoke("call", "chain-fails:$LATEST", nil)
		if de, ok := err.(*durable.Error); ok {
			return "caught:" + de.Type + ":" + de.Status, nil
		}
		return nil, err
	})
	out := e.invoke("chain-caller2", "", `{}`)
	if string(out.Payload) != `"caught:TargetBroke:FAILED"` {
		t.Fatalf("result = %s", out.Payload)
	}
	events := e.history(aws.ToString(out.DurableExecutionArn))
	checkHistory(t, events, 2)
	wantCleanInvocations(t, events)
	f := eventsOf(events, types.EventTypeChainedInvokeFailed)
	if len(f) != 1 || aws.ToString(f[0].ChainedInvokeFailedDetails.Error.Payload.ErrorType) != "TargetBroke" {
		t.Errorf("history = %v, want ChainedInvokeFailed with TargetBroke", eventTypes(events))
	}
}

// A chained invoke of a function that does not exist fails the operation,
// not the caller.
func TestChainedInvokeUnknownTarget(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.durableFunction("chain-nowhere", nil, func(c *durable.Context, _ json.RawMessage) (any, error) {
		_, err := c.Invoke("call", "no-such-function", map[string]int{"a": 1})
		if de, ok := err.(*durable.Error); ok {
			return "caught:" + de.Type, nil
		}
		return nil, err
	})
	out := e.invoke("chain-nowhere", "", `{}`)
	if string(out.Payload) != `"caught:ResourceNotFoundException"` {
		t.Fatalf("result = %s", out.Payload)
	}
	events := e.history(aws.ToString(out.DurableExecutionArn))
	checkHistory(t, events, -1)
	if f := eventsOf(events, types.EventTypeChainedInvokeFailed); len(f) != 1 {
		t.Errorf("history = %v, want one ChainedInvokeFailed", eventTypes(events))
	}
}

// A chained target that is stopped ends the caller's operation STOPPED.
func TestChainedInvokeTargetStopped(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.durableFunction("chain-blocked", nil, callbackFlow(0, 0))
	e.durableFunction("chain-caller3", nil, func(c *durable.Context, _ json.RawMessage) (any, error) {
		_, err := c.Invoke("call", "chain-blocked:$LATEST", nil)
		if de, ok := err.(*durable.Error); ok {
			return "caught:" + de.Status + ":" + de.Type, nil
		}
		return nil, err
	})
	arn := e.start("chain-caller3", latest, "", `{}`)
	started := e.awaitEvent(arn, types.EventTypeChainedInvokeStarted, 1)
	child := aws.ToString(started.ChainedInvokeStartedDetails.DurableExecutionArn)
	e.callbackStarted(child)
	if _, err := e.client.StopDurableExecution(ctx(t), &lambda.StopDurableExecutionInput{DurableExecutionArn: aws.String(child),
		Error: &types.ErrorObject{ErrorType: aws.String("Halt"), ErrorMessage: aws.String("stop the child")}}); err != nil {
		t.Fatal(err)
	}
	d := e.awaitStatus(arn, types.ExecutionStatusSucceeded)
	if aws.ToString(d.Result) != `"caught:STOPPED:Halt"` {
		t.Errorf("result = %s", aws.ToString(d.Result))
	}
	events := e.history(arn)
	checkHistory(t, events, -1)
	s := eventsOf(events, types.EventTypeChainedInvokeStopped)
	if len(s) != 1 || aws.ToString(s[0].ChainedInvokeStoppedDetails.Error.Payload.ErrorType) != "Halt" {
		t.Errorf("history = %v, want ChainedInvokeStopped carrying the stop error", eventTypes(events))
	}
}

// An invocation that outlives the function timeout is recorded as
// Sandbox.Timedout and re-invoked (§7.5).
func TestInvocationTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var calls atomic.Int32
	h := durable.Handler(e.client, orderFlow)
	e.createFunction("hangs-once", fnOpts{durable: &types.DurableConfig{ExecutionTimeout: aws.Int32(60)}, timeout: 1},
		func(c context.Context, inv engine.Invocation) (engine.InvocationResponse, error) {
			if calls.Add(1) == 1 {
				<-c.Done()
				return engine.InvocationResponse{}, c.Err()
			}
			return h(c, inv)
		})
	out := e.invoke("hangs-once", "", `{"order":"t","items":[7]}`)
	if string(out.Payload) != `{"charged":true,"order":"t","total":7}` {
		t.Fatalf("result = %s", out.Payload)
	}
	events := e.history(aws.ToString(out.DurableExecutionArn))
	checkHistory(t, events, 2)
	ic := eventsOf(events, types.EventTypeInvocationCompleted)
	if e0 := ic[0].InvocationCompletedDetails.Error; e0 == nil || aws.ToString(e0.Payload.ErrorType) != "Sandbox.Timedout" {
		t.Errorf("timed-out invocation recorded as %+v, want Sandbox.Timedout", e0)
	}
	if d := ic[0].InvocationCompletedDetails; d.EndTimestamp.Sub(*d.StartTimestamp) < time.Second {
		t.Errorf("timed-out invocation lasted %v, less than the 1 s function timeout", d.EndTimestamp.Sub(*d.StartTimestamp))
	}
}

// A function deleted under a suspended execution fails it at its next
// invocation with "Function not found" (§7.11).
func TestFunctionDeletedUnderExecution(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	calls := e.durableFunction("doomed", nil, func(c *durable.Context, _ json.RawMessage) (any, error) {
		if err := c.Wait("", 1); err != nil {
			return nil, err
		}
		return "unreachable", nil
	})
	arn := e.start("doomed", latest, "", `{}`)
	e.awaitEvent(arn, types.EventTypeInvocationCompleted, 1)
	if _, err := e.client.DeleteFunction(ctx(t), &lambda.DeleteFunctionInput{FunctionName: aws.String("doomed")}); err != nil {
		t.Fatal(err)
	}
	d := e.awaitStatus(arn, types.ExecutionStatusFailed)
	if aws.ToString(d.Error.ErrorType) != "ResourceNotFoundException" || !strings.HasPrefix(aws.ToString(d.Error.ErrorMessage), "Function not found") {
		t.Errorf("error = %s, want ResourceNotFoundException: Function not found…", errString(d.Error))
	}
	if calls.Load() != 1 {
		t.Errorf("%d invocations, want 1", calls.Load())
	}
	events := e.history(arn)
	checkHistory(t, events, 1)
	want := []string{"ExecutionStarted", "WaitStarted", "InvocationCompleted", "WaitSucceeded", "ExecutionFailed"}
	if !sameStrings(eventTypes(events), want) {
		t.Errorf("history = %v, want %v", eventTypes(events), want)
	}
}

// Many chained invokes at once: every caller must resume once its target
// finishes, however the target's end interleaves with the end of the
// invocation that started it (a lost wake-up here leaves callers RUNNING
// forever).
func TestChainedInvokeManyConcurrent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.durableFunction("quick-target", nil, func(c *durable.Context, in json.RawMessage) (any, error) {
		return c.Step("echo", func() (any, error) { return json.RawMessage(in), nil })
	})
	e.durableFunction("many-callers", nil, func(c *durable.Context, in json.RawMessage) (any, error) {
		return c.Invoke("call", "quick-target:$LATEST", json.RawMessage(in))
	})
	const n = 40
	arns := make([]string, n)
	for i := range n {
		arns[i] = e.start("many-callers", latest, "", fmt.Sprintf(`{"i":%d}`, i))
	}
	deadline := time.Now().Add(testTimeout)
	for i, arn := range arns {
		for {
			d := e.describe(arn)
			if d.Status == types.ExecutionStatusSucceeded {
				if want := fmt.Sprintf(`{"i":%d}`, i); aws.ToString(d.Result) != want {
					t.Errorf("caller %d result %q, want %s", i, aws.ToString(d.Result), want)
				}
				break
			}
			if d.Status != types.ExecutionStatusRunning {
				t.Fatalf("caller %d ended %s: %s", i, d.Status, errString(d.Error))
			}
			if time.Now().After(deadline) {
				started := eventsOf(e.history(arn), types.EventTypeChainedInvokeStarted)
				child := ""
				if len(started) == 1 {
					child = aws.ToString(started[0].ChainedInvokeStartedDetails.DurableExecutionArn)
				}
				t.Fatalf("caller %d still RUNNING after %v:\n%s\nits target %s is %s:\n%s", i, testTimeout, e.dump(arn), child, e.describe(child).Status, e.dump(child))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}
