package e2e

import (
	"context"
	"encoding/json"
	"errors"
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

// opStatus finds an operation's status in a checkpoint delta ("" if absent).
func opStatus(ops []types.Operation, id string) types.OperationStatus {
	for _, op := range ops {
		if aws.ToString(op.Id) == id {
			return op.Status
		}
	}
	return ""
}

// A callback completed while an invocation is in flight must not fence the
// invocation (§5.10), must reach it in its next checkpoint delta, and, when
// the invocation ends without having seen it, must cause a re-invocation
// (§7.3).
func TestChangesDuringAnInvocation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	invocations := e.controlledFunction("busy", nil)
	arn := e.start("busy", latest, "", `{}`)
	inv := next(t, invocations)

	startCb := func(id string) types.OperationUpdate {
		u := upd(id, types.OperationTypeCallback, types.OperationActionStart)
		u.CallbackOptions = &types.CallbackOptions{}
		return u
	}
	cp, err := e.checkpoint(arn, inv.Token, "", startCb("cb1"), startCb("cb2"))
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, op := range cp.NewExecutionState.Operations {
		if op.CallbackDetails != nil {
			ids[aws.ToString(op.Id)] = aws.ToString(op.CallbackDetails.CallbackId)
		}
	}
	if ids["cb1"] == "" || ids["cb2"] == "" || ids["cb1"] == ids["cb2"] {
		t.Fatalf("callback ids = %v, want two distinct ids in the delta", ids)
	}
	tok := aws.ToString(cp.CheckpointToken)

	// cb1 completes mid-invocation: the token stays valid, the delta shows it.
	if _, err := e.client.SendDurableExecutionCallbackSuccess(ctx(t), &lambda.SendDurableExecutionCallbackSuccessInput{CallbackId: aws.String(ids["cb1"]), Result: []byte(`"one"`)}); err != nil {
		t.Fatal(err)
	}
	poll, err := e.checkpoint(arn, tok, "")
	if err != nil {
		t.Fatalf("checkpoint after a callback completed mid-invocation: %v (service-side changes must not fence the token)", err)
	}
	if s := opStatus(poll.NewExecutionState.Operations, "cb1"); s != types.OperationStatusSucceeded || len(poll.NewExecutionState.Operations) != 1 {
		t.Errorf("delta = %+v, want exactly cb1 SUCCEEDED", poll.NewExecutionState.Operations)
	}
	if poll2, err := e.checkpoint(arn, aws.ToString(poll.CheckpointToken), ""); err != nil || len(poll2.NewExecutionState.Operations) != 0 {
		t.Errorf("second poll = %+v, %v; want an empty delta (already delivered)", poll2, err)
	}

	// cb2 completes after the invocation's last checkpoint: when it answers
	// PENDING, a new invocation must follow at once.
	if _, err := e.client.SendDurableExecutionCallbackSuccess(ctx(t), &lambda.SendDurableExecutionCallbackSuccessInput{CallbackId: aws.String(ids["cb2"]), Result: []byte(`"two"`)}); err != nil {
		t.Fatal(err)
	}
	inv.finish(`{"Status":"PENDING"}`)
	again := next(t, invocations)
	if !strings.Contains(string(again.Raw), `"UpdatedOperationIds":["cb2"]`) {
		t.Errorf("re-invocation envelope UpdatedOperationIds: %s", again.Raw)
	}
	again.finish(`{"Status":"SUCCEEDED"}`)
	e.awaitStatus(arn, types.ExecutionStatusSucceeded)
	events := e.history(arn)
	checkHistory(t, events, 2)
	want := []string{"ExecutionStarted", "CallbackStarted", "CallbackStarted", "CallbackSucceeded", "CallbackSucceeded",
		"InvocationCompleted", "InvocationCompleted", "ExecutionSucceeded"}
	if !sameStrings(eventTypes(events), want) {
		t.Errorf("history = %v, want %v", eventTypes(events), want)
	}
	// The first invocation's PENDING was legitimate: cb2 changed after the
	// state it was shown. It must not be recorded as a failed invocation.
	wantCleanInvocations(t, events)
}

// A wait that comes due during an invocation is completed at checkpoint
// time (§5.13) and, having been delivered inline, causes no extra invocation
// (§7.3): the next invocation comes only for the second, longer wait.
func TestDueWaitDeliveredInline(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	invocations := e.controlledFunction("inline", nil)
	arn := e.start("inline", latest, "", `{}`)
	inv := next(t, invocations)
	wait := func(id string, secs int32) types.OperationUpdate {
		u := upd(id, types.OperationTypeWait, types.OperationActionStart)
		u.WaitOptions = &types.WaitOptions{WaitSeconds: aws.Int32(secs)}
		return u
	}
	cp, err := e.checkpoint(arn, inv.Token, "", wait("short", 1), wait("long", 2))
	if err != nil {
		t.Fatal(err)
	}
	var shortEnd time.Time
	for _, op := range cp.NewExecutionState.Operations {
		if aws.ToString(op.Id) == "short" && op.WaitDetails != nil && op.WaitDetails.ScheduledEndTimestamp != nil {
			shortEnd = *op.WaitDetails.ScheduledEndTimestamp
		}
	}
	if shortEnd.IsZero() {
		t.Fatalf("delta lacks the WAIT's ScheduledEndTimestamp: %+v", cp.NewExecutionState.Operations)
	}
	time.Sleep(time.Until(shortEnd) + 50*time.Millisecond) // let the short wait come due
	poll, err := e.checkpoint(arn, aws.ToString(cp.CheckpointToken), "")
	if err != nil {
		t.Fatal(err)
	}
	if s := opStatus(poll.NewExecutionState.Operations, "short"); s != types.OperationStatusSucceeded {
		t.Fatalf("poll delta = %+v, want short SUCCEEDED", poll.NewExecutionState.Operations)
	}
	if s := opStatus(poll.NewExecutionState.Operations, "long"); s != "" {
		t.Errorf("poll delta includes the unchanged long wait (%s)", s)
	}
	inv.finish(`{"Status":"PENDING"}`)

	resumed := next(t, invocations)
	var envl struct {
		InitialExecutionState struct {
			Operations []struct{ Id, Status string }
		}
	}
	if err := json.Unmarshal(resumed.Raw, &envl); err != nil {
		t.Fatal(err)
	}
	for _, op := range envl.InitialExecutionState.Operations {
		if op.Id == "long" && op.Status != "SUCCEEDED" {
			t.Errorf("re-invoked while the long wait is %s: an extra invocation for the already-delivered short wait", op.Status)
		}
	}
	resumed.finish(`{"Status":"SUCCEEDED"}`)
	e.awaitStatus(arn, types.ExecutionStatusSucceeded)
	events := e.history(arn)
	checkHistory(t, events, 2)
	wantCleanInvocations(t, events)
	want := []string{"ExecutionStarted", "WaitStarted", "WaitStarted", "WaitSucceeded", "InvocationCompleted", "WaitSucceeded", "InvocationCompleted", "ExecutionSucceeded"}
	if !sameStrings(eventTypes(events), want) {
		t.Errorf("history = %v, want %v", eventTypes(events), want)
	}
}

// A change wakes the execution even while the handler waits on something
// else (§7.2): a callback timeout during a longer wait gives three
// invocations.
func TestWakeWhileBlockedElsewhere(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	calls := e.durableFunction("two-things", nil, func(c *durable.Context, _ json.RawMessage) (any, error) {
		_, waitCb := c.Callback("cb", 1, 0)
		if err := c.Wait("w", 3); err != nil {
			return nil, err
		}
		_, err := waitCb()
		var de *durable.Error
		if errors.As(err, &de) {
			return de.Type, nil
		}
		return nil, err
	})
	out := e.invoke("two-things", "", `{}`)
	if string(out.Payload) != `"Callback.Timeout"` {
		t.Fatalf("result = %s", out.Payload)
	}
	if calls.Load() != 3 {
		t.Errorf("%d invocations, want 3", calls.Load())
	}
	events := e.history(aws.ToString(out.DurableExecutionArn))
	checkHistory(t, events, 3)
	wantCleanInvocations(t, events)
	want := []string{"ExecutionStarted", "CallbackStarted", "WaitStarted", "InvocationCompleted", "CallbackTimedOut",
		"InvocationCompleted", "WaitSucceeded", "InvocationCompleted", "ExecutionSucceeded"}
	if !sameStrings(eventTypes(events), want) {
		t.Errorf("history = %v, want %v", eventTypes(events), want)
	}
}

// The execution timeout fences the live invocation.
func TestExecutionTimeoutFencesLiveInvocation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	invocations := e.controlledFunction("overtime", &types.DurableConfig{ExecutionTimeout: aws.Int32(1)})
	arn := e.start("overtime", latest, "", `{}`)
	inv := next(t, invocations)
	e.awaitStatus(arn, types.ExecutionStatusTimedOut)
	_, err := e.checkpoint(arn, inv.Token, "", stepDone("late", "", "1")...)
	wantStaleToken(t, err)
	inv.finish(`{"Status":"SUCCEEDED","Result":"\"late\""}`)
	if d := e.describe(arn); d.Status != types.ExecutionStatusTimedOut || d.Result != nil {
		t.Errorf("after the late answer: %s, result %v", d.Status, d.Result)
	}
	events := e.history(arn)
	if last := events[len(events)-1]; last.EventType != types.EventTypeExecutionTimedOut {
		t.Errorf("last event %s, want ExecutionTimedOut: %v", last.EventType, eventTypes(events))
	}
}

// Invalid handler outputs are invocation failures: recorded with an error
// and retried.
func TestInvalidHandlerOutputs(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, output, wantType string }{
		{"PENDING with nothing pending", `{"Status":"PENDING"}`, "Runtime.InvalidResponse"},
		{"unknown status", `{"Status":"DONE"}`, "Runtime.InvalidResponse"},
		{"not JSON", `<html>`, "Runtime.InvalidResponse"},
		{"SUCCEEDED with Error", `{"Status":"SUCCEEDED","Error":{"ErrorType":"x"}}`, "Runtime.InvalidResponse"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			invocations := e.controlledFunction("bad-output", nil)
			arn := e.start("bad-output", latest, "", `{}`)
			next(t, invocations).finish(tc.output)
			next(t, invocations).finish(`{"Status":"SUCCEEDED","Result":"1"}`)
			e.awaitStatus(arn, types.ExecutionStatusSucceeded)
			events := e.history(arn)
			checkHistory(t, events, 2)
			ic := eventsOf(events, types.EventTypeInvocationCompleted)
			if len(ic) != 2 || ic[0].InvocationCompletedDetails.Error == nil ||
				aws.ToString(ic[0].InvocationCompletedDetails.Error.Payload.ErrorType) != tc.wantType || ic[1].InvocationCompletedDetails.Error != nil {
				t.Errorf("InvocationCompleted events = %+v, want the first with %s", ic, tc.wantType)
			}
		})
	}
}

// Repeated invocation failures fail the execution (§7.6).
func TestInvocationFailuresExhausted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var calls atomic.Int32
	e.createFunction("always-crashes", fnOpts{durable: &types.DurableConfig{ExecutionTimeout: aws.Int32(60)}},
		func(context.Context, engine.Invocation) (engine.InvocationResponse, error) {
			calls.Add(1)
			return engine.InvocationResponse{}, &engine.InvocationError{Type: "Runtime.ExitError", Message: "exit status 2"}
		})
	out := e.invoke("always-crashes", "", `{}`)
	if aws.ToString(out.FunctionError) != "Unhandled" || !strings.Contains(string(out.Payload), "Runtime.ExitError") {
		t.Errorf("Invoke = %q %s, want Unhandled with Runtime.ExitError", aws.ToString(out.FunctionError), out.Payload)
	}
	d := e.describe(aws.ToString(out.DurableExecutionArn))
	if d.Status != types.ExecutionStatusFailed || aws.ToString(d.Error.ErrorType) != "Runtime.ExitError" {
		t.Errorf("execution %s %s", d.Status, errString(d.Error))
	}
	events := e.history(aws.ToString(out.DurableExecutionArn))
	checkHistory(t, events, int(calls.Load()))
	if calls.Load() != 5 {
		t.Errorf("%d invocations, want 5 (the default MaxInvocationFailures)", calls.Load())
	}
}

// A result too large for the handler response travels in an EXECUTION
// checkpoint (§4.5); the durable SDK does this transparently.
func TestLargeResultViaExecutionCheckpoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	big := strings.Repeat("r", 6<<20-40)
	e.durableFunction("big-result", nil, func(c *durable.Context, _ json.RawMessage) (any, error) { return big, nil })
	arn := e.start("big-result", latest, "", `{}`)
	d := e.awaitStatus(arn, types.ExecutionStatusSucceeded)
	if got := aws.ToString(d.Result); got != `"`+big+`"` {
		t.Errorf("result has %d bytes, want the %d-byte checkpointed result", len(got), len(big)+2)
	}
	checkHistory(t, e.history(arn), 1)
}

// An EXECUTION SUCCEED checkpoint ends the token chain.
func TestExecutionCheckpointEndsTokenChain(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	invocations := e.controlledFunction("exec-update", nil)
	arn := e.start("exec-update", latest, "", `{}`)
	inv := next(t, invocations)
	u := upd("any-id", types.OperationTypeExecution, types.OperationActionSucceed)
	u.Payload = aws.String(`{"from":"checkpoint"}`)
	cp, err := e.checkpoint(arn, inv.Token, "", u)
	if err != nil {
		t.Fatalf("EXECUTION SUCCEED: %v", err)
	}
	if cp.CheckpointToken != nil {
		t.Errorf("response carries token %q after a terminal EXECUTION update; want none", aws.ToString(cp.CheckpointToken))
	}
	_, err = e.checkpoint(arn, inv.Token, "", stepDone("after", "", "1")...)
	wantStaleToken(t, err)
	inv.finish(`{"Status":"SUCCEEDED","Result":""}`)
	d := e.awaitStatus(arn, types.ExecutionStatusSucceeded)
	if aws.ToString(d.Result) != `{"from":"checkpoint"}` {
		t.Errorf("result = %q, want the checkpointed payload", aws.ToString(d.Result))
	}
	events := e.history(arn)
	checkHistory(t, events, 1)
	wantCleanInvocations(t, events)
	want := []string{"ExecutionStarted", "InvocationCompleted", "ExecutionSucceeded"}
	if !sameStrings(eventTypes(events), want) {
		t.Errorf("history = %v, want %v (the terminal event after InvocationCompleted)", eventTypes(events), want)
	}
}

// A wait that elapses while the invocation that started it is still
// running: the invocation, shown only the STARTED wait, legitimately answers
// PENDING; the server must re-invoke it (§7.3) without recording a failure.
func TestWaitElapsedDuringInvocation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	invocations := e.controlledFunction("slow-return", nil)
	arn := e.start("slow-return", latest, "", `{}`)
	inv := next(t, invocations)
	w := upd("w", types.OperationTypeWait, types.OperationActionStart)
	w.WaitOptions = &types.WaitOptions{WaitSeconds: aws.Int32(1)}
	if _, err := e.checkpoint(arn, inv.Token, "", w); err != nil {
		t.Fatal(err)
	}
	e.awaitEvent(arn, types.EventTypeWaitSucceeded, 1) // the timer fires mid-invocation
	inv.finish(`{"Status":"PENDING"}`)
	resumed := next(t, invocations)
	if !strings.Contains(string(resumed.Raw), `"UpdatedOperationIds":["w"]`) {
		t.Errorf("re-invocation envelope: %s", resumed.Raw)
	}
	resumed.finish(`{"Status":"SUCCEEDED"}`)
	e.awaitStatus(arn, types.ExecutionStatusSucceeded)
	events := e.history(arn)
	checkHistory(t, events, 2)
	want := []string{"ExecutionStarted", "WaitStarted", "WaitSucceeded", "InvocationCompleted", "InvocationCompleted", "ExecutionSucceeded"}
	if !sameStrings(eventTypes(events), want) {
		t.Errorf("history = %v, want %v", eventTypes(events), want)
	}
	wantCleanInvocations(t, events)
}

// Data race check (run with -race): a checkpoint response's operations must
// not share memory with the engine's cached state, or a later service-side
// change (here the retry timer making the step READY, in the timer
// goroutine) writes what the API goroutine read while encoding the
// response.
func TestRetryTimerDoesNotRaceCheckpointResponse(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	invocations := e.controlledFunction("racy-retry", nil)
	arn := e.start("racy-retry", latest, "", `{}`)
	inv := next(t, invocations)
	retry := upd("s", types.OperationTypeStep, types.OperationActionRetry)
	retry.Error = &types.ErrorObject{ErrorMessage: aws.String("again")}
	retry.StepOptions = &types.StepOptions{NextAttemptDelaySeconds: aws.Int32(1)}
	cp, err := e.checkpoint(arn, inv.Token, "", upd("s", types.OperationTypeStep, types.OperationActionStart), retry)
	if err != nil {
		t.Fatal(err)
	}
	tok := aws.ToString(cp.CheckpointToken)
	// Wait, without touching the execution, until the retry timer has
	// made the step READY.
	deadline := time.Now().Add(testTimeout)
	for {
		st, err := e.client.GetDurableExecutionState(ctx(t), &lambda.GetDurableExecutionStateInput{DurableExecutionArn: aws.String(arn), CheckpointToken: aws.String(tok)})
		if err != nil {
			t.Fatal(err)
		}
		if opStatus(st.Operations, "s") == types.OperationStatusReady {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("step never became READY")
		}
		time.Sleep(50 * time.Millisecond)
	}
	inv.finish(`{"Status":"PENDING"}`)
	next(t, invocations).finish(`{"Status":"SUCCEEDED"}`)
	e.awaitStatus(arn, types.ExecutionStatusSucceeded)
}
