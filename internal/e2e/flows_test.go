package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/duro-run/duro/internal/durable"
	"github.com/duro-run/duro/internal/engine"
)

func TestWaitAcrossInvocations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var before, after atomic.Int32
	calls := e.durableFunction("waiter", nil, func(c *durable.Context, _ json.RawMessage) (any, error) {
		a, err := c.Step("before", func() (any, error) { before.Add(1); return "a", nil })
		if err != nil {
			return nil, err
		}
		if err := c.Wait("pause", 1); err != nil {
			return nil, err
		}
		b, err := c.Step("after", func() (any, error) { after.Add(1); return "b", nil })
		if err != nil {
			return nil, err
		}
		return string(a) + string(b), nil
	})
	start := time.Now()
	out := e.invoke("waiter", "", `{}`)
	elapsed := time.Since(start)
	if string(out.Payload) != `"\"a\"\"b\""` {
		t.Errorf("result = %s", out.Payload)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("handler invoked %d times, want 2 (suspend at the wait, resume after it)", n)
	}
	if before.Load() != 1 || after.Load() != 1 {
		t.Errorf("step bodies ran %d/%d times, want 1/1 (replay must not re-run them)", before.Load(), after.Load())
	}
	if elapsed < time.Second {
		t.Errorf("synchronous invoke returned after %v, before the 1 s wait could elapse", elapsed)
	}
	arn := aws.ToString(out.DurableExecutionArn)
	events := e.history(arn)
	checkHistory(t, events, 2)
	wantCleanInvocations(t, events)
	want := []string{"ExecutionStarted", "StepStarted", "StepSucceeded", "WaitStarted", "InvocationCompleted",
		"WaitSucceeded", "StepStarted", "StepSucceeded", "InvocationCompleted", "ExecutionSucceeded"}
	if !sameStrings(eventTypes(events), want) {
		t.Fatalf("history = %v, want %v", eventTypes(events), want)
	}
	ws, wd := events[3], events[5]
	if aws.ToString(ws.Name) != "pause" || aws.ToString(ws.SubType) != "Wait" || aws.ToString(wd.Name) != "pause" || aws.ToString(wd.Id) != aws.ToString(ws.Id) {
		t.Errorf("wait events identity: started %s/%s/%s, succeeded %s/%s", aws.ToString(ws.Id), aws.ToString(ws.Name), aws.ToString(ws.SubType), aws.ToString(wd.Id), aws.ToString(wd.Name))
	}
	d := ws.WaitStartedDetails
	if aws.ToInt32(d.Duration) != 1 || d.ScheduledEndTimestamp == nil {
		t.Fatalf("WaitStarted details = %+v", d)
	}
	if got := d.ScheduledEndTimestamp.Sub(*ws.EventTimestamp); got < 990*time.Millisecond || got > 1010*time.Millisecond {
		t.Errorf("ScheduledEndTimestamp is %v after WaitStarted, want 1 s", got)
	}
	if wd.EventTimestamp.Before(*d.ScheduledEndTimestamp) {
		t.Errorf("WaitSucceeded at %v, before its scheduled end %v", wd.EventTimestamp, d.ScheduledEndTimestamp)
	}
	if aws.ToInt32(wd.WaitSucceededDetails.Duration) != 1 {
		t.Errorf("WaitSucceeded Duration = %d, want 1", aws.ToInt32(wd.WaitSucceededDetails.Duration))
	}
}

func TestStepRetryThenSuccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var attempts atomic.Int32
	calls := e.durableFunction("flaky", nil, func(c *durable.Context, _ json.RawMessage) (any, error) {
		return c.Step("call-api", func() (any, error) {
			if attempts.Add(1) == 1 {
				return nil, &durable.Error{Type: "Timeout", Message: "upstream timed out"}
			}
			return "ok", nil
		}, durable.WithRetries(3, 1))
	})
	out := e.invoke("flaky", "", `{}`)
	if string(out.Payload) != `"ok"` || out.FunctionError != nil {
		t.Fatalf("result = %s (function error %v)", out.Payload, aws.ToString(out.FunctionError))
	}
	if attempts.Load() != 2 || calls.Load() != 2 {
		t.Errorf("attempts %d, invocations %d; want 2 and 2", attempts.Load(), calls.Load())
	}
	events := e.history(aws.ToString(out.DurableExecutionArn))
	checkHistory(t, events, 2)
	wantCleanInvocations(t, events)
	want := []string{"ExecutionStarted", "StepStarted", "StepFailed", "InvocationCompleted", "StepStarted", "StepSucceeded", "InvocationCompleted", "ExecutionSucceeded"}
	if !sameStrings(eventTypes(events), want) {
		t.Fatalf("history = %v, want %v", eventTypes(events), want)
	}
	failed := events[2].StepFailedDetails
	if failed.RetryDetails == nil || failed.RetryDetails.CurrentAttempt != 1 || aws.ToInt32(failed.RetryDetails.NextAttemptDelaySeconds) != 1 {
		t.Errorf("StepFailed RetryDetails = %+v, want attempt 1 with delay 1", failed.RetryDetails)
	}
	if p := failed.Error.Payload; aws.ToString(p.ErrorType) != "Timeout" || aws.ToString(p.ErrorMessage) != "upstream timed out" {
		t.Errorf("StepFailed error = %s", errString(p))
	}
	if got := events[4].EventTimestamp.Sub(*events[2].EventTimestamp); got < time.Second {
		t.Errorf("retry started %v after the failure, before the 1 s delay", got)
	}
	if rd := events[5].StepSucceededDetails.RetryDetails; rd == nil || rd.CurrentAttempt != 2 || rd.NextAttemptDelaySeconds != nil {
		t.Errorf("StepSucceeded RetryDetails = %+v, want CurrentAttempt 2", rd)
	}
}

func TestStepPermanentFailure(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var attempts atomic.Int32
	e.durableFunction("declined", nil, func(c *durable.Context, _ json.RawMessage) (any, error) {
		_, err := c.Step("charge", func() (any, error) {
			attempts.Add(1)
			return nil, &durable.Error{Type: "PaymentDeclined", Message: "card declined", Data: `{"code":51}`}
		}, durable.WithRetries(2, 1))
		return nil, err
	})
	out := e.invoke("declined", "", `{}`)
	if aws.ToString(out.FunctionError) != "Unhandled" {
		t.Errorf("FunctionError = %q, want Unhandled", aws.ToString(out.FunctionError))
	}
	var fe struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	}
	if err := json.Unmarshal(out.Payload, &fe); err != nil || fe.ErrorType != "PaymentDeclined" || fe.ErrorMessage != "card declined" {
		t.Errorf("function error payload = %s", out.Payload)
	}
	arn := aws.ToString(out.DurableExecutionArn)
	d := e.describe(arn)
	if d.Status != types.ExecutionStatusFailed || aws.ToString(d.Error.ErrorType) != "PaymentDeclined" ||
		aws.ToString(d.Error.ErrorMessage) != "card declined" || aws.ToString(d.Error.ErrorData) != `{"code":51}` || d.Result != nil {
		t.Errorf("execution = %s, error %+v, result %v", d.Status, d.Error, d.Result)
	}
	if attempts.Load() != 2 {
		t.Errorf("step body ran %d times, want 2 (the attempt budget)", attempts.Load())
	}
	events := e.history(arn)
	checkHistory(t, events, 2)
	wantCleanInvocations(t, events)
	want := []string{"ExecutionStarted", "StepStarted", "StepFailed", "InvocationCompleted", "StepStarted", "StepFailed", "InvocationCompleted", "ExecutionFailed"}
	if !sameStrings(eventTypes(events), want) {
		t.Fatalf("history = %v, want %v", eventTypes(events), want)
	}
	last := events[5].StepFailedDetails
	if last.RetryDetails.CurrentAttempt != 2 || last.RetryDetails.NextAttemptDelaySeconds != nil {
		t.Errorf("final StepFailed RetryDetails = %+v, want attempt 2 and no delay", last.RetryDetails)
	}
	if p := events[7].ExecutionFailedDetails.Error; aws.ToString(p.Payload.ErrorType) != "PaymentDeclined" || aws.ToBool(p.Truncated) {
		t.Errorf("ExecutionFailed error = %s", errString(p.Payload))
	}
}

func TestChildContext(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.durableFunction("nested", nil, func(c *durable.Context, _ json.RawMessage) (any, error) {
		r, err := c.RunInChildContext("branch", func(cc *durable.Context) (any, error) {
			a, err := cc.Step("inner", func() (any, error) { return 20, nil })
			if err != nil {
				return nil, err
			}
			if err := cc.Wait("inner-wait", 1); err != nil {
				return nil, err
			}
			return json.RawMessage(`{"inner":` + string(a) + `}`), nil
		})
		if err != nil {
			return nil, err
		}
		return r, nil
	})
	out := e.invoke("nested", "", `{}`)
	if string(out.Payload) != `{"inner":20}` {
		t.Fatalf("result = %s", out.Payload)
	}
	events := e.history(aws.ToString(out.DurableExecutionArn))
	checkHistory(t, events, 2)
	wantCleanInvocations(t, events)
	want := []string{"ExecutionStarted", "ContextStarted", "StepStarted", "StepSucceeded", "WaitStarted", "InvocationCompleted",
		"WaitSucceeded", "ContextSucceeded", "InvocationCompleted", "ExecutionSucceeded"}
	if !sameStrings(eventTypes(events), want) {
		t.Fatalf("history = %v, want %v", eventTypes(events), want)
	}
	for _, i := range []int{2, 3, 4, 6} {
		if aws.ToString(events[i].ParentId) != "1" {
			t.Errorf("%s ParentId = %q, want the context's id 1", events[i].EventType, aws.ToString(events[i].ParentId))
		}
	}
	if aws.ToString(events[1].SubType) != "RunInChildContext" || aws.ToString(events[1].Name) != "branch" || events[1].ParentId != nil {
		t.Errorf("ContextStarted = subtype %q name %q parent %v", aws.ToString(events[1].SubType), aws.ToString(events[1].Name), events[1].ParentId)
	}
	if r := events[7].ContextSucceededDetails.Result; aws.ToString(r.Payload) != `{"inner":20}` {
		t.Errorf("ContextSucceeded result = %q", aws.ToString(r.Payload))
	}
}

func TestInvocationCrashIsReinvoked(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var calls atomic.Int32
	h := durable.Handler(e.client, orderFlow)
	e.createFunction("crashy", fnOpts{durable: &types.DurableConfig{ExecutionTimeout: aws.Int32(60)}},
		func(c context.Context, inv engine.Invocation) (engine.InvocationResponse, error) {
			if calls.Add(1) == 1 {
				return engine.InvocationResponse{}, &engine.InvocationError{Type: "Runtime.ExitError", Message: "RequestId: x Error: Runtime exited with error: exit status 1"}
			}
			return h(c, inv)
		})
	out := e.invoke("crashy", "", `{"order":"c","items":[2,3]}`)
	if string(out.Payload) != `{"charged":true,"order":"c","total":5}` || out.FunctionError != nil {
		t.Fatalf("result = %s (function error %v)", out.Payload, aws.ToString(out.FunctionError))
	}
	if calls.Load() != 2 {
		t.Errorf("handler invoked %d times, want 2", calls.Load())
	}
	events := e.history(aws.ToString(out.DurableExecutionArn))
	checkHistory(t, events, 2)
	want := []string{"ExecutionStarted", "InvocationCompleted", "StepStarted", "StepSucceeded", "StepStarted", "StepSucceeded", "InvocationCompleted", "ExecutionSucceeded"}
	if !sameStrings(eventTypes(events), want) {
		t.Fatalf("history = %v, want %v", eventTypes(events), want)
	}
	crash := events[1].InvocationCompletedDetails
	if crash.Error == nil || aws.ToString(crash.Error.Payload.ErrorType) != "Runtime.ExitError" {
		t.Errorf("first InvocationCompleted error = %+v, want Runtime.ExitError", crash.Error)
	}
	if events[6].InvocationCompletedDetails.Error != nil {
		t.Errorf("second InvocationCompleted has error %s", errString(events[6].InvocationCompletedDetails.Error.Payload))
	}
	if aws.ToString(crash.RequestId) == aws.ToString(events[6].InvocationCompletedDetails.RequestId) {
		t.Error("both invocations have the same RequestId")
	}
}

// A handler that dies after a checkpointed step is re-invoked and replays the
// step instead of running it again.
func TestCrashAfterStepReplaysIt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var bodies, invocations atomic.Int32
	e.durableFunction("crash-after-step", nil, func(c *durable.Context, _ json.RawMessage) (any, error) {
		invocations.Add(1)
		r, err := c.Step("charge", func() (any, error) { bodies.Add(1); return "charged", nil })
		if err != nil {
			return nil, err
		}
		if invocations.Load() == 1 {
			panic(errors.New("simulated crash after the step"))
		}
		return r, nil
	})
	out := e.invoke("crash-after-step", "", `{}`)
	if string(out.Payload) != `"charged"` {
		t.Fatalf("result = %s", out.Payload)
	}
	if bodies.Load() != 1 || invocations.Load() != 2 {
		t.Errorf("step body ran %d times over %d invocations; want 1 over 2", bodies.Load(), invocations.Load())
	}
	events := e.history(aws.ToString(out.DurableExecutionArn))
	checkHistory(t, events, 2)
	ics := eventsOf(events, types.EventTypeInvocationCompleted)
	if len(ics) == 2 && (ics[0].InvocationCompletedDetails.Error == nil || aws.ToString(ics[0].InvocationCompletedDetails.Error.Payload.ErrorType) != "Runtime.Panic") {
		t.Errorf("crashed InvocationCompleted = %+v, want error Runtime.Panic", ics[0].InvocationCompletedDetails.Error)
	}
}

// At-most-once steps: an invocation dying inside the body leaves the step
// STARTED; the next invocation must not run the body again but retry it.
// The dead invocation is simulated by a handler that answers the engine with
// Runtime.ExitError while its durable code is still blocked in the step
// body; released later, that zombie's checkpoint must be fenced.
func TestAtMostOnceInterruptedStep(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var bodies, invocations atomic.Int32
	release := make(chan struct{})
	zombie := make(chan error, 1)
	step := func(c *durable.Context, body func() (any, error)) (json.RawMessage, error) {
		return c.Step("transfer", func() (any, error) { bodies.Add(1); return body() }, durable.AtMostOnce(), durable.WithRetries(3, 1))
	}
	h := durable.Handler(e.client, func(c *durable.Context, _ json.RawMessage) (any, error) {
		return step(c, func() (any, error) { return "done", nil })
	})
	e.createFunction("at-most-once", fnOpts{durable: &types.DurableConfig{ExecutionTimeout: aws.Int32(60)}},
		func(c context.Context, inv engine.Invocation) (engine.InvocationResponse, error) {
			if invocations.Add(1) > 1 {
				return h(c, inv)
			}
			inBody := make(chan struct{})
			go func() {
				_, err := durable.Run(context.Background(), e.client, inv.Payload, func(c *durable.Context, _ json.RawMessage) (any, error) {
					return step(c, func() (any, error) { close(inBody); <-release; return "zombie", nil })
				})
				zombie <- err
			}()
			select {
			case <-inBody:
			case <-time.After(testTimeout):
			}
			return engine.InvocationResponse{}, &engine.InvocationError{Type: "Runtime.ExitError", Message: "process killed mid-step"}
		})
	out := e.invoke("at-most-once", "", `{}`)
	if string(out.Payload) != `"done"` {
		t.Fatalf("result = %s", out.Payload)
	}
	arn := aws.ToString(out.DurableExecutionArn)
	events := e.history(arn)
	checkHistory(t, events, 3)
	// Invocation 1 dies inside the body (after StepStarted); 2 finds the
	// step STARTED and retries it without running the body; 3 runs
	// attempt 2.
	want := []string{"ExecutionStarted", "StepStarted", "InvocationCompleted", "StepFailed", "InvocationCompleted",
		"StepStarted", "StepSucceeded", "InvocationCompleted", "ExecutionSucceeded"}
	if !sameStrings(eventTypes(events), want) {
		t.Fatalf("history = %v, want %v", eventTypes(events), want)
	}
	if bodies.Load() != 2 {
		t.Errorf("step body ran %d times, want 2 (the killed attempt and attempt 2; never for the interrupted replay)", bodies.Load())
	}
	if f := events[3].StepFailedDetails; aws.ToString(f.Error.Payload.ErrorType) != "StepInterruptedError" || f.RetryDetails.CurrentAttempt != 1 {
		t.Errorf("StepFailed = %s attempt %d, want StepInterruptedError attempt 1", errString(f.Error.Payload), f.RetryDetails.CurrentAttempt)
	}
	if rd := events[6].StepSucceededDetails.RetryDetails; rd.CurrentAttempt != 2 {
		t.Errorf("StepSucceeded attempt = %d, want 2", rd.CurrentAttempt)
	}

	// The zombie wakes up and tries to checkpoint its SUCCEED: fenced.
	close(release)
	var ie *durable.InvocationError
	if err := <-zombie; !errors.As(err, &ie) || ie.Type != "CheckpointUnrecoverableInvocationError" {
		t.Fatalf("zombie invocation ended with %v, want a stale-token invocation error", err)
	} else {
		wantStaleToken(t, ie.Err)
	}
	if after := e.history(arn); len(after) != len(events) {
		t.Errorf("the fenced zombie changed the history: %v", eventTypes(after))
	}
}
