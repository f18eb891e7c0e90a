package engine

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/duro-run/duro/internal/store"
	"github.com/duro-run/duro/internal/uuid"
)

// Timer keys. Per-operation timers append ":" and the operation id.
const (
	timerInvoke           = "invoke"
	timerExecutionTimeout = "timeout"
	timerRetention        = "retention"
	timerWait             = "wait:"
	timerRetry            = "retry:"
	timerCallbackTimeout  = "cbto:"
	timerHeartbeat        = "cbhb:"
	timerChainStart       = "chain:"
	timerChildDone        = "child:"
)

// envelope is the payload a durable function receives (protocol.md §4.1).
type envelope struct {
	DurableExecutionArn   string        `json:"DurableExecutionArn"`
	CheckpointToken       string        `json:"CheckpointToken"`
	InitialExecutionState envelopeState `json:"InitialExecutionState"`
	UpdatedOperationIds   []string      `json:"UpdatedOperationIds"`
}

type envelopeState struct {
	Operations []envelopeOperation `json:"Operations"`
	NextMarker string              `json:"NextMarker"`
}

// envelopeOperation is an Operation with epoch-millisecond timestamps.
type envelopeOperation struct {
	Id                   string                `json:"Id"`
	ParentId             string                `json:"ParentId,omitempty"`
	Name                 string                `json:"Name,omitempty"`
	Type                 string                `json:"Type"`
	SubType              string                `json:"SubType,omitempty"`
	StartTimestamp       EpochMillis           `json:"StartTimestamp"`
	EndTimestamp         *EpochMillis          `json:"EndTimestamp,omitempty"`
	Status               string                `json:"Status"`
	ExecutionDetails     *ExecutionDetails     `json:"ExecutionDetails,omitempty"`
	ContextDetails       *ContextDetails       `json:"ContextDetails,omitempty"`
	StepDetails          *envelopeStepDetails  `json:"StepDetails,omitempty"`
	WaitDetails          *envelopeWaitDetails  `json:"WaitDetails,omitempty"`
	CallbackDetails      *CallbackDetails      `json:"CallbackDetails,omitempty"`
	ChainedInvokeDetails *ChainedInvokeDetails `json:"ChainedInvokeDetails,omitempty"`
}

type envelopeStepDetails struct {
	Attempt              int32        `json:"Attempt"`
	NextAttemptTimestamp *EpochMillis `json:"NextAttemptTimestamp,omitempty"`
	Result               *string      `json:"Result,omitempty"`
	Error                *ErrorObject `json:"Error,omitempty"`
}

type envelopeWaitDetails struct {
	ScheduledEndTimestamp *EpochMillis `json:"ScheduledEndTimestamp,omitempty"`
}

func millisPtr(t *Timestamp) *EpochMillis {
	if t == nil {
		return nil
	}
	m := EpochMillis(*t)
	return &m
}

func toEnvelopeOperation(op *Operation) envelopeOperation {
	o := envelopeOperation{
		Id: op.Id, ParentId: op.ParentId, Name: op.Name, Type: op.Type, SubType: op.SubType,
		StartTimestamp: EpochMillis(op.StartTimestamp), EndTimestamp: millisPtr(op.EndTimestamp), Status: op.Status,
		ExecutionDetails: op.ExecutionDetails, ContextDetails: op.ContextDetails, CallbackDetails: op.CallbackDetails,
		ChainedInvokeDetails: op.ChainedInvokeDetails,
	}
	if d := op.StepDetails; d != nil {
		o.StepDetails = &envelopeStepDetails{Attempt: d.Attempt, NextAttemptTimestamp: millisPtr(d.NextAttemptTimestamp), Result: d.Result, Error: d.Error}
	}
	if d := op.WaitDetails; d != nil {
		o.WaitDetails = &envelopeWaitDetails{ScheduledEndTimestamp: millisPtr(d.ScheduledEndTimestamp)}
	}
	return o
}

// envelopePageLimits bound the operations inlined in an envelope; the SDK
// pages the rest with GetDurableExecutionState.
const (
	envelopeMaxOps   = 1000
	envelopeMaxBytes = 5 << 20
)

// invocationPlan is what fireInvoke decided, to run outside the lock.
type invocationPlan struct {
	execID    string
	requestID string
	arn       string
	fn        FunctionConfiguration
	payload   []byte
	tenant    string
	trace     string
	endpoint  string
	start     time.Time
}

// fireInvoke starts an invocation of an execution that has none in flight
// (the invoke timer: retries after a failed invocation, recovered leases).
func (e *Engine) fireInvoke(ctx context.Context, execID string) error {
	_, err := e.update(ctx, execID, func(s *execState) error {
		s.deleteTimer(timerInvoke)
		if s.terminal() || s.data.InvocationID != "" {
			return nil
		}
		return e.beginInvocation(ctx, s, e.now())
	})
	return err
}

// beginInvocation starts an invocation as part of the mutation being
// built: it issues a fresh checkpoint token (fencing every older one),
// takes the lease and encodes the envelope. The call itself starts after
// the mutation commits. Starting it here rather than through an invoke
// timer saves a commit and a trip through the timer loop on every start
// and wake-up; the lease covers a crash between the commit and the call.
func (e *Engine) beginInvocation(ctx context.Context, s *execState, now time.Time) error {
	fn, err := e.resolveFunction(ctx, s.row.FunctionName, s.row.FunctionVersion)
	if err != nil {
		if KindOf(err) == KindNotFound {
			e.finish(s, now, StatusFailed, nil, NewError("ResourceNotFoundException", "Function not found: "+s.data.FunctionArn))
			return nil
		}
		return err
	}
	var updated []string
	for _, op := range s.changedOps() {
		if op.Type != OpExecution {
			updated = append(updated, op.Id)
		}
	}
	s.data.TokenSeq++
	s.data.InvocationID = uuid.New()
	s.data.InvocationStart = now
	s.delivered()
	timeout := time.Duration(fn.Timeout) * time.Second
	s.row.LeaseOwner = e.cfg.NodeID
	s.row.LeaseUntil = now.Add(timeout + time.Minute)
	env := envelope{
		DurableExecutionArn: s.row.ARN,
		CheckpointToken:     e.sign.checkpointToken(s.row.ID, s.data.TokenSeq),
		UpdatedOperationIds: updated,
	}
	if env.UpdatedOperationIds == nil {
		env.UpdatedOperationIds = []string{}
	}
	size := 0
	for _, op := range s.visible() {
		if len(env.InitialExecutionState.Operations) >= envelopeMaxOps || size > envelopeMaxBytes {
			env.InitialExecutionState.NextMarker = strconv.FormatInt(op.Seq-1, 10)
			break
		}
		eo := toEnvelopeOperation(&op.Operation)
		env.InitialExecutionState.Operations = append(env.InitialExecutionState.Operations, eo)
		size += opSize(&op.Operation)
	}
	payload, err := json.Marshal(env)
	if err != nil {
		return internalError("encode envelope", err)
	}
	plan := &invocationPlan{
		execID: s.row.ID, requestID: s.data.InvocationID, arn: s.row.ARN, fn: fn, payload: payload,
		tenant: s.data.TenantID, trace: s.data.TraceID, endpoint: s.data.InvokeEndpoint, start: now,
	}
	s.extra = append(s.extra, func() { e.launch(plan) })
	return nil
}

// launch runs a committed invocation plan in the background.
func (e *Engine) launch(plan *invocationPlan) {
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		e.runInvocation(plan)
	}()
}

// opSize estimates an operation's encoded size: its payloads plus a
// constant for the rest.
func opSize(op *Operation) int {
	n := 256
	if p := resultOf(op); p != nil {
		n += len(*p)
	}
	if op.ExecutionDetails != nil && op.ExecutionDetails.InputPayload != nil {
		n += len(*op.ExecutionDetails.InputPayload)
	}
	return n
}

func resultOf(op *Operation) *string {
	switch {
	case op.StepDetails != nil:
		return op.StepDetails.Result
	case op.ContextDetails != nil:
		return op.ContextDetails.Result
	case op.CallbackDetails != nil:
		return op.CallbackDetails.Result
	case op.ChainedInvokeDetails != nil:
		return op.ChainedInvokeDetails.Result
	}
	return nil
}

func (e *Engine) runInvocation(p *invocationPlan) {
	resp, err := e.callFunction(e.ctx, p.fn, p.requestID, p.payload, p.tenant, p.trace, p.arn, p.endpoint)
	if e.ctx.Err() != nil {
		// Shutting down: leave the lease; the next start re-invokes.
		return
	}
	e.observeInvocation(p, resp, err)
	if err := e.completeInvocation(e.ctx, p, resp, err); err != nil {
		e.log.Error("complete invocation", "arn", p.arn, "err", err)
	}
}

// handlerOutput is the durable handler's response (protocol.md §4.5).
type handlerOutput struct {
	Status string       `json:"Status"`
	Result *string      `json:"Result,omitempty"`
	Error  *ErrorObject `json:"Error,omitempty"`
}

// lambdaError is Lambda's function-error payload.
type lambdaError struct {
	ErrorType    string   `json:"errorType"`
	ErrorMessage string   `json:"errorMessage"`
	StackTrace   []string `json:"stackTrace"`
	// Trace is where AWS's Node runtime interface client puts the stack.
	Trace []string `json:"trace"`
}

// classify turns what an invocation returned into an outcome. A nil
// invocation error means the handler's output is valid.
func classify(resp InvocationResponse, err error) (out handlerOutput, invErr *ErrorObject) {
	if err != nil {
		var ie *InvocationError
		if errors.As(err, &ie) {
			return out, NewError(ie.Type, ie.Message)
		}
		return out, NewError("ServiceException", err.Error())
	}
	if resp.FunctionError != "" {
		var le lambdaError
		if json.Unmarshal(resp.Payload, &le) == nil && (le.ErrorType != "" || le.ErrorMessage != "") {
			eo := NewError(le.ErrorType, le.ErrorMessage)
			if le.ErrorType == "" {
				eo.ErrorType = nil
			}
			eo.StackTrace = le.StackTrace
			if eo.StackTrace == nil {
				eo.StackTrace = le.Trace
			}
			return out, eo
		}
		return out, NewError("Runtime.Unknown", "function returned an error: "+truncate(string(resp.Payload), 1024))
	}
	if err := json.Unmarshal(resp.Payload, &out); err != nil {
		return out, NewError("Runtime.InvalidResponse", "Invalid durable handler output: "+truncate(string(resp.Payload), 1024))
	}
	switch {
	case out.Status == "SUCCEEDED" && out.Error == nil,
		out.Status == "FAILED" && out.Result == nil,
		out.Status == "PENDING":
		return out, nil
	}
	return out, NewError("Runtime.InvalidResponse", "Invalid durable handler output status: "+truncate(out.Status, 64))
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// completeInvocation records the end of an invocation and decides what
// happens next: completion, a re-invocation, or suspension.
func (e *Engine) completeInvocation(ctx context.Context, p *invocationPlan, resp InvocationResponse, callErr error) error {
	out, invErr := classify(resp, callErr)
	_, err := e.update(ctx, p.execID, func(s *execState) error {
		if s.data.InvocationID != p.requestID || s.terminal() {
			return errAbort // fenced: stopped, timed out, or taken over
		}
		now := e.now()
		// PENDING is legitimate while something is outstanding, or when an
		// operation changed after the state this invocation was shown (it
		// suspended on what it knew).
		if invErr == nil && out.Status == "PENDING" && s.data.Final == nil && !s.hasPendingWork() && s.data.ChangeSeq <= s.data.DeliveredSeq {
			invErr = NewError("Runtime.InvalidResponse", "Cannot return PENDING status with no pending operations.")
		}
		details := &InvocationCompletedDetails{StartTimestamp: Timestamp(p.start), EndTimestamp: Timestamp(now), RequestId: p.requestID}
		if invErr != nil {
			details.Error = &EventError{Payload: invErr}
		}
		s.emit(now, nil, Event{EventType: "InvocationCompleted", InvocationCompletedDetails: details})
		e.releaseChained(s, p.requestID, now)
		s.data.InvocationID = ""
		s.data.LastCheckpoint = nil
		s.row.LeaseOwner, s.row.LeaseUntil = "", time.Time{}
		switch {
		case s.data.Final != nil:
			f := s.data.Final
			e.finish(s, now, f.Status, f.Result, f.Error)
		case invErr != nil:
			s.data.Failures++
			if s.data.Failures >= e.cfg.MaxInvocationFailures {
				e.finish(s, now, StatusFailed, nil, invErr)
			} else {
				s.setTimer(timerInvoke, now.Add(e.cfg.RetryBackoff(s.data.Failures)))
			}
		case out.Status == "SUCCEEDED":
			e.finish(s, now, StatusSucceeded, out.Result, nil)
		case out.Status == "FAILED":
			e.finish(s, now, StatusFailed, nil, out.Error)
		default: // PENDING
			s.data.Failures = 0
			if s.data.ChangeSeq > s.data.DeliveredSeq {
				e.wake(ctx, s, now)
			}
		}
		return nil
	})
	if errors.Is(err, errAbort) {
		return nil
	}
	return err
}

// hasPendingWork reports whether a PENDING answer is legitimate: something
// the execution waits for is outstanding.
func (s *execState) hasPendingWork() bool {
	for _, op := range s.ops {
		switch op.Type {
		case OpStep:
			if op.Status == OpPending || op.Status == OpReady {
				return true
			}
		case OpWait, OpCallback, OpChainedInvoke:
			if op.Status == OpStarted {
				return true
			}
		}
	}
	return false
}

// finish makes an execution terminal: status, result, terminal event,
// timers replaced by the retention timer, the parent (for a chained
// invoke) told, and waiters woken after the commit.
func (e *Engine) finish(s *execState, now time.Time, status string, result *string, cause *ErrorObject) {
	s.row.Status = status
	s.row.EndTime = now
	s.row.LeaseOwner, s.row.LeaseUntil = "", time.Time{}
	s.data.InvocationID = ""
	s.data.Final = nil
	s.data.Result, s.data.Error = nil, nil
	if status == StatusSucceeded {
		s.data.Result = result
	} else {
		s.data.Error = cause
	}
	if exec := s.ops[s.row.ID]; exec != nil {
		exec.Status = status
		exec.EndTimestamp = TimestampPtr(now)
		s.touch(exec)
	}
	errPayload := func() EventError { return EventError{Payload: cause} }
	switch status {
	case StatusSucceeded:
		s.emit(now, nil, Event{EventType: "ExecutionSucceeded", ExecutionSucceededDetails: &ResultDetails{Result: EventResult{Payload: result}}})
	case StatusFailed:
		s.emit(now, nil, Event{EventType: "ExecutionFailed", ExecutionFailedDetails: &ErrorDetails{Error: errPayload()}})
	case StatusTimedOut:
		ee := errPayload()
		s.emit(now, nil, Event{EventType: "ExecutionTimedOut", ExecutionTimedOutDetails: &OptionalErrorDetails{Error: &ee}})
	case StatusStopped:
		s.emit(now, nil, Event{EventType: "ExecutionStopped", ExecutionStoppedDetails: &ErrorDetails{Error: errPayload()}})
	}
	s.delAll = true
	s.setTimers = nil
	s.setTimer(timerRetention, now.Add(time.Duration(s.data.RetentionDays)*24*time.Hour))
	if p := s.data.Parent; p != nil {
		s.setTimers = append(s.setTimers, store.TimerRow{ExecutionID: p.ExecutionID, Key: timerChildDone + p.OperationID, Due: now})
	}
	e.observeFinished(s)
	s.extra = append(s.extra, func() { e.notifyTerminal(s.row.ID, describe(&s.row, &s.data, s.input(), true)) })
}
