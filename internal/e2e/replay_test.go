package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/duro-run/duro/internal/durable"
	"github.com/duro-run/duro/internal/engine"
)

// An envelope too large for one page (over 1000 operations) is paged with
// GetDurableExecutionState using the envelope's token; the durable SDK must
// see every operation and replay all of them.
func TestEnvelopePagedThroughState(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const steps = 1001
	var bodies atomic.Int32
	fn := func(c *durable.Context, _ json.RawMessage) (any, error) {
		sum := 0
		for i := 0; i < steps; i++ {
			r, err := c.Step("", func() (any, error) { bodies.Add(1); return i, nil })
			if err != nil {
				return nil, err
			}
			var n int
			if err := json.Unmarshal(r, &n); err != nil {
				return nil, err
			}
			sum += n
		}
		if err := c.Wait("", 1); err != nil {
			return nil, err
		}
		return sum, nil
	}
	h := durable.Handler(e.client, fn)
	var calls atomic.Int32
	var firstEnvelopeOps, secondMarker atomic.Value
	e.createFunction("many-ops", fnOpts{durable: &types.DurableConfig{ExecutionTimeout: aws.Int32(120)}, timeout: 30},
		func(c context.Context, inv engine.Invocation) (engine.InvocationResponse, error) {
			n := calls.Add(1)
			var envl struct {
				InitialExecutionState struct {
					Operations []json.RawMessage
					NextMarker string
				}
			}
			_ = json.Unmarshal(inv.Payload, &envl)
			if n == 1 {
				// Write the steps in one checkpoint, as the SDK would one
				// by one (ids "1".."1001"), plus the wait; then suspend.
				var ups []types.OperationUpdate
				for i := 1; i <= steps; i++ {
					u := upd(fmt.Sprint(i), types.OperationTypeStep, types.OperationActionSucceed)
					u.SubType, u.Payload = aws.String("Step"), aws.String(fmt.Sprint(i-1))
					ups = append(ups, u)
				}
				w := upd(fmt.Sprint(steps+1), types.OperationTypeWait, types.OperationActionStart)
				w.SubType, w.WaitOptions = aws.String("Wait"), &types.WaitOptions{WaitSeconds: aws.Int32(1)}
				var arn, tok string
				var raw struct{ DurableExecutionArn, CheckpointToken string }
				_ = json.Unmarshal(inv.Payload, &raw)
				arn, tok = raw.DurableExecutionArn, raw.CheckpointToken
				if _, err := e.client.CheckpointDurableExecution(c, &lambda.CheckpointDurableExecutionInput{
					DurableExecutionArn: aws.String(arn), CheckpointToken: aws.String(tok), Updates: append(ups, w)}); err != nil {
					return engine.InvocationResponse{}, err
				}
				firstEnvelopeOps.Store(len(envl.InitialExecutionState.Operations))
				return engine.InvocationResponse{Payload: []byte(`{"Status":"PENDING"}`)}, nil
			}
			secondMarker.Store(fmt.Sprintf("%d ops, marker %q", len(envl.InitialExecutionState.Operations), envl.InitialExecutionState.NextMarker))
			return h(c, inv)
		})
	arn := e.start("many-ops", latest, "", `{}`)
	d := e.awaitStatus(arn, types.ExecutionStatusSucceeded)
	if want := fmt.Sprint(steps * (steps - 1) / 2); aws.ToString(d.Result) != want {
		t.Errorf("result = %s, want %s (the sum of every replayed step)", aws.ToString(d.Result), want)
	}
	if bodies.Load() != 0 {
		t.Errorf("%d step bodies ran on replay, want 0", bodies.Load())
	}
	if m, _ := secondMarker.Load().(string); !strings.HasPrefix(m, "1000 ops") || strings.HasSuffix(m, `""`) {
		t.Errorf("second envelope: %s; want 1000 operations and a NextMarker", m)
	}
	events := e.history(arn)
	checkHistory(t, events, 2)
	wantCleanInvocations(t, events)
}

// A child context whose result is too large to store is closed with
// ReplayChildren; its children stay visible and the SDK recomputes the
// result from them on replay.
func TestChildContextReplayChildren(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var bodies atomic.Int32
	e.durableFunction("replay-children", nil, func(c *durable.Context, _ json.RawMessage) (any, error) {
		r, err := c.RunInChildContext("big", func(cc *durable.Context) (any, error) {
			var parts []string
			for i := 0; i < 2; i++ {
				p, err := cc.Step("", func() (any, error) { bodies.Add(1); return strings.Repeat(fmt.Sprint(i), 150_000), nil })
				if err != nil {
					return nil, err
				}
				var s string
				if err := json.Unmarshal(p, &s); err != nil {
					return nil, err
				}
				parts = append(parts, s)
			}
			return parts, nil
		})
		if err != nil {
			return nil, err
		}
		if err := c.Wait("", 1); err != nil {
			return nil, err
		}
		var parts []string
		if err := json.Unmarshal(r, &parts); err != nil {
			return nil, err
		}
		return fmt.Sprintf("%d:%d:%c%c", len(parts[0]), len(parts[1]), parts[0][0], parts[1][0]), nil
	})
	out := e.invoke("replay-children", "", `{}`)
	if string(out.Payload) != `"150000:150000:01"` {
		t.Fatalf("result = %.200s", out.Payload)
	}
	if bodies.Load() != 2 {
		t.Errorf("step bodies ran %d times, want 2", bodies.Load())
	}
	events := e.history(aws.ToString(out.DurableExecutionArn))
	checkHistory(t, events, 2)
	wantCleanInvocations(t, events)
	cs := eventsOf(events, types.EventTypeContextSucceeded)
	if len(cs) != 1 || aws.ToString(cs[0].ContextSucceededDetails.Result.Payload) != "" {
		t.Errorf("ContextSucceeded = %v, want one with an empty payload", cs)
	}
}

// A STEP RETRY carrying a Payload (WaitForCondition) records StepSucceeded
// with the retry delay and hands the payload to the next attempt.
func TestRetryWithPayload(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	invocations := e.controlledFunction("poller", nil)
	arn := e.start("poller", latest, "", `{}`)
	inv := next(t, invocations)
	start := upd("poll", types.OperationTypeStep, types.OperationActionStart)
	start.SubType = aws.String("WaitForCondition")
	retry := upd("poll", types.OperationTypeStep, types.OperationActionRetry)
	retry.SubType, retry.Payload = aws.String("WaitForCondition"), aws.String(`{"n":1}`)
	retry.StepOptions = &types.StepOptions{NextAttemptDelaySeconds: aws.Int32(1)}
	cp, err := e.checkpoint(arn, inv.Token, "", start, retry)
	if err != nil {
		t.Fatal(err)
	}
	var pending *types.Operation
	for i, op := range cp.NewExecutionState.Operations {
		if aws.ToString(op.Id) == "poll" {
			pending = &cp.NewExecutionState.Operations[i]
		}
	}
	if pending == nil || pending.Status != types.OperationStatusPending || pending.StepDetails == nil ||
		pending.StepDetails.Attempt != 1 || pending.StepDetails.NextAttemptTimestamp == nil || aws.ToString(pending.StepDetails.Result) != `{"n":1}` {
		t.Fatalf("delta = %+v, want poll PENDING, attempt 1, a NextAttemptTimestamp and the payload", pending)
	}
	// SUCCEED is not allowed before the retry is due.
	_, err = e.checkpoint(arn, aws.ToString(cp.CheckpointToken), "", upd("poll", types.OperationTypeStep, types.OperationActionSucceed))
	apiErr[*types.InvalidParameterValueException](t, err)
	inv.finish(`{"Status":"PENDING"}`)

	again := next(t, invocations)
	var envl struct {
		InitialExecutionState struct {
			Operations []struct {
				Id, Status  string
				StepDetails *struct {
					Attempt              int
					Result               *string
					NextAttemptTimestamp *int64
				}
			}
		}
	}
	if err := json.Unmarshal(again.Raw, &envl); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, op := range envl.InitialExecutionState.Operations {
		if op.Id == "poll" {
			found = true
			if op.Status != "READY" || op.StepDetails == nil || op.StepDetails.Attempt != 1 || aws.ToString(op.StepDetails.Result) != `{"n":1}` || op.StepDetails.NextAttemptTimestamp != nil {
				t.Errorf("re-invocation sees poll as %s", again.Raw)
			}
		}
	}
	if !found {
		t.Fatalf("re-invocation envelope lacks the step: %s", again.Raw)
	}
	done := upd("poll", types.OperationTypeStep, types.OperationActionSucceed)
	done.SubType, done.Payload = aws.String("WaitForCondition"), aws.String(`{"n":2}`)
	restart := upd("poll", types.OperationTypeStep, types.OperationActionStart)
	restart.SubType = aws.String("WaitForCondition")
	if _, err := e.checkpoint(arn, again.Token, "", restart, done); err != nil {
		t.Fatal(err)
	}
	again.finish(`{"Status":"SUCCEEDED"}`)
	e.awaitStatus(arn, types.ExecutionStatusSucceeded)
	events := e.history(arn)
	checkHistory(t, events, 2)
	wantCleanInvocations(t, events)
	want := []string{"ExecutionStarted", "StepStarted", "StepSucceeded", "InvocationCompleted", "StepStarted", "StepSucceeded", "InvocationCompleted", "ExecutionSucceeded"}
	if !sameStrings(eventTypes(events), want) {
		t.Fatalf("history = %v, want %v", eventTypes(events), want)
	}
	first := events[2].StepSucceededDetails
	if aws.ToString(first.Result.Payload) != `{"n":1}` || first.RetryDetails.CurrentAttempt != 1 || aws.ToInt32(first.RetryDetails.NextAttemptDelaySeconds) != 1 {
		t.Errorf("RETRY event = %q %+v, want the payload, attempt 1, delay 1", aws.ToString(first.Result.Payload), first.RetryDetails)
	}
	if second := events[5].StepSucceededDetails; second.RetryDetails.CurrentAttempt != 2 || aws.ToString(second.Result.Payload) != `{"n":2}` {
		t.Errorf("final StepSucceeded = %q %+v", aws.ToString(second.Result.Payload), second.RetryDetails)
	}
}

// A cancelled WAIT never fires (§5.5): the next invocation comes for the
// other wait, not for the cancelled one.
func TestCancelledWaitDoesNotFire(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	invocations := e.controlledFunction("canceller", nil)
	arn := e.start("canceller", latest, "", `{}`)
	inv := next(t, invocations)
	wait := func(id string, secs int32) types.OperationUpdate {
		u := upd(id, types.OperationTypeWait, types.OperationActionStart)
		u.WaitOptions = &types.WaitOptions{WaitSeconds: aws.Int32(secs)}
		return u
	}
	cancel := upd("short", types.OperationTypeWait, types.OperationActionCancel)
	cancel.Error = &types.ErrorObject{ErrorMessage: aws.String("not needed")}
	cp, err := e.checkpoint(arn, inv.Token, "", wait("short", 1), wait("long", 2))
	if err != nil {
		t.Fatal(err)
	}
	cp, err = e.checkpoint(arn, aws.ToString(cp.CheckpointToken), "", cancel)
	if err != nil {
		t.Fatalf("WAIT CANCEL: %v", err)
	}
	if s := opStatus(cp.NewExecutionState.Operations, "short"); s != types.OperationStatusCancelled {
		t.Errorf("cancelled wait status %q", s)
	}
	_, err = e.checkpoint(arn, aws.ToString(cp.CheckpointToken), "", cancel)
	apiErr[*types.InvalidParameterValueException](t, err) // not STARTED any more
	inv.finish(`{"Status":"PENDING"}`)
	resumed := next(t, invocations)
	if !strings.Contains(string(resumed.Raw), `"UpdatedOperationIds":["long"]`) {
		t.Errorf("re-invoked with %s; want it for the long wait only", resumed.Raw)
	}
	resumed.finish(`{"Status":"SUCCEEDED"}`)
	e.awaitStatus(arn, types.ExecutionStatusSucceeded)
	events := e.history(arn)
	checkHistory(t, events, 2)
	wantCleanInvocations(t, events)
	want := []string{"ExecutionStarted", "WaitStarted", "WaitStarted", "WaitCancelled", "InvocationCompleted", "WaitSucceeded", "InvocationCompleted", "ExecutionSucceeded"}
	if !sameStrings(eventTypes(events), want) {
		t.Fatalf("history = %v, want %v", eventTypes(events), want)
	}
	if wc := events[3].WaitCancelledDetails; wc.Error == nil || aws.ToString(wc.Error.Payload.ErrorMessage) != "not needed" {
		t.Errorf("WaitCancelled = %+v", wc)
	}
	if aws.ToString(events[5].Id) != "long" {
		t.Errorf("WaitSucceeded for %q, want long", aws.ToString(events[5].Id))
	}
}

// Concurrent starts with one name and payload create one execution.
func TestConcurrentIdempotentStarts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	calls := e.durableFunction("racy", nil, orderFlow)
	const n = 12
	arns := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := e.client.Invoke(context.Background(), &lambda.InvokeInput{
				FunctionName: aws.String("racy"), Qualifier: aws.String(latest), InvocationType: types.InvocationTypeEvent,
				DurableExecutionName: aws.String("once"), Payload: []byte(`{"order":"r","items":[1]}`)})
			if err != nil {
				t.Errorf("start %d: %v", i, err)
				return
			}
			arns[i] = aws.ToString(out.DurableExecutionArn)
		}()
	}
	wg.Wait()
	for i := 1; i < n; i++ {
		if arns[i] != arns[0] {
			t.Fatalf("concurrent starts gave different ARNs: %q vs %q", arns[i], arns[0])
		}
	}
	e.awaitStatus(arns[0], types.ExecutionStatusSucceeded)
	if calls.Load() != 1 {
		t.Errorf("handler invoked %d times, want 1", calls.Load())
	}
}

func TestDryRunInvoke(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	calls := e.durableFunction("dry", nil, orderFlow)
	out, err := e.client.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String("dry"), Qualifier: aws.String(latest), InvocationType: types.InvocationTypeDryRun})
	if err != nil {
		t.Fatalf("DryRun: %v", err)
	}
	if out.StatusCode != 204 || out.DurableExecutionArn != nil || calls.Load() != 0 {
		t.Errorf("DryRun = %d, ARN %v, %d invocations; want 204, none, 0", out.StatusCode, out.DurableExecutionArn, calls.Load())
	}
	_, err = e.client.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String("nope"), Qualifier: aws.String(latest), InvocationType: types.InvocationTypeDryRun})
	apiErr[*types.ResourceNotFoundException](t, err)
}
