package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/duro-run/duro/internal/durable"
)

// callbackFlow starts one callback with the given timeouts and returns
// "result:<raw bytes>" on success or "error:<type>:<message>" on failure.
func callbackFlow(timeout, heartbeat int32) durable.Func {
	return func(c *durable.Context, _ json.RawMessage) (any, error) {
		_, wait := c.Callback("approval", timeout, heartbeat)
		r, err := wait()
		var de *durable.Error
		if errors.As(err, &de) {
			return "error:" + de.Type + ":" + de.Message, nil
		}
		if err != nil {
			return nil, err
		}
		return "result:" + string(r), nil
	}
}

// callbackID waits for the execution's CallbackStarted event and returns it.
func (e *env) callbackStarted(arn string) types.Event {
	e.t.Helper()
	ev := e.awaitEvent(arn, types.EventTypeCallbackStarted, 1)
	if ev.CallbackStartedDetails == nil || aws.ToString(ev.CallbackStartedDetails.CallbackId) == "" {
		e.t.Fatalf("CallbackStarted without CallbackId: %+v", ev)
	}
	return ev
}

func TestCallbackSuccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	calls := e.durableFunction("cb-success", nil, callbackFlow(0, 0))
	arn := e.start("cb-success", latest, "", `{}`)
	started := e.callbackStarted(arn)
	id := *started.CallbackStartedDetails.CallbackId
	// The history below is that of a suspended execution woken by its
	// callback: complete it once the first invocation has ended. (Sent
	// between CallbackStarted and that end, the completion is recorded
	// first, as AWS records it, and the handler is invoked again.)
	e.awaitEvent(arn, types.EventTypeInvocationCompleted, 1)
	if started.CallbackStartedDetails.Timeout != nil || started.CallbackStartedDetails.HeartbeatTimeout != nil {
		t.Errorf("CallbackStarted timeouts = %v/%v, want absent (0 disables)", started.CallbackStartedDetails.Timeout, started.CallbackStartedDetails.HeartbeatTimeout)
	}
	// Odd but valid bytes: spacing, escapes and HTML characters must survive.
	result := []byte(`{ "approved" : true, "note": "<a&b> \u00e9" }`)
	out, err := e.client.SendDurableExecutionCallbackSuccess(ctx(t), &lambda.SendDurableExecutionCallbackSuccessInput{CallbackId: aws.String(id), Result: result})
	if err != nil {
		t.Fatalf("SendDurableExecutionCallbackSuccess: %v", err)
	}
	if s := statusOf(t, out.ResultMetadata); s != http.StatusOK {
		t.Errorf("callback success status %d", s)
	}
	d := e.awaitStatus(arn, types.ExecutionStatusSucceeded)
	want, _ := json.Marshal("result:" + string(result))
	if aws.ToString(d.Result) != string(want) {
		t.Errorf("result = %s, want %s", aws.ToString(d.Result), want)
	}
	events := e.history(arn)
	checkHistory(t, events, 2)
	wantCleanInvocations(t, events)
	wantTypes := []string{"ExecutionStarted", "CallbackStarted", "InvocationCompleted", "CallbackSucceeded", "InvocationCompleted", "ExecutionSucceeded"}
	if !sameStrings(eventTypes(events), wantTypes) {
		t.Fatalf("history = %v, want %v", eventTypes(events), wantTypes)
	}
	cs := events[3]
	if got := aws.ToString(cs.CallbackSucceededDetails.Result.Payload); got != string(result) {
		t.Errorf("CallbackSucceeded payload = %q, want the body byte for byte %q", got, result)
	}
	if aws.ToString(cs.Name) != "approval" || aws.ToString(cs.SubType) != "Callback" || aws.ToString(cs.Id) != aws.ToString(started.Id) {
		t.Errorf("CallbackSucceeded identity = %s/%s/%s", aws.ToString(cs.Id), aws.ToString(cs.Name), aws.ToString(cs.SubType))
	}
	if calls.Load() != 2 {
		t.Errorf("handler invoked %d times, want 2", calls.Load())
	}

	// The callback is closed now.
	_, err = e.client.SendDurableExecutionCallbackSuccess(ctx(t), &lambda.SendDurableExecutionCallbackSuccessInput{CallbackId: aws.String(id), Result: []byte(`1`)})
	cte := apiErr[*types.CallbackTimeoutException](t, err)
	if statusOfErr(err) != http.StatusBadRequest || !strings.Contains(cte.ErrorMessage(), "already been closed") {
		t.Errorf("closed callback: status %d message %q; want 400 and AWS's message", statusOfErr(err), cte.ErrorMessage())
	}
	_, err = e.client.SendDurableExecutionCallbackFailure(ctx(t), &lambda.SendDurableExecutionCallbackFailureInput{CallbackId: aws.String(id)})
	apiErr[*types.CallbackTimeoutException](t, err)
	_, err = e.client.SendDurableExecutionCallbackHeartbeat(ctx(t), &lambda.SendDurableExecutionCallbackHeartbeatInput{CallbackId: aws.String(id)})
	apiErr[*types.CallbackTimeoutException](t, err)
	if n := len(e.history(arn)); n != len(events) {
		t.Errorf("calls on a closed callback changed the history (%d → %d events)", len(events), n)
	}
}

func TestCallbackFailure(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.durableFunction("cb-failure", nil, callbackFlow(0, 0))
	arn := e.start("cb-failure", latest, "", `{}`)
	id := *e.callbackStarted(arn).CallbackStartedDetails.CallbackId
	sent := &types.ErrorObject{ErrorType: aws.String("Rejected"), ErrorMessage: aws.String("manager said no"), ErrorData: aws.String(`{"by":"bob"}`), StackTrace: []string{"a", "b"}}
	if _, err := e.client.SendDurableExecutionCallbackFailure(ctx(t), &lambda.SendDurableExecutionCallbackFailureInput{CallbackId: aws.String(id), Error: sent}); err != nil {
		t.Fatalf("SendDurableExecutionCallbackFailure: %v", err)
	}
	d := e.awaitStatus(arn, types.ExecutionStatusSucceeded)
	if aws.ToString(d.Result) != `"error:Rejected:manager said no"` {
		t.Errorf("result = %s", aws.ToString(d.Result))
	}
	events := e.history(arn)
	checkHistory(t, events, 2)
	wantCleanInvocations(t, events)
	failed := eventsOf(events, types.EventTypeCallbackFailed)
	if len(failed) != 1 {
		t.Fatalf("history = %v, want one CallbackFailed", eventTypes(events))
	}
	p := failed[0].CallbackFailedDetails.Error.Payload
	if aws.ToString(p.ErrorType) != "Rejected" || aws.ToString(p.ErrorMessage) != "manager said no" || aws.ToString(p.ErrorData) != `{"by":"bob"}` || !sameStrings(p.StackTrace, []string{"a", "b"}) {
		t.Errorf("CallbackFailed error = %+v", p)
	}
}

func TestCallbackTimeouts(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name               string
		timeout, heartbeat int32
		wantType           string
	}{
		{"timeout", 1, 0, "Callback.Timeout"},
		{"heartbeat", 0, 1, "Callback.Heartbeat"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.durableFunction("cb-timeout", nil, callbackFlow(tc.timeout, tc.heartbeat))
			arn := e.start("cb-timeout", latest, "", `{}`)
			started := e.callbackStarted(arn)
			sd := started.CallbackStartedDetails
			if tc.timeout > 0 && aws.ToInt32(sd.Timeout) != tc.timeout || tc.heartbeat > 0 && aws.ToInt32(sd.HeartbeatTimeout) != tc.heartbeat {
				t.Errorf("CallbackStarted Timeout %v HeartbeatTimeout %v", sd.Timeout, sd.HeartbeatTimeout)
			}
			d := e.awaitStatus(arn, types.ExecutionStatusSucceeded)
			if !strings.HasPrefix(aws.ToString(d.Result), `"error:`+tc.wantType+`:`) {
				t.Errorf("result = %s, want the handler to see %s", aws.ToString(d.Result), tc.wantType)
			}
			events := e.history(arn)
			checkHistory(t, events, 2)
			wantCleanInvocations(t, events)
			to := eventsOf(events, types.EventTypeCallbackTimedOut)
			if len(to) != 1 {
				t.Fatalf("history = %v, want one CallbackTimedOut", eventTypes(events))
			}
			if p := to[0].CallbackTimedOutDetails.Error.Payload; aws.ToString(p.ErrorType) != tc.wantType || aws.ToString(p.ErrorMessage) == "" {
				t.Errorf("CallbackTimedOut error = %s, want type %s with a message", errString(p), tc.wantType)
			}
			if got := to[0].EventTimestamp.Sub(*started.EventTimestamp); got < time.Second {
				t.Errorf("timed out %v after start, before the 1 s timer", got)
			}
			_, err := e.client.SendDurableExecutionCallbackSuccess(ctx(t), &lambda.SendDurableExecutionCallbackSuccessInput{
				CallbackId: sd.CallbackId, Result: []byte(`"late"`)})
			apiErr[*types.CallbackTimeoutException](t, err)
		})
	}
}

func TestCallbackHeartbeatKeepsItAlive(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.durableFunction("cb-heartbeat", nil, callbackFlow(0, 2))
	arn := e.start("cb-heartbeat", latest, "", `{}`)
	started := e.callbackStarted(arn)
	id := started.CallbackStartedDetails.CallbackId
	// Heartbeat for well over twice the 2 s heartbeat timeout.
	for time.Since(*started.EventTimestamp) < 4500*time.Millisecond {
		out, err := e.client.SendDurableExecutionCallbackHeartbeat(ctx(t), &lambda.SendDurableExecutionCallbackHeartbeatInput{CallbackId: id})
		if err != nil {
			t.Fatalf("heartbeat %v after start: %v\nhistory:\n%s", time.Since(*started.EventTimestamp), err, e.dump(arn))
		}
		if s := statusOf(t, out.ResultMetadata); s != http.StatusOK {
			t.Fatalf("heartbeat status %d", s)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if d := e.describe(arn); d.Status != types.ExecutionStatusRunning {
		t.Fatalf("execution %s while heartbeats were arriving", d.Status)
	}
	if _, err := e.client.SendDurableExecutionCallbackSuccess(ctx(t), &lambda.SendDurableExecutionCallbackSuccessInput{CallbackId: id, Result: []byte(`"alive"`)}); err != nil {
		t.Fatalf("success after heartbeats: %v", err)
	}
	d := e.awaitStatus(arn, types.ExecutionStatusSucceeded)
	if aws.ToString(d.Result) != `"result:\"alive\""` {
		t.Errorf("result = %s", aws.ToString(d.Result))
	}
	events := e.history(arn)
	checkHistory(t, events, 2)
	wantCleanInvocations(t, events)
	want := []string{"ExecutionStarted", "CallbackStarted", "InvocationCompleted", "CallbackSucceeded", "InvocationCompleted", "ExecutionSucceeded"}
	if !sameStrings(eventTypes(events), want) {
		t.Errorf("history = %v, want %v (heartbeats write no events)", eventTypes(events), want)
	}
}

func TestCallbackUnknownID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.durableFunction("cb-unknown", nil, callbackFlow(0, 0))
	arn := e.start("cb-unknown", latest, "", `{}`)
	real := *e.callbackStarted(arn).CallbackStartedDetails.CallbackId
	// A forged id: a real one with its signature bytes altered.
	forged := []byte(real)
	i := len(forged) - 5
	if forged[i] == 'A' {
		forged[i] = 'B'
	} else {
		forged[i] = 'A'
	}
	for _, id := range []string{"Zm9yZ2VkLWNhbGxiYWNr", string(forged), "QUJD"} {
		_, err := e.client.SendDurableExecutionCallbackSuccess(ctx(t), &lambda.SendDurableExecutionCallbackSuccessInput{CallbackId: aws.String(id), Result: []byte(`1`)})
		apiErr[*types.ResourceNotFoundException](t, err)
		_, err = e.client.SendDurableExecutionCallbackFailure(ctx(t), &lambda.SendDurableExecutionCallbackFailureInput{CallbackId: aws.String(id)})
		apiErr[*types.ResourceNotFoundException](t, err)
		_, err = e.client.SendDurableExecutionCallbackHeartbeat(ctx(t), &lambda.SendDurableExecutionCallbackHeartbeatInput{CallbackId: aws.String(id)})
		apiErr[*types.ResourceNotFoundException](t, err)
	}
	// Not even the CallbackId pattern: a validation error.
	_, err := e.client.SendDurableExecutionCallbackSuccess(ctx(t), &lambda.SendDurableExecutionCallbackSuccessInput{CallbackId: aws.String("not a callback id!")})
	apiErr[*types.InvalidParameterValueException](t, err)
	if d := e.describe(arn); d.Status != types.ExecutionStatusRunning {
		t.Errorf("execution %s after calls with unknown ids", d.Status)
	}
	if _, err := e.client.SendDurableExecutionCallbackSuccess(ctx(t), &lambda.SendDurableExecutionCallbackSuccessInput{CallbackId: aws.String(real), Result: []byte(`"ok"`)}); err != nil {
		t.Fatalf("real callback id: %v", err)
	}
	e.awaitStatus(arn, types.ExecutionStatusSucceeded)
}

func TestCallbackResultTooLarge(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.durableFunction("cb-large", nil, callbackFlow(0, 0))
	arn := e.start("cb-large", latest, "", `{}`)
	id := e.callbackStarted(arn).CallbackStartedDetails.CallbackId
	_, err := e.client.SendDurableExecutionCallbackSuccess(ctx(t), &lambda.SendDurableExecutionCallbackSuccessInput{CallbackId: id, Result: bytes.Repeat([]byte("x"), 1<<20+1)})
	apiErr[*types.InvalidParameterValueException](t, err)
	if d := e.describe(arn); d.Status != types.ExecutionStatusRunning {
		t.Errorf("execution %s after a rejected result", d.Status)
	}
	if _, err := e.client.SendDurableExecutionCallbackSuccess(ctx(t), &lambda.SendDurableExecutionCallbackSuccessInput{CallbackId: id}); err != nil {
		t.Fatalf("success without a result: %v", err)
	}
	d := e.awaitStatus(arn, types.ExecutionStatusSucceeded)
	if aws.ToString(d.Result) != `"result:"` {
		t.Errorf("result = %s, want an empty callback result", aws.ToString(d.Result))
	}
}
